"""Invitations: conference x person, from the conference's audiences plus individual additions.

Each invitation has its own ``sequence`` (the calendar SEQUENCE for that recipient): it rises
with every significant revision of the conference and when the person is withdrawn or invited
again. After publishing, re-resolving the audiences shows a diff and applies only on
confirmation. People withdrawn from a published conference are told (the ``withdrawal`` notice,
which carries a calendar CANCEL where the ical plugin is on); invited again, they are sent the
invitation afresh by the next invitation campaign, their sequence being higher.
"""

from __future__ import annotations

from core import clock, events
from core.access import Actor, conference_scope
from core.db import bulk_insert, transaction
from core.errors import Conflict, Forbidden, NeedsConfirmation, NotFound, ValidationError
from core.limits import fit
from core.services import audit
from core.services.audiences import first_in_order, resolve_conference_audiences
from core.tables import Conference, Invitation, Person, Venue
from core.text import clean, search_pattern

RSVP_ANSWERS = {
    "accepted": "Tham dự",
    "declined": "Không tham dự",
    "excused": "Vắng có lý do",
    "delegated": "Cử người dự thay",
}
_INSERT_COLUMNS = ["conference", "person", "source", "status", "rsvp", "rsvp_reason", "sequence", "created_at", "updated_at"]


async def _current(conference_id: int) -> dict[int, dict]:
    rows = await Invitation.select(Invitation.id, Invitation.person, Invitation.status, Invitation.source).where(
        Invitation.conference == conference_id
    )
    return {row["person"]: row for row in rows}


async def _insert_new(conference_id: int, person_ids: list[int]) -> None:
    now = clock.now()
    rows = [(conference_id, person_id, "audience", "active", "pending", "", 0, now, now) for person_id in person_ids]
    await bulk_insert(Invitation, _INSERT_COLUMNS, rows)


async def snapshot_on_publish(actor: Actor, conference_id: int) -> dict:
    """Resolve the conference's audiences into invitations; call inside the publish transaction.

    Idempotent: people already invited are left alone. Emits one ``invitations_issued`` event for the batch.
    """
    async with transaction():  # joins the publish transaction when there is one
        wanted = await resolve_conference_audiences(conference_id)
        current = await _current(conference_id)
        added = sorted(wanted - set(current))
        revived = sorted(p for p in wanted & set(current) if current[p]["status"] == "withdrawn")
        await _insert_new(conference_id, added)
        if revived:
            await _revive(conference_id, revived)
        conference = await Conference.select(Conference.unit).where(Conference.id == conference_id).first()
        await events.emit(
            "invitations_issued", unit_id=conference["unit"], conference_id=conference_id, person_ids=None,
            count=len(added) + len(revived),
        )
        await audit.record(
            actor, "invitations.snapshot", object_type="conference", object_id=conference_id, unit_id=conference["unit"],
            added=len(added) + len(revived),
        )
    return {"added": len(added) + len(revived), "total": len(wanted | {p for p, r in current.items() if r["status"] == "active"})}


async def _revive(conference_id: int, person_ids: list[int]) -> None:
    from core.notifications import drop_queued_withdrawals

    await drop_queued_withdrawals(conference_id, person_ids)
    for start in range(0, len(person_ids), 10_000):
        await Invitation.update(
            {Invitation.status: "active", Invitation.sequence: Invitation.sequence + 1, Invitation.rsvp: "pending",
             Invitation.updated_at: clock.now()}
        ).where((Invitation.conference == conference_id) & Invitation.person.is_in(person_ids[start : start + 10_000]))


async def _withdraw(conference: dict, person_ids: list[int]) -> None:
    """Withdraw invitations (the sequence rises); from a published conference the withdrawn
    people get the withdrawal notice, found by the moment of their withdrawal."""
    from core.notifications import schedule_notice

    conference_id = conference["id"]
    withdrawn_at = clock.now()
    if conference["status"] == "published" and person_ids:
        await schedule_notice(conference_id=conference_id, unit_id=conference["unit"], kind="withdrawal",
                              revision=conference["revision"], withdrawn_since=withdrawn_at)
    for start in range(0, len(person_ids), 10_000):
        await Invitation.update(
            {Invitation.status: "withdrawn", Invitation.sequence: Invitation.sequence + 1, Invitation.updated_at: withdrawn_at}
        ).where((Invitation.conference == conference_id) & Invitation.person.is_in(person_ids[start : start + 10_000]))


