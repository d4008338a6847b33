"""Roll-call (điểm danh): one record per conference x person.

When two records arrive for the same person the earliest time wins and ``attendance_recorded``
fires once: INSERT ... ON CONFLICT DO NOTHING, then an UPDATE only where the stored time is
later, in one transaction — safe across processes on both databases.
"""

from __future__ import annotations

import datetime as dt

from core import clock, events
from core.access import Actor, conference_scope
from core.config import get_settings
from core.db import transaction
from core.errors import Conflict, Forbidden, NotFound, ValidationError
from core.services import audit
from core.tables import Attendance, Invitation, Venue
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
    status = _status_for(conference, at, clean(substitute_name) or None)
    async with transaction():
        inserted = await Attendance.insert(Attendance(
            conference=conference_id, person=person_id, venue=venue_id, status=status, method=method,
            substitute_name=clean(substitute_name) or None, recorded_at=at, recorded_by=actor.user_id,
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
