"""The notices the system itself sends: a cancellation, a change notice on a significant revision
(the organiser's choice), a withdrawal; queued by the worker's notice job through the campaign
queueing (quiet hours, opt-outs, idempotency keys), to exactly the people they concern."""

from __future__ import annotations

from core import clock, jobs, notifications
from core.services import audiences, conferences, invitations, people
from core.tables import Invitation, Job, Message
from tests.core.flows import local, make_conference
from tests.core.test_notifications import FakeSms, host_with
from tests.factories import SYSTEM, make_tree


async def _published(tree, count=4):
    group = [await people.create_person(SYSTEM, unit_id=tree["commune_a1"]["id"], full_name=f"Trần Văn Quang {i}",
                                        categories=["briefer"], phone=f"09130000{i:02d}") for i in range(count)]
    clock.set_now(local(2026, 3, 1, 9))
    conference = await make_conference(tree, start=local(2026, 3, 10, 8))
    await conferences.publish_conference(SYSTEM, conference["id"])
    return conference, group


async def _invitation(conference, person) -> dict:
    return await Invitation.select().where((Invitation.conference == conference["id"]) & (Invitation.person == person["id"])).first()


async def _run_worker(host) -> None:
    """Two rounds of due jobs: the notice job queues, the send job it schedules sends."""
    handlers = jobs.all_job_handlers(host)
    await jobs.run_due_jobs(handlers)
    await jobs.run_due_jobs(handlers)


def _sent(sms, kind) -> dict[int, dict]:
    return {message["person"]: message for message in sms.sent if message["kind"] == kind}


async def test_a_cancellation_goes_once_to_the_invitees_who_have_not_declined(db, tmp_path):
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    tree = await make_tree()
    conference, group = await _published(tree)
    declined, withdrawn, excused, pending = group
    await invitations.respond((await _invitation(conference, declined))["id"], answer="declined")
    await invitations.respond((await _invitation(conference, excused))["id"], answer="excused", reason="Đi công tác")
    await invitations.withdraw_invitation(SYSTEM, (await _invitation(conference, withdrawn))["id"])
    await _run_worker(host)
    sms.sent.clear()

    cancelled = await conferences.cancel_conference(SYSTEM, conference["id"], reason="Trùng lịch họp Tỉnh ủy")
    assert cancelled["notice_recipients"] == 2
    assert await Job.count().where((Job.kind == "conference_reminder") & (Job.status == "pending")) == 0
    await _run_worker(host)
    told = _sent(sms, "cancellation")
    assert sorted(told) == sorted([excused["id"], pending["id"]])
    assert all("Trùng lịch họp Tỉnh ủy" in message["body"] and "đã được huỷ" in message["body"] for message in told.values())
    assert {message["kind"] for message in sms.sent} == {"cancellation"}  # no reminder, nothing else

    # the job run again (a worker that died before marking it done): the keys hold, nobody twice
    job = await Job.select().where(Job.kind == notifications.NOTICE_JOB).where(Job.dedupe_key.like("notice:cancellation:%")).first()
    again = await notifications.send_notice(host, {**job, "payload": {"kind": "cancellation"}})
    assert again["queued"] == 0 and again["duplicates"] == 2
    assert await Message.count().where(Message.kind == "cancellation") == 2


async def test_cancelling_without_the_notice_or_a_draft_tells_nobody(db, tmp_path):
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    tree = await make_tree()
    conference, _group = await _published(tree)
    quiet = await conferences.cancel_conference(SYSTEM, conference["id"], reason="Hoãn", notify=False)
    draft = await make_conference(tree, start=local(2026, 4, 10, 8))
    await invitations.invite_person(SYSTEM, draft["id"], _group[0]["id"])  # an individual on a draft
    cancelled_draft = await conferences.cancel_conference(SYSTEM, draft["id"], reason="Không tổ chức")
    assert quiet["notice_recipients"] == 0 and cancelled_draft["notice_recipients"] == 0
    assert await Job.count().where(Job.kind == notifications.NOTICE_JOB) == 0
    await _run_worker(host)
    assert sms.sent == [] and await Message.count() == 0


