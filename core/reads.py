"""Reads repeated within one page answered once.

A page asks several services for one conference, and each checks access by reading the
conference's row and unit again (the conference editor read the same row four times). Inside
``reads_reused()`` such a read is kept for the rest of the block; outside it every call reads
the database as before. Only pages that change nothing while the block is open use it, so a
kept row cannot go stale under them.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Hashable, Iterator
from typing import TypeVar

T = TypeVar("T")

_kept: contextvars.ContextVar[dict | None] = contextvars.ContextVar("hoinghi_reads_reused", default=None)


@contextlib.contextmanager
def reads_reused() -> Iterator[None]:
    token = _kept.set({})
    try:
        yield
    finally:
        _kept.reset(token)


def stop_reusing_reads() -> None:
    """From here to the end of the ``reads_reused()`` block every read goes to the database."""
    _kept.set(None)


async def read_once(key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
    """``await load()``, or inside ``reads_reused()`` the value it gave for ``key`` earlier in the
    block. Each caller gets its own copy, so one service changing what it got cannot change
    what the next one reads. A refusal (an exception) is not kept."""
    kept = _kept.get()
    if kept is None:
        return await load()
    if key not in kept:
        kept[key] = await load()
    return _copy(kept[key])


def _copy(value):
    """A copy of rows as Piccolo gives them (a dict of plain values, a list of such, or None)."""
    if isinstance(value, dict):
        return {name: _copy(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
