"""The ical plugin's services: calendar attachments for messages, feeds and downloads.

Reads only; the one write is the cache of serialised items (``ical_vevent_cache``), filled on a
miss and replaced when an item's stamp (version, revision, status, occurrences) changed, so a
revised conference is never served from an old text.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import functools
import hashlib
import json
from typing import Any

from core import clock
from core.db import transaction
from core.errors import NotFound
from core.plugins import PluginHost
from core.services import tokens
from core.tables import (
    AgendaSession, Conference, Invitation, Person, Series, SessionSpeaker, Unit, Venue,
)
from plugins.ical import objects
from plugins.ical.objects import CachedItem, Organizer
from plugins.ical.settings import PLUGIN, UnitCalendarSettings, for_unit, mailbox, refresh_minutes
from plugins.ical.tables import IcalVeventCache

FEED_PURPOSE = "calendar_feed"
# messages that carry a calendar object: an invitation or change is a REQUEST, a cancellation or
# a withdrawal a CANCEL
ATTACHING_KINDS = {"invitation", "change_notice", "cancellation", "withdrawal"}
CANCELLING_KINDS = {"cancellation", "withdrawal"}
LISTED_STATUSES = ("published", "ended", "cancelled")
CACHE_CHUNK = 200

_LIGHT = [Conference.id, Conference.unit, Conference.title, Conference.status, Conference.series, Conference.version,
          Conference.revision, Conference.updated_at, Conference.published_at, Conference.timezone, Conference.occurrence_key,
          Conference.skipped, Conference.is_public, Conference.starts_at]


# -- stamps and the cache ---------------------------------------------------------------------

def _stamp(*parts: Any) -> str:
    text = "|".join(str(part) for part in (objects.FORMAT_VERSION, objects.public_url(), *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def conference_stamp(conference: dict) -> str:
    """Every change of a conference (its venues, agenda and speakers included) bumps its
    ``version`` and ``updated_at`` (core/services/conferences.py ``_record_change``); status
    changes come apart; ``updated_at`` also tells a re-used id apart. Plain text rather than a hash: a feed computes a thousand of these."""
    return (f"c{objects.FORMAT_VERSION}|{conference['id']}|{conference['version']}|{conference['revision']}|"
            f"{conference['status']}|{_as_datetime(conference['updated_at']).timestamp()}|{objects.public_url()}")


def series_stamp(series: dict, occurrences: list[dict]) -> str:
    light = [(o["id"], o["version"], o["status"], o["skipped"], o["starts_at"].isoformat(), o["occurrence_key"])
             for o in sorted(occurrences, key=lambda o: o["id"])]
    return _stamp("s", series["id"], series["revision"], series["until_local"], series["rrule"], series["local_start"],
                  series["duration_minutes"], series["timezone"], series["title"],
                  json.dumps(series["template"], sort_keys=True, default=str), light)


async def _full_conferences(ids: list[int]) -> dict[int, dict]:
    """Conferences with venues and sessions (with speakers), for building their text."""
    if not ids:
        return {}
    rows = {row["id"]: {**row, "venues": [], "sessions": []} for row in await Conference.select().where(Conference.id.is_in(ids))}
    for venue in await Venue.select().where(Venue.conference.is_in(ids)).order_by(Venue.id):
        rows[venue["conference"]]["venues"].append(venue)
    sessions = {}
    for session in await AgendaSession.select().where(AgendaSession.conference.is_in(ids)).order_by(
            AgendaSession.position, AgendaSession.id):
        session["speakers"] = []
        sessions[session["id"]] = session
        rows[session["conference"]]["sessions"].append(session)
    if sessions:
        for link in await SessionSpeaker.select(SessionSpeaker.session, SessionSpeaker.speaker.name.as_alias("name"),
                                                SessionSpeaker.speaker.position_title.as_alias("position_title"),
                                                SessionSpeaker.speaker.organisation.as_alias("organisation")).where(
                SessionSpeaker.session.is_in(list(sessions))).order_by(SessionSpeaker.id):
            sessions[link["session"]]["speakers"].append(link)
    return rows


async def _series_rows(series_ids: set[int]) -> tuple[dict[int, dict], dict[int, list[dict]]]:
    """Series rows and the light rows of all their occurrences."""
    if not series_ids:
        return {}, {}
    series = {row["id"]: row for row in await Series.select().where(Series.id.is_in(list(series_ids))).output(load_json=True)}
    occurrences: dict[int, list[dict]] = {series_id: [] for series_id in series}
    for row in await Conference.select(*_LIGHT).where(Conference.series.is_in(list(series_ids))):
        occurrences[row["series"]].append(row)
    return series, occurrences


async def cached_items(conferences: list[dict], series: dict[int, dict], occurrences: dict[int, list[dict]]) -> dict[str, CachedItem]:
    """The cached text of standalone ``conferences`` (light rows) and of ``series``; stale or
    missing entries are rebuilt and stored."""
    wanted: dict[str, str] = {f"conference:{c['id']}": conference_stamp(c) for c in conferences}
    wanted.update({f"series:{s_id}": series_stamp(row, occurrences[s_id]) for s_id, row in series.items()})
    found: dict[str, CachedItem] = {}
    for key, stamp in wanted.items():
        item = _memory.get((_database(), key, stamp))
        if item is not None:
            found[key] = item
    keys = [key for key in wanted if key not in found]
    for start in range(0, len(keys), 900):
        for row in await IcalVeventCache.select(IcalVeventCache.key, IcalVeventCache.stamp, IcalVeventCache.body).where(
                IcalVeventCache.key.is_in(keys[start : start + 900])):
            if row["stamp"] == wanted[row["key"]]:
                found[row["key"]] = _remember(row["key"], row["stamp"], CachedItem.loads(row["body"]))
    missing = [key for key in keys if key not in found]
    if not missing:
        return found
    conference_ids = [int(key.split(":")[1]) for key in missing if key.startswith("conference:")]
    series_ids = [int(key.split(":")[1]) for key in missing if key.startswith("series:")]
    full = await _full_conferences(conference_ids + [o["id"] for s_id in series_ids for o in occurrences[s_id]])
    built: dict[str, CachedItem] = {}
    for conference_id in conference_ids:
        built[f"conference:{conference_id}"] = objects.cache_conference(full[conference_id])
    for series_id in series_ids:
        built[f"series:{series_id}"] = objects.cache_series(series[series_id], [full[o["id"]] for o in occurrences[series_id]])
    await _store(built, wanted)
    for key, item in built.items():
        _remember(key, wanted[key], item)
    return {**found, **built}


# Parsed items of this process, keyed by (key, stamp): a stamp computed from the current rows
# finds only text built from those rows, so a stale entry is never served, merely unused.
_memory: collections.OrderedDict[tuple[int, str, str], CachedItem] = collections.OrderedDict()
MEMORY_ITEMS = 20_000


def _database() -> int:
    """The bound engine: a process serving another database (tests rebind) never shares entries."""
    return id(IcalVeventCache._meta.db)


def _remember(key: str, stamp: str, item: CachedItem) -> CachedItem:
    entry = (_database(), key, stamp)
    _memory[entry] = item
    _memory.move_to_end(entry)
    while len(_memory) > MEMORY_ITEMS:
        _memory.popitem(last=False)
    return item


async def _store(built: dict[str, CachedItem], stamps: dict[str, str]) -> None:
    now = clock.now()
    items = list(built.items())
    async with transaction():
        for start in range(0, len(items), CACHE_CHUNK):
            rows = [IcalVeventCache(key=key, stamp=stamps[key], body=item.dumps(), updated_at=now) for key, item in items[start : start + CACHE_CHUNK]]
            await IcalVeventCache.insert(*rows).on_conflict(
                target=IcalVeventCache.key, action="DO UPDATE",
                values=[IcalVeventCache.stamp, IcalVeventCache.body, IcalVeventCache.updated_at])


async def forget(conference_id: int) -> None:
    """Clean-up after a conference was deleted."""
    await IcalVeventCache.delete().where(IcalVeventCache.key == f"conference:{conference_id}")


# -- unit context -------------------------------------------------------------------------------

@dataclasses.dataclass
class UnitContext:
    settings: UnitCalendarSettings
    alarms: str
    answers_by_mail: bool = False  # an organiser mailbox is polled: RSVP=TRUE, ORGANIZER = that mailbox
    mailbox_address: str = ""

    @functools.cached_property
    def organizer(self) -> Organizer:
        """The sending address: the polled organiser mailbox when configured, else the unit's sender."""
        email = self.mailbox_address if self.answers_by_mail else self.settings.organizer_email
        return Organizer(email=email, name=self.settings.organizer_name)