async def test_a_cancellation_at_night_waits_for_the_morning(db, tmp_path):
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    tree = await make_tree()
    conference, group = await _published(tree, count=2)
    clock.set_now(local(2026, 3, 5, 22, 30))
    await conferences.cancel_conference(SYSTEM, conference["id"], reason="Mưa bão")
    await _run_worker(host)
    assert sms.sent == []
    queued = await Message.select(Message.send_after).where(Message.kind == "cancellation")
    assert len(queued) == 2 and all(row["send_after"] == local(2026, 3, 6, 7) for row in queued)
    clock.set_now(local(2026, 3, 6, 7, 1))
    await _run_worker(host)
    assert sorted(_sent(sms, "cancellation")) == sorted(person["id"] for person in group)


async def test_a_withdrawn_person_is_told_once_and_invited_again_gets_a_fresh_invitation(db, tmp_path):
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    tree = await make_tree()
    conference, group = await _published(tree, count=3)
    first = await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    assert first["queued"] == 3
    leaving = group[1]
    invitation = await _invitation(conference, leaving)
    await invitations.withdraw_invitation(SYSTEM, invitation["id"])
    await invitations.withdraw_invitation(SYSTEM, invitation["id"])  # already withdrawn: no second notice
    await _run_worker(host)
    told = _sent(sms, "withdrawal")
    assert list(told) == [leaving["id"]]
    assert told[leaving["id"]]["body"] == (f"Đồng chí {leaving['full_name']} không còn trong danh sách mời dự "
                                           "Hội nghị báo cáo viên tháng 3 (10/03/2026 08:00).")
    await _run_worker(host)
    assert await Message.count().where(Message.kind == "withdrawal") == 1

    await invitations.invite_person(SYSTEM, conference["id"], leaving["id"])
    assert (await _invitation(conference, leaving))["sequence"] == invitation["sequence"] + 2  # withdrawn, then invited again
    again = await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    assert again["queued"] == 1 and again["duplicates"] == 2
    fresh = await Message.select().where((Message.kind == "invitation") & (Message.person == leaving["id"])).order_by(Message.id)
    assert len(fresh) == 2

    # withdrawn a second time: told again, since this is another withdrawal
    await invitations.withdraw_invitation(SYSTEM, (await _invitation(conference, leaving))["id"])
    await _run_worker(host)
    assert await Message.count().where((Message.kind == "withdrawal") & (Message.person == leaving["id"])) == 2


async def test_a_withdrawal_still_waiting_is_dropped_when_the_person_is_invited_again(db, tmp_path):
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    tree = await make_tree()
    conference, group = await _published(tree, count=2)
    clock.set_now(local(2026, 3, 5, 22, 30))  # quiet hours: the notice waits for the morning
    await invitations.withdraw_invitation(SYSTEM, (await _invitation(conference, group[0]))["id"])
    await _run_worker(host)
    assert await Message.count().where((Message.kind == "withdrawal") & (Message.status == "queued")) == 1
    await invitations.invite_person(SYSTEM, conference["id"], group[0]["id"])
    assert await Message.count().where(Message.kind == "withdrawal") == 0
    clock.set_now(local(2026, 3, 6, 7, 1))
    await _run_worker(host)
    assert sms.sent == []


async def test_re_resolution_tells_exactly_the_people_it_withdraws(db, tmp_path):
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    tree = await make_tree()
    conference, group = await _published(tree, count=3)
    kept = group[0]
    await invitations.invite_person(SYSTEM, conference["id"], kept["id"])  # individually invited: kept by re-resolution
    before_draft = await make_conference(tree, start=local(2026, 4, 10, 8))
    await invitations.invite_person(SYSTEM, before_draft["id"], group[2]["id"])
    await invitations.withdraw_invitation(SYSTEM, (await _invitation(before_draft, group[2]))["id"])  # on a draft: nobody told
    empty = await audiences.create_audience(SYSTEM, unit_id=tree["province"]["id"], name="Khách mời",
                                            rules={"categories": ["guest"], "unit_ids": [tree["province"]["id"]]})
    await conferences.set_audiences(SYSTEM, conference["id"], [empty["id"]])
    result = await invitations.re_resolve(SYSTEM, conference["id"], confirm=True)
    assert result["withdrawn"] == 2
    await _run_worker(host)
    assert sorted(_sent(sms, "withdrawal")) == sorted([group[1]["id"], group[2]["id"]])
    assert all(message["conference_id"] == conference["id"] for message in sms.sent)


