"""Texts longer than their column are refused beside their field on both databases (PostgreSQL
would refuse them inside the transaction, a 500; SQLite would store them)."""

import pytest

from core.errors import ValidationError
from core.services import audiences, conferences, invitations, materials, people, units
from tests.core.flows import make_conference, make_people
from tests.core.test_materials import PDF, chunks_of
from tests.factories import SYSTEM, make_tree


async def refused_field(call) -> tuple[str, str]:
    with pytest.raises(ValidationError) as error:
        await call
    (field, message), = error.value.fields.items()
    return field, str(message)


async def test_each_typed_text_must_fit_its_column(db):
    tree = await make_tree()
    province = tree["province"]["id"]
    conference = await make_conference(tree)
    assert await refused_field(audiences.create_audience(SYSTEM, unit_id=province, name="Đ" * 256)) == ("name", "Dài quá 255 ký tự.")
    assert await refused_field(units.create_unit(SYSTEM, name="X" * 256, short_code="X-1", kind="commune",
                                                 parent_id=province)) == ("name", "Dài quá 255 ký tự.")
    assert await refused_field(people.create_person(SYSTEM, unit_id=province, full_name="Nguyễn Văn An",
                                                    position="P" * 256)) == ("position", "Dài quá 255 ký tự.")
    assert await refused_field(materials.add_material(SYSTEM, conference_id=conference["id"], title="T" * 501, kind="bao_cao",
                                                      filename="a.pdf", chunks=chunks_of(PDF))) == ("title", "Dài quá 500 ký tự.")
    assert await refused_field(materials.add_material(SYSTEM, conference_id=conference["id"], title="Báo cáo", kind="bao_cao",
                                                      filename="a" * 300 + ".pdf", chunks=chunks_of(PDF))) == ("file", "Dài quá 255 ký tự.")
    session = await conferences.add_session(SYSTEM, conference["id"], title="Thời sự")
    assert await refused_field(conferences.add_speaker(SYSTEM, conference["id"], session_id=session["id"], name="Lê Văn Bình",
                                                       organisation="C" * 256)) == ("organisation", "Dài quá 255 ký tự.")
    assert await refused_field(conferences.update_conference(SYSTEM, conference["id"], title="H" * 501)) == ("title", "Dài quá 500 ký tự.")


async def test_a_substitutes_name_must_fit_too(db):
    tree = await make_tree()
    invitee, = await make_people(tree["province"], 1)
    conference = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, conference["id"])
    invitation = (await invitations.list_invitations(SYSTEM, conference["id"]))[0]
    assert await refused_field(invitations.respond(invitation["id"], answer="delegated", substitute_name="N" * 256)) == (
        "substitute_name", "Dài quá 255 ký tự.")


async def test_staff_users_materials_roll_call_and_series_splits_fit_too(db):
    from core.services import rollcall, users

    tree = await make_tree()
    invitee, = await make_people(tree["province"], 1)
    conference = await make_conference(tree)
    assert await refused_field(users.create_user(SYSTEM, username="can.bo.a", password="mat-khau-dai-lam-dai",
                                                 full_name="N" * 256)) == ("full_name", "Dài quá 255 ký tự.")
    assert await refused_field(users.create_user(SYSTEM, username="can.bo.b", password="mat-khau-dai-lam-dai",
                                                 email="a" * 250 + "@tinhuy.vn")) == ("email", "Dài quá 255 ký tự.")
    assert await refused_field(materials.add_material(SYSTEM, conference_id=conference["id"], title="Báo cáo", kind="bao_cao",
                                                      filename="a.pdf", chunks=chunks_of(PDF), classification="K" * 40)) == (
        "classification", "Dài quá 32 ký tự.")
    await conferences.publish_conference(SYSTEM, conference["id"])
    assert await refused_field(rollcall.record_attendance(SYSTEM, conference_id=conference["id"], person_id=invitee["id"],
                                                          method="manual", substitute_name="N" * 256)) == (
        "substitute_name", "Dài quá 255 ký tự.")