class UnitContexts:
    """Each unit's calendar settings, read once per request."""

    def __init__(self):
        self._by_unit: dict[int, UnitContext] = {}

    async def get(self, unit_id: int, *, unit: dict | None = None) -> UnitContext:
        """``unit`` ({"id", "name", "path"}), when the caller has read it already."""
        context = self._by_unit.get(unit_id)
        if context is None:
            if unit is None:
                unit = await Unit.select(Unit.id, Unit.name, Unit.path).where(Unit.id == unit_id).first()
            settings = await for_unit(unit)
            box = mailbox()
            context = self._by_unit[unit_id] = UnitContext(settings=settings, alarms=objects.alarm_lines(settings.alarm_minutes),
                                                           answers_by_mail=box is not None, mailbox_address=box.address if box else "")
        return context


_contexts: dict[tuple, UnitContext] = {}


async def _message_context(unit: dict, settings_marker: str) -> UnitContext:
    """A unit's context for a run of messages, kept while no calendar setting of any unit changed
    (``settings_marker``, read with the message's row) and the unit kept its name and place."""
    box = mailbox()
    key = (_database(), unit["id"], unit["name"], unit["path"], settings_marker, box.address if box else "")
    context = _contexts.get(key)
    if context is None:
        if len(_contexts) > 1000:
            _contexts.clear()
        context = _contexts[key] = await UnitContexts().get(unit["id"], unit=unit)
    return context


