"""What the people of a unit receive over SMS as a conference lives: reminders that move with it,
a cancellation, quiet hours, opt-out, quotas, and a unit with the plugin off (real local gateway)."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock, jobs, notifications
from core.errors import Conflict
from core.notifications import set_unit_setting
from core.services import conferences, people
from core.tables import Job, Message
from tests.core.flows import local, make_conference
from tests.factories import SYSTEM, make_tree
from tests.plugins.sms.conftest import esms


async def _published(tree, count=3):
    group = [await people.create_person(SYSTEM, unit_id=tree["commune_a1"]["id"], full_name=f"Võ Thị Hạnh {i}", categories=["briefer"],
                                        phone=f"09150000{i:02d}") for i in range(count)]
    clock.set_now(local(2026, 3, 1, 9))
    conference = await make_conference(tree, start=local(2026, 3, 10, 8))
    await conferences.publish_conference(SYSTEM, conference["id"])
    return conference, group


async def _run_jobs(host, at):
    clock.set_now(at)
    await jobs.run_due_jobs(jobs.all_job_handlers(host))
    await jobs.run_due_jobs(jobs.all_job_handlers(host))  # the reminder queues; send_messages sends


async def test_reminders_move_with_the_conference(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _published(tree)
    reminder = await Job.select().where(Job.dedupe_key == f"reminder:{conference['id']}:24h").first()
    assert reminder["run_at"] == local(2026, 3, 9, 8)
    await conferences.update_conference(SYSTEM, conference["id"], starts_at=local(2026, 3, 12, 14), ends_at=local(2026, 3, 12, 17))
    moved = await Job.select().where(Job.dedupe_key == f"reminder:{conference['id']}:24h").first()
    assert moved["id"] == reminder["id"] and moved["run_at"] == local(2026, 3, 11, 14)
    await _run_jobs(host, local(2026, 3, 9, 8, 1))  # the old time: nothing
    assert gateway.requests == []
    await _run_jobs(host, local(2026, 3, 11, 14, 1))
    texts = [request["json"]["Content"] for request in gateway.requests]
    assert len(texts) == 3 and all("12/03/2026 14:00" in text for text in texts)
    assert await Message.count().where(Message.kind == "reminder") == 3


async def test_a_cancellation_drops_the_reminders_and_is_sent(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _published(tree)
    await conferences.cancel_conference(SYSTEM, conference["id"], reason="Hoãn do mưa bão")
    assert await Job.count().where((Job.kind == "conference_reminder") & (Job.status == "pending")) == 0
    clock.set_now(local(2026, 3, 2, 9))
    counts = await notifications.queue_conference_messages(SYSTEM, host, kind="cancellation", conference_id=conference["id"])
    assert counts["queued"] == 3
    await notifications.send_due(host)
    assert all("Hoãn do mưa bão" in request["json"]["Content"] and "đã được huỷ" in request["json"]["Content"]
               for request in gateway.requests)
    await _run_jobs(host, local(2026, 3, 10, 6, 1))  # where the 2-hour reminder was due
    assert len(gateway.requests) == 3 and await Message.count().where(Message.kind == "reminder") == 0


async def test_quiet_hours_defer_and_urgent_goes_at_once(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _published(tree, count=2)
    clock.set_now(local(2026, 3, 5, 22, 30))
    await notifications.queue_conference_messages(SYSTEM, host, kind="nudge", conference_id=conference["id"])
    await _run_jobs(host, local(2026, 3, 5, 22, 31))
    assert gateway.requests == []
    message = await Message.select().first()
    assert message["status"] == "queued" and message["send_after"] == local(2026, 3, 6, 7)
    await _run_jobs(host, local(2026, 3, 6, 7))
    assert len(gateway.requests) == 2
    clock.set_now(local(2026, 3, 6, 23))
    await notifications.queue_conference_messages(SYSTEM, host, kind="free_message", conference_id=conference["id"], text="Khẩn",
                                                  urgent=True, campaign="urgent")
    await notifications.send_due(host)
    assert len(gateway.requests) == 4


async def test_an_opted_out_person_is_skipped(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _published(tree)
    await notifications.opt_out(group[1]["id"], "sms")
    counts = await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    await notifications.send_due(host)
    assert counts["queued"] == 2 and counts["opted_out"] == 1
    assert [request["json"]["Phone"] for request in gateway.requests] == ["0915000000", "0915000002"]


async def test_the_quota_stops_with_a_clear_message(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _published(tree)
    await set_unit_setting(SYSTEM, tree["province"]["id"], "notifications.quota.sms", 2)
    counts = await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    assert counts["queued"] == 2 and counts["over_quota"] == 1
    with pytest.raises(Conflict, match="hết hạn mức tin nhắn tháng này"):
        await notifications.queue_conference_messages(SYSTEM, host, kind="nudge", conference_id=conference["id"])
    await notifications.send_due(host)
    assert len(gateway.requests) == 2
    # a new month, a new quota
    clock.set_now(local(2026, 4, 1, 9))
    counts = await notifications.queue_conference_messages(SYSTEM, host, kind="nudge", conference_id=conference["id"])
    assert counts["queued"] == 2


async def test_a_unit_with_the_plugin_off_sends_nothing(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _published(tree)
    await host.set_state(SYSTEM, tree["province"]["id"], "sms", "off")
    with pytest.raises(Conflict, match="chưa bật kênh"):
        await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    await _run_jobs(host, local(2026, 3, 9, 8, 1))  # and its reminders reach nobody
    assert gateway.requests == [] and await Message.count() == 0


async def test_a_message_queued_before_the_plugin_went_off_is_not_sent(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _published(tree, count=1)
    await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    await host.set_state(SYSTEM, tree["province"]["id"], "sms", "off")
    await notifications.send_due(host)
    message = await Message.select().first()
    assert gateway.requests == [] and message["status"] == "failed", message


async def test_concurrent_sends_reach_everyone_once(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway, concurrency=8))
    conference, group = await _published(tree, count=40)
    gateway.plan(*(["503"] * 5))  # a few transient refusals in the crowd, retried
    counts = await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    await notifications.send_due(host)
    phones = [request["json"]["Phone"] for request in gateway.requests if request["outcome"] == "ok"]
    assert counts["queued"] == 40 and len(phones) == 40 and len(set(phones)) == 40
    assert {m["status"] for m in await Message.select(Message.status)} == {"sent"}
