"""What an attendee sees through their personal link: who they are, one of their conferences as
an invitee sees it (details, their venue, the agenda, their answer), never anyone else's.

Reads only; the answer itself goes through ``invitations.respond``.
"""

from __future__ import annotations

import datetime as dt

from core import clock
from core.access import Actor
from core.errors import NotFound, ValidationError
from core.tables import Conference, Invitation, Material, MaterialVersion, Person

# An invitee sees a conference once it is published, and keeps seeing it after it ended or was
# cancelled (the same rule as ``invitations.invitations_for_person``).
VISIBLE_STATUSES = ("published", "ended", "cancelled")


async def attendee(person_id: int) -> dict:
    """The person behind an attendee session: id and name. An erased or inactive person is NotFound."""
    person = await Person.select(Person.id, Person.full_name).where(
        (Person.id == person_id) & (Person.active == True) & Person.erased_at.is_null()).first()  # noqa: E712
    if person is None:
        raise NotFound("Không tìm thấy người được mời.")
    return person


async def upcoming_for_person(person_id: int) -> list[dict]:
    """The person's upcoming conferences with their answer, soonest first (``invitations_for_person``),
    each with its conference's ``timezone`` for showing times."""
    from core.services.invitations import invitations_for_person

    rows = await invitations_for_person(person_id)
    ids = sorted({row["conference"] for row in rows})
    zones = {row["id"]: row["timezone"] for row in await Conference.select(Conference.id, Conference.timezone).where(
        Conference.id.is_in(ids))} if ids else {}
    return [{**row, "timezone": zones.get(row["conference"])} for row in rows]


async def conference_for_person(person_id: int, conference_id: int) -> dict:
    """One of the person's conferences with ``invitation`` (their active invitation), their venue
    (the invitation's, else every venue), the agenda with speakers. Staff-only parts (change
    history, audiences) are left out. Not invited, withdrawn or a draft: NotFound."""
    from core.services.conferences import get_conference

    invitation = await Invitation.select().where(
        (Invitation.person == person_id) & (Invitation.conference == conference_id) & (Invitation.status == "active")
        & Invitation.conference.status.is_in(list(VISIBLE_STATUSES))).first()
    if invitation is None:
        raise NotFound("Không tìm thấy hội nghị.")
    conference = await get_conference(Actor.system_actor(f"người được mời #{person_id}"), conference_id)
    for staff_only in ("changes", "audiences", "visible_venue_ids"):
        conference.pop(staff_only, None)
    if invitation["venue"] is not None:
        conference["venues"] = [venue for venue in conference["venues"] if venue["id"] == invitation["venue"]]
    conference["invitation"] = invitation
    return conference


RECENT_DAYS = 30  # the home page keeps a conference this long after it ended
RECENT_LIMIT = 10
SUBSTITUTE_LIMIT = 300


def attendee_actor(person_id: int) -> Actor:
    """How an attendee appears in the audit log (no staff user behind it)."""
    return Actor(user_id=None, label=f"người được mời #{person_id}")


def _visible_invitations(person_id: int):
    return Invitation.select(Invitation.conference, Invitation.conference.ends_at.as_alias("ends_at")).where(
        (Invitation.person == person_id) & (Invitation.status == "active")
        & Invitation.conference.status.is_in(list(VISIBLE_STATUSES)))


async def _with_materials(person_id: int, conference: dict) -> dict:
    conference["materials"] = await materials_of_conference(person_id, conference["id"])
    return conference


async def home_for_person(person_id: int, *, recent_days: int = RECENT_DAYS, recent_limit: int = RECENT_LIMIT) -> dict:
    """The attendee's home page: ``upcoming`` conferences (not ended yet, soonest first) and
    ``recent`` ones (ended within ``recent_days``, latest first, at most ``recent_limit``), each
    as :func:`conference_for_person` gives it plus the ``materials`` the person may read."""
    now = clock.now()
    rows = await _visible_invitations(person_id).where(
        Invitation.conference.ends_at >= now - dt.timedelta(days=recent_days)).order_by(Invitation.conference.starts_at)
    upcoming = [row["conference"] for row in rows if row["ends_at"] >= now]
    recent = [row["conference"] for row in sorted(rows, key=lambda row: row["ends_at"], reverse=True) if row["ends_at"] < now]
    return {
        "upcoming": [await _with_materials(person_id, await conference_for_person(person_id, cid)) for cid in upcoming],
        "recent": [await _with_materials(person_id, await conference_for_person(person_id, cid)) for cid in recent[:recent_limit]],
    }


