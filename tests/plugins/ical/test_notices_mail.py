"""Calendars follow a withdrawal, a re-invitation and a cancellation: the mails an SMTP server on
127.0.0.1 receives from the email plugin carry the ical plugin's objects, METHOD:CANCEL with the
invitation's UID and a higher SEQUENCE, then a REQUEST again, each parsed by icalendar and vobject."""

from __future__ import annotations

import plugins.ical.hooks
from core import clock, jobs, notifications
from core.services import conferences, invitations
from core.tables import Invitation
from tests.core.flows import local
from tests.factories import SYSTEM, make_tree
from tests.plugins.email.conftest import configure_email, mailserver, smtp  # noqa: F401  (the email tests' fixtures)
from tests.plugins.ical.helpers import events, make_invitees, parse, published_conference, switch


def _calendar(mail) -> tuple[str, dict]:
    """(METHOD of the MIME part, the single VEVENT) of a received mail."""
    (part,) = [part for part in mail["message"].walk() if part.get_content_type() == "text/calendar"]
    calendar = parse(part.get_payload(decode=True))
    assert str(calendar["METHOD"]) == part.get_param("method")
    (event,) = events(calendar)
    return part.get_param("method"), event


def _by_address(server) -> dict[str, list]:
    found: dict[str, list] = {}
    for mail in server.mails:
        for address in mail["to"]:
            found.setdefault(address, []).append(_calendar(mail))
    return found


async def _run_worker(host):
    handlers = jobs.all_job_handlers(host)
    await jobs.run_due_jobs(handlers)
    await jobs.run_due_jobs(handlers)


async def test_withdrawal_reinvitation_and_cancellation_reach_the_calendars(db, mailserver, configure_email):
    host = configure_email(smtp(mailserver), extra=[("ical", plugins.ical.hooks)])
    tree = await make_tree()
    await switch(host, tree["province"], "on")
    people = await make_invitees(tree["commune_a1"], 3)
    clock.set_now(local(2026, 3, 1, 9))
    conference = await published_conference(tree)
    uid = f"conference-{conference['id']}@127.0.0.1"
    await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    await notifications.send_due(host)
    invited = _by_address(mailserver)
    assert sorted(invited) == sorted(person["email"] for person in people)
    assert all(method == "REQUEST" and str(event["UID"]) == uid and int(event["SEQUENCE"]) == 0
               for ((method, event),) in invited.values())

    leaving = people[0]
    row = await Invitation.select(Invitation.id).where(Invitation.person == leaving["id"]).first()
    mailserver.mails.clear()
    await invitations.withdraw_invitation(SYSTEM, row["id"])
    await _run_worker(host)
    ((method, event),) = _by_address(mailserver)[leaving["email"]]
    assert len(mailserver.mails) == 1
    assert method == "CANCEL" and str(event["UID"]) == uid and int(event["SEQUENCE"]) == 1 and str(event["STATUS"]) == "CANCELLED"

    mailserver.mails.clear()
    await invitations.invite_person(SYSTEM, conference["id"], leaving["id"])
    await notifications.queue_conference_messages(SYSTEM, host, kind="invitation", conference_id=conference["id"])
    await notifications.send_due(host)
    ((method, event),) = _by_address(mailserver)[leaving["email"]]
    assert len(mailserver.mails) == 1  # the others had theirs
    assert method == "REQUEST" and str(event["UID"]) == uid and int(event["SEQUENCE"]) == 2

    mailserver.mails.clear()
    await conferences.cancel_conference(SYSTEM, conference["id"], reason="Trùng lịch")
    await _run_worker(host)
    cancelled = _by_address(mailserver)
    assert sorted(cancelled) == sorted(person["email"] for person in people)
    expected = {leaving["email"]: 3, people[1]["email"]: 1, people[2]["email"]: 1}  # each above the REQUEST it had
    for address, ((method, event),) in cancelled.items():
        assert method == "CANCEL" and str(event["UID"]) == uid and int(event["SEQUENCE"]) == expected[address]
