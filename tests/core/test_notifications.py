import dataclasses
import datetime as dt
import json

import pytest

from core import clock, jobs, notifications
from core.config import get_settings
from core.errors import Conflict, ValidationError
from core.hookspecs import hookimpl
from core.plugins import build_plugin_host
from core.services import conferences, invitations, people
from core.tables import Message
from tests.core.flows import local, make_conference, make_people
from tests.factories import SYSTEM, make_tree


@dataclasses.dataclass
class FakeSms:
    """A channel of a throw-away plugin; it records instead of calling a provider."""

    name: str = "sms"
    label: str = "SMS"
    capabilities: frozenset = frozenset({"one_time_codes", "delivery_receipts"})
    cost_per_message: float = 0.0
    plugin: str = "fakesms"
    sent: list = dataclasses.field(default_factory=list)
    fail: bool = False

    def address_for(self, person):
        return person.get("phone")

    async def send(self, message, attachments):
        if self.fail:
            raise RuntimeError("nhà mạng từ chối")
        self.sent.append(message)
        return f"sms-{len(self.sent)}"


class FakeSmsPlugin:
    def __init__(self, channel):
        self.channel = channel

    @hookimpl
    def notification_channels(self):
        return [self.channel]


def host_with(tmp_path, sms, default="on"):
    toml = tmp_path / "plugins.toml"
    toml.write_text(f'[plugins.fakesms]\ndefault = "{default}"\n')
    return build_plugin_host(plugins_toml=toml, extra=[("fakesms", FakeSmsPlugin(sms))], discover=False)


async def _conference(tree, with_phone=2, without_phone=1):
    group = [await people.create_person(SYSTEM, unit_id=tree["commune_a1"]["id"], full_name=f"Có Số {i}", categories=["briefer"],
                                        phone=f"09120000{i:02d}") for i in range(with_phone)]
    group += [await people.create_person(SYSTEM, unit_id=tree["commune_a1"]["id"], full_name=f"Không Số {i}", categories=["briefer"],
                                         email=f"a{i}@example.vn") for i in range(without_phone)]
    conference = await make_conference(tree, start=local(2026, 3, 10, 8))
    await conferences.publish_conference(SYSTEM, conference["id"])
    return conference, group


async def test_templates_validate_variables_and_inherit(db):
    tree = await make_tree()
    with pytest.raises(ValidationError, match="Biến không có: ngay"):
        await notifications.save_template(SYSTEM, unit_id=tree["province"]["id"], kind="reminder", channel="sms", body="Họp {ngay}")
    await notifications.save_template(SYSTEM, unit_id=tree["province"]["id"], kind="reminder", channel="sms",
                                      body="Nhắc {name}: {title} lúc {start}")
    template = await notifications.template_for(tree["commune_a1"]["path"], "reminder", "sms")
    assert template["body"] == "Nhắc {name}: {title} lúc {start}"
    assert (await notifications.template_for(tree["commune_a1"]["path"], "reminder", "email"))["body"].startswith("Nhắc đồng chí")


