"""Login throttling per (username, client address), kept in a store every process shares.

Five failures are free; each further failure locks that pair out for twice as long as the last
(30 s, 1 min, 2 min … at most 1 hour). A success clears the record. The client address is
``request.client.host``, which uvicorn takes from ``X-Forwarded-For`` only when the peer is a
trusted proxy (``HOINGHI_TRUSTED_PROXIES``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math

from litestar.stores.base import Store

from core import clock
from core.errors import Phrase

FREE_FAILURES = 5
FIRST_LOCKOUT = dt.timedelta(seconds=30)
LONGEST_LOCKOUT = dt.timedelta(hours=1)
RECORD_TTL = 24 * 3600


class LockedOut(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        minutes = max(1, math.ceil(retry_after / 60))
        self.message = Phrase("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.", {"minutes": minutes})
        super().__init__(self.message)


def _key(username: str, client: str) -> str:
    # hashed: neither usernames nor addresses are written to the store in clear
    return "login:" + hashlib.sha256(f"{username.strip().lower()}\x00{client}".encode()).hexdigest()


class LoginThrottle:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def _record(self, key: str) -> dict:
        raw = await self.store.get(key)
        return json.loads(raw) if raw else {"failures": 0, "locked_until": None}

    async def check(self, username: str, client: str) -> None:
        """Raise :class:`LockedOut` while the pair is locked out."""
        record = await self._record(_key(username, client))
        if record["locked_until"]:
            remaining = dt.datetime.fromisoformat(record["locked_until"]) - clock.now()
            if remaining.total_seconds() > 0:
                raise LockedOut(math.ceil(remaining.total_seconds()))

    async def failed(self, username: str, client: str) -> None:
        key = _key(username, client)
        record = await self._record(key)
        record["failures"] += 1
        beyond = record["failures"] - FREE_FAILURES
        if beyond > 0:
            lockout = min(FIRST_LOCKOUT * 2 ** (beyond - 1), LONGEST_LOCKOUT)
            record["locked_until"] = (clock.now() + lockout).isoformat()
        await self.store.set(key, json.dumps(record), expires_in=RECORD_TTL)

    async def succeeded(self, username: str, client: str) -> None:
        await self.store.delete(_key(username, client))
