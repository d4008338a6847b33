import unicodedata

import pytest

from core.errors import Conflict, Forbidden, NotFound, ValidationError
from core.services import people
from core.tables import Attendance, Conference, Invitation, Person
from tests.factories import SYSTEM, make_actor, make_tree


@pytest.mark.parametrize("typed", ["0912 345 678", "+84 912-345-678", "84912345678", "0912.345.678"])
def test_phones_typed_by_people_become_e164(typed):
    assert people.parse_phone(typed) == "+84912345678"


def test_bad_phone_is_refused_with_the_field():
    with pytest.raises(ValidationError) as error:
        people.parse_phone("091 23")
    assert "phone" in error.value.fields


async def test_create_normalises_and_computes_keys(db):
    tree = await make_tree()
    nfd = unicodedata.normalize("NFD", "  Đặng   Thị Ánh ")
    person = await people.create_person(SYSTEM, unit_id=tree["commune_a1"]["id"], full_name=nfd, phone="0912 345 678",
                                        categories=["briefer", "member"], briefer_level="commune")
    assert person["full_name"] == "Đặng Thị Ánh" and unicodedata.is_normalized("NFC", person["full_name"])
    assert person["search_folded"] == " dang thi anh "
    assert person["phone"] == "+84912345678"
    assert person["categories"] == ["briefer", "member"]


async def test_phone_unique_among_active_people_unless_shared(db):
    tree = await make_tree()
    unit = tree["commune_a1"]["id"]
    first = await people.create_person(SYSTEM, unit_id=unit, full_name="Nguyễn Văn An", phone="0912345678")
    with pytest.raises(Conflict, match="Nguyễn Văn An"):
        await people.create_person(SYSTEM, unit_id=unit, full_name="Nguyễn Thị Bình", phone="+84 912 345 678")
    shared = await people.create_person(SYSTEM, unit_id=unit, full_name="Nguyễn Thị Bình", phone="0912345678", allow_shared_phone=True)
    assert shared["phone_shared"] is True
    await people.set_active(SYSTEM, first["id"], False)
    third = await people.create_person(SYSTEM, unit_id=unit, full_name="Lê Văn Cường", phone="0987654321")
    with pytest.raises(Conflict):
        await people.update_person(SYSTEM, third["id"], phone="0912 345 678")  # shared holder is still active
    no_phone = await people.create_person(SYSTEM, unit_id=unit, full_name="Hoàng Văn Em")
    assert no_phone["phone"] is None


async def test_reactivation_rechecks_the_phone(db):
    tree = await make_tree()
    unit = tree["commune_a1"]["id"]
    old = await people.create_person(SYSTEM, unit_id=unit, full_name="Nguyễn Văn An", phone="0912345678")
    await people.set_active(SYSTEM, old["id"], False)
    await people.create_person(SYSTEM, unit_id=unit, full_name="Nguyễn Văn Ân", phone="0912345678")
    with pytest.raises(Conflict):
        await people.set_active(SYSTEM, old["id"], True)


async def test_word_prefix_search_without_diacritics_in_vietnamese_order(db):
    tree = await make_tree()
    unit = tree["commune_a1"]["id"]
    for name in ["Nguyễn Văn An", "Đặng Thị Hoa", "Nguyễn Văn Bình", "Trần Văn Nguyên", "Lê Thị Đào", "Nguyễn Vân Anh"]:
        await people.create_person(SYSTEM, unit_id=unit, full_name=name)
    province = tree["province"]["id"]

    async def names(query):
        return [row["full_name"] for row in await people.search_people(SYSTEM, unit_id=province, query=query)]

    assert await names("nguyen van a") == ["Nguyễn Văn An", "Nguyễn Vân Anh"]
    assert await names("dang") == ["Đặng Thị Hoa"]
    assert await names(unicodedata.normalize("NFD", "ĐÀO")) == ["Lê Thị Đào"]
    assert await names("nguy") == ["Nguyễn Văn An", "Nguyễn Vân Anh", "Nguyễn Văn Bình", "Trần Văn Nguyên"]
    assert await names("guyen") == []  # prefixes of words only
    counted = await people.search_page(SYSTEM, unit_id=province, query="van")
    assert counted["total"] == 4 and counted["total_exact"]