async def test_queue_send_idempotent_fallback_and_opt_out(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HOINGHI_CONSOLE_CHANNEL", "1")
    tree = await make_tree()
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    conference, group = await _conference(tree)
    await notifications.set_unit_setting(SYSTEM, tree["province"]["id"], "notifications.channel_order", ["sms", "console"])
    await notifications.opt_out(group[1]["id"], "sms")
    clock.set_now(local(2026, 3, 9, 10))
    counts = await notifications.queue_conference_messages(SYSTEM, host, kind="reminder", conference_id=conference["id"],
                                                           audience="attending")
    assert counts["queued"] == 3
    again = await notifications.queue_conference_messages(SYSTEM, host, kind="reminder", conference_id=conference["id"],
                                                          audience="attending")
    assert again["queued"] == 0 and again["duplicates"] == 3
    outcome = await jobs.run_due_jobs(jobs.all_job_handlers(host))
    assert outcome["done"] == 1
    assert [m["address"] for m in sms.sent] == ["+84912000000"]
    assert "Có Số 0" in sms.sent[0]["body"] and "10/03/2026 08:00" in sms.sent[0]["body"]
    by_person = {m["person"]: m for m in await Message.select()}
    assert by_person[group[1]["id"]]["channel"] == "console"  # opted out of SMS: falls back
    assert by_person[group[2]["id"]]["channel"] == "console" and by_person[group[2]["id"]]["address"] == "a0@example.vn"
    assert {m["status"] for m in by_person.values()} == {"sent"}
    console_log = (get_settings().var_dir / "console-messages.log").read_text(encoding="utf-8").splitlines()
    assert json.loads(console_log[-1])["to"] in {"+84912000001", "a0@example.vn"}


async def test_declined_and_excused_get_no_reminder_and_quiet_hours_defer(db, tmp_path):
    tree = await make_tree()
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    conference, group = await _conference(tree, with_phone=3, without_phone=0)
    rows = await invitations.list_invitations(SYSTEM, conference["id"])
    await invitations.respond(rows[0]["id"], answer="declined")
    await invitations.respond(rows[1]["id"], answer="excused", reason="Ốm")
    clock.set_now(local(2026, 3, 9, 22))  # 22:00 local: quiet
    counts = await notifications.queue_conference_messages(SYSTEM, host, kind="reminder", conference_id=conference["id"],
                                                           audience="attending")
    assert counts["queued"] == 1
    message = await Message.select().first()
    assert message["send_after"] == local(2026, 3, 10, 7)
    await notifications.send_due(host)
    assert sms.sent == []
    clock.set_now(local(2026, 3, 10, 7, 1))
    await notifications.send_due(host)
    assert len(sms.sent) == 1


async def test_quota_failures_stale_sending_and_one_time_codes(db, tmp_path):
    tree = await make_tree()
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    conference, group = await _conference(tree, with_phone=3, without_phone=0)
    await notifications.set_unit_setting(SYSTEM, tree["province"]["id"], "notifications.quota.sms", 2)
    clock.set_now(local(2026, 3, 9, 10))
    counts = await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    assert counts["queued"] == 2 and counts["over_quota"] == 1
    sms.fail = True
    await notifications.send_due(host)
    assert {m["status"] for m in await Message.select()} == {"failed"}
    assert "nhà mạng" in (await Message.select().first())["error"]

    code = await notifications.send_one_time_code(host, person_id=group[2]["id"], code="482913", purpose="self_checkin")
    assert code["status"] == "failed"  # the channel still fails, but quotas did not stop the code
    sms.fail = False
    code = await notifications.send_one_time_code(host, person_id=group[2]["id"], code="482913", purpose="self_checkin")
    assert code["status"] == "sent" and "482913" in sms.sent[-1]["body"]

    await Message.update({Message.status: "sending", Message.sending_at: clock.now() - dt.timedelta(hours=1)}).where(
        Message.id == code["id"])
    assert await notifications.reconcile_stale() == 1
    assert (await Message.select(Message.status).where(Message.id == code["id"]).first())["status"] == "unknown"

    off_host = host_with(tmp_path, FakeSms(), default="off")
    with pytest.raises(Conflict, match="mã xác nhận"):
        await notifications.send_one_time_code(off_host, person_id=group[2]["id"], code="1", purpose="self_checkin")


async def test_receipts_and_preview(db, tmp_path):
    tree = await make_tree()
    sms = FakeSms(cost_per_message=350.0)
    host = host_with(tmp_path, sms)
    conference, group = await _conference(tree, with_phone=2, without_phone=0)
    preview = await notifications.preview(SYSTEM, host, kind="invitation", conference_id=conference["id"], channel="sms")
    assert preview["recipients"] == 2 and preview["estimated_cost"] == 700.0 and "Có Số 0" in preview["body"]
    clock.set_now(local(2026, 3, 9, 10))
    await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    await notifications.send_due(host)
    assert await notifications.apply_receipt(channel="sms", provider_id="sms-1", delivered=True)
    assert await notifications.apply_receipt(channel="sms", provider_id="sms-2", delivered=False, reason="thuê bao không liên lạc được")
    assert not await notifications.apply_receipt(channel="sms", provider_id="sms-99", delivered=True)
    statuses = sorted((m["status"], m["error"]) for m in await Message.select(Message.status, Message.error))
    assert statuses == [("delivered", ""), ("failed", "thuê bao không liên lạc được")]


async def test_reminders_follow_the_conference(db, tmp_path):
    from core.tables import Job

    tree = await make_tree()
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    clock.set_now(local(2026, 3, 1, 9))
    conference, group = await _conference(tree, with_phone=2, without_phone=0)
    jobs_by_key = {j["dedupe_key"]: j for j in await Job.select().where(Job.kind == "conference_reminder")}
    assert jobs_by_key["reminder:%d:24h" % conference["id"]]["run_at"] == local(2026, 3, 9, 8)
    assert jobs_by_key["reminder:%d:2h" % conference["id"]]["run_at"] == local(2026, 3, 10, 6)
    await conferences.update_conference(SYSTEM, conference["id"], starts_at=local(2026, 3, 12, 8), ends_at=local(2026, 3, 12, 11))
    moved = await Job.select(Job.run_at).where(Job.dedupe_key == "reminder:%d:24h" % conference["id"]).first()
    assert moved["run_at"] == local(2026, 3, 11, 8)
    rows = await invitations.list_invitations(SYSTEM, conference["id"])
    await invitations.respond(rows[0]["id"], answer="declined")
    clock.set_now(local(2026, 3, 11, 8, 1))
    await jobs.run_due_jobs(jobs.all_job_handlers(host))
    await jobs.run_due_jobs(jobs.all_job_handlers(host))
    assert [m["person"] for m in sms.sent] == [rows[1]["person"]]
    await conferences.cancel_conference(SYSTEM, conference["id"])
    statuses = {j["dedupe_key"]: j["status"] for j in await Job.select().where(Job.kind == "conference_reminder")}
    assert statuses["reminder:%d:2h" % conference["id"]] == "cancelled"


async def test_a_unit_restricted_to_the_console_never_reaches_a_real_channel(db, tmp_path, monkeypatch):
    monkeypatch.delenv("HOINGHI_CONSOLE_CHANNEL", raising=False)
    tree = await make_tree()
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    conference, group = await _conference(tree, with_phone=2, without_phone=0)
    await notifications.set_unit_setting(SYSTEM, tree["province"]["id"], "notifications.channels_allowed", ["console"])
    counts = await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"], urgent=True)
    assert counts["queued"] == 2
    await notifications.send_due(host)
    assert sms.sent == []
    assert {(m["channel"], m["status"]) for m in await Message.select(Message.channel, Message.status)} == {("console", "sent")}


async def test_absentee_follow_up_reaches_only_the_absent(db, tmp_path):
    from core.services import rollcall

    tree = await make_tree()
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    conference, group = await _conference(tree, with_phone=2, without_phone=0)
    clock.set_now(local(2026, 3, 10, 8))
    await rollcall.record_attendance(SYSTEM, conference_id=conference["id"], person_id=group[0]["id"], method="manual")
    clock.set_now(local(2026, 3, 10, 12))
    await conferences.end_conference(SYSTEM, conference["id"])
    counts = await notifications.queue_conference_messages(SYSTEM, host, kind="absentee_follow_up", conference_id=conference["id"],
                                                           audience="absent")
    assert counts["queued"] == 1
    assert (await Message.select(Message.person).first())["person"] == group[1]["id"]