async def _enabled_units(host: PluginHost, unit_ids: set[int]) -> set[int]:
    """Which of ``unit_ids`` have the plugin on."""
    if not unit_ids:
        return set()
    rows = await Unit.select(Unit.id, Unit.path).where(Unit.id.is_in(list(unit_ids)))
    return {row["id"] for row in rows if PLUGIN in await host.enabled_for_path(row["path"])}


# -- personal calendars: messages and the feed --------------------------------------------------

def _personal_sequence(series_revision: int, invitation_sequence: int) -> int:
    """SEQUENCE of one occurrence of a series for one invitee: both counters only ever rise."""
    return series_revision + invitation_sequence


async def _series_events(*, item: CachedItem, series_row: dict, invitations: dict[int, dict], context: UnitContext,
                         dtstamp: dt.datetime, declined: str, attendee=None, master_invitation: dict | None = None) -> list[str]:
    """The master and the overrides of a series for one invitee. ``invitations``: their
    invitations to its occurrences, by conference id. Occurrences decided without them (published
    and not invited, or withdrawn) are EXDATEd for them; drafts follow the rule (still planned).
    ``attendee`` (mail only): invitation -> the recipient's ATTENDEE."""
    exdates, overrides = [], []
    for conference_id, instance in item.instances.items():
        if instance["excluded"]:
            continue  # an EXDATE of the master already
        invitation = invitations.get(int(conference_id))
        rid = objects.rid_value(instance, item.tzid)
        if invitation is None or invitation["status"] != "active":
            if instance["status"] != "draft":
                exdates.append(rid)
            continue
        is_declined = invitation["rsvp"] in ("declined", "excused")
        if instance["override"] is None:  # follows the rule; a declined one can only be left out
            if is_declined:
                exdates.append(rid)
            continue
        if is_declined and declined == "hidden":
            exdates.append(rid)
            continue
        overrides.append(objects.component(
            instance["override"], sequence=_personal_sequence(series_row["revision"], invitation["sequence"]), dtstamp=dtstamp,
            status="CANCELLED" if is_declined else "CONFIRMED", organizer=context.organizer,
            attendee=attendee(invitation) if attendee else None, venue_id=invitation["venue"],
            alarms="" if is_declined else context.alarms,
        ))
    master = objects.component(item.master, sequence=series_row["revision"], dtstamp=dtstamp, status="CONFIRMED",
                               organizer=context.organizer,
                               attendee=attendee(master_invitation) if attendee and master_invitation else None,
                               exdates=sorted(exdates), alarms=context.alarms)
    return [master, *overrides]