async def bump_sequences(conference_id: int) -> None:
    """A significant revision or a cancellation: every active invitation's sequence rises."""
    await Invitation.update({Invitation.sequence: Invitation.sequence + 1, Invitation.updated_at: clock.now()}).where(
        (Invitation.conference == conference_id) & (Invitation.status == "active")
    )


async def _scope_for_change(actor: Actor, conference_id: int):
    scope = await conference_scope(actor, conference_id, "manage")
    if not scope.whole:
        raise Forbidden("Chỉ đơn vị tổ chức hội nghị mới thay đổi được danh sách mời.")
    if scope.conference["status"] in ("ended", "cancelled"):
        raise Conflict("Hội nghị đã kết thúc hoặc đã huỷ; không thay đổi danh sách mời được nữa.")
    return scope


async def invite_person(actor: Actor, conference_id: int, person_id: int, *, venue_id: int | None = None) -> dict:
    """Invite one person individually (kept by re-resolution); re-inviting raises the sequence."""
    scope = await _scope_for_change(actor, conference_id)
    person = await Person.select(Person.id, Person.active, Person.erased_at, Person.unit.path.as_alias("path")).where(
        Person.id == person_id
    ).first()
    if person is None or person["erased_at"] is not None:
        raise NotFound("Không tìm thấy người này.")
    if not person["active"]:
        raise ValidationError("Người này đã ngừng hoạt động.", field="person_id")
    if venue_id is not None and not await Venue.exists().where((Venue.id == venue_id) & (Venue.conference == conference_id)):
        raise ValidationError("Điểm cầu không thuộc hội nghị này.", field="venue_id")
    conference = scope.conference
    async with transaction():
        existing = await Invitation.select().where((Invitation.conference == conference_id) & (Invitation.person == person_id)).first()
        if existing is None:
            now = clock.now()
            await Invitation.insert(Invitation(conference=conference_id, person=person_id, venue=venue_id, source="individual",
                                               created_at=now, updated_at=now))
        elif existing["status"] == "withdrawn":
            await _revive(conference_id, [person_id])
            await Invitation.update({Invitation.source: "individual", Invitation.venue: venue_id}).where(Invitation.id == existing["id"])
        else:
            await Invitation.update({Invitation.source: "individual", Invitation.venue: venue_id}).where(Invitation.id == existing["id"])
        row = await Invitation.select().where((Invitation.conference == conference_id) & (Invitation.person == person_id)).first()
        await audit.record(actor, "invitation.add", object_type="invitation", object_id=row["id"], unit_id=conference["unit"],
                           person_id=person_id)
        if conference["status"] == "published":
            await events.emit("invitations_issued", unit_id=conference["unit"], conference_id=conference_id,
                              person_ids=[person_id], count=1)
    return row


async def withdraw_invitation(actor: Actor, invitation_id: int) -> dict:
    invitation = await Invitation.select().where(Invitation.id == invitation_id).first()
    if invitation is None:
        raise NotFound("Không tìm thấy lời mời.")
    scope = await _scope_for_change(actor, invitation["conference"])
    if invitation["status"] == "withdrawn":
        return invitation
    async with transaction():
        await _withdraw(scope.conference, [invitation["person"]])
        await audit.record(actor, "invitation.withdraw", object_type="invitation", object_id=invitation_id,
                           unit_id=scope.conference["unit"], person_id=invitation["person"])
        if scope.conference["status"] == "published":
            await events.emit("invitations_withdrawn", unit_id=scope.conference["unit"], conference_id=invitation["conference"],
                              person_ids=[invitation["person"]], count=1)
    return await Invitation.select().where(Invitation.id == invitation_id).first()


