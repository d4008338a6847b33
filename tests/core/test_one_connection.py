"""core.db.one_connection on PostgreSQL: a block's statements and transactions share one pooled
connection (one backend), given back at the end; child tasks and statements after ``close()``
use the pool; a failed transaction inside the block leaves the connection usable."""

from __future__ import annotations

import asyncio

import pytest

from core.db import one_connection, transaction
from core.tables import Unit
from tests.factories import make_unit


def _postgres(db):
    if db.engine_type != "postgres":
        pytest.skip("the shared connection is the PostgreSQL engine's")
    return db


async def _backend() -> int:
    return (await Unit.raw("SELECT pg_backend_pid() AS pid"))[0]["pid"]


async def test_a_block_uses_one_backend_and_gives_it_back(db):
    engine = _postgres(db)

    def in_use() -> int:
        return engine.pool.get_size() - engine.pool.get_idle_size()

    assert in_use() == 0
    async with one_connection() as slot:
        assert in_use() == 0  # taken at the first statement, not before
        first = await _backend()
        assert in_use() == 1  # and kept between statements
        async with transaction():
            assert await _backend() == first
            await make_unit("Xã Yên Bình")
        assert await _backend() == first and slot.connection is not None
    assert slot.connection is None and in_use() == 0
    assert await Unit.count().where(Unit.name == "Xã Yên Bình") == 1  # the transaction committed


async def test_a_failed_transaction_in_a_block_rolls_back_and_the_connection_goes_on(db):
    _postgres(db)
    async with one_connection():
        first = await _backend()
        with pytest.raises(RuntimeError):
            async with transaction():
                await make_unit("Xã Không Ghi")
                raise RuntimeError("refused")
        assert await _backend() == first
        assert await Unit.count().where(Unit.name == "Xã Không Ghi") == 0


async def test_child_tasks_and_statements_after_close_use_the_pool(db):
    _postgres(db)
    async with one_connection() as slot:
        held = await _backend()
        # concurrent statements of child tasks never share the block's connection (asyncpg would
        # refuse two operations at once on one connection)
        children = await asyncio.gather(*[_backend() for _ in range(3)])
        assert held not in children
        await slot.close()
        assert slot.connection is None
        await _backend()  # from the pool, and given back at once
        assert slot.connection is None