async def materials_of_conference(person_id: int, conference_id: int) -> list[dict]:
    """The materials of one of the person's conferences that they may read (the levels
    ``materials.materials_for_person`` allows), each with its ``latest`` version."""
    from core.services.materials import materials_for_person

    rows = await materials_for_person(person_id, conference_id)
    if not rows:
        return []
    versions = await MaterialVersion.select(MaterialVersion.material, MaterialVersion.number, MaterialVersion.size,
                                            MaterialVersion.filename, MaterialVersion.mime_type).where(
        MaterialVersion.material.is_in([row["id"] for row in rows])).order_by(MaterialVersion.number)
    latest = {version["material"]: version for version in versions}  # ordered by number: the last one wins
    return [{**row, "latest": latest.get(row["id"])} for row in rows]


async def materials_for_attendee(person_id: int, *, limit: int = 50) -> list[dict]:
    """"My materials": every conference the person is invited to (published, ended or cancelled;
    latest first, at most ``limit``) that has materials they may read, as
    ``{"conference": {id, title, starts_at, timezone}, "materials": [...]}``."""
    rows = await Invitation.select(
        Invitation.conference.id.as_alias("id"), Invitation.conference.title.as_alias("title"),
        Invitation.conference.starts_at.as_alias("starts_at"), Invitation.conference.timezone.as_alias("timezone"),
    ).where((Invitation.person == person_id) & (Invitation.status == "active")
            & Invitation.conference.status.is_in(list(VISIBLE_STATUSES))
            & Invitation.conference.id.is_in(Material.select(Material.conference))).order_by(
        Invitation.conference.starts_at, ascending=False).limit(limit)
    groups = []
    for conference in rows:
        found = await materials_of_conference(person_id, conference["id"])
        if found:
            groups.append({"conference": conference, "materials": found})
    return groups


async def open_material_for_attendee(person_id: int, material_id: int, *, version: int | None = None):
    """A material of a conference the person is invited to (and may see), at a level allowed to
    them; the read is audited by ``materials.open_material_for_person``. Anything else: NotFound."""
    from core.services.materials import open_material_for_person

    material = await Material.select(Material.conference).where(Material.id == material_id).first()
    if material is None or not await _visible_invitations(person_id).where(
            Invitation.conference == material["conference"]).first():
        raise NotFound("Không tìm thấy tài liệu.")
    return await open_material_for_person(person_id, material_id, version=version)


async def substitute_candidates(person_id: int, *, limit: int = SUBSTITUTE_LIMIT) -> list[dict]:
    """Whom the person may name to attend in their place: active people of the same unit, in
    Vietnamese order of names (the person themself left out)."""
    person = await Person.select(Person.unit).where(Person.id == person_id).first()
    if person is None:
        return []
    return await Person.select(Person.id, Person.full_name, Person.position).where(
        (Person.unit == person["unit"]) & (Person.id != person_id) & (Person.active == True)  # noqa: E712
        & Person.erased_at.is_null()).order_by(Person.sort_key).limit(limit)


async def answer_invitation(
    person_id: int, invitation_id: int, *, answer: str, reason: str = "", substitute_person_id: int | None = None,
    substitute_name: str | None = None,
) -> dict:
    """The attendee answers their own invitation (``invitations.respond`` does the rest: a reason
    is required to be excused, a substitute to delegate; audited, ``rsvp_changed`` emitted).

    Another person's invitation, a withdrawn one or a draft conference's: NotFound. A named
    substitute must be an active person of the invitee's own unit."""
    from core.services.invitations import respond

    invitation = await Invitation.select(Invitation.id).where(
        (Invitation.id == invitation_id) & (Invitation.person == person_id) & (Invitation.status == "active")
        & Invitation.conference.status.is_in(list(VISIBLE_STATUSES))).first()
    if invitation is None:
        raise NotFound("Không tìm thấy lời mời.")
    if answer == "delegated" and substitute_person_id is not None:
        person = await Person.select(Person.unit).where(Person.id == person_id).first()
        colleague = await Person.select(Person.id).where(
            (Person.id == substitute_person_id) & (Person.id != person_id) & (Person.unit == person["unit"])
            & (Person.active == True) & Person.erased_at.is_null()).first()  # noqa: E712
        if colleague is None:
            raise ValidationError("Người dự thay phải là người cùng đơn vị với đồng chí.", field="substitute_person_id")
    named = substitute_person_id if answer == "delegated" else None
    return await respond(invitation_id, answer=answer, reason=reason, substitute_person_id=named,
                         substitute_name=None if named is not None else substitute_name, actor=attendee_actor(person_id))


async def conference_of_invitation(person_id: int, invitation_id: int) -> int:
    """The conference of one of the person's own (active, visible) invitations; else NotFound."""
    row = await Invitation.select(Invitation.conference).where(
        (Invitation.id == invitation_id) & (Invitation.person == person_id) & (Invitation.status == "active")
        & Invitation.conference.status.is_in(list(VISIBLE_STATUSES))).first()
    if row is None:
        raise NotFound("Không tìm thấy lời mời.")
    return row["conference"]
