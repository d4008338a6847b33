"""core/db.py's writer file lock on SQLite: a write waits while another process holds the lock
and goes ahead the moment it is released; a cancelled or timed-out wait leaves the process able
to write again (nothing stays held). Another process holds the lock for real (a Python child
taking ``flock`` on the same file)."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time

import pytest

from core import db as core_db
from core.tables import Unit
from tests.factories import make_unit

pytestmark = pytest.mark.skipif(core_db.fcntl is None, reason="flock is a POSIX call")

HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()  # until the test says so
fcntl.flock(fd, fcntl.LOCK_UN)
"""


def _sqlite_engine(db):
    if db.engine_type != "sqlite":
        pytest.skip("the writer file lock is the embedded SQLite engine's")
    return db


def _hold(path: str) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _let_go(holder: subprocess.Popen) -> None:
    holder.stdin.write("\n")
    holder.stdin.flush()
    holder.wait(timeout=10)


async def test_a_write_waits_for_the_other_process_and_goes_ahead_when_it_lets_go(db):
    engine = _sqlite_engine(db)
    unit = await make_unit("Xã Tân Lập")
    holder = _hold(engine._file_lock.path)
    try:
        write = asyncio.create_task(Unit.update({Unit.name: "Xã Tân Lập mới"}).where(Unit.id == unit["id"]).run())
        await asyncio.sleep(0.3)
        assert not write.done()  # waiting on the other process, not failing and not writing beside it
        released_at = time.monotonic()
        _let_go(holder)
        await asyncio.wait_for(write, 5)
        assert time.monotonic() - released_at < 1  # handed over at once, no back-off sleeps
    finally:
        if holder.poll() is None:
            _let_go(holder)
    assert (await Unit.select(Unit.name).where(Unit.id == unit["id"]).first())["name"] == "Xã Tân Lập mới"


async def test_a_cancelled_wait_leaves_nothing_held(db):
    engine = _sqlite_engine(db)
    unit = await make_unit("Xã Hoà Bình")
    holder = _hold(engine._file_lock.path)
    try:
        write = asyncio.create_task(Unit.update({Unit.name: "không ghi"}).where(Unit.id == unit["id"]).run())
        await asyncio.sleep(0.2)
        write.cancel()
        with pytest.raises(asyncio.CancelledError):
            await write
    finally:
        _let_go(holder)
    # the waiting thread took the lock after the cancellation and gave it back: the process writes again
    await asyncio.wait_for(Unit.update({Unit.name: "Xã Hoà Bình mới"}).where(Unit.id == unit["id"]).run(), 5)
    assert (await Unit.select(Unit.name).where(Unit.id == unit["id"]).first())["name"] == "Xã Hoà Bình mới"
    holder = _hold(engine._file_lock.path)  # and another process can take it: the file lock is free
    _let_go(holder)


async def test_a_wait_past_the_busy_timeout_fails_as_sqlite_would(db, monkeypatch):
    engine = _sqlite_engine(db)
    unit = await make_unit("Xã Quang Minh")
    monkeypatch.setattr(core_db, "BUSY_TIMEOUT_MS", 300)
    holder = _hold(engine._file_lock.path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            async with core_db.transaction():
                await Unit.update({Unit.name: "không ghi"}).where(Unit.id == unit["id"])
    finally:
        _let_go(holder)
    async with core_db.transaction():
        await Unit.update({Unit.name: "Xã Quang Minh mới"}).where(Unit.id == unit["id"])
    assert (await Unit.select(Unit.name).where(Unit.id == unit["id"]).first())["name"] == "Xã Quang Minh mới"
