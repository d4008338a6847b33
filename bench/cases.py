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


async def import_100k_people_csv() -> dict:
    """Import 100,000 people from a CSV file (validated, all or nothing)"""
    import csv
    import tempfile
    from pathlib import Path

    from core.access import Actor
    from core.demo_names import vietnamese_mobile_numbers, vietnamese_names
    from core.services.people_import import import_people

    tree = await data.unit_tree(11)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "danh-sach.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Họ và tên", "Số điện thoại", "Mã đơn vị", "Đối tượng", "Cấp báo cáo viên"])
            for index, (name, phone) in enumerate(zip(vietnamese_names(100_000, seed=3), vietnamese_mobile_numbers(100_000, seed=3))):
                writer.writerow([name, "0" + phone[3:], f"B{2 + index % 10}", "Báo cáo viên, Đảng viên" if index % 4 == 0 else
                                 "Tuyên truyền viên", "Xã" if index % 4 == 0 else ""])
        started = time.perf_counter()
        report = await import_people(Actor.system_actor("bench"), unit_id=tree[0]["id"], path=path)
        elapsed = time.perf_counter() - started
    assert report["created"] == 100_000
    return _figure(elapsed, 30)


async def audience_of_100k_invitations() -> dict:
    """Resolve an audience of 100,000 and create their invitations"""
    import datetime as dt

    from core.access import Actor
    from core.services import audiences, conferences
    from core.tables import Invitation

    tree = await data.unit_tree(100)
    await data.people(100_000, [unit["id"] for unit in tree])
    system = Actor.system_actor("bench")
    audience = await audiences.create_audience(system, unit_id=1, name="Toàn tỉnh", rules={"categories": data.CATEGORIES})
    start = dt.datetime(2030, 3, 12, 1, tzinfo=dt.timezone.utc)
    conference = await conferences.create_conference(
        system, unit_id=1, title="Hội nghị toàn tỉnh", kind="all_member", format="in_person", starts_at=start,
        ends_at=start + dt.timedelta(hours=3), venues=[{"name": "Hội trường"}], audience_ids=[audience["id"]])
    started = time.perf_counter()
    await conferences.publish_conference(system, conference["id"])
    elapsed = time.perf_counter() - started
    assert await Invitation.count().where(Invitation.conference == conference["id"]) == 100_000
    return _figure(elapsed, 20)


ALL = [subtree_of_10k_units, search_100k_people, import_100k_people_csv, audience_of_100k_invitations]
