"""Calendar objects, built with ``icalendar``: pure functions over plain dicts, no database.

A calendar item is a single conference or a whole series. Its recipient-independent part
(UID, times, recurrence, summary, description, URL, locations) is serialised once into a
:class:`CachedItem` (stored by the services, keyed by the item's state); each use adds the
recipient's part (SEQUENCE, DTSTAMP, STATUS, ORGANIZER, ATTENDEE, LOCATION, personal EXDATEs,
alarms). Content lines are always produced by ``icalendar`` (escaping, folding); joining
serialised components is plain string work, so a feed of 1,000 items costs no event building.

UID scheme, shared by mail, feeds and downloads: ``conference-<id>@<domain>`` for a conference
outside a series, ``series-<id>@<domain>`` for a series (a split series is a new series, hence a
new UID, and the old one gets an UNTIL). A login token never goes into an object: the only URL
is the attendee's page, which asks for their personal link.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import zoneinfo
from urllib.parse import urlsplit

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vDuration, vRecur

from core.config import get_settings

PRODID = "-//hoinghi//ical 1.0//VI"
CRLF = "\r\n"
# changing how objects are built changes every cache stamp, so old cached text is never served
FORMAT_VERSION = "1"
PARTSTAT = {"pending": "NEEDS-ACTION", "accepted": "ACCEPTED", "declined": "DECLINED", "excused": "DECLINED",
            "delegated": "DELEGATED"}
ALARM_TEXT = "Nhắc lịch hội nghị"


def public_url() -> str:
    return getattr(get_settings(), "public_url", "http://127.0.0.1:8000").rstrip("/")


def uid_domain() -> str:
    return urlsplit(public_url()).hostname or "hoinghi.local"


def conference_uid(conference_id: int) -> str:
    return f"conference-{conference_id}@{uid_domain()}"


def series_uid(series_id: int) -> str:
    return f"series-{series_id}@{uid_domain()}"


def attendee_page_url(conference_id: int | None = None) -> str:
    """Where an invitee answers: the conference on their page, or the page itself for a series
    (it asks for the personal link when no session is open; never a token here)."""
    return f"{public_url()}/me/conferences/{conference_id}" if conference_id else f"{public_url()}/me"


# -- serialising ------------------------------------------------------------------------------

def _body_lines(component) -> str:
    """The content lines of a component without its BEGIN/END lines (folded, CRLF-ended)."""
    text = component.to_ical().decode()
    first, _, rest = text.partition(CRLF)
    return rest[: rest.rfind(f"END:{component.name}{CRLF}")]


def _lines(**properties) -> str:
    """Content lines for ``properties`` (name=value, None skipped), serialised by icalendar."""
    event = Event()
    for name, value in properties.items():
        if value is None or value == []:
            continue
        event.add(name.replace("_", "-"), value)
    return _body_lines(event)


@functools.lru_cache(maxsize=64)
def vtimezone(tzid: str) -> str:
    """The VTIMEZONE of a zone id (a pure function of the id; cached for the process)."""
    if tzid == "UTC":
        return ""
    zone = Timezone.from_tzid(tzid, first_date=dt.date(2015, 1, 1), last_date=dt.date(2045, 1, 1))
    return zone.to_ical().decode()


def alarm_lines(minutes_before: tuple[int, ...]) -> str:
    parts = []
    for minutes in minutes_before:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", ALARM_TEXT)
        alarm.add("trigger", dt.timedelta(minutes=-minutes))
        parts.append(alarm.to_ical().decode())
    return "".join(parts)


def wrap_calendar(*, method: str | None, events: list[str], tzids: set[str], extra: dict | None = None) -> bytes:
    """A VCALENDAR around serialised VEVENTs, with the VTIMEZONE of every zone they use."""
    head = _calendar_head(method, tuple((extra or {}).items()))
    zones = "".join(vtimezone(tzid) for tzid in sorted(tzids))
    return f"BEGIN:VCALENDAR{CRLF}{head}{zones}{''.join(events)}END:VCALENDAR{CRLF}".encode()


@functools.lru_cache(maxsize=512)
def _calendar_head(method: str | None, extra: tuple) -> str:
    """The calendar's own properties (the same for every recipient of a run)."""
    head = Calendar()
    head.add("prodid", PRODID)
    head.add("version", "2.0")
    head.add("calscale", "GREGORIAN")
    if method:
        head.add("method", method)
    for name, value in extra:
        # a duration of an X- property would otherwise be written as Python's "1:00:00"
        head.add(name, vDuration(value) if isinstance(value, dt.timedelta) else value)
    body = _body_lines(head)
    # REFRESH-INTERVAL carries VALUE=DURATION (RFC 7986); older icalendar releases do not add it
    return body.replace("REFRESH-INTERVAL:", "REFRESH-INTERVAL;VALUE=DURATION:")


