"""core/reads.py: inside ``reads_reused()`` a repeated read is answered from the first one, each
caller gets its own copy, and outside it (or after ``stop_reusing_reads()``) the database is read."""

import pytest

from core.errors import NotFound
from core.reads import read_once, reads_reused, stop_reusing_reads
from core.services import units
from core.tables import Unit
from tests.factories import make_unit


async def rename(unit: dict, name: str) -> None:
    await Unit.update({Unit.name: name}).where(Unit.id == unit["id"])


async def test_a_unit_read_twice_in_the_block_is_read_once(db):
    unit = await make_unit("Xã Phù Lãng")
    with reads_reused():
        first = await units.get_unit(unit["id"])
        await rename(unit, "Xã Phù Lãng mới")
        again = await units.get_unit(unit["id"])
    assert first["name"] == again["name"] == "Xã Phù Lãng"  # the second call did not read the row
    assert (await units.get_unit(unit["id"]))["name"] == "Xã Phù Lãng mới"  # outside the block: the database


async def test_outside_a_block_nothing_is_kept(db):
    unit = await make_unit("Xã Đào Viên")
    await units.get_unit(unit["id"])
    await rename(unit, "Xã Đào Viên mới")
    assert (await units.get_unit(unit["id"]))["name"] == "Xã Đào Viên mới"


async def test_each_caller_gets_its_own_copy(db):
    unit = await make_unit("Xã Việt Hùng")
    with reads_reused():
        first = await units.get_unit(unit["id"])
        first["name"] = "changed by a caller"
        assert (await units.get_unit(unit["id"]))["name"] == "Xã Việt Hùng"


async def test_after_stop_reusing_reads_the_database_is_read_again(db):
    unit = await make_unit("Xã Nhân Hoà")
    with reads_reused():
        await units.get_unit(unit["id"])
        stop_reusing_reads()
        await rename(unit, "Xã Nhân Hoà mới")
        assert (await units.get_unit(unit["id"]))["name"] == "Xã Nhân Hoà mới"


async def test_a_refusal_is_not_kept():
    loads = []

    async def missing():
        loads.append(1)
        raise NotFound("Không tìm thấy đơn vị.")

    with reads_reused():
        for _ in range(2):
            with pytest.raises(NotFound):
                await read_once(("unit", 0), missing)
    assert len(loads) == 2


async def test_a_task_started_in_the_block_reads_afresh():
    import asyncio

    loads = []

    async def load():
        loads.append(1)
        return {"value": len(loads)}

    async def later():
        await asyncio.sleep(0.01)
        return await read_once("key", load)

    with reads_reused():
        await read_once("key", load)
        task = asyncio.create_task(later())
    assert await task == {"value": 2}


async def test_a_write_transaction_ends_the_reuse(db):
    from core.db import transaction

    unit = await make_unit("Xã Hoàn Sơn")
    with reads_reused():
        await units.get_unit(unit["id"])
        async with transaction():
            await rename(unit, "Xã Hoàn Sơn mới")
        assert (await units.get_unit(unit["id"]))["name"] == "Xã Hoàn Sơn mới"


async def test_a_block_opened_inside_a_block_joins_it(db):
    unit = await make_unit("Xã Tri Phương")
    with reads_reused():
        await units.get_unit(unit["id"])
        with reads_reused():
            await rename(unit, "Xã Tri Phương mới")
            assert (await units.get_unit(unit["id"]))["name"] == "Xã Tri Phương"  # the outer block's read