# The recipient, their invitation, the conference and its unit in one query (one per message).
_MESSAGE_ROW = """
SELECT i.id, i.status, i.rsvp, i.sequence, i.venue, p.full_name, p.email,
       c.id AS conference_id, c.unit, c.title, c.status AS conference_status, c.series, c.version, c.revision,
       c.updated_at, c.published_at, u.name AS unit_name, u.path AS unit_path,
       (SELECT CAST(COALESCE(MAX(id), 0) AS TEXT) || ':' || CAST(COUNT(*) AS TEXT)
          FROM unit_setting WHERE key LIKE 'plugin.ical.%') AS settings_marker
FROM invitation i JOIN person p ON p.id = i.person JOIN conference c ON c.id = i.conference JOIN unit u ON u.id = c.unit
WHERE i.conference = {} AND i.person = {}
"""


async def attachments_for_message(message: dict) -> list[dict]:
    """The calendar object for one message: REQUEST for an invitation or a change, CANCEL for a
    cancellation or a withdrawn invitee; one ATTENDEE (the recipient), never a login token."""
    if message.get("kind") not in ATTACHING_KINDS or not message.get("conference_id") or not message.get("person"):
        return []
    rows = await Invitation.raw(_MESSAGE_ROW, message["conference_id"], message["person"])
    if not rows or rows[0]["published_at"] is None:
        return []
    row = rows[0]
    if message["kind"] == "withdrawal" and row["status"] != "withdrawn":
        return []  # invited again before the notice went: a CANCEL would remove the new invitation
    conference = {"id": row["conference_id"], "unit": row["unit"], "title": row["title"], "status": row["conference_status"],
                  "series": row["series"], "version": row["version"], "revision": row["revision"], "updated_at": row["updated_at"]}
    unit = {"id": row["unit"], "name": row["unit_name"], "path": row["unit_path"]}
    context = await _message_context(unit, row["settings_marker"])
    address = message.get("address") or ""
    email = address if "@" in address else row["email"]

    def attendee(invitation: dict):
        return objects.attendee_address(email=email, name=row["full_name"], person_id=message["person"], rsvp=invitation["rsvp"],
                                        rsvp_requested=context.answers_by_mail and bool(email))

    cancelling = message["kind"] in CANCELLING_KINDS or conference["status"] == "cancelled" or row["status"] == "withdrawn"
    method = "CANCEL" if cancelling else "REQUEST"
    now = clock.now()
    if conference["series"] is None:
        item = (await cached_items([conference], {}, {}))[f"conference:{conference['id']}"]
        events = [objects.component(item.master, sequence=row["sequence"], dtstamp=now,
                                    status="CANCELLED" if cancelling else "CONFIRMED", organizer=context.organizer,
                                    attendee=attendee(row), venue_id=row["venue"], alarms="" if cancelling else context.alarms)]
    else:
        series, occurrences = await _series_rows({conference["series"]})
        series_row = series[conference["series"]]
        item = (await cached_items([], series, occurrences))[f"series:{series_row['id']}"]
        if cancelling:
            instance = item.instances.get(str(conference["id"]))
            if instance is None:
                return []
            events = [objects.instance_cancel(item, instance, sequence=_personal_sequence(series_row["revision"], row["sequence"]),
                                              dtstamp=now, organizer=context.organizer, attendee=attendee(row),
                                              summary=conference["title"])]
        else:
            invitations = await _person_series_invitations(message["person"], [o["id"] for o in occurrences[series_row["id"]]])
            events = await _series_events(item=item, series_row=series_row, invitations=invitations, context=context, dtstamp=now,
                                          declined="cancelled", attendee=attendee, master_invitation=row)
    data = objects.wrap_calendar(method=method, events=events, tzids={item.tzid})
    return [{"filename": "hoi-nghi.ics" if method == "REQUEST" else "huy-hoi-nghi.ics",
             "content_type": f'text/calendar; charset="utf-8"; method={method}', "data": data}]


async def _person_series_invitations(person_id: int, conference_ids: list[int]) -> dict[int, dict]:
    if not conference_ids:
        return {}
    rows = await Invitation.select(Invitation.conference, Invitation.status, Invitation.rsvp, Invitation.sequence, Invitation.venue).where(
        (Invitation.person == person_id) & Invitation.conference.is_in(conference_ids))
    return {row["conference"]: row for row in rows}


@dataclasses.dataclass
class Feed:
    body: bytes | None  # None: the client's copy is current (304)
    etag: str
    last_modified: dt.datetime