async def test_filters_by_subtree_category_and_activity(db):
    tree = await make_tree()
    a = await people.create_person(SYSTEM, unit_id=tree["commune_a1"]["id"], full_name="Người A", categories=["briefer"])
    await people.create_person(SYSTEM, unit_id=tree["commune_b1"]["id"], full_name="Người B", categories=["briefer"])
    await people.create_person(SYSTEM, unit_id=tree["commune_a2"]["id"], full_name="Người C", categories=["member"])
    found = await people.search_people(SYSTEM, unit_id=tree["district_a"]["id"], categories=["briefer"])
    assert [row["id"] for row in found] == [a["id"]]
    await people.set_active(SYSTEM, a["id"], False)
    assert await people.search_people(SYSTEM, unit_id=tree["district_a"]["id"], categories=["briefer"]) == []
    assert len(await people.search_people(SYSTEM, unit_id=tree["district_a"]["id"], active=None)) == 2
    with pytest.raises(ValidationError):
        await people.search_people(SYSTEM, unit_id=tree["province"]["id"], categories=["wizard"])


async def test_access_other_branch_invisible_viewer_cannot_create(db):
    tree = await make_tree()
    organiser = await make_actor("organiser", tree["district_a"])
    viewer = await make_actor("viewer", tree["district_a"])
    other = await people.create_person(SYSTEM, unit_id=tree["commune_b1"]["id"], full_name="Người Khác")
    with pytest.raises(NotFound):
        await people.get_person(organiser, other["id"])
    with pytest.raises(NotFound):
        await people.search_people(organiser, unit_id=tree["district_b"]["id"])
    with pytest.raises(Forbidden):
        await people.create_person(viewer, unit_id=tree["commune_a1"]["id"], full_name="Không được")
    mine = await people.create_person(organiser, unit_id=tree["commune_a1"]["id"], full_name="Được phép")
    assert (await people.get_person(viewer, mine["id"]))["full_name"] == "Được phép"


async def test_erase_keeps_roll_call_counts(db):
    import datetime as dt

    tree = await make_tree()
    admin = await make_actor("admin", tree["province"])
    person = await people.create_person(SYSTEM, unit_id=tree["commune_a1"]["id"], full_name="Phạm Văn Xoá", phone="0912345678",
                                        email="xoa@example.vn", categories=["briefer"])
    start = dt.datetime(2026, 3, 10, 1, tzinfo=dt.timezone.utc)
    conference = (await Conference.insert(Conference(unit=tree["province"]["id"], title="HN", kind="other", format="in_person",
                                                     starts_at=start, ends_at=start + dt.timedelta(hours=2), status="ended"))
                  .returning(Conference.id))[0]["id"]
    await Invitation.insert(Invitation(conference=conference, person=person["id"], rsvp="excused", rsvp_reason="ốm"))
    await Attendance.insert(Attendance(conference=conference, person=person["id"], status="excused", method="manual",
                                       reason="ốm", recorded_at=start))
    exported = await people.export_person_data(admin, person["id"])
    assert exported["person"]["phone"] == "+84912345678" and len(exported["attendance"]) == 1

    await people.erase_person(admin, person["id"])

    row = await Person.select().where(Person.id == person["id"]).first()
    assert row["full_name"] == f"Đã xoá #{person['id']}" and row["phone"] is None and row["email"] is None and not row["active"]
    assert await Attendance.count().where(Attendance.conference == conference) == 1
    assert (await Attendance.select().first())["reason"] == ""
    assert await people.search_people(SYSTEM, unit_id=tree["province"]["id"], query="pham", active=None) == []


async def test_a_search_page_is_the_search_with_its_count_ahead(db, monkeypatch):
    tree = await make_tree()
    unit_id = tree["province"]["id"]
    for index in range(12):
        await people.create_person(SYSTEM, unit_id=tree["commune_a1"]["id"], full_name=f"Nguyễn Văn Số{index:02d}",
                                   categories=["briefer"] if index % 2 else ["member"])
    await people.create_person(SYSTEM, unit_id=tree["commune_a1"]["id"], full_name="Trần Thị Khác")
    monkeypatch.setattr(people, "COUNT_AHEAD", 3)
    for offset in (0, 4, 8, 12):
        page = await people.search_page(SYSTEM, unit_id=unit_id, query="nguyen van", limit=4, offset=offset)
        expected = await people.search_people(SYSTEM, unit_id=unit_id, query="nguyen van", limit=4, offset=offset)
        assert page["items"] == expected  # the same people, in the same order, with their categories
        up_to = offset + 4 + 3
        assert page["total"] == min(12, up_to) and page["total_exact"] == (12 < up_to)
    briefers = await people.search_page(SYSTEM, unit_id=unit_id, query="so", categories=["briefer"], limit=50)
    assert [row["full_name"][-4:] for row in briefers["items"]] == ["Số01", "Số03", "Số05", "Số07", "Số09", "Số11"]
    assert briefers["total"] == 6 and briefers["total_exact"]
    nobody = await people.search_page(SYSTEM, unit_id=unit_id, query="khong ai", limit=50)
    assert nobody == {"items": [], "total": 0, "total_exact": True}