async def re_resolve(actor: Actor, conference_id: int, *, confirm: bool = False) -> dict:
    """Bring a published conference's invitations in line with its audiences now.

    Without ``confirm`` any change raises NeedsConfirmation with the diff (counts and first
    names); individually invited people are never withdrawn by re-resolution.
    """
    scope = await _scope_for_change(actor, conference_id)
    if scope.conference["status"] != "published":
        raise Conflict("Chỉ hội nghị đã công bố mới có danh sách mời để cập nhật.")
    wanted = await resolve_conference_audiences(conference_id)
    current = await _current(conference_id)
    active = {p for p, row in current.items() if row["status"] == "active"}
    added = sorted(wanted - active)
    withdrawn = sorted(p for p in active - wanted if current[p]["source"] != "individual")
    diff = {
        "added": len(added),
        "withdrawn": len(withdrawn),
        "first_added": await first_in_order(added, limit=10),
        "first_withdrawn": await first_in_order(withdrawn, limit=10),
    }
    if not added and not withdrawn:
        return {**diff, "applied": False}
    if not confirm:
        raise NeedsConfirmation(
            "Cập nhật danh sách mời sẽ thêm {added} người và rút lời mời {withdrawn} người. Xác nhận để áp dụng.",
            preview=diff, added=len(added), withdrawn=len(withdrawn),
        )
    async with transaction():
        new = [p for p in added if p not in current]
        await _insert_new(conference_id, new)
        await _revive(conference_id, [p for p in added if p in current])
        await _withdraw(scope.conference, withdrawn)
        # one event per batch; handlers read the invitations themselves (100,000 ids do not belong in a row)
        if added:
            await events.emit("invitations_issued", unit_id=scope.conference["unit"], conference_id=conference_id,
                              person_ids=added if len(added) <= 1000 else None, count=len(added))
        if withdrawn:
            await events.emit("invitations_withdrawn", unit_id=scope.conference["unit"], conference_id=conference_id,
                              person_ids=withdrawn if len(withdrawn) <= 1000 else None, count=len(withdrawn))
        await audit.record(actor, "invitations.re_resolve", object_type="conference", object_id=conference_id,
                           unit_id=scope.conference["unit"], added=len(added), withdrawn=len(withdrawn))
    return {**diff, "applied": True}


async def list_invitations(
    actor: Actor, conference_id: int, *, rsvp: str | None = None, venue_id: int | None = None, query: str = "",
    include_withdrawn: bool = False, limit: int = 100, offset: int = 0,
) -> list[dict]:
    """Invitations in Vietnamese order of names; venue-granted staff see only their venues."""
    scope = await conference_scope(actor, conference_id, "read")
    select = Invitation.select(
        Invitation.all_columns(), Invitation.person.full_name.as_alias("full_name"),
        Invitation.person.unit.name.as_alias("unit_name"),
    ).where(Invitation.conference == conference_id)
    if not scope.whole:
        select = select.where(Invitation.venue.is_in(sorted(scope.venue_ids)))
    if venue_id is not None:
        select = select.where(Invitation.venue == venue_id)
    if not include_withdrawn:
        select = select.where(Invitation.status == "active")
    if rsvp:
        select = select.where(Invitation.rsvp == rsvp)
    for pattern in search_pattern(query):
        select = select.where(Invitation.person.search_folded.like(pattern))
    return await select.order_by(Invitation.person.sort_key).limit(max(1, min(limit, 5000))).offset(max(0, offset))


async def count_by_rsvp(actor: Actor, conference_id: int) -> dict[str, int]:
    await conference_scope(actor, conference_id, "read")
    rows = await Invitation.raw(
        "SELECT rsvp, COUNT(*) AS n FROM invitation WHERE conference = {} AND status = 'active' GROUP BY rsvp", conference_id
    )
    counts = {answer: 0 for answer in ["pending", *RSVP_ANSWERS]}
    counts.update({row["rsvp"]: row["n"] for row in rows})
    return counts