# -- the recipient-independent part -----------------------------------------------------------

def location_text(venue: dict) -> str:
    place = ", ".join(part for part in (venue.get("name") or "", venue.get("address") or "") if part)
    link = venue.get("online_url") or ""
    return " – ".join(part for part in (place, link) if part)


def description_text(item: dict) -> str:
    """The conference's description, agenda with speakers, and where to answer."""
    zone = zoneinfo.ZoneInfo(item["timezone"])
    parts = [item.get("description") or ""]
    sessions = item.get("sessions") or []
    if sessions:
        agenda = ["Chương trình:"]
        for session in sessions:
            when = ""
            if session.get("starts_at"):
                when = session["starts_at"].astimezone(zone).strftime("%H:%M")
                if session.get("ends_at"):
                    when += "–" + session["ends_at"].astimezone(zone).strftime("%H:%M")
                when += " "
            line = f"- {when}{session['title']}"
            if session.get("topic"):
                line += f" ({session['topic']})"
            speakers = [", ".join(p for p in (s["name"], s.get("position_title") or "", s.get("organisation") or "") if p)
                        for s in session.get("speakers") or []]
            if speakers:
                line += f". Trình bày: {'; '.join(speakers)}"
            agenda.append(line)
        parts.append("\n".join(agenda))
    online = [venue["online_url"] for venue in item.get("venues") or [] if venue.get("online_url")]
    if online:
        parts.append("Tham dự trực tuyến: " + " ".join(online))
    parts.append(f"Xác nhận tham dự trên trang cá nhân: {attendee_page_url(item.get('id'))}")
    return "\n\n".join(part for part in parts if part)


def _locations(venues: list[dict]) -> dict[str, str]:
    """LOCATION lines per venue id, plus "default" (the first venue: the main hall)."""
    found = {str(venue["id"]): _lines(location=location_text(venue)) for venue in venues if venue.get("id") is not None}
    found["default"] = _lines(location=location_text(venues[0])) if venues else ""
    return found


def _local(value: dt.datetime, tzid: str) -> dt.datetime:
    return value.astimezone(zoneinfo.ZoneInfo(tzid))


def _rid(occurrence_key: str, tzid: str) -> dt.datetime:
    """The original local start of an occurrence (its RECURRENCE-ID / EXDATE value)."""
    return dt.datetime.fromisoformat(occurrence_key).replace(tzinfo=zoneinfo.ZoneInfo(tzid))


@dataclasses.dataclass
class CachedItem:
    """The serialised recipient-independent part of one calendar item.

    ``master``: {"lines", "locations"}; ``instances`` (series only): per occurrence conference
    id, {"rid": original local start, "excluded": skipped or cancelled (already an EXDATE of the
    master), "status", "override": {"lines", "locations"} or None (follows the rule)}.
    """

    uid: str
    tzid: str
    modified: str
    master: dict
    instances: dict[str, dict] = dataclasses.field(default_factory=dict)

    @functools.cached_property
    def modified_at(self) -> dt.datetime:
        """The item's last change, parsed once (feeds use it as DTSTAMP)."""
        return dt.datetime.fromisoformat(self.modified)

    def dumps(self) -> str:
        return json.dumps({field.name: getattr(self, field.name) for field in dataclasses.fields(self)}, ensure_ascii=False)

    @classmethod
    def loads(cls, text: str) -> CachedItem:
        return cls(**json.loads(text))


