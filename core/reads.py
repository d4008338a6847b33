"""Reads repeated while one request builds its answer, answered once.

A page asks several services for one conference, and each checks access by reading the
conference's row and unit again (the conference editor read the same row four times). Inside
``reads_reused()`` such a read is kept for the rest of the block; outside it every call reads the
database as before. The block belongs to the task that opened it: a task started inside it
reads afresh. A write transaction ends it (``core.db.transaction`` calls
:func:`stop_reusing_reads`), so a kept row does not hide what the request itself wrote. web/read_reuse.py opens a block for
every GET and HEAD until its answer starts; the conference editor opens one itself, since it is
also drawn again after a refused change.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Hashable, Iterator
from typing import TypeVar

T = TypeVar("T")

# (the task that opened the block, what it has read), or None outside a block
_kept: contextvars.ContextVar[tuple[asyncio.Task | None, dict] | None] = contextvars.ContextVar("hoinghi_reads_reused", default=None)


def _current_task() -> asyncio.Task | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop
        return None


def _kept_here() -> dict | None:
    kept = _kept.get()
    if kept is None or kept[0] is not _current_task():
        return None
    return kept[1]


@contextlib.contextmanager
def reads_reused() -> Iterator[None]:
    if _kept_here() is not None:  # inside an open block of this task: join it
        yield
        return
    token = _kept.set((_current_task(), {}))
    try:
        yield
    finally:
        _kept.reset(token)


def stop_reusing_reads() -> None:
    """From here to the end of the ``reads_reused()`` block every read goes to the database."""
    if _kept.get() is not None:
        _kept.set(None)


async def read_once(key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
    """``await load()``, or inside ``reads_reused()`` the value it gave for ``key`` earlier in the
    block. Each caller gets its own copy, so one service changing what it got cannot change
    what the next one reads. A refusal (an exception) is not kept."""
    kept = _kept_here()
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
