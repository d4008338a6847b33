"""Roll-call (điểm danh): one record per conference x person.

When two records arrive for the same person the earliest time wins and ``attendance_recorded``
fires once: INSERT ... ON CONFLICT DO NOTHING, then an UPDATE only where the stored time is
later, in one transaction — safe across processes on both databases.

Scanners go through :func:`record_scan`, the one raw-SQL hot path of the core (see there).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time

from core import clock, events
from core.access import Actor, conference_scope
from core.config import get_settings
from core.db import FixedStatement, current_engine, is_postgres, transaction
from core.errors import Conflict, Forbidden, NotFound, ValidationError
from core.limits import fit
from core.services import audit
from core.tables import Attendance, Conference, Invitation, Venue
from core.text import clean

STATUSES = {"present": "Có mặt", "late": "Đến muộn", "excused": "Vắng có lý do", "absent": "Vắng", "substitute": "Dự thay"}
METHODS = {"staff_scan": "Quét mã (cán bộ)", "self_scan": "Tự quét mã", "manual": "Ghi tay", "online": "Trực tuyến", "derived": "Tự động"}
RECORDING_METHODS = ("staff_scan", "self_scan", "manual", "online")
# manual entry stays open this long after the end (late paper lists)
LATE_ENTRY_GRACE = dt.timedelta(hours=24)


def _status_for(conference: dict, at: dt.datetime, substitute_name: str | None) -> str:
    if substitute_name:
        return "substitute"
    threshold = conference["starts_at"] + dt.timedelta(minutes=get_settings().late_after_minutes)
    return "late" if at > threshold else "present"


async def record_attendance(
    actor: Actor, *, conference_id: int, person_id: int, method: str, venue_id: int | None = None,
    at: dt.datetime | None = None, substitute_name: str | None = None,
) -> dict:
    """Record a person as there. Returns {"record", "created"}; an earlier record is kept."""
    if method not in RECORDING_METHODS:
        raise ValidationError("Hình thức điểm danh không hợp lệ: {method!r}.", field="method", method=method)
    scope = await conference_scope(actor, conference_id, "checkin")
    conference = scope.conference
    at = (at or clock.now()).astimezone(dt.timezone.utc)
    if conference["status"] == "ended" and method == "manual" and clock.now() <= conference["ends_at"] + LATE_ENTRY_GRACE:
        pass
    elif conference["status"] != "published":
        raise Conflict("Hội nghị không ở trạng thái điểm danh (chưa công bố, đã kết thúc hoặc đã huỷ).")
    invitation = await Invitation.select(Invitation.id, Invitation.venue).where(
        (Invitation.conference == conference_id) & (Invitation.person == person_id) & (Invitation.status == "active")
    ).first()
    if invitation is None:
        raise NotFound("Người này không có trong danh sách mời của hội nghị.")
    venue_id = venue_id or invitation["venue"]
    if venue_id is not None and not await Venue.exists().where((Venue.id == venue_id) & (Venue.conference == conference_id)):
        raise ValidationError("Điểm cầu không thuộc hội nghị này.", field="venue_id")
    if not scope.whole and not scope.covers_venue(venue_id):
        raise Forbidden("Bạn chỉ điểm danh được tại điểm cầu của đơn vị mình.")
    substitute_name = fit(clean(substitute_name) or None, Attendance.substitute_name, field="substitute_name")
    status = _status_for(conference, at, substitute_name)
    async with transaction():
        inserted = await Attendance.insert(Attendance(
            conference=conference_id, person=person_id, venue=venue_id, status=status, method=method,
            substitute_name=substitute_name, recorded_at=at, recorded_by=actor.user_id,
        )).on_conflict(action="DO NOTHING").returning(Attendance.id)
        created = bool(inserted)
        if not created:
            # earliest wins; an excuse or a derived absence gives way to a real arrival
            await Attendance.update({
                Attendance.status: status, Attendance.method: method, Attendance.venue: venue_id, Attendance.recorded_at: at,
                Attendance.recorded_by: actor.user_id, Attendance.substitute_name: clean(substitute_name) or None,
            }).where(
                (Attendance.conference == conference_id) & (Attendance.person == person_id)
                & ((Attendance.recorded_at > at) | Attendance.status.is_in(["excused", "absent"]))
            )
        record = await Attendance.select().where((Attendance.conference == conference_id) & (Attendance.person == person_id)).first()
        if created:
            await audit.record(actor, "attendance.record", object_type="attendance", object_id=record["id"], unit_id=conference["unit"],
                               person_id=person_id, method=method)
            await events.emit("attendance_recorded", unit_id=conference["unit"], conference_id=conference_id, person_id=person_id,
                              status=status, venue_id=venue_id)
    return {"record": record, "created": created}


# -- the scan hot path -----------------------------------------------------------------------------
#
# Why raw SQL here (issue 6 allows this one hot path): a hall of scanners sends up to a thousand
# arrivals a second, each one person. Through the ORM an arrival is ten round trips (scope, the
# conference, the invitation, the venue, insert, re-read, audit, event) and most of a millisecond
# of query building. Here the rules of :func:`record_attendance` are one INSERT ... SELECT: it
# inserts only for a published conference, an active invitation and a venue of that conference,
# computes present/late from the conference's start, and keeps the earliest record (ON CONFLICT DO
# NOTHING). On PostgreSQL the audit entry, the ``attendance_recorded`` event (the outbox row the
# live pages and plugins read), the caller's own row (:class:`WithArrival`, a scanner's log) and the
# answer ride in the same statement as writable CTEs: one commit, which costs PostgreSQL more CPU
# than the inserts. SQLite has none, so there it is that INSERT then the two rows (or the re-read)
# in one BEGIN IMMEDIATE. The statements are :class:`core.db.FixedStatement`. Whatever the
# statement does not settle (a venue grant instead of the conference's unit, nothing inserted, an
# earlier queued scan or an excuse to replace) goes to record_attendance itself.

SCAN_METHODS = ("staff_scan", "self_scan")
# A conference's unit path, for the access check; a unit moved in the tree is seen this late
CONFERENCE_UNIT_SECONDS = 30.0
_conference_units: dict[int, tuple[float, int, str]] = {}

_RECORD_COLUMNS = "id, conference, person, venue, status, method, reason, substitute_name, recorded_at, recorded_by"
_INSERT_ARRIVAL = (
    "INSERT INTO attendance (conference, person, venue, status, method, reason, recorded_at, recorded_by) "
    "SELECT c.id, i.person, COALESCE({venue}, i.venue), CASE WHEN {late} THEN 'late' ELSE 'present' END, {method}, '', {at}, {by} "
    "FROM conference c JOIN invitation i ON i.conference = c.id AND i.person = {person} AND i.status = 'active' "
    "WHERE c.id = {conference} AND c.status = 'published' "
    "AND ({venue} IS NULL OR EXISTS (SELECT 1 FROM venue v WHERE v.id = {venue} AND v.conference = c.id)) "
    "ON CONFLICT (conference, person) DO NOTHING RETURNING " + _RECORD_COLUMNS
)
_POSTGRES_ARRIVAL_WRITES = (
    "WITH arrival AS (" + _INSERT_ARRIVAL.format(
        venue="CAST({} AS INTEGER)", late="CAST({} AS TIMESTAMPTZ) > c.starts_at + CAST({} AS INTEGER) * INTERVAL '1 minute'",
        method="CAST({} AS VARCHAR)", at="CAST({} AS TIMESTAMPTZ)", by="CAST({} AS INTEGER)", person="{}", conference="{}") + "), "
    "audited AS (INSERT INTO audit_entry (at, actor_id, actor_label, action, object_type, object_id, unit_id, details) "
    "SELECT CAST({} AS TIMESTAMPTZ), CAST({} AS INTEGER), CAST({} AS VARCHAR), 'attendance.record', 'attendance', arrival.id, "
    "CAST({} AS INTEGER), json_build_object('person_id', arrival.person, 'method', arrival.method) FROM arrival), "
    "announced AS (INSERT INTO domain_event (name, unit_id, conference_id, payload, created_at, dispatched) "
    "SELECT 'attendance_recorded', CAST({} AS INTEGER), arrival.conference, "
    "json_build_object('person_id', arrival.person, 'status', arrival.status, 'venue_id', arrival.venue), "
    "CAST({} AS TIMESTAMPTZ), FALSE FROM arrival)"
)


def _postgres_answer(written_along: str) -> str:
    return (" SELECT TRUE AS created, " + written_along + " AS written_along, " + _RECORD_COLUMNS + " FROM arrival UNION ALL "
            "SELECT FALSE, 0, " + _RECORD_COLUMNS + " FROM attendance WHERE conference = {} AND person = {} "
            "AND NOT EXISTS (SELECT 1 FROM arrival)")


_POSTGRES_ARRIVAL = FixedStatement(_POSTGRES_ARRIVAL_WRITES + _postgres_answer("0"))
_postgres_arrivals_with: dict[str, FixedStatement] = {}  # WithArrival.sql -> the arrival statement carrying it


@dataclasses.dataclass(frozen=True)
class WithArrival:
    """A row a plugin writes with a scanned arrival, only if this arrival is recorded, in the same
    statement on PostgreSQL (a scanner's log row: one commit per first scan instead of two):
    ``INSERT ... SELECT ... FROM arrival ... RETURNING 1``, where ``arrival`` is the new attendance
    row, and ``args`` fill its ``{}`` in order. SQLite has no writable CTE: there the caller
    writes its row itself (in the same :func:`core.db.one_write` as the arrival)."""

    sql: str
    args: tuple


def _postgres_arrival(along: WithArrival | None) -> FixedStatement:
    if along is None:
        return _POSTGRES_ARRIVAL
    statement = _postgres_arrivals_with.get(along.sql)
    if statement is None:
        statement = _postgres_arrivals_with[along.sql] = FixedStatement(
            _POSTGRES_ARRIVAL_WRITES + ", along AS (" + along.sql + ")" + _postgres_answer("(SELECT count(*) FROM along)"))
    return statement


_SQLITE_ARRIVAL = FixedStatement(_INSERT_ARRIVAL.format(
    venue="{}", late="julianday({}) > julianday(c.starts_at) + {} / 1440.0", method="{}", at="{}", by="{}", person="{}",
    conference="{}"))
_SQLITE_AUDIT = FixedStatement("INSERT INTO audit_entry (at, actor_id, actor_label, action, object_type, object_id, unit_id, details) "
                               "VALUES ({}, {}, {}, 'attendance.record', 'attendance', {}, {}, {})")
_SQLITE_EVENT = FixedStatement("INSERT INTO domain_event (name, unit_id, conference_id, payload, created_at, dispatched) "
                               "VALUES ('attendance_recorded', {}, {}, {}, {}, 0)")
_SQLITE_RECORD = FixedStatement("SELECT " + _RECORD_COLUMNS + " FROM attendance WHERE conference = {} AND person = {}")


def stands_against(record: dict, at: dt.datetime) -> bool:
    """Whether an existing record stays as it is when the same person arrives at ``at``: the
    earliest arrival wins, and an excuse or a derived absence gives way to a real arrival."""
    return record["status"] not in ("excused", "absent") and record["recorded_at"] <= at


async def _conference_unit(conference_id: int) -> tuple[int, str] | None:
    cached = _conference_units.get(conference_id)
    if cached is not None and time.monotonic() - cached[0] < CONFERENCE_UNIT_SECONDS:
        return cached[1], cached[2]
    row = await Conference.select(Conference.unit, Conference.unit.path.as_alias("path")).where(
        Conference.id == conference_id).first()
    if row is None:
        return None
    _conference_units[conference_id] = (time.monotonic(), row["unit"], row["path"])
    return row["unit"], row["path"]


def _as_record(row: dict) -> dict:
    recorded_at = row["recorded_at"]
    if isinstance(recorded_at, str):  # SQLite gives RETURNING columns without their declared type
        recorded_at = dt.datetime.fromisoformat(recorded_at)
    return {**row, "recorded_at": recorded_at.astimezone(dt.timezone.utc) if recorded_at.tzinfo else
            recorded_at.replace(tzinfo=dt.timezone.utc)}


async def _arrive_postgres(actor: Actor, unit_id: int, conference_id: int, person_id: int, method: str, venue_id: int | None,
                           at: dt.datetime, late_after: int, along: WithArrival | None) -> tuple[dict | None, bool, bool]:
    now = clock.now()
    rows = await _postgres_arrival(along).fetch(
        venue_id, at, late_after, method, at, actor.user_id, person_id, conference_id, venue_id, venue_id,
        now, actor.user_id, actor.label, unit_id, unit_id, now, *(along.args if along else ()), conference_id, person_id)
    if not rows:
        return None, False, False
    row = rows[0]
    created, written_along = bool(row.pop("created")), bool(row.pop("written_along"))
    return _as_record(row), created, written_along


async def _arrive_sqlite(actor: Actor, unit_id: int, conference_id: int, person_id: int, method: str, venue_id: int | None,
                         at: dt.datetime, late_after: int, along: WithArrival | None) -> tuple[dict | None, bool, bool]:
    now = clock.now()
    async with transaction():
        inserted = await _SQLITE_ARRIVAL.fetch(venue_id, at, late_after, method, at, actor.user_id, person_id,
                                               conference_id, venue_id, venue_id)
        if not inserted:
            existing = await _SQLITE_RECORD.fetch(conference_id, person_id)
            return (_as_record(existing[0]) if existing else None), False, False
        record = _as_record(inserted[0])
        await _SQLITE_AUDIT.fetch(now, actor.user_id, actor.label, record["id"], unit_id,
                                  json.dumps({"person_id": person_id, "method": method}))
        await _SQLITE_EVENT.fetch(unit_id, conference_id,
                                  json.dumps({"person_id": person_id, "status": record["status"], "venue_id": record["venue"]}), now)
    return record, True, False


async def record_scan(
    actor: Actor, *, conference_id: int, person_id: int, method: str, venue_id: int | None = None, at: dt.datetime | None = None,
    along: WithArrival | None = None,
) -> dict:
    """:func:`record_attendance` for a scanned arrival, in one statement on PostgreSQL (see the
    comment above). Same answer: {"record", "created"}; an earlier record is kept. With ``along``
    the answer's "written_along" says whether that row was written (only ever with an arrival
    this call created, on PostgreSQL)."""
    if method not in SCAN_METHODS:
        raise ValidationError("Hình thức điểm danh không hợp lệ: {method!r}.", field="method", method=method)
    at = (at or clock.now()).astimezone(dt.timezone.utc)
    unit = await _conference_unit(conference_id)
    general = {"conference_id": conference_id, "person_id": person_id, "method": method, "venue_id": venue_id, "at": at}
    if unit is None or not actor.has("checkin", unit[1]):
        return {**await record_attendance(actor, **general), "written_along": False}
    arrive = _arrive_postgres if is_postgres(current_engine()) else _arrive_sqlite
    late_after = get_settings().late_after_minutes
    record, created, written_along = await arrive(actor, unit[0], conference_id, person_id, method, venue_id, at, late_after, along)
    if record is None or (not created and not stands_against(record, at)):
        # not recordable as it stands (the general path says why), a concurrent first arrival, or a
        # record this arrival replaces
        return {**await record_attendance(actor, **general), "written_along": False}
    return {"record": record, "created": created, "written_along": written_along}


async def excuse(actor: Actor, conference_id: int, person_id: int, reason: str) -> dict:
    """Vắng có lý do, possibly before the conference; a later real arrival replaces it."""
    reason = clean(reason)
    if not reason:
        raise ValidationError("Cần ghi lý do vắng.", field="reason")
    scope = await conference_scope(actor, conference_id, "checkin")
    if scope.conference["status"] not in ("published", "ended"):
        raise Conflict("Hội nghị chưa công bố hoặc đã huỷ.")
    if not await Invitation.exists().where((Invitation.conference == conference_id) & (Invitation.person == person_id)
                                           & (Invitation.status == "active")):
        raise NotFound("Người này không có trong danh sách mời của hội nghị.")
    async with transaction():
        inserted = await Attendance.insert(Attendance(
            conference=conference_id, person=person_id, status="excused", method="manual", reason=reason,
            recorded_at=clock.now(), recorded_by=actor.user_id,
        )).on_conflict(action="DO NOTHING").returning(Attendance.id)
        if not inserted:
            await Attendance.update({Attendance.status: "excused", Attendance.reason: reason}).where(
                (Attendance.conference == conference_id) & (Attendance.person == person_id) & (Attendance.status == "absent"))
        record = await Attendance.select().where((Attendance.conference == conference_id) & (Attendance.person == person_id)).first()
        await audit.record(actor, "attendance.excuse", object_type="attendance", object_id=record["id"],
                           unit_id=scope.conference["unit"], person_id=person_id)
    return record


async def derive_absent(conference_id: int) -> int:
    """Called inside the transaction ending a conference: invited people with no record are absent."""
    before = await Attendance.count().where(Attendance.conference == conference_id)
    await Attendance.raw(
        "INSERT INTO attendance (conference, person, venue, status, method, reason, recorded_at) "
        "SELECT i.conference, i.person, i.venue, 'absent', 'derived', '', {} FROM invitation i "
        "WHERE i.conference = {} AND i.status = 'active' "
        "AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.conference = i.conference AND a.person = i.person)",
        clock.now(), conference_id,
    )
    return await Attendance.count().where(Attendance.conference == conference_id) - before


async def roll_call(actor: Actor, conference_id: int, *, venue_id: int | None = None) -> dict:
    """Invited people with their record (or None), in Vietnamese order, and counts by status."""
    scope = await conference_scope(actor, conference_id, "read")
    query = Invitation.select(
        Invitation.person, Invitation.venue, Invitation.rsvp, Invitation.person.full_name.as_alias("full_name"),
        Invitation.person.unit.name.as_alias("unit_name"),
    ).where((Invitation.conference == conference_id) & (Invitation.status == "active"))
    if not scope.whole:
        query = query.where(Invitation.venue.is_in(sorted(scope.venue_ids)))
    if venue_id is not None:
        query = query.where(Invitation.venue == venue_id)
    invited = await query.order_by(Invitation.person.sort_key)
    records = {row["person"]: row for row in await Attendance.select().where(Attendance.conference == conference_id)}
    counts = {status: 0 for status in STATUSES}
    counts["not_recorded"] = 0
    rows = []
    for person in invited:
        record = records.get(person["person"])
        counts[record["status"] if record else "not_recorded"] += 1
        rows.append({**person, "record": record})
    return {"conference": scope.conference, "invited": len(invited), "counts": counts, "rows": rows}


async def counts_by_venue(conference_id: int) -> dict[int | None, dict[str, int]]:
    """Roll-call totals per venue of the invitation — invited and each status, ``not_recorded``
    included — in two grouped queries, for the live pages (the caller has checked access; the
    full :func:`roll_call` reads every invitee)."""
    invited = await Invitation.raw(
        "SELECT venue, COUNT(*) AS n FROM invitation WHERE conference = {} AND status = 'active' GROUP BY venue", conference_id
    )
    recorded = await Attendance.raw(
        "SELECT i.venue AS venue, a.status AS status, COUNT(*) AS n FROM attendance a JOIN invitation i "
        "ON i.conference = a.conference AND i.person = a.person AND i.status = 'active' "
        "WHERE a.conference = {} GROUP BY i.venue, a.status", conference_id
    )
    totals: dict[int | None, dict[str, int]] = {}
    for row in invited:
        totals[row["venue"]] = {"invited": row["n"], **{status: 0 for status in STATUSES}, "not_recorded": row["n"]}
    for row in recorded:
        venue = totals[row["venue"]]
        venue[row["status"]] += row["n"]
        venue["not_recorded"] -= row["n"]
    return totals