async def respond(
    invitation_id: int, *, answer: str, reason: str = "", substitute_name: str | None = None,
    substitute_person_id: int | None = None, actor: Actor | None = None,
) -> dict:
    """The attendee's answer (the web layer has checked that the caller is the invitee)."""
    if answer not in RSVP_ANSWERS:
        raise ValidationError("Câu trả lời không hợp lệ. Chọn: {choices}.", field="answer", choices=RSVP_ANSWERS)
    invitation = await Invitation.select(Invitation.all_columns(), Invitation.conference.status.as_alias("conference_status"),
                                         Invitation.conference.unit.as_alias("unit_id")).where(Invitation.id == invitation_id).first()
    if invitation is None or invitation["status"] != "active":
        raise NotFound("Không tìm thấy lời mời.")
    if invitation["conference_status"] in ("ended", "cancelled"):
        raise Conflict("Hội nghị đã kết thúc hoặc đã huỷ.")
    reason = clean(reason)
    substitute_name = fit(clean(substitute_name) or None, Invitation.substitute_name, field="substitute_name")
    if answer == "excused" and not reason:
        raise ValidationError("Vui lòng nêu lý do vắng mặt.", field="reason")
    if answer == "delegated":
        if substitute_person_id is not None:
            person = await Person.select(Person.full_name).where(Person.id == substitute_person_id).first()
            if person is None:
                raise ValidationError("Không tìm thấy người dự thay.", field="substitute_person_id")
            substitute_name = substitute_name or person["full_name"]
        if not substitute_name:
            raise ValidationError("Vui lòng ghi tên người dự thay.", field="substitute_name")
    async with transaction():
        await Invitation.update({
            Invitation.rsvp: answer, Invitation.rsvp_reason: reason,
            Invitation.substitute_name: substitute_name if answer == "delegated" else None,
            Invitation.substitute_person: substitute_person_id if answer == "delegated" else None,
            Invitation.responded_at: clock.now(), Invitation.updated_at: clock.now(),
        }).where(Invitation.id == invitation_id)
        await audit.record(actor or Actor(user_id=None, label=f"người được mời #{invitation['person']}"), "invitation.respond",
                           object_type="invitation", object_id=invitation_id, unit_id=invitation["unit_id"], answer=answer)
        await events.emit("rsvp_changed", unit_id=invitation["unit_id"], conference_id=invitation["conference"],
                          invitation_id=invitation_id, answer=answer)
    return await Invitation.select().where(Invitation.id == invitation_id).first()


async def respond_on_behalf(actor: Actor, invitation_id: int, **answer) -> dict:
    """Staff record an invitee's answer heard by phone or on paper: organisers of the conference,
    or of the unit hosting the invitee's venue."""
    invitation = await Invitation.select(Invitation.conference, Invitation.venue).where(Invitation.id == invitation_id).first()
    if invitation is None:
        raise NotFound("Không tìm thấy lời mời.")
    scope = await conference_scope(actor, invitation["conference"], "manage")
    if not scope.covers_venue(invitation["venue"]):
        raise Forbidden("Bạn chỉ ghi nhận được câu trả lời của người được mời tại điểm cầu của đơn vị mình.")
    return await respond(invitation_id, actor=actor, **answer)


async def invitations_for_person(person_id: int, *, upcoming_only: bool = True) -> list[dict]:
    """The attendee's own conferences (published ones, soonest first)."""
    query = Invitation.select(
        Invitation.all_columns(), Invitation.conference.title.as_alias("title"),
        Invitation.conference.starts_at.as_alias("starts_at"), Invitation.conference.ends_at.as_alias("ends_at"),
        Invitation.conference.status.as_alias("conference_status"),
    ).where((Invitation.person == person_id) & (Invitation.status == "active")
            & Invitation.conference.status.is_in(["published", "ended", "cancelled"]))
    if upcoming_only:
        query = query.where(Invitation.conference.ends_at >= clock.now())
    return await query.order_by(Invitation.conference.starts_at)
