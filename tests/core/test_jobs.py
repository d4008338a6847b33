import datetime as dt

import pytest

from core import clock, jobs
from core.services import conferences
from core.tables import Conference, DomainEvent, Job
from tests.conftest import empty_database, run_cli
from tests.core.flows import local, make_conference, make_people
from tests.factories import SYSTEM, make_tree

UTC = dt.timezone.utc


async def test_schedule_dedupe_reschedule_cancel_and_claim(db):
    now = dt.datetime(2026, 3, 1, tzinfo=UTC)
    clock.set_now(now)
    seen = []

    async def remind(job):
        seen.append(job["payload"]["minutes"])

    first = await jobs.schedule("remind", run_at=now + dt.timedelta(hours=1), dedupe_key="remind:c1:p1", payload={"minutes": 60})
    moved = await jobs.schedule("remind", run_at=now + dt.timedelta(hours=2), dedupe_key="remind:c1:p1", payload={"minutes": 120})
    assert moved == first and await Job.count() == 1
    other = await jobs.schedule("remind", run_at=now, conference_id=9, payload={"minutes": 0})
    assert await jobs.cancel(conference_id=9) == 1
    assert (await Job.select(Job.status).where(Job.id == other).first())["status"] == "cancelled"
    assert await jobs.run_due_jobs({"remind": remind}) == {"done": 0, "rescheduled": 0, "retry": 0, "dead": 0}
    clock.set_now(now + dt.timedelta(hours=2))
    assert (await jobs.run_due_jobs({"remind": remind}))["done"] == 1
    assert seen == [120]
    assert await jobs.claim() == []


async def test_failures_back_off_and_an_expired_lease_returns_the_job(db):
    now = dt.datetime(2026, 3, 1, tzinfo=UTC)
    clock.set_now(now)

    async def broken(job):
        raise RuntimeError("hỏng")

    await jobs.schedule("broken", run_at=now)
    assert (await jobs.run_due_jobs({"broken": broken}))["retry"] == 1
    assert await jobs.claim() == []  # backing off
    clock.set_now(now + jobs.backoff(1))
    claimed = await jobs.claim()
    assert len(claimed) == 1 and claimed[0]["attempts"] == 2
    assert await jobs.claim() == []  # leased
    clock.set_now(clock.now() + jobs.LEASE + dt.timedelta(seconds=1))
    assert len(await jobs.claim()) == 1  # its worker died: the lease expired


async def test_periodic_core_jobs_end_conferences(db):
    tree = await make_tree()
    await make_people(tree["commune_a1"], 1)
    conference = await make_conference(tree, start=local(2026, 3, 10, 8))
    await conferences.publish_conference(SYSTEM, conference["id"])
    clock.set_now(local(2026, 3, 10, 12))
    await jobs.ensure_periodic_jobs()
    await jobs.ensure_periodic_jobs()
    assert await Job.count() == len(jobs.PERIODIC)
    outcome = await jobs.run_due_jobs(jobs.core_job_handlers())
    assert outcome["rescheduled"] == 3 and outcome["done"] == 0 and outcome["retry"] == 0
    assert (await Conference.select(Conference.status).where(Conference.id == conference["id"]).first())["status"] == "ended"
    again = await Job.select().where(Job.dedupe_key == "core:end_conferences").first()
    assert again["status"] == "pending" and again["run_at"] == clock.now() + jobs.PERIODIC["end_conferences"]


@pytest.mark.timeout(180)
def test_crash_points_before_and_after_the_effect(tmp_path):
    """A worker killed after claiming runs the job again later; killed after the effect, the
    effect (ending a conference, its event) is not repeated."""
    with empty_database(tmp_path) as env:
        run_cli("init", "--non-interactive", env=env)
        run_cli("demo", env=env)
        later = {**env, "HOINGHI_NOW": (dt.datetime.now(UTC) + dt.timedelta(days=40)).isoformat()}
        crashed = run_cli("worker", "--once", env={**later, "HOINGHI_FAULT": "after_claim:end_conferences"}, check=False)
        assert crashed.returncode == 86
        lease_gone = {**env, "HOINGHI_NOW": (dt.datetime.now(UTC) + dt.timedelta(days=40, minutes=10)).isoformat()}
        crashed = run_cli("worker", "--once", env={**lease_gone, "HOINGHI_FAULT": "after_effect:end_conferences"}, check=False)
        assert crashed.returncode == 86
        again = {**env, "HOINGHI_NOW": (dt.datetime.now(UTC) + dt.timedelta(days=40, minutes=20)).isoformat()}
        assert run_cli("worker", "--once", env=again).returncode == 0
        counts = _ended_events(env)
        assert len(counts) == 2 and set(counts.values()) == {1}  # the demo's past conference and the extraordinary one


def _ended_events(env: dict) -> dict[int, int]:
    """conference_ended events per conference, read straight from the database the CLI used."""
    query = "SELECT conference_id, COUNT(*) FROM domain_event WHERE name = 'conference_ended' GROUP BY conference_id"
    if env.get("DATABASE_URL"):
        import asyncio

        import asyncpg

        async def fetch():
            connection = await asyncpg.connect(env["DATABASE_URL"])
            try:
                return {row[0]: row[1] for row in await connection.fetch(query)}
            finally:
                await connection.close()

        return asyncio.run(fetch())
    import sqlite3
    from pathlib import Path

    with sqlite3.connect(Path(env["HOINGHI_VAR_DIR"]) / "hoinghi.sqlite") as connection:
        return dict(connection.execute(query).fetchall())


@pytest.mark.sqlite_only
def test_status_reports_queue_and_dead_letters(tmp_path):
    env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": ""}
    run_cli("init", "--non-interactive", env=env)
    report = run_cli("status", env=env)
    assert "Nhịp bộ xử lý gần nhất: chưa có" in report.stdout and "Việc lỗi hẳn: 0" in report.stdout
    run_cli("worker", "--once", env=env)
    assert "chưa có" not in run_cli("status", env=env).stdout.splitlines()[0]