def _http_date(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.timezone.utc).replace(microsecond=0)


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value).replace(" ", "T"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


# One query answers "has anything in this person's feed changed?": their invitations, the
# conferences invited to, every occurrence and revision of the series those belong to, the plugin
# enablement generation and the plugin's unit settings. A conditional GET costs only this.
_PERSON_FINGERPRINT = """
SELECT
  COUNT(*) AS invitations, COALESCE(SUM(i.sequence), 0) AS sequences, MAX(i.updated_at) AS invitations_changed,
  COALESCE(SUM(c.version), 0) AS versions, MAX(c.updated_at) AS conferences_changed,
  COALESCE(SUM(CASE WHEN i.rsvp IN ('declined', 'excused') THEN i.id ELSE 0 END), 0) AS declined,
  COALESCE(SUM(CASE WHEN i.status = 'active' THEN i.id ELSE 0 END), 0) AS active,
  COALESCE(SUM(COALESCE(i.venue, 0)), 0) AS venues,
  (SELECT CAST(COALESCE(SUM(c3.version + s.revision), 0) AS TEXT) || ':' || CAST(COUNT(*) AS TEXT)
     FROM conference c3 JOIN series s ON s.id = c3.series
     WHERE c3.series IN (SELECT c2.series FROM invitation i2 JOIN conference c2 ON c2.id = i2.conference
                         WHERE i2.person = {} AND c2.series IS NOT NULL)) AS series,
  (SELECT MAX(generation) FROM plugin_generation) AS generation,
  (SELECT CAST(COALESCE(MAX(id), 0) AS TEXT) || ':' || CAST(COUNT(*) AS TEXT)
     FROM unit_setting WHERE key LIKE 'plugin.ical.%') AS settings,
  (SELECT full_name FROM person WHERE id = {}) AS name
FROM invitation i JOIN conference c ON c.id = i.conference
WHERE i.person = {}
"""


# The feed's rows in one query, ints and strings only (no per-row conversion), soonest first.
_PERSON_ROWS = """
SELECT c.id, c.unit, c.series, c.status, c.version, c.revision, c.updated_at,
       i.status AS invitation_status, i.rsvp, i.sequence, i.venue
FROM invitation i JOIN conference c ON c.id = i.conference
WHERE i.person = {} AND c.published_at IS NOT NULL
ORDER BY c.starts_at, c.id
"""


async def person_fingerprint(person_id: int) -> tuple[str, dt.datetime]:
    """(ETag, Last-Modified) of a person's feed from one aggregate query: no event is built."""
    row = (await Invitation.raw(_PERSON_FINGERPRINT, *([person_id] * _PERSON_FINGERPRINT.count("{}"))))[0]
    changed = [_as_datetime(row["invitations_changed"]), _as_datetime(row["conferences_changed"])]
    last_modified = max([value for value in changed if value is not None], default=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
    box = mailbox()
    etag = _stamp("feed", person_id, *[str(value) for value in row.values()], refresh_minutes(), box.address if box else "")
    return f'"{etag}"', _http_date(last_modified)


async def person_from_feed_token(token: str) -> int:
    subject_type, subject_id = await tokens.verify_derived(token, FEED_PURPOSE)
    if subject_type != "person":
        raise NotFound("Không tìm thấy lịch này.")
    return subject_id


def _fresh(etag: str, last_modified: dt.datetime, if_none_match: str | None, if_modified_since: dt.datetime | None) -> bool:
    if if_none_match is not None:
        return etag in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
    return if_modified_since is not None and last_modified <= if_modified_since


async def person_feed(host: PluginHost, person_id: int, *, if_none_match: str | None = None,
                      if_modified_since: dt.datetime | None = None) -> Feed:
    """A person's subscription feed: every published conference they are invited to whose unit
    has the plugin on; a series as one event; declined ones cancelled or left out (unit setting)."""
    etag, last_modified = await person_fingerprint(person_id)
    if _fresh(etag, last_modified, if_none_match, if_modified_since):
        return Feed(body=None, etag=etag, last_modified=last_modified)
    person = await Person.select(Person.id, Person.full_name).where(Person.id == person_id).first()
    if person is None:
        raise NotFound("Không tìm thấy lịch này.")
    rows = await Invitation.raw(_PERSON_ROWS, person_id)
    enabled = await _enabled_units(host, {row["unit"] for row in rows})
    contexts = UnitContexts()
    standalone, series_invitations, tzids = [], {}, set()
    for row in rows:  # soonest first
        if row["unit"] not in enabled:
            continue
        invitation = {"status": row["invitation_status"], "rsvp": row["rsvp"], "sequence": row["sequence"], "venue": row["venue"]}
        if row["series"] is None:
            if invitation["status"] == "active":
                standalone.append((row, invitation))
        else:
            series_invitations.setdefault(row["series"], {})[row["id"]] = invitation
    series_ids = {s_id for s_id, invitations in series_invitations.items() if any(i["status"] == "active" for i in invitations.values())}
    series, occurrences = await _series_rows(series_ids)
    items = await cached_items([conference for conference, _ in standalone], series, occurrences)
    events: list[str] = []
    for conference, invitation in standalone:
        context = await contexts.get(conference["unit"])
        declined = invitation["rsvp"] in ("declined", "excused")
        if declined and context.settings.declined_in_feed == "hidden":
            continue
        item = items[f"conference:{conference['id']}"]
        tzids.add(item.tzid)
        status = "CANCELLED" if declined or conference["status"] == "cancelled" else "CONFIRMED"
        events.append(objects.component(item.master, sequence=invitation["sequence"], dtstamp=item.modified_at,
                                        status=status, organizer=context.organizer, venue_id=invitation["venue"],
                                        alarms="" if status == "CANCELLED" else context.alarms))
    for series_id in sorted(series):
        context = await contexts.get(series[series_id]["unit"])
        item = items[f"series:{series_id}"]
        tzids.add(item.tzid)
        events += await _series_events(item=item, series_row=series[series_id], invitations=series_invitations[series_id],
                                       context=context, dtstamp=item.modified_at, attendee=None,
                                       declined=context.settings.declined_in_feed)
    body = await _feed_calendar(name=f"Lịch hội nghị – {person['full_name']}", events=events, tzids=tzids)
    return Feed(body=body, etag=etag, last_modified=last_modified)


async def _feed_calendar(*, name: str, events: list[str], tzids: set[str]) -> bytes:
    minutes = refresh_minutes()
    return objects.wrap_calendar(method="PUBLISH", events=events, tzids=tzids, extra={
        "x-wr-calname": name, "x-wr-timezone": sorted(tzids)[0] if tzids else "Asia/Ho_Chi_Minh",
        "refresh-interval": dt.timedelta(minutes=minutes), "x-published-ttl": dt.timedelta(minutes=minutes),
    })


# -- public calendars: per unit and per conference ----------------------------------------------

def _public_invitation_stand_in(conference: dict) -> dict:
    """Public listings have no invitee: every public, published occurrence counts as 'invited'."""
    return {"status": "active", "rsvp": "accepted", "sequence": conference["revision"], "venue": None}


async def _public_events(conferences: list[dict]) -> tuple[list[str], set[str]]:
    contexts = UnitContexts()
    standalone = [c for c in conferences if c["series"] is None]
    series, occurrences = await _series_rows({c["series"] for c in conferences if c["series"] is not None})
    items = await cached_items(standalone, series, occurrences)
    events, tzids = [], set()
    for conference in sorted(standalone, key=lambda c: c["starts_at"]):
        context = await contexts.get(conference["unit"])
        item = items[f"conference:{conference['id']}"]
        tzids.add(item.tzid)
        cancelled = conference["status"] == "cancelled"
        events.append(objects.component(item.master, sequence=conference["revision"], dtstamp=item.modified_at,
                                        status="CANCELLED" if cancelled else "CONFIRMED", organizer=context.organizer,
                                        alarms="" if cancelled else context.alarms))
    for series_id, series_row in sorted(series.items()):
        context = await contexts.get(series_row["unit"])
        item = items[f"series:{series_id}"]
        tzids.add(item.tzid)
        listed = {c["id"]: _public_invitation_stand_in(c) for c in conferences if c["series"] == series_id}
        events += await _series_events(item=item, series_row=series_row, invitations=listed, context=context,
                                       dtstamp=item.modified_at, attendee=None, declined="cancelled")
    return events, tzids


def _conditional(body: bytes, if_none_match: str | None, if_modified_since: dt.datetime | None, last_modified: dt.datetime) -> Feed:
    etag = f'"{hashlib.sha256(body).hexdigest()[:40]}"'
    fresh = _fresh(etag, last_modified, if_none_match, if_modified_since)
    return Feed(body=None if fresh else body, etag=etag, last_modified=last_modified)


async def unit_public_feed(unit_id: int, *, if_none_match: str | None = None,
                           if_modified_since: dt.datetime | None = None) -> Feed:
    """The public conferences a unit organises (published, ended or cancelled after publishing)."""
    unit = await Unit.select(Unit.id, Unit.name).where(Unit.id == unit_id).first()
    if unit is None:
        raise NotFound("Không tìm thấy lịch này.")
    conferences = await Conference.select(*_LIGHT).where(
        (Conference.unit == unit_id) & Conference.is_public.eq(True) & Conference.status.is_in(list(LISTED_STATUSES))
        & Conference.published_at.is_not_null())
    events, tzids = await _public_events(conferences)
    last_modified = max([c["updated_at"] for c in conferences], default=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
    body = await _feed_calendar(name=f"Hội nghị công khai – {unit['name']}", events=events, tzids=tzids)
    return _conditional(body, if_none_match, if_modified_since, _http_date(last_modified))


async def conference_download(conference_id: int, *, person_id: int | None, if_none_match: str | None = None,
                              if_modified_since: dt.datetime | None = None) -> Feed:
    """One conference as a file: anyone for a public one, else the invitee signed in on their page
    (with their own venue and sequence). Anyone else: not found, as if it did not exist."""
    conference = await Conference.select(*_LIGHT).where(Conference.id == conference_id).first()
    if conference is None or conference["published_at"] is None or conference["status"] not in LISTED_STATUSES:
        raise NotFound("Không tìm thấy hội nghị.")
    invitation = None
    if person_id is not None:
        invitation = await Invitation.select(Invitation.status, Invitation.rsvp, Invitation.sequence, Invitation.venue).where(
            (Invitation.conference == conference_id) & (Invitation.person == person_id) & (Invitation.status == "active")).first()
    if invitation is None and not conference["is_public"]:
        raise NotFound("Không tìm thấy hội nghị.")
    context = await UnitContexts().get(conference["unit"])
    personal = invitation is not None
    invitation = invitation or _public_invitation_stand_in(conference)
    cancelled = conference["status"] == "cancelled"
    if conference["series"] is None:
        item = (await cached_items([conference], {}, {}))[f"conference:{conference_id}"]
        events = [objects.component(item.master, sequence=invitation["sequence"], dtstamp=item.modified_at,
                                    status="CANCELLED" if cancelled else "CONFIRMED", organizer=context.organizer,
                                    venue_id=invitation["venue"], alarms="" if cancelled else context.alarms)]
    else:
        series, occurrences = await _series_rows({conference["series"]})
        item = (await cached_items([], series, occurrences))[f"series:{conference['series']}"]
        if personal:  # the invitee's own view of the series, as in their feed
            listed = await _person_series_invitations(person_id, [o["id"] for o in occurrences[conference["series"]]])
        else:
            listed = {conference_id: invitation}
        events = await _series_events(item=item, series_row=series[conference["series"]], invitations=listed, context=context,
                                      dtstamp=item.modified_at, declined="cancelled")
    body = objects.wrap_calendar(method="PUBLISH", events=events, tzids={item.tzid})
    return _conditional(body, if_none_match, if_modified_since, _http_date(conference["updated_at"]))


# -- the attendee's "add to calendar" ----------------------------------------------------------

async def feed_links(person_id: int) -> dict | None:
    """The person's subscription links (https and webcal), or None when their feed is revoked."""
    try:
        token = await tokens.derived_token(FEED_PURPOSE, "person", person_id)
    except NotFound:
        return None
    https = f"{objects.public_url()}/ical/{token}.ics"
    return {"https": https, "webcal": "webcal://" + https.split("://", 1)[1]}


async def rotate_feed(person_id: int) -> dict:
    """A new feed address for the person; the old one stops working at once."""
    from core.access import Actor

    actor = Actor(user_id=None, label=f"người được mời #{person_id}")
    await tokens.rotate_derived(actor, purpose=FEED_PURPOSE, subject_type="person", subject_id=person_id)
    return await feed_links(person_id)
