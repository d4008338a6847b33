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
    from core.access import Actor
    from core.services import conferences
    from core.tables import Invitation

    conference = await _conference_of_100k()
    started = time.perf_counter()
    await conferences.publish_conference(Actor.system_actor("bench"), conference["id"])
    elapsed = time.perf_counter() - started
    assert await Invitation.count().where(Invitation.conference == conference["id"]) == 100_000
    return _figure(elapsed, 20)


async def _conference_of_100k():
    """A draft conference whose audience is 100,000 people across 100 units."""
    import datetime as dt

    from core.access import Actor
    from core.services import audiences, conferences

    tree = await data.unit_tree(100)
    await data.people(100_000, [unit["id"] for unit in tree])
    system = Actor.system_actor("bench")
    audience = await audiences.create_audience(system, unit_id=1, name="Toàn tỉnh", rules={"categories": data.CATEGORIES})
    start = dt.datetime(2030, 3, 12, 1, tzinfo=dt.timezone.utc)
    return await conferences.create_conference(
        system, unit_id=1, title="Hội nghị toàn tỉnh", kind="all_member", format="in_person", starts_at=start,
        ends_at=start + dt.timedelta(hours=3), venues=[{"name": "Hội trường", "address": "Số 1"}], audience_ids=[audience["id"]])


async def _published_conference_of_100k():
    from core.access import Actor
    from core.services import conferences

    conference = await _conference_of_100k()
    return await conferences.publish_conference(Actor.system_actor("bench"), conference["id"])


def _bench_host(plugin):
    import tempfile
    from pathlib import Path

    from core.plugins import build_plugin_host

    toml = Path(tempfile.mkdtemp()) / "plugins.toml"
    toml.write_text('[plugins.bench]\ndefault = "on"\n')
    return build_plugin_host(plugins_toml=toml, extra=[("bench", plugin)], discover=False)


async def event_fan_out_100k() -> dict:
    """Event of a 100,000-invitee conference reaches a handler after commit"""
    from core import jobs
    from core.hookspecs import hookimpl

    class Listener:
        reached_at = None

        @hookimpl
        def invitations_issued(self, conference, event):
            Listener.reached_at = time.perf_counter()

    host = _bench_host(Listener())
    await _published_conference_of_100k()
    committed = time.perf_counter()
    await jobs.run_once(host, {})
    assert Listener.reached_at is not None
    return _figure(Listener.reached_at - committed, 1.0)


async def job_throughput() -> dict:
    """Trivial jobs run by the queue (jobs per second, 3,000 jobs)"""
    import datetime as dt

    from core import clock, jobs
    from core.db import bulk_insert, transaction
    from core.tables import Job

    now = clock.now() - dt.timedelta(seconds=1)
    async with transaction():
        await bulk_insert(Job, ["kind", "payload", "run_at", "status", "attempts", "last_error", "created_at"],
                          [("noop", "{}", now, "pending", 0, "", now) for _ in range(3000)])
    done = 0

    async def noop(job):
        return None

    started = time.perf_counter()
    while done < 3000:
        done += (await jobs.run_due_jobs({"noop": noop}, limit=500))["done"]
    rate = done / (time.perf_counter() - started)
    target = 1000 if Job._meta.db.engine_type == "postgres" else 300
    return {"measured": f"{rate:.0f} /s", "target": f">= {target} /s", "ok": rate >= target}


async def reminder_campaign_100k() -> dict:
    """Reminder campaign to 100,000: message rows created (s; peak memory)"""
    import os
    import tracemalloc

    from core import notifications
    from core.access import Actor

    os.environ["HOINGHI_CONSOLE_CHANNEL"] = "1"
    host = _bench_host(object())
    conference = await _published_conference_of_100k()
    tracemalloc.start()
    started = time.perf_counter()
    counts = await notifications.queue_conference_messages(Actor.system_actor("bench"), host, kind="reminder",
                                                           conference_id=conference["id"], audience="attending", urgent=True)
    elapsed = time.perf_counter() - started
    grown_mb = tracemalloc.get_traced_memory()[1] / 1024 / 1024  # peak Python allocations during the campaign
    tracemalloc.stop()
    assert counts["queued"] == 100_000, counts
    from core.tables import Message

    limit = 15 if Message._meta.db.engine_type == "postgres" else 30
    return {"measured": f"{elapsed:.2f} s, +{grown_mb:.0f} MB", "target": f"< {limit} s, < 100 MB",
            "ok": elapsed < limit and grown_mb < 100}


ALL = [subtree_of_10k_units, search_100k_people, import_100k_people_csv, audience_of_100k_invitations, event_fan_out_100k,
       job_throughput, reminder_campaign_100k]

# plugin benchmarks live in their own modules
from bench import ical_cases, qr_cases  # noqa: E402
from bench.evaluation_cases import CASES as _EVALUATION_CASES  # noqa: E402

ALL += ical_cases.ALL + qr_cases.ALL + _EVALUATION_CASES