async def test_a_significant_revision_sends_a_change_notice_when_the_organiser_chooses(db, tmp_path):
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    tree = await make_tree()
    conference, group = await _published(tree, count=3)
    await invitations.respond((await _invitation(conference, group[0]))["id"], answer="declined")

    renamed = await conferences.update_conference(SYSTEM, conference["id"], title="Hội nghị báo cáo viên quý I", notify=True)
    assert renamed["notice_recipients"] == 0  # a new title is not a significant revision
    unannounced = await conferences.update_conference(SYSTEM, conference["id"], starts_at=local(2026, 3, 11, 8),
                                                      ends_at=local(2026, 3, 11, 11))
    assert unannounced["notice_recipients"] == 0
    await _run_worker(host)
    assert _sent(sms, "change_notice") == {}

    moved = await conferences.update_conference(SYSTEM, conference["id"], starts_at=local(2026, 3, 12, 14),
                                                ends_at=local(2026, 3, 12, 17), notify=True)
    assert moved["notice_recipients"] == 2
    await _run_worker(host)
    told = _sent(sms, "change_notice")
    assert sorted(told) == sorted([group[1]["id"], group[2]["id"]])
    assert all("12/03/2026 14:00" in message["body"] for message in told.values())

    venue = moved["venues"][0]
    changed = await conferences.update_venue(SYSTEM, venue["id"], address="Số 9 Nguyễn Đăng Đạo", notify=True)
    assert changed["notice_recipients"] == 2
    await _run_worker(host)
    assert await Message.count().where(Message.kind == "change_notice") == 4
    assert sum("Số 9 Nguyễn Đăng Đạo" in message["body"] for message in sms.sent) == 2


async def test_a_change_notice_overtaken_by_the_cancellation_is_not_sent(db, tmp_path):
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    tree = await make_tree()
    conference, group = await _published(tree, count=2)
    await conferences.update_conference(SYSTEM, conference["id"], starts_at=local(2026, 3, 12, 14), ends_at=local(2026, 3, 12, 17),
                                        notify=True)
    await conferences.cancel_conference(SYSTEM, conference["id"], reason="Không tổ chức nữa")
    await _run_worker(host)
    assert {message["kind"] for message in sms.sent} == {"cancellation"} and len(sms.sent) == 2


async def test_the_withdrawal_kind_has_its_template_and_english_label(db):
    from web.i18n import translations

    kinds = notifications.kinds()
    assert kinds["withdrawal"]["label"] == "Thông báo rút lời mời"
    notifications.check_template(kinds["withdrawal"]["body"], "body")
    assert translations("en").gettext("Thông báo rút lời mời") == "Withdrawal notice"


async def test_a_cancellation_in_the_quiet_hours_waits_unless_the_morning_is_too_late(db, tmp_path):
    sms = FakeSms()
    host = host_with(tmp_path, sms)
    tree = await make_tree()
    later, _group = await _published(tree, count=2)  # starts 10/03 08:00
    clock.set_now(local(2026, 3, 5, 22, 30))
    await conferences.cancel_conference(SYSTEM, later["id"], reason="Hoãn", notify=True)
    await _run_worker(host)
    assert _sent(sms, "cancellation") == {}  # days ahead: it waits for the end of the quiet hours

    soon = await make_conference(tree, start=local(2026, 3, 10, 8))
    clock.set_now(local(2026, 3, 1, 9))
    await conferences.publish_conference(SYSTEM, soon["id"])
    clock.set_now(local(2026, 3, 10, 0, 30))  # quiet until 07:00, an hour before the start
    await conferences.cancel_conference(SYSTEM, soon["id"], reason="Mưa bão", notify=True)
    await _run_worker(host)
    told = [message for message in sms.sent if message["kind"] == "cancellation" and message["conference_id"] == soon["id"]]
    assert len(told) == 2 and all("Mưa bão" in message["body"] for message in told)
