"""What an attendee may see and answer, at the service level (both databases): drafts and
withdrawn invitations stay out of reach, materials follow the levels, a substitute comes from
the invitee's own unit, the home page keeps a recent conference a while."""

import datetime as dt

import pytest

from core import clock
from core.errors import NotFound, ValidationError
from core.services import attendees, conferences, invitations, materials, people
from core.tables import AuditEntry, Invitation
from tests.core.flows import local, make_conference, make_people
from tests.factories import SYSTEM, make_tree

PDF = b"%PDF-1.4\n%%EOF\n"


async def chunks():
    yield PDF


async def invited(conference_id: int, person_id: int) -> dict:
    return await Invitation.select().where((Invitation.conference == conference_id) & (Invitation.person == person_id)).first()


async def test_drafts_and_withdrawn_invitations_are_out_of_reach(db):
    clock.set_now(local(2026, 3, 1, 8))
    tree = await make_tree()
    [person] = await make_people(tree["province"], 1)
    draft = await make_conference(tree, start=local(2026, 3, 20))
    await invitations.invite_person(SYSTEM, draft["id"], person["id"])  # invited while still a draft
    secret_plan = await materials.add_material(SYSTEM, conference_id=draft["id"], title="Kế hoạch", kind="ke_hoach", filename="k.pdf",
                                               chunks=chunks(), access="public")
    invitation = await invited(draft["id"], person["id"])
    with pytest.raises(NotFound):
        await attendees.conference_for_person(person["id"], draft["id"])
    with pytest.raises(NotFound):
        await attendees.open_material_for_attendee(person["id"], secret_plan["id"])
    with pytest.raises(NotFound):
        await attendees.answer_invitation(person["id"], invitation["id"], answer="accepted")
    assert (await attendees.home_for_person(person["id"]))["upcoming"] == []
    assert await attendees.materials_for_attendee(person["id"]) == []

    await conferences.publish_conference(SYSTEM, draft["id"])
    assert [c["id"] for c in (await attendees.home_for_person(person["id"]))["upcoming"]] == [draft["id"]]
    chosen, path = await attendees.open_material_for_attendee(person["id"], secret_plan["id"])
    assert path.read_bytes() == PDF and chosen["number"] == 1
    await invitations.withdraw_invitation(SYSTEM, invitation["id"])
    with pytest.raises(NotFound):
        await attendees.open_material_for_attendee(person["id"], secret_plan["id"])
    with pytest.raises(NotFound):
        await attendees.answer_invitation(person["id"], invitation["id"], answer="accepted")


async def test_material_levels_and_audited_reads(db):
    clock.set_now(local(2026, 3, 1, 8))
    tree = await make_tree()
    [person] = await make_people(tree["province"], 1)
    conference = await make_conference(tree, start=local(2026, 3, 20))
    await conferences.publish_conference(SYSTEM, conference["id"])
    added = {access: await materials.add_material(SYSTEM, conference_id=conference["id"], title=access, kind="other",
                                                  filename=f"{access}.pdf", chunks=chunks(), access=access)
             for access in ("public", "audience", "restricted")}
    listed = await attendees.materials_of_conference(person["id"], conference["id"])
    assert [m["title"] for m in listed] == ["public", "audience"] and listed[0]["latest"]["filename"] == "public.pdf"
    await attendees.open_material_for_attendee(person["id"], added["audience"]["id"])
    with pytest.raises(NotFound):
        await attendees.open_material_for_attendee(person["id"], added["restricted"]["id"])
    reads = await AuditEntry.select().where(AuditEntry.action == "material.read")
    assert [(r["object_id"], r["unit_id"]) for r in reads] == [(added["audience"]["id"], tree["province"]["id"])]


async def test_a_substitute_comes_from_the_invitees_own_unit(db):
    clock.set_now(local(2026, 3, 1, 8))
    tree = await make_tree()
    person, colleague = await make_people(tree["province"], 2)
    retired = await people.create_person(SYSTEM, unit_id=tree["province"]["id"], full_name="Người đã nghỉ")
    await people.set_active(SYSTEM, retired["id"], False)
    [stranger] = await make_people(tree["district_a"], 1, prefix="Khác")
    conference = await make_conference(tree, start=local(2026, 3, 20), audience_units=("province", "district_a"))
    await conferences.publish_conference(SYSTEM, conference["id"])
    invitation = await invited(conference["id"], person["id"])
    assert [c["id"] for c in await attendees.substitute_candidates(person["id"])] == [colleague["id"]]
    for outsider in (stranger["id"], retired["id"], person["id"], 999999):
        with pytest.raises(ValidationError) as refused:
            await attendees.answer_invitation(person["id"], invitation["id"], answer="delegated", substitute_person_id=outsider)
        assert "substitute_person_id" in refused.value.fields
    answered = await attendees.answer_invitation(person["id"], invitation["id"], answer="delegated",
                                                 substitute_person_id=colleague["id"], substitute_name="bỏ qua")
    assert answered["substitute_person"] == colleague["id"] and answered["substitute_name"] == colleague["full_name"]
    answered = await attendees.answer_invitation(person["id"], invitation["id"], answer="accepted", substitute_person_id=stranger["id"])
    assert answered["rsvp"] == "accepted" and answered["substitute_person"] is None  # only a delegation names anyone
    theirs = await invited(conference["id"], stranger["id"])
    with pytest.raises(NotFound):
        await attendees.answer_invitation(person["id"], theirs["id"], answer="declined")


async def test_the_home_page_keeps_a_recent_conference_a_while(db):
    tree = await make_tree()
    [person] = await make_people(tree["province"], 1)
    conference = await make_conference(tree, start=local(2026, 3, 10))
    await conferences.publish_conference(SYSTEM, conference["id"])
    clock.set_now(local(2026, 3, 1))
    assert [c["id"] for c in (await attendees.home_for_person(person["id"]))["upcoming"]] == [conference["id"]]
    clock.set_now(local(2026, 3, 10) + dt.timedelta(days=attendees.RECENT_DAYS - 1))
    home = await attendees.home_for_person(person["id"])
    assert home["upcoming"] == [] and [c["id"] for c in home["recent"]] == [conference["id"]]
    assert home["recent"][0]["materials"] == [] and home["recent"][0]["invitation"]["person"] == person["id"]
    clock.set_now(local(2026, 3, 10) + dt.timedelta(days=attendees.RECENT_DAYS + 1))
    assert await attendees.home_for_person(person["id"]) == {"upcoming": [], "recent": []}