def _event_lines(item: dict, *, uid: str, recurrence_id: dt.datetime | None = None) -> str:
    tzid = item["timezone"]
    return _lines(uid=uid, recurrence_id=recurrence_id, dtstart=_local(item["starts_at"], tzid),
                  dtend=_local(item["ends_at"], tzid), summary=item["title"], description=description_text(item),
                  url=attendee_page_url(item.get("id")), last_modified=item["updated_at"].astimezone(dt.timezone.utc))


def cache_conference(conference: dict) -> CachedItem:
    """A conference outside a series: ``conference`` with venues and sessions (with speakers)."""
    return CachedItem(uid=conference_uid(conference["id"]), tzid=conference["timezone"],
                      modified=conference["updated_at"].isoformat(),
                      master={"lines": _event_lines(conference, uid=conference_uid(conference["id"])),
                              "locations": _locations(conference.get("venues") or [])})


def series_rrule(series: dict) -> vRecur:
    """The series' rule, with UNTIL in UTC (RFC 5545 wants UTC when DTSTART has a TZID)."""
    from core.services.series import to_utc

    rule = vRecur.from_ical(series["rrule"])
    untils = []
    for value in rule.pop("UNTIL", []):
        if isinstance(value, dt.datetime):
            untils.append(value.astimezone(dt.timezone.utc) if value.tzinfo else to_utc(value, series["timezone"]))
        else:  # a date: through the end of that local day
            untils.append(to_utc(dt.datetime.combine(value, dt.time(23, 59)), series["timezone"]))
    if series.get("until_local"):
        untils.append(to_utc(dt.datetime.fromisoformat(series["until_local"]), series["timezone"]))
    if untils:
        rule["UNTIL"] = [min(untils)]
    return rule


def cache_series(series: dict, occurrences: list[dict]) -> CachedItem:
    """A series as one RRULE event: skipped and cancelled occurrences EXDATEd, published ones
    as RECURRENCE-ID overrides carrying their own times, agenda and venues (moved ones included);
    drafts follow the rule. ``occurrences``: the series' conferences with venues and sessions."""
    from core.services.series import to_utc

    tzid = series["timezone"]
    uid = series_uid(series["id"])
    start = dt.datetime.fromisoformat(series["local_start"]).replace(tzinfo=zoneinfo.ZoneInfo(tzid))
    template = series.get("template") or {}
    master_item = {"timezone": tzid, "title": series["title"], "description": template.get("description", ""),
                   "venues": template.get("venues") or [], "sessions": []}
    excluded = sorted(_rid(o["occurrence_key"], tzid) for o in occurrences
                      if o["occurrence_key"] and (o["skipped"] or o["status"] == "cancelled"))
    modified = max([o["updated_at"] for o in occurrences] + [series["created_at"]])
    master_lines = _lines(uid=uid, dtstart=start, dtend=start + dt.timedelta(minutes=series["duration_minutes"]),
                          rrule=series_rrule(series), exdate=excluded or None, summary=series["title"],
                          description=description_text(master_item), url=attendee_page_url(),
                          last_modified=modified.astimezone(dt.timezone.utc))
    template_venues = [{**venue, "id": None} for venue in master_item["venues"]]
    instances = {}
    for occurrence in occurrences:
        if not occurrence["occurrence_key"]:
            continue
        rid = _rid(occurrence["occurrence_key"], tzid)
        is_excluded = occurrence["skipped"] or occurrence["status"] == "cancelled"
        override = None
        moved = occurrence["starts_at"] != to_utc(rid.replace(tzinfo=None), tzid)
        if not is_excluded and (occurrence["status"] in ("published", "ended") or moved):
            override = {"lines": _event_lines({**occurrence, "timezone": tzid}, uid=uid, recurrence_id=rid),
                        "locations": _locations(occurrence.get("venues") or [])}
        instances[str(occurrence["id"])] = {"rid": occurrence["occurrence_key"], "excluded": is_excluded,
                                            "status": occurrence["status"], "override": override}
    return CachedItem(uid=uid, tzid=tzid, modified=modified.isoformat(),
                      master={"lines": master_lines, "locations": _locations(template_venues)}, instances=instances)


