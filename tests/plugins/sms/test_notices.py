"""The notices of a conference over SMS, through the real local gateway: a cancellation reaches
each invitee who has not declined once, with its reason; a withdrawal reaches the one withdrawn."""

from __future__ import annotations

from core import jobs
from core.services import conferences, invitations
from core.tables import Invitation, Message
from tests.factories import SYSTEM, make_tree
from tests.plugins.sms.conftest import esms
from tests.plugins.sms.test_scenarios import _published


async def _run_worker(host):
    handlers = jobs.all_job_handlers(host)
    await jobs.run_due_jobs(handlers)  # the notice job queues
    await jobs.run_due_jobs(handlers)  # the send job sends


async def _invitation_id(conference, person) -> int:
    row = await Invitation.select(Invitation.id).where((Invitation.conference == conference["id"]) & (Invitation.person == person["id"])).first()
    return row["id"]


async def test_cancelling_sends_one_cancellation_per_recipient(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _published(tree)
    await invitations.respond(await _invitation_id(conference, group[0]), answer="declined")
    cancelled = await conferences.cancel_conference(SYSTEM, conference["id"], reason="Hoãn do mưa bão")
    assert cancelled["notice_recipients"] == 2
    await _run_worker(host)
    await _run_worker(host)  # a later round sends nothing more
    recipients = sorted(request["json"]["Phone"] for request in gateway.requests)
    assert recipients == ["0915000001", "0915000002"]  # not group[0], who declined
    assert all("Hoãn do mưa bão" in request["json"]["Content"] and "đã được huỷ" in request["json"]["Content"]
               for request in gateway.requests)
    assert [row["status"] for row in await Message.select(Message.status).where(Message.kind == "cancellation")] == ["sent", "sent"]


async def test_a_withdrawn_person_gets_the_withdrawal_by_sms(db, gateway, configure_sms):
    tree = await make_tree()
    host = configure_sms(esms(gateway))
    conference, group = await _published(tree)
    await invitations.withdraw_invitation(SYSTEM, await _invitation_id(conference, group[2]))
    await _run_worker(host)
    (request,) = gateway.requests
    assert request["json"]["Phone"] == "0915000002"
    assert "không còn trong danh sách mời" in request["json"]["Content"]
