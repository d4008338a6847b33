"""The benchmark cases. Each returns {"measured": text, "target": text, "ok": bool}."""

from __future__ import annotations

import statistics
import time

from bench import data


def _figure(seconds: float, target_seconds: float, *, unit: str = "s") -> dict:
    shown = f"{seconds * 1000:.2f} ms" if unit == "ms" else f"{seconds:.2f} s"
    target = f"{target_seconds * 1000:.0f} ms" if unit == "ms" else f"{target_seconds:.0f} s"
    return {"measured": shown, "target": f"< {target}", "ok": seconds < target_seconds}


async def _median_seconds(run, repeat: int = 30) -> float:
    await run()  # warm the connection and the page cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def subtree_of_10k_units() -> dict:
    """Subtree ids (1,111 units) in a tree of 10,000 (median)"""
    from core.services.units import subtree_ids

    tree = await data.unit_tree(10_000)
    district = tree[5]  # a unit with about a thousand descendants

    async def run():
        ids = await subtree_ids(district["path"])
        assert len(ids) > 1000

    return _figure(await _median_seconds(run), 0.005, unit="ms")


async def search_100k_people() -> dict:
    """Search "nguyen van" among 100,000 people (median)"""
    from core.access import Actor
    from core.services import people

    tree = await data.unit_tree(100)
    await data.people(100_000, [unit["id"] for unit in tree])
    system = Actor.system_actor("bench")

    async def run():
        found = await people.search_people(system, unit_id=1, query="nguyen van", limit=50)
        assert found

    return _figure(await _median_seconds(run), 0.020, unit="ms")


ALL = [subtree_of_10k_units, search_100k_people]
