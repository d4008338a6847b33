import pytest

from core.errors import Conflict, NeedsConfirmation, NotFound, ValidationError
from core.services import audiences, conferences, invitations, people
from core.tables import DomainEvent, Invitation
from tests.core.flows import make_conference, make_people
from tests.factories import SYSTEM, make_actor, make_tree


async def test_rules_subtrees_categories_levels_includes_excludes(db):
    tree = await make_tree()
    a1 = await make_people(tree["commune_a1"], 2)
    await make_people(tree["commune_b1"], 2)
    members = await make_people(tree["commune_a2"], 2, categories=("member",))
    level = await people.create_person(SYSTEM, unit_id=tree["district_a"]["id"], full_name="BCV huyện", categories=["briefer"],
                                       briefer_level="district")
    audience = await audiences.create_audience(
        SYSTEM, unit_id=tree["province"]["id"], name="BCV Tiên Du",
        rules={"categories": ["briefer"], "unit_ids": [tree["district_a"]["id"]]},
        include_ids=[members[0]["id"]], exclude_ids=[a1[0]["id"]],
    )
    assert await audiences.resolve_audience_ids(audience["id"]) == {a1[1]["id"], level["id"], members[0]["id"]}
    await audiences.update_audience(SYSTEM, audience["id"], rules={"categories": ["briefer"], "briefer_levels": ["district"],
                                                                    "unit_ids": [tree["province"]["id"]]}, include_ids=[], exclude_ids=[])
    assert await audiences.resolve_audience_ids(audience["id"]) == {level["id"]}
    await people.set_active(SYSTEM, level["id"], False)
    preview = await audiences.preview_audience(SYSTEM, audience["id"])
    assert preview["count"] == 0
    with pytest.raises(ValidationError):
        await audiences.create_audience(SYSTEM, unit_id=tree["province"]["id"], name="Sai", rules={"categories": ["wizard"]})
    outsider = await make_actor("organiser", tree["district_b"])
    with pytest.raises(NotFound):
        await audiences.get_audience(outsider, audience["id"])


async def test_snapshot_once_withdraw_reinvite_sequences(db):
    tree = await make_tree()
    invited = await make_people(tree["commune_a1"], 3)
    conference = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, conference["id"])
    rows = await invitations.list_invitations(SYSTEM, conference["id"])
    assert len(rows) == 3 and {r["sequence"] for r in rows} == {0}
    assert await DomainEvent.count().where(DomainEvent.name == "invitations_issued") == 1
    assert (await invitations.snapshot_on_publish(SYSTEM, conference["id"]))["added"] == 0  # idempotent

    withdrawn = await invitations.withdraw_invitation(SYSTEM, rows[0]["id"])
    assert withdrawn["status"] == "withdrawn" and withdrawn["sequence"] == 1
    again = await invitations.invite_person(SYSTEM, conference["id"], withdrawn["person"])
    assert again["status"] == "active" and again["sequence"] == 2 and again["source"] == "individual"
    guest = await people.create_person(SYSTEM, unit_id=tree["commune_b1"]["id"], full_name="Khách mời", categories=["guest"])
    await invitations.invite_person(SYSTEM, conference["id"], guest["id"])
    assert len(await invitations.list_invitations(SYSTEM, conference["id"])) == 4
    assert {p["id"] for p in invited} < {r["person"] for r in await invitations.list_invitations(SYSTEM, conference["id"])}


async def test_re_resolve_needs_confirmation_and_never_silently_uninvites(db):
    tree = await make_tree()
    group = await make_people(tree["commune_a1"], 300)
    conference = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, conference["id"])
    individual = group[0]
    await invitations.invite_person(SYSTEM, conference["id"], individual["id"])
    # an import deactivates all 300
    for person in group:
        await people.set_active(SYSTEM, person["id"], False)
    newcomer = (await make_people(tree["commune_a2"], 1, prefix="Mới"))[0]
    with pytest.raises(NeedsConfirmation) as asked:
        await invitations.re_resolve(SYSTEM, conference["id"])
    assert asked.value.preview["withdrawn"] == 299 and asked.value.preview["added"] == 1
    assert asked.value.preview["first_added"][0]["full_name"] == newcomer["full_name"]
    assert await Invitation.count().where((Invitation.conference == conference["id"]) & (Invitation.status == "active")) == 300
    result = await invitations.re_resolve(SYSTEM, conference["id"], confirm=True)
    assert result["applied"]
    active = await Invitation.select(Invitation.person).where((Invitation.conference == conference["id"]) & (Invitation.status == "active"))
    assert {row["person"] for row in active} == {individual["id"], newcomer["id"]}


async def test_rsvp_rules(db):
    tree = await make_tree()
    await make_people(tree["commune_a1"], 1)
    conference = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, conference["id"])
    invitation = (await invitations.list_invitations(SYSTEM, conference["id"]))[0]
    with pytest.raises(ValidationError, match="lý do"):
        await invitations.respond(invitation["id"], answer="excused")
    with pytest.raises(ValidationError, match="dự thay"):
        await invitations.respond(invitation["id"], answer="delegated")
    answered = await invitations.respond(invitation["id"], answer="delegated", substitute_name="Lê Thị Thay")
    assert answered["rsvp"] == "delegated" and answered["substitute_name"] == "Lê Thị Thay"
    assert (await invitations.count_by_rsvp(SYSTEM, conference["id"]))["delegated"] == 1
    assert len(await invitations.invitations_for_person(invitation["person"], upcoming_only=False)) == 1
    await conferences.cancel_conference(SYSTEM, conference["id"])
    with pytest.raises(Conflict):
        await invitations.respond(invitation["id"], answer="accepted")


async def test_venue_slice_listing(db):
    tree = await make_tree()
    people_a = await make_people(tree["commune_a1"], 2)
    conference = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, conference["id"])
    hosted = conference["venues"][1]["id"]
    rows = await invitations.list_invitations(SYSTEM, conference["id"])
    await Invitation.update({Invitation.venue: hosted}).where(Invitation.id == rows[0]["id"])
    staff = await make_actor("checkin_staff", tree["district_a"])
    seen = await invitations.list_invitations(staff, conference["id"])
    assert [r["person"] for r in seen] == [rows[0]["person"]]
    assert {p["id"] for p in people_a} == {r["person"] for r in rows}


@pytest.mark.slow
async def test_bulk_snapshot_of_five_thousand(db):
    from bench import data

    tree = await make_tree()
    await data.people(5000, [tree["commune_a1"]["id"], tree["commune_b1"]["id"]], first_id=10_000)
    conference = await make_conference(tree, categories=("briefer", "propagandist", "opinion_collaborator", "cadre", "member"))
    await conferences.publish_conference(SYSTEM, conference["id"])
    assert await Invitation.count().where(Invitation.conference == conference["id"]) == 5000
