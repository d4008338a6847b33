"""The one source of "now" for services and jobs.

Tests set it in-process with :func:`set_now` / :func:`advance`; server processes started by
tests read ``HOINGHI_NOW`` (an ISO datetime with offset) so nothing is tested by sleeping.
"""

from __future__ import annotations

import datetime as dt
import os

UTC = dt.timezone.utc

_frozen: dt.datetime | None = None


def _from_env() -> dt.datetime | None:
    raw = os.environ.get("HOINGHI_NOW")
    if not raw:
        return None
    value = dt.datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError("HOINGHI_NOW must carry a UTC offset, e.g. 2026-03-10T08:00:00+07:00")
    return value.astimezone(UTC)


def now() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    if _frozen is not None:
        return _frozen
    from_env = _from_env()
    if from_env is not None:
        return from_env
    return dt.datetime.now(UTC)


def set_now(value: dt.datetime | None) -> None:
    """Freeze the clock at ``value`` (aware), or unfreeze with ``None``."""
    global _frozen
    if value is not None and value.tzinfo is None:
        raise ValueError("the clock only takes timezone-aware datetimes")
    _frozen = value.astimezone(UTC) if value is not None else None


def advance(delta: dt.timedelta) -> dt.datetime:
    """Move a frozen clock forward (freezing it at the real time first if needed)."""
    set_now(now() + delta)
    return now()
