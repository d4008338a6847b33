"""Calendar objects through real mail servers on 127.0.0.1.

* SMTP: an ``aiosmtpd`` server receives the invitation, change and cancellation mails, sent by the
  core notification service through a channel that carries attachments; the calendar part
  comes from the ``message_attachments`` hook. The ``email`` channel plugin is built on another
  branch, so a small test-only channel plugin stands in for it here (registered in the test).
* IMAP: ``aioimaplib``'s own test server holds the organiser mailbox; an iTIP REPLY put there
  changes the invitee's RSVP once the worker's poll job has read it.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import email
import email.policy
import smtplib
from email.message import EmailMessage

import icalendar
import pytest
from aiosmtpd.controller import Controller

import plugins.ical.hooks
import plugins.ical.tables  # noqa: F401
from core import clock, jobs, notifications
from core.config import reset_settings
from core.hookspecs import hookimpl
from core.plugins import build_plugin_host
from core.services import conferences, invitations
from core.tables import Invitation, Job
from tests.core.flows import local
from tests.factories import SYSTEM, make_tree
from tests.plugins.ical.helpers import events, make_invitees, parse, published_conference, switch
from tests.servers import free_port

ORGANISER = "bantuyengiao@bacninh.vn"


class Inbox:
    """aiosmtpd handler: keeps every message it receives."""

    def __init__(self):
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


class MailChannel:
    """A minimal e-mail channel (test only): plain SMTP to a local server, attachments carried."""

    name = "testmail"
    label = "Thư điện tử (kiểm thử)"
    capabilities = frozenset({"attachments"})
    cost_per_message = 0.0
    plugin = "testmail"

    def __init__(self, port: int):
        self.port = port

    def address_for(self, person: dict) -> str | None:
        return person.get("email") or None

    async def send(self, message: dict, attachments: list[dict]) -> str | None:
        mail = EmailMessage()
        mail["From"] = "Tỉnh ủy Bắc Ninh <noreply@hoinghi.test>"
        mail["To"] = message["address"]
        mail["Subject"] = message["subject"]
        mail.set_content(message["body"])
        for attachment in attachments:
            maintype, _, rest = attachment["content_type"].partition("/")
            subtype, *params = [part.strip() for part in rest.split(";")]
            mail.add_attachment(attachment["data"], maintype=maintype, subtype=subtype, filename=attachment["filename"],
                                params=dict(param.replace('"', "").split("=", 1) for param in params if "=" in param))

        def deliver():
            with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as client:
                client.send_message(mail)

        await asyncio.to_thread(deliver)
        return f"testmail-{message['id']}"


class MailPlugin:
    def __init__(self, port: int):
        self.channel = MailChannel(port)

    @hookimpl
    def notification_channels(self):
        return [self.channel]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def _deployment(tmp_path, monkeypatch, *, imap_port: int | None = None):
    lines = ['[plugins.ical]', 'default = "off"']
    if imap_port is None:
        lines += ['', '[plugins.testmail]', 'default = "on"']
    else:
        lines += ['', '[plugins.ical.settings]', 'imap_host = "127.0.0.1"', f'imap_port = {imap_port}', 'imap_ssl = false',
                  f'imap_username = "{ORGANISER}"', 'imap_password = "mat-khau-hop-thu"', 'imap_poll_minutes = 10']
    toml = tmp_path / "plugins.toml"
    toml.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("HOINGHI_PLUGINS_TOML", str(toml))
    reset_settings()
    return toml


def _calendar_part(mail: EmailMessage):
    parts = [part for part in mail.walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [part.get_content_type() for part in mail.walk()]
    return parts[0]


async def _send(host, kind: str, conference_id: int) -> None:
    await notifications.queue_conference_messages(SYSTEM, host, kind=kind, conference_id=conference_id, urgent=True)
    await notifications.send_due(host)


async def test_the_invitation_mail_carries_its_calendar_object_then_a_change_then_a_cancel(db, tmp_path, monkeypatch, smtp_server):
    inbox, port = smtp_server
    toml = _deployment(tmp_path, monkeypatch)
    host = build_plugin_host(plugins_toml=toml, extra=[("testmail", MailPlugin(port))])
    tree = await make_tree()
    await switch(host, tree["province"], "on")
    people = await make_invitees(tree["commune_a1"], 3)
    conference = await published_conference(tree)

    await _send(host, "invitation", conference["id"])
    assert sorted(str(mail["To"]) for mail in inbox.messages) == sorted(person["email"] for person in people)
    uids = set()
    for mail in inbox.messages:
        part = _calendar_part(mail)
        assert part.get_param("method") == "REQUEST" and part.get_filename() == "hoi-nghi.ics"
        data = part.get_payload(decode=True)
        calendar = parse(data)
        assert str(calendar["METHOD"]) == "REQUEST"
        (event,) = events(calendar)
        assert str(event["ATTENDEE"]) == f"mailto:{mail['To']}"  # this recipient, and nobody else
        assert all(other["email"].encode() not in data for other in people if other["email"] != str(mail["To"]))
        assert event["ATTENDEE"].params["RSVP"] == "FALSE"  # no organiser mailbox: answers on the page
        uids.add(str(event["UID"]))
    assert uids == {f"conference-{conference['id']}@127.0.0.1"}

    inbox.messages.clear()
    await conferences.update_conference(SYSTEM, conference["id"], starts_at=local(2026, 3, 12, 14), ends_at=local(2026, 3, 12, 16))
    await _send(host, "change_notice", conference["id"])
    assert len(inbox.messages) == 3
    (event,) = events(parse(_calendar_part(inbox.messages[0]).get_payload(decode=True)))
    assert int(event["SEQUENCE"]) == 1 and event.decoded("DTSTART") == local(2026, 3, 12, 14) and str(event["UID"]) in uids

    inbox.messages.clear()
    await conferences.cancel_conference(SYSTEM, conference["id"], reason="Trùng lịch")
    await _send(host, "cancellation", conference["id"])
    assert len(inbox.messages) == 3
    part = _calendar_part(inbox.messages[0])
    assert part.get_param("method") == "CANCEL"
    calendar = parse(part.get_payload(decode=True))
    (event,) = events(calendar)
    assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED" and str(event["UID"]) in uids
    assert int(event["SEQUENCE"]) == 2


async def test_no_attachment_where_the_plugin_is_off(db, tmp_path, monkeypatch, smtp_server):
    inbox, port = smtp_server
    toml = _deployment(tmp_path, monkeypatch)
    host = build_plugin_host(plugins_toml=toml, extra=[("testmail", MailPlugin(port))])
    tree = await make_tree()
    await make_invitees(tree["commune_a1"], 1)
    conference = await published_conference(tree)
    await _send(host, "invitation", conference["id"])
    (mail,) = inbox.messages
    assert [part.get_content_type() for part in mail.walk()] == ["text/plain"]


# -- answers by mail --------------------------------------------------------------------------

@pytest.fixture
async def imap_server():
    from aioimaplib.imap_testing_server import MockImapServer

    server = MockImapServer(loop=asyncio.get_running_loop())
    port = free_port()
    listening = await server.run_server(host="127.0.0.1", port=port)
    try:
        yield server, port
    finally:
        listening.close()
        await listening.wait_closed()


def _reply(invitation: bytes, *, partstat: str, sender: str, extra_params: dict | None = None) -> EmailMessage:
    """What a calendar client sends when the invitee presses a button: METHOD:REPLY, the same UID
    and SEQUENCE, the invitee's ATTENDEE with its PARTSTAT."""
    received = icalendar.Calendar.from_ical(invitation)
    reply = icalendar.Calendar()
    reply.add("prodid", "-//Calendar client//EN")
    reply.add("version", "2.0")
    reply.add("method", "REPLY")
    for event in received.walk("VEVENT"):
        answer = icalendar.Event()
        for name in ("UID", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY", "ORGANIZER", "RECURRENCE-ID"):
            if name in event:
                answer[name] = copy.deepcopy(event[name])
        answer.add("dtstamp", clock.now())
        attendee = copy.deepcopy(event["ATTENDEE"])
        attendee.params["PARTSTAT"] = partstat
        attendee.params.pop("RSVP", None)
        attendee.params.update(extra_params or {})
        answer["ATTENDEE"] = attendee
        reply.add_component(answer)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ORGANISER
    mail["Subject"] = "Đã từ chối: Hội nghị báo cáo viên tháng 3"
    mail.set_content("Tôi bận công tác.")
    mail.add_attachment(reply.to_ical(), maintype="text", subtype="calendar", params={"method": "REPLY"}, filename="invite.ics")
    return mail


async def _invitation_data(host, conference: dict, person: dict) -> bytes:
    from tests.plugins.ical.helpers import attachments

    message = {"id": 1, "kind": "invitation", "unit_id": conference["unit"], "conference_id": conference["id"],
               "person": person["id"], "channel": "testmail", "address": person["email"]}
    (found,) = await attachments(host, (await _unit_path(conference)), message)
    return found["data"]


async def _unit_path(conference: dict) -> str:
    from core.tables import Unit

    return (await Unit.select(Unit.path).where(Unit.id == conference["unit"]).first())["path"]


async def _rsvp(conference_id: int, person_id: int) -> str:
    row = await Invitation.select(Invitation.rsvp, Invitation.substitute_name).where(
        (Invitation.conference == conference_id) & (Invitation.person == person_id)).first()
    return row["rsvp"] if row["rsvp"] != "delegated" else f"delegated:{row['substitute_name']}"


async def test_a_reply_in_the_organiser_mailbox_changes_the_rsvp(db, tmp_path, monkeypatch, imap_server):
    from aioimaplib.imap_testing_server import Mail

    server, port = imap_server
    toml = _deployment(tmp_path, monkeypatch, imap_port=port)
    host = build_plugin_host(plugins_toml=toml, extra=[("ical", plugins.ical.hooks)], discover=False)
    tree = await make_tree()
    await switch(host, tree["province"], "on")
    first, second, third = await make_invitees(tree["commune_a1"], 3)
    conference = await published_conference(tree)

    # the mailbox is configured: clients get their answer buttons and answer to the mailbox
    data = await _invitation_data(host, conference, first)
    (event,) = events(parse(data))
    assert event["ATTENDEE"].params["RSVP"] == "TRUE"
    assert str(event["ORGANIZER"]) == f"mailto:{ORGANISER}"

    # publishing issued invitations: the worker passes the event to the plugin, which schedules the poll
    await jobs.dispatch(host)
    await jobs.deliver_due(host)
    poll = await Job.select().where(Job.dedupe_key == "ical:poll_mailbox").first()
    assert poll is not None and poll["status"] == "pending" and poll["plugin"] == "ical"

    server.receive(Mail(_reply(data, partstat="DECLINED", sender=f"Người 0 <{first['email']}>")), imap_user=ORGANISER)
    # a forged answer for the second invitee, sent from the first one's address, is not applied
    forged = _reply(await _invitation_data(host, conference, second), partstat="DECLINED", sender=first["email"])
    server.receive(Mail(forged), imap_user=ORGANISER)
    third_data = await _invitation_data(host, conference, third)
    server.receive(Mail(_reply(third_data, partstat="DELEGATED", sender=third["email"],
                               extra_params={"DELEGATED-TO": "mailto:pho.bithu@bacninh.vn"})), imap_user=ORGANISER)
    plain = EmailMessage()
    plain["From"], plain["To"], plain["Subject"] = second["email"], ORGANISER, "Hỏi thêm về tài liệu"
    plain.set_content("Xin gửi tài liệu trước.")
    server.receive(Mail(plain), imap_user=ORGANISER)

    outcome = await jobs.run_due_jobs(jobs.all_job_handlers(host))
    assert outcome["rescheduled"] == 1 and outcome["retry"] == 0, outcome
    assert await _rsvp(conference["id"], first["id"]) == "declined"
    assert await _rsvp(conference["id"], second["id"]) == "pending"
    assert await _rsvp(conference["id"], third["id"]) == "delegated:pho.bithu@bacninh.vn"
    poll = await Job.select().where(Job.dedupe_key == "ical:poll_mailbox").first()
    assert poll["status"] == "pending" and poll["run_at"] > clock.now() + dt.timedelta(minutes=9)
    # every message was handled and is not read again; the people reading the mailbox still see them unread
    mails = server._server_state.get_mailbox_messages(ORGANISER, "INBOX")
    assert [("HoinghiDone" in mail.flags, "\\Seen" in mail.flags) for mail in mails] == [(True, False)] * 4

    # the invitee changes their mind on their page; an older mail answer arriving later does not undo it
    stale = _reply(data, partstat="ACCEPTED", sender=first["email"])
    invitation = await Invitation.select(Invitation.id).where(
        (Invitation.conference == conference["id"]) & (Invitation.person == first["id"])).first()
    clock.set_now(clock.now() + dt.timedelta(minutes=5))
    await invitations.respond(invitation["id"], answer="excused", reason="Ốm")
    server.receive(Mail(stale), imap_user=ORGANISER)
    from plugins.ical.mailbox import poll_mailbox
    from plugins.ical.settings import mailbox

    (result,) = await poll_mailbox(host, mailbox())
    assert result.result.startswith("ignored") and await _rsvp(conference["id"], first["id"]) == "excused"

    # a fresh accept is applied; switched off for the unit, answers are no longer applied
    server.receive(Mail(_reply(data, partstat="ACCEPTED", sender=first["email"])), imap_user=ORGANISER)
    clock.set_now(clock.now() + dt.timedelta(minutes=5))
    await switch(host, tree["province"], "off")
    (result,) = await poll_mailbox(host, mailbox())
    assert await _rsvp(conference["id"], first["id"]) == "excused"
    await switch(host, tree["province"], "on")
    server.receive(Mail(_reply(data, partstat="ACCEPTED", sender=first["email"])), imap_user=ORGANISER)
    (result,) = await poll_mailbox(host, mailbox())
    assert result.result == "applied" and await _rsvp(conference["id"], first["id"]) == "accepted"
