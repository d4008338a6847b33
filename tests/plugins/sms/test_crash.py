"""Crash tests: a real ``hoinghi worker`` process, killed by the core's fault points while a
campaign is half sent over the local HTTP gateway, then started again."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock, jobs, notifications
from core.services import conferences, people
from core.tables import Message
from plugins.sms.services import record_receipt
from tests.conftest import run_cli
from tests.core.flows import local, make_conference
from tests.factories import SYSTEM, make_tree
from tests.plugins.sms.conftest import esms
from plugins.sms.channel import receipt_secret

COUNT = 6


async def _campaign(tree, host):
    for i in range(COUNT):
        await people.create_person(SYSTEM, unit_id=tree["commune_a1"]["id"], full_name=f"Phạm Văn Hùng {i}", categories=["briefer"],
                                   phone=f"09140000{i:02d}")
    conference = await make_conference(tree, start=local(2026, 3, 10, 8))
    await conferences.publish_conference(SYSTEM, conference["id"])
    clock.set_now(local(2026, 3, 9, 10))
    counts = await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    assert counts["queued"] == COUNT
    return conference


def _worker_env(db, tmp_path, now: dt.datetime, fault: str | None = None) -> dict:
    env = {"HOINGHI_PLUGINS_TOML": str(tmp_path / "plugins.toml"), "HOINGHI_NOW": now.isoformat()}
    if db.engine_type == "postgres":
        env["DATABASE_URL"] = db.config["dsn"]
    else:
        env.update({"HOINGHI_VAR_DIR": str(tmp_path), "DATABASE_URL": ""})
    if fault:
        env["HOINGHI_FAULT"] = fault
    return env


def _per_phone(gateway) -> dict[str, int]:
    counts: dict[str, int] = {}
    for request in gateway.requests:
        counts[request["json"]["Phone"]] = counts.get(request["json"]["Phone"], 0) + 1
    return counts


@pytest.mark.timeout(240)
async def test_a_crash_between_messages_resumes_with_exactly_one_each(db, gateway, configure_sms, tmp_path):
    tree = await make_tree()
    host = configure_sms(esms(gateway, concurrency=1))  # one at a time: the fault points fall on known messages
    await _campaign(tree, host)
    now = clock.now()
    crashed = run_cli("worker", "--once", env=_worker_env(db, tmp_path, now, "message_recorded:sms@3"), check=False)
    assert crashed.returncode == 86, crashed.stderr[-2000:]
    assert len(gateway.requests) == 3
    assert sorted(m["status"] for m in await Message.select(Message.status)) == ["queued"] * 3 + ["sent"] * 3

    later = now + jobs.LEASE + dt.timedelta(seconds=1)  # the dead worker's lease on the job ran out
    run_cli("worker", "--once", env=_worker_env(db, tmp_path, later))
    per_phone = _per_phone(gateway)
    assert len(per_phone) == COUNT and set(per_phone.values()) == {1}  # everyone once, nobody twice
    assert {m["status"] for m in await Message.select(Message.status)} == {"sent"}


@pytest.mark.timeout(240)
async def test_a_crash_inside_the_send_window_never_resends_and_receipts_settle_it(db, gateway, configure_sms, tmp_path):
    tree = await make_tree()
    host = configure_sms(esms(gateway, concurrency=1))  # one at a time: the fault points fall on known messages
    await _campaign(tree, host)
    now = clock.now()
    # the gateway took the 4th message, the worker died before recording it
    crashed = run_cli("worker", "--once", env=_worker_env(db, tmp_path, now, "message_unrecorded:sms@4"), check=False)
    assert crashed.returncode == 86
    assert len(gateway.requests) == 4
    stale = now + notifications.STALE_SENDING + dt.timedelta(minutes=1)  # past the lease and the stale limit
    run_cli("worker", "--once", env=_worker_env(db, tmp_path, stale))
    per_phone = _per_phone(gateway)
    assert len(per_phone) == COUNT and max(per_phone.values()) == 1  # at most one: never resent blindly
    messages = await Message.select().order_by(Message.id)
    assert [m["status"] for m in messages].count("unknown") == 1 and [m["status"] for m in messages].count("sent") == 5
    unknown = next(m for m in messages if m["status"] == "unknown")
    assert unknown["provider_id"] is None

    # the provider's receipt names our message (ref) and its own id: the unknown one is settled
    request = next(r for r in gateway.requests if r["json"]["RequestId"] == f"hoinghi-{unknown['id']}")
    clock.set_now(stale)
    outcome = await record_receipt(unit_id=unknown["unit_id"], secret=receipt_secret(unknown["unit_id"]),
                                   fields={"SMSID": request["provider_id"], "SendSuccess": "1", "ref": str(unknown["id"])})
    assert outcome == {"status": "applied"}
    settled = await Message.select().where(Message.id == unknown["id"]).first()
    assert settled["status"] == "delivered" and settled["provider_id"] == request["provider_id"]


@pytest.mark.timeout(240)
async def test_a_crash_before_the_call_leaves_unknown_and_sends_nothing_twice(db, gateway, configure_sms, tmp_path):
    tree = await make_tree()
    host = configure_sms(esms(gateway, concurrency=1))  # one at a time: the fault points fall on known messages
    await _campaign(tree, host)
    now = clock.now()
    crashed = run_cli("worker", "--once", env=_worker_env(db, tmp_path, now, "message_claimed:sms@2"), check=False)
    assert crashed.returncode == 86 and len(gateway.requests) == 1
    stale = now + notifications.STALE_SENDING + dt.timedelta(minutes=1)
    run_cli("worker", "--once", env=_worker_env(db, tmp_path, stale))
    per_phone = _per_phone(gateway)
    assert len(per_phone) == COUNT - 1 and set(per_phone.values()) == {1}
    statuses = [m["status"] for m in await Message.select(Message.status).order_by(Message.id)]
    assert statuses[1] == "unknown" and statuses.count("sent") == COUNT - 1
