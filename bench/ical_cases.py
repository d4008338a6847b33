"""Benchmarks of the ical plugin: a personal feed of 1,000 conferences, its 304, and the
calendar attachments of a 10,000-recipient invitation run (registered in bench/cases.py)."""

from __future__ import annotations

import datetime as dt
import time

import plugins.ical.tables  # noqa: F401  (imported before bench/databases.py binds every table)
from bench import data

FEED_CONFERENCES = 1_000
RECIPIENTS = 10_000
BIG_CONFERENCE = FEED_CONFERENCES + 1


async def _medians(run, repeat: int) -> tuple[float, float]:
    """Median wall-clock and median CPU seconds of this process per run. The CPU figure is shown
    too because the machine is shared: wall time there includes waiting for a core."""
    import statistics

    await run()  # warm the connection, the caches and the page cache
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        await run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _with_cpu(wall: float, cpu: float, target: float, *, unit: str = "ms") -> dict:
    from bench.cases import _figure  # bench.cases imports this module at its end

    figure = _figure(wall, target, unit=unit)
    shown = f"{cpu * 1000:.1f} ms" if unit == "ms" else f"{cpu:.1f} s"
    figure["measured"] += f" (cpu {shown})"
    return figure


def _ical_host():
    import tempfile
    from pathlib import Path

    import plugins.ical.hooks
    from core.plugins import build_plugin_host

    toml = Path(tempfile.mkdtemp()) / "plugins.toml"
    toml.write_text('[plugins.ical]\ndefault = "on"\n')
    return build_plugin_host(plugins_toml=toml, extra=[("ical", plugins.ical.hooks)], discover=False)


async def _calendar_data() -> None:
    """Person 1 invited to 1,000 published conferences (a venue and an agenda session each), and
    conference 1,001 with 10,000 invitees."""
    from core import clock
    from core.db import bulk_insert, transaction
    from core.tables import AgendaSession, Conference, Invitation, Venue

    tree = await data.unit_tree(11)
    await data.people(RECIPIENTS, [unit["id"] for unit in tree])
    now = clock.now()
    first = dt.datetime(2030, 1, 6, 1, tzinfo=dt.timezone.utc)
    conferences, venues, sessions, invitations = [], [], [], []
    for number in range(1, BIG_CONFERENCE + 1):
        starts = first + dt.timedelta(days=number)
        conferences.append((number, 1, f"Hội nghị báo cáo viên số {number}", "Thông tin thời sự, định hướng dư luận.",
                            "periodic_briefing", "in_person", starts, starts + dt.timedelta(hours=3), "Asia/Ho_Chi_Minh",
                            "published", number % 2 == 0, 0, 1, False, False, now, "", now, now))
        venues.append((number, number, "Hội trường Tỉnh ủy", "Số 1 Lý Thái Tổ"))
        sessions.append((number, f"Tình hình kinh tế - xã hội tháng {number % 12 + 1}", "Kinh tế", 0))
        if number <= FEED_CONFERENCES:
            invitations.append((number, 1, number, "audience", "active", "pending", "", 0, now, now))
    invitations += [(BIG_CONFERENCE, person, BIG_CONFERENCE, "audience", "active", "pending", "", 0, now, now)
                    for person in range(1, RECIPIENTS + 1)]
    async with transaction():
        await bulk_insert(Conference, ["id", "unit", "title", "description", "kind", "format", "starts_at", "ends_at", "timezone",
                                       "status", "is_public", "revision", "version", "is_exception", "skipped", "published_at",
                                       "cancel_reason", "created_at", "updated_at"], conferences)
        await bulk_insert(Venue, ["id", "conference", "name", "address"], venues)
        await bulk_insert(AgendaSession, ["conference", "title", "topic", "position"], sessions)
        await bulk_insert(Invitation, ["conference", "person", "venue", "source", "status", "rsvp", "rsvp_reason", "sequence",
                                       "created_at", "updated_at"], invitations)
    if Conference._meta.db.engine_type == "postgres":
        for table, last in (("conference", BIG_CONFERENCE), ("venue", BIG_CONFERENCE)):
            await Conference.raw(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})")
    await Conference.raw("ANALYZE")


async def feed_of_1000_conferences() -> dict:
    """Personal feed of 1,000 conferences, cached VEVENTs (median)"""
    from core.services import tokens
    from plugins.ical import services

    host = _ical_host()
    await _calendar_data()
    token = await tokens.derived_token(services.FEED_PURPOSE, "person", 1)

    async def run():
        person_id = await services.person_from_feed_token(token)
        feed = await services.person_feed(host, person_id)
        assert feed.body.count(b"BEGIN:VEVENT") == FEED_CONFERENCES + 1

    return _with_cpu(*await _medians(run, repeat=15), 0.100)


async def feed_not_modified() -> dict:
    """Personal feed of 1,000 conferences answered 304 (median)"""
    from core.services import tokens
    from plugins.ical import services

    host = _ical_host()
    await _calendar_data()
    token = await tokens.derived_token(services.FEED_PURPOSE, "person", 1)
    etag = (await services.person_feed(host, 1)).etag

    async def run():
        person_id = await services.person_from_feed_token(token)
        feed = await services.person_feed(host, person_id, if_none_match=etag)
        assert feed.body is None

    return _with_cpu(*await _medians(run, repeat=100), 0.005)


async def attachments_for_10k_recipients() -> dict:
    """Calendar attachments for 10,000 recipients, through the hook"""
    import inspect

    from core.tables import Unit

    host = _ical_host()
    await _calendar_data()
    path = (await Unit.select(Unit.path).where(Unit.id == 1).first())["path"]
    started, cpu = time.perf_counter(), time.process_time()
    total = 0
    for person in range(1, RECIPIENTS + 1):
        hooks = await host.hooks_for_path(path)  # as the notification service does for each message
        message = {"id": person, "kind": "invitation", "unit_id": 1, "conference_id": BIG_CONFERENCE, "person": person,
                   "channel": "email", "address": f"nguoi{person}@example.vn"}
        for result in hooks.message_attachments(message=message):
            found = await result if inspect.isawaitable(result) else result
            assert len(found) == 1 and f"mailto:nguoi{person}@example.vn".encode() in found[0]["data"]
            total += 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert total == RECIPIENTS
    return _with_cpu(elapsed, cpu, 30, unit="s")


ALL = [feed_of_1000_conferences, feed_not_modified, attachments_for_10k_recipients]
