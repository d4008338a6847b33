"""The cancellation of a conference by e-mail, through a real SMTP server on 127.0.0.1: one mail
per invitee who has not declined, with the reason, whatever number of worker rounds."""

from __future__ import annotations

from core import clock, jobs
from core.services import conferences, invitations, people
from core.tables import Invitation
from tests.core.flows import local, make_conference
from tests.factories import SYSTEM, make_tree
from tests.plugins.email.conftest import smtp


async def test_cancelling_mails_one_cancellation_per_recipient(db, mailserver, configure_email):
    tree = await make_tree()
    host = configure_email(smtp(mailserver))
    group = [await people.create_person(SYSTEM, unit_id=tree["commune_a1"]["id"], full_name=f"Lê Văn Đạt {i}", categories=["briefer"],
                                        email=f"dat{i}@xa.example.vn") for i in range(3)]
    clock.set_now(local(2026, 3, 1, 9))
    conference = await make_conference(tree, start=local(2026, 3, 10, 8))
    await conferences.publish_conference(SYSTEM, conference["id"])
    declined = await Invitation.select(Invitation.id).where(Invitation.person == group[1]["id"]).first()
    await invitations.respond(declined["id"], answer="declined")
    cancelled = await conferences.cancel_conference(SYSTEM, conference["id"], reason="Trùng lịch họp Ban Thường vụ")
    assert cancelled["notice_recipients"] == 2
    handlers = jobs.all_job_handlers(host)
    for _round in range(3):
        await jobs.run_due_jobs(handlers)
    assert sorted(address for mail in mailserver.mails for address in mail["to"]) == ["dat0@xa.example.vn", "dat2@xa.example.vn"]
    for mail in mailserver.mails:
        parsed = mail["message"]
        assert parsed["Subject"] == "Huỷ: Hội nghị báo cáo viên tháng 3"
        assert "Trùng lịch họp Ban Thường vụ" in parsed.get_body(("plain",)).get_content()
