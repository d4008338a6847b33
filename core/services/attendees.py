"""What an attendee sees through their personal link: who they are, one of their conferences as
an invitee sees it (details, their venue, the agenda, their answer), never anyone else's.

Reads only; the answer itself goes through ``invitations.respond``.
"""

from __future__ import annotations

from core.access import Actor
from core.errors import NotFound
from core.tables import Conference, Invitation, Person

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