# -- the recipient's part -----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Organizer:
    email: str
    name: str

    def address(self) -> vCalAddress:
        address = vCalAddress(f"mailto:{self.email}")
        address.params["cn"] = self.name
        return address


def attendee_address(*, email: str | None, name: str, person_id: int, rsvp: str, rsvp_requested: bool = False) -> vCalAddress:
    """The recipient, and only the recipient: the audience list never leaks to other invitees."""
    address = vCalAddress(f"mailto:{email}" if email else f"urn:hoinghi:person:{person_id}")
    address.params["cn"] = name
    address.params["role"] = "REQ-PARTICIPANT"
    address.params["cutype"] = "INDIVIDUAL"
    address.params["partstat"] = PARTSTAT.get(rsvp, "NEEDS-ACTION")
    address.params["rsvp"] = "TRUE" if rsvp_requested else "FALSE"
    return address


@functools.lru_cache(maxsize=256)
def organizer_line(organizer: Organizer) -> str:
    """The ORGANIZER line (CN quoted and escaped by icalendar), once per organiser."""
    return _lines(organizer=organizer.address())


STATUSES = frozenset({"CONFIRMED", "CANCELLED", "TENTATIVE"})


@functools.lru_cache(maxsize=8192)
def _utc_stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def component(cached: dict, *, sequence: int, dtstamp: dt.datetime, status: str, organizer: Organizer | None,
              attendee: vCalAddress | None = None, venue_id: int | None = None, exdates: list[dt.datetime] = (),
              alarms: str = "") -> str:
    """One VEVENT: the cached lines plus the recipient's own.

    SEQUENCE (an integer), DTSTAMP (a UTC date-time) and STATUS (a keyword) need no escaping or
    folding, so they are formatted directly; the lines that carry text or parameters (ORGANIZER,
    ATTENDEE, EXDATE) come from icalendar. This keeps a feed of 1,000 events to string joins.
    """
    if status not in STATUSES:
        raise ValueError(f"STATUS {status!r}")
    locations = cached["locations"]
    location = locations.get(str(venue_id)) if venue_id is not None else None
    stamp = _utc_stamp(dtstamp)
    personal = f"SEQUENCE:{int(sequence)}{CRLF}DTSTAMP:{stamp}{CRLF}STATUS:{status}{CRLF}"
    if organizer is not None:
        personal += organizer_line(organizer)
    if attendee is not None or exdates:
        personal += _lines(attendee=attendee, exdate=list(exdates) or None)
    return f"BEGIN:VEVENT{CRLF}{cached['lines']}{location or locations.get('default', '')}{personal}{alarms}END:VEVENT{CRLF}"


def instance_cancel(cached_item: CachedItem, instance: dict, *, sequence: int, dtstamp: dt.datetime, organizer: Organizer,
                    attendee: vCalAddress | None, summary: str) -> str:
    """A CANCEL of one occurrence of a series (same UID, its RECURRENCE-ID)."""
    rid = _rid(instance["rid"], cached_item.tzid)
    lines = _lines(uid=cached_item.uid, recurrence_id=rid, dtstart=rid, summary=summary, sequence=sequence,
                   dtstamp=dtstamp.astimezone(dt.timezone.utc), status="CANCELLED", organizer=organizer.address(),
                   attendee=attendee)
    return f"BEGIN:VEVENT{CRLF}{lines}END:VEVENT{CRLF}"


def rid_value(instance: dict, tzid: str) -> dt.datetime:
    return _rid(instance["rid"], tzid)
