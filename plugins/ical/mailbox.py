"""Answers by e-mail: the organiser mailbox is polled with ``aioimaplib`` for iTIP REPLY
messages (RFC 5546 §3.2.3), which become the invitees' RSVPs.

Only when the deployment configures the mailbox (``imap_host`` and an address, see settings.py)
do invitations say ``RSVP=TRUE`` and name that mailbox as ORGANIZER, so that calendar clients
show their yes/no buttons and send the answer there. Otherwise answers go through the attendee's
page, which every description points to.

The poll is a job of the core queue (kind ``ical_poll_mailbox``, contributed through the
``job_handlers`` hook); each run schedules the next. It is idempotent: a message is marked with
the keyword ``HoinghiDone`` once handled (``\\Seen`` is left to the people reading the
mailbox), and applying the same answer twice changes nothing. A REPLY is applied only when its
UID is one of ours, the attendee it answers for is the message's sender and is invited to that
conference, the conference's unit has the plugin on, and the answer is not older than one the
invitee already gave on their page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import logging
import re
import zoneinfo
from email.utils import getaddresses

import icalendar

from core import clock, jobs
from core.access import Actor
from core.errors import Conflict, NotFound, ValidationError
from core.services import invitations
from core.tables import Conference, Invitation, Job, Series
from plugins.ical import objects
from plugins.ical.settings import PLUGIN, Mailbox, mailbox

log = logging.getLogger("hoinghi.ical.mailbox")
POLL_JOB = "ical_poll_mailbox"
POLL_DEDUPE = "ical:poll_mailbox"
DONE_KEYWORD = "HoinghiDone"
TIMEOUT_SECONDS = 30
# iTIP PARTSTAT -> our answer; TENTATIVE and NEEDS-ACTION leave the invitation as it is
ANSWERS = {"ACCEPTED": "accepted", "DECLINED": "declined", "DELEGATED": "delegated"}
_UID = re.compile(r"^(conference|series)-(\d+)@(.+)$")


@dataclasses.dataclass
class Outcome:
    """What became of one answer in one message (kept in the job's log and returned to tests)."""

    uid: str
    attendee: str
    result: str  # applied | unchanged | ignored: <why>
    conference_ids: list[int] = dataclasses.field(default_factory=list)


# -- scheduling ---------------------------------------------------------------------------------

async def ensure_polling() -> bool:
    """Schedule the poll when a mailbox is configured and no poll is waiting; True if one is."""
    box = mailbox()
    if box is None:
        return False
    if not await Job.exists().where((Job.dedupe_key == POLL_DEDUPE) & Job.status.is_in(["pending", "running"])):
        await jobs.schedule(POLL_JOB, run_at=clock.now(), dedupe_key=POLL_DEDUPE, plugin=PLUGIN)
    return True


_hosts: dict[str, object] = {}


def _plugin_host():
    """The deployment's plugin host (job handlers receive only the job), built once per process."""
    from core.config import get_settings
    from core.plugins import build_plugin_host

    key = str(get_settings().plugins_toml)
    if key not in _hosts:
        _hosts[key] = build_plugin_host()
    return _hosts[key]


async def poll_job(job: dict) -> None:
    """The job: read the mailbox once, then come back after ``imap_poll_minutes``. With the
    mailbox no longer configured, the job ends (the next invitation schedules it again)."""
    box = mailbox()
    if box is None:
        return
    outcomes = await poll_mailbox(_plugin_host(), box)
    applied = sum(outcome.result == "applied" for outcome in outcomes)
    log.info("organiser mailbox read: %s answers, %s applied", len(outcomes), applied)
    await jobs.schedule(POLL_JOB, run_at=clock.now() + dt.timedelta(minutes=box.poll_minutes), dedupe_key=POLL_DEDUPE,
                        plugin=PLUGIN)


# -- reading the mailbox --------------------------------------------------------------------------

def _client(box: Mailbox):
    import aioimaplib

    if box.ssl:
        return aioimaplib.IMAP4_SSL(host=box.host, port=box.port, timeout=TIMEOUT_SECONDS)
    return aioimaplib.IMAP4(host=box.host, port=box.port, timeout=TIMEOUT_SECONDS)


def _check(response, what: str) -> None:
    if response.result != "OK":
        raise ConnectionError(f"IMAP {what}: {response.result} {response.lines[-1:]!r}")


def _literal(lines: list) -> bytes | None:
    """The message body in a FETCH answer: the literal that follows the ``{size}`` line."""
    for line in lines:
        if isinstance(line, bytearray):
            return bytes(line)
    return None


async def poll_mailbox(host, box: Mailbox) -> list[Outcome]:
    """Fetch the messages not yet handled, apply the REPLYs among them, mark each one handled."""
    client = _client(box)
    await client.wait_hello_from_server()
    outcomes: list[Outcome] = []
    try:
        _check(await client.login(box.username, box.password), "LOGIN")
        _check(await client.select(box.folder), "SELECT")
        found = await client.uid_search("UNKEYWORD", DONE_KEYWORD, charset=None)
        _check(found, "SEARCH")
        uids = [uid for line in found.lines[:-1] for uid in (line.decode() if isinstance(line, (bytes, bytearray)) else line).split()
                if uid.isdigit()]
        for uid in uids:
            fetched = await client.uid("fetch", uid, "(BODY.PEEK[])")
            _check(fetched, "FETCH")
            raw = _literal(fetched.lines)
            if raw is not None:
                outcomes += await apply_message(host, raw)
            _check(await client.uid("store", uid, "+FLAGS", f"({DONE_KEYWORD})"), "STORE")
    finally:
        try:
            await client.logout()
        except Exception:  # the connection is going away either way
            log.debug("IMAP logout failed", exc_info=True)
    return outcomes


# -- applying a REPLY ----------------------------------------------------------------------------

def _calendars(message: email.message.EmailMessage) -> list[icalendar.Calendar]:
    found = []
    for part in message.walk():
        if part.get_content_type() in ("text/calendar", "application/ics"):
            payload = part.get_payload(decode=True) or b""
            try:
                found.append(icalendar.Calendar.from_ical(payload))
            except ValueError:
                log.info("unreadable calendar part in a message to the organiser mailbox")
    return found


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _address(value) -> str:
    return str(value).strip().lower().removeprefix("mailto:")


async def _conference_ids(uid: str, recurrence_id: dt.datetime | dt.date | None) -> list[int]:
    """The conferences a REPLY's UID (and RECURRENCE-ID) names; [] when it is not one of ours."""
    match = _UID.match(uid)
    if match is None or match.group(3) != objects.uid_domain():
        return []
    kind, number = match.group(1), int(match.group(2))
    if kind == "conference":
        return [number] if await Conference.exists().where((Conference.id == number) & Conference.series.is_null()) else []
    series = await Series.select(Series.id, Series.timezone).where(Series.id == number).first()
    if series is None:
        return []
    query = Conference.select(Conference.id).where(Conference.series == number)
    if recurrence_id is not None:
        if not isinstance(recurrence_id, dt.datetime):
            return []
        zone = zoneinfo.ZoneInfo(series["timezone"])
        local = recurrence_id.astimezone(zone) if recurrence_id.tzinfo else recurrence_id
        query = query.where(Conference.occurrence_key == local.replace(tzinfo=None).isoformat())
    return [row["id"] for row in await query]


async def _enabled(host, conference_id: int) -> bool:
    row = await Conference.select(Conference.unit.path.as_alias("path")).where(Conference.id == conference_id).first()
    return row is not None and PLUGIN in await host.enabled_for_path(row["path"])


async def apply_message(host, raw: bytes) -> list[Outcome]:
    """Apply the iTIP REPLYs a message carries; other messages give nothing."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    senders = {address.lower() for _, address in getaddresses([str(message.get("From", ""))]) if address}
    outcomes = []
    for calendar in _calendars(message):
        if str(calendar.get("METHOD", "")).upper() != "REPLY":
            continue
        for event in calendar.walk("VEVENT"):
            uid = str(event.get("UID", ""))
            recurrence_id = event.decoded("RECURRENCE-ID") if "RECURRENCE-ID" in event else None
            stamp = event.decoded("DTSTAMP") if "DTSTAMP" in event else None
            for attendee in _as_list(event.get("ATTENDEE")):
                outcomes.append(await _apply_answer(host, uid=uid, recurrence_id=recurrence_id, stamp=stamp, attendee=attendee,
                                                    senders=senders))
    return outcomes


async def _apply_answer(host, *, uid: str, recurrence_id, stamp, attendee, senders: set[str]) -> Outcome:
    address = _address(attendee)
    outcome = Outcome(uid=uid, attendee=address, result="")
    partstat = str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
    if address not in senders:
        outcome.result = "ignored: the attendee is not the sender"
        return outcome
    answer = ANSWERS.get(partstat)
    if answer is None:
        outcome.result = f"ignored: PARTSTAT {partstat}"
        return outcome
    conference_ids = await _conference_ids(uid, recurrence_id)
    if not conference_ids:
        outcome.result = "ignored: not one of our calendar objects"
        return outcome
    rows = await Invitation.select(Invitation.id, Invitation.conference, Invitation.rsvp, Invitation.responded_at,
                                   Invitation.person.email.as_alias("email")).where(
        Invitation.conference.is_in(conference_ids) & (Invitation.status == "active"))
    mine = [row for row in rows if (row["email"] or "").strip().lower() == address]
    if not mine:
        outcome.result = "ignored: no invitation for this address"
        return outcome
    delegate = ""
    if answer == "delegated":
        delegate = ", ".join(_address(value) for value in str(attendee.params.get("DELEGATED-TO", "")).split(",") if value.strip())
        if not delegate:
            outcome.result = "ignored: DELEGATED without DELEGATED-TO"
            return outcome
    when = stamp if isinstance(stamp, dt.datetime) and stamp.tzinfo else None
    actor = Actor(user_id=None, label=f"thư trả lời lịch từ {address}")
    for row in mine:
        if not await _enabled(host, row["conference"]):
            continue
        if when is not None and row["responded_at"] is not None and row["responded_at"] > when:
            continue  # the invitee answered again on their page after this message was written
        if row["rsvp"] == answer and answer != "delegated":
            outcome.conference_ids.append(row["conference"])
            continue
        try:
            await invitations.respond(row["id"], answer=answer, substitute_name=delegate or None, actor=actor)
        except (Conflict, NotFound, ValidationError) as error:  # ended, cancelled, withdrawn meanwhile
            log.info("answer by mail to conference %s not applied: %s", row["conference"], error)
            continue
        outcome.conference_ids.append(row["conference"])
        outcome.result = "applied"
    if not outcome.result:
        outcome.result = "unchanged" if outcome.conference_ids else "ignored: nothing to answer (plugin off, ended or newer answer)"
    return outcome
