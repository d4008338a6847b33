"""Login throttling per (username, client address), counted in the database every process shares.

Five failures are free; each further failure locks that pair out for twice as long as the last
(30 s, 1 min, 2 min … at most 1 hour). A success clears the record. The client address is
``request.client.host``, which uvicorn takes from ``X-Forwarded-For`` only when the peer is a
trusted proxy (``HOINGHI_TRUSTED_PROXIES``).

An attempt is counted *before* the password is checked, in one conditional UPDATE: a burst of
parallel guesses (from several server processes too) cannot all pass a check made before any of
them failed. Beyond the free attempts, the attempt that takes the next number holds the lock
while its password is checked, so only one guess at a time gets through.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

from core import clock
from core.errors import Phrase
from core.tables import LoginThrottle as Attempts

FREE_FAILURES = 5
FIRST_LOCKOUT = dt.timedelta(seconds=30)
LONGEST_LOCKOUT = dt.timedelta(hours=1)


class LockedOut(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        minutes = max(1, math.ceil(retry_after / 60))
        self.message = Phrase("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.", {"minutes": minutes})
        super().__init__(self.message)


def _key(username: str, client: str) -> str:
    # hashed: neither usernames nor addresses are written to the database in clear
    return hashlib.sha256(f"{username.strip().lower()}\x00{client}".encode()).hexdigest()


def _millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def lockout_after(failures: int) -> dt.timedelta:
    """How long a pair stays locked after its ``failures``-th failure in a row."""
    beyond = failures - FREE_FAILURES
    return dt.timedelta(0) if beyond <= 0 else min(FIRST_LOCKOUT * 2 ** (beyond - 1), LONGEST_LOCKOUT)


class Attempt:
    """One sign-in attempt that holds its number: :meth:`failed` or :meth:`succeeded` settles it."""

    def __init__(self, key: str, number: int) -> None:
        self.key = key
        self.number = number

    async def failed(self) -> None:
        until = _millis(clock.now() + lockout_after(self.number))
        await Attempts.update({Attempts.locked_until: until}).where(
            (Attempts.key == self.key) & (Attempts.locked_until < until))

    async def succeeded(self) -> None:
        await Attempts.delete().where(Attempts.key == self.key)


async def begin_attempt(username: str, client: str) -> Attempt:
    """Count an attempt for the pair, or raise :class:`LockedOut` while it is locked out."""
    key = _key(username, client)
    now = clock.now()
    await Attempts.insert(Attempts(key=key, attempts=0, locked_until=0, updated_at=now)).on_conflict(action="DO NOTHING")
    # beyond the free attempts, this attempt locks the pair until its password is checked
    # (failed() then sets the real lockout; succeeded() clears it)
    hold = _millis(now + FIRST_LOCKOUT)
    taken = await Attempts.raw(
        "UPDATE login_throttle SET attempts = attempts + 1, updated_at = {}, "
        "locked_until = CASE WHEN attempts + 1 > {} THEN {} ELSE locked_until END "
        "WHERE key = {} AND locked_until <= {} RETURNING attempts",
        now, FREE_FAILURES, hold, key, _millis(now))
    if taken:
        return Attempt(key, taken[0]["attempts"])
    row = await Attempts.select(Attempts.locked_until).where(Attempts.key == key).first()
    remaining = (row["locked_until"] - _millis(now)) / 1000 if row else 1
    raise LockedOut(max(1, math.ceil(remaining)))
