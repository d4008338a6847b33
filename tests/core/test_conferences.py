import datetime as dt

import pytest

from core import clock
from core.errors import Conflict, Forbidden, NotFound, ValidationError
from core.services import conferences, invitations
from core.tables import DomainEvent, Invitation
from tests.core.flows import local, make_conference, make_people
from tests.factories import SYSTEM, make_actor, make_tree


async def test_naive_datetimes_and_bad_fields_are_refused(db):
    tree = await make_tree()
    with pytest.raises(ValidationError) as error:
        await conferences.create_conference(SYSTEM, unit_id=tree["province"]["id"], title="HN", kind="periodic_briefing",
                                            format="in_person", starts_at=dt.datetime(2026, 3, 10, 8), ends_at=local(2026, 3, 10, 11))
    assert "starts_at" in error.value.fields and "múi giờ" in error.value.message
    with pytest.raises(ValidationError, match="sau giờ bắt đầu"):
        await conferences.create_conference(SYSTEM, unit_id=tree["province"]["id"], title="HN", kind="periodic_briefing",
                                            format="in_person", starts_at=local(2026, 3, 10, 11), ends_at=local(2026, 3, 10, 8))
    with pytest.raises(ValidationError, match="trực tuyến"):
        await conferences.create_conference(SYSTEM, unit_id=tree["province"]["id"], title="HN", kind="periodic_briefing",
                                            format="online", starts_at=local(2026, 3, 10, 8), ends_at=local(2026, 3, 10, 11),
                                            venues=[{"name": "Phòng họp"}])


async def test_timezone_defaults_from_the_unit_and_times_are_stored_utc(db):
    tree = await make_tree()
    conference = await make_conference(tree)
    assert conference["timezone"] == "Asia/Ho_Chi_Minh"
    assert conference["starts_at"] == dt.datetime(2026, 3, 10, 1, tzinfo=dt.timezone.utc)


async def test_significant_revisions_raise_sequences_and_are_recorded(db):
    tree = await make_tree()
    await make_people(tree["commune_a1"], 3)
    conference = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, conference["id"])
    assert await Invitation.count().where(Invitation.conference == conference["id"]) == 3

    updated = await conferences.update_conference(SYSTEM, conference["id"], title="Hội nghị (sửa tên)")
    assert updated["revision"] == 0  # a new title is not significant
    updated = await conferences.update_conference(SYSTEM, conference["id"], expected_version=updated["version"],
                                                  starts_at=local(2026, 3, 10, 9), ends_at=local(2026, 3, 10, 12))
    assert updated["revision"] == 1
    venue = updated["venues"][0]
    await conferences.update_venue(SYSTEM, venue["id"], name="Hội trường lớn")  # renamed hall: not significant
    await conferences.update_venue(SYSTEM, venue["id"], address="Số 5 Trần Hưng Đạo")
    final = await conferences.get_conference(SYSTEM, conference["id"])
    assert final["revision"] == 2
    sequences = {row["sequence"] for row in await Invitation.select(Invitation.sequence)}
    assert sequences == {2}
    changes = final["changes"]
    assert [c["significant"] for c in changes[-4:]] == [False, True, False, True]
    assert changes[-3]["changes"]["starts_at"][1].startswith("2026-03-10T02:00")
    assert await DomainEvent.count().where(DomainEvent.name == "conference_revised") == 2
    with pytest.raises(Conflict, match="người khác sửa"):
        await conferences.update_conference(SYSTEM, conference["id"], expected_version=1, title="Cũ")


async def test_cancel_is_significant_and_end_derives_absent(db):
    tree = await make_tree()
    await make_people(tree["commune_a1"], 2)
    first = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, first["id"])
    cancelled = await conferences.cancel_conference(SYSTEM, first["id"], reason="Bão")
    assert cancelled["status"] == "cancelled" and cancelled["revision"] == 1
    assert {row["sequence"] for row in await Invitation.select(Invitation.sequence).where(Invitation.conference == first["id"])} == {1}
    with pytest.raises(Conflict):
        await conferences.publish_conference(SYSTEM, first["id"])

    second = await make_conference(tree, start=local(2026, 4, 14, 8))
    await conferences.publish_conference(SYSTEM, second["id"])
    clock.set_now(local(2026, 4, 14, 10))
    assert await conferences.end_due_conferences() == []
    clock.set_now(local(2026, 4, 14, 12))
    assert await conferences.end_due_conferences() == [second["id"]]
    assert await conferences.end_due_conferences() == []
    from core.services import rollcall

    view = await rollcall.roll_call(SYSTEM, second["id"])
    assert view["counts"]["absent"] == 2


async def test_publish_needs_a_venue_and_only_drafts(db):
    tree = await make_tree()
    conference = await conferences.create_conference(SYSTEM, unit_id=tree["province"]["id"], title="HN", kind="study",
                                                     format="in_person", starts_at=local(2026, 3, 10), ends_at=local(2026, 3, 10, 11))
    with pytest.raises(ValidationError, match="điểm cầu"):
        await conferences.publish_conference(SYSTEM, conference["id"])


async def test_venue_grant_reaches_a_higher_units_conference(db):
    tree = await make_tree()
    conference = await make_conference(tree)
    hosted_venue = conference["venues"][1]
    district_staff = await make_actor("checkin_staff", tree["district_a"])
    other_district = await make_actor("organiser", tree["district_b"])
    seen = await conferences.get_conference(district_staff, conference["id"])
    assert seen["visible_venue_ids"] == [hosted_venue["id"]]
    listed = await conferences.list_conferences(district_staff, unit_id=tree["district_a"]["id"])
    assert [row["id"] for row in listed] == [conference["id"]]
    with pytest.raises(NotFound):
        await conferences.get_conference(other_district, conference["id"])
    with pytest.raises(Forbidden):
        await conferences.update_conference(district_staff, conference["id"], title="Không được")
    assert await conferences.list_conferences(other_district, unit_id=tree["district_b"]["id"]) == []


async def test_agenda_sessions_and_speakers(db):
    tree = await make_tree()
    speaker_person = (await make_people(tree["province"], 1))[0]
    conference = await make_conference(tree)
    session = await conferences.add_session(SYSTEM, conference["id"], title="Tình hình thời sự", topic="Thời sự",
                                            starts_at=local(2026, 3, 10, 8), ends_at=local(2026, 3, 10, 9))
    with pytest.raises(ValidationError, match="trong thời gian hội nghị"):
        await conferences.add_session(SYSTEM, conference["id"], title="Ngoài giờ", starts_at=local(2026, 3, 10, 15))
    await conferences.add_speaker(SYSTEM, conference["id"], session_id=session["id"], name="Trần Quốc Bảo",
                                  position_title="Phó Trưởng ban", organisation="Ban Tuyên giáo Tỉnh ủy")
    await conferences.add_speaker(SYSTEM, conference["id"], session_id=session["id"], person_id=speaker_person["id"])
    full = await conferences.get_conference(SYSTEM, conference["id"])
    assert [s["name"] for s in full["sessions"][0]["speakers"]] == ["Trần Quốc Bảo", speaker_person["full_name"]]
    assert full["audiences"][0]["name"].startswith("Báo cáo viên")


async def test_sessions_and_speakers_are_edited_and_taken_off(db):
    tree = await make_tree()
    conference = await make_conference(tree)
    session = await conferences.add_session(SYSTEM, conference["id"], title="Thời sự", starts_at=local(2026, 3, 10, 8))
    speaker = await conferences.add_speaker(SYSTEM, conference["id"], session_id=session["id"], name="Tran Quoc Bao")
    moved = await conferences.update_session(SYSTEM, session["id"], title="Tình hình thời sự", ends_at=local(2026, 3, 10, 9))
    assert (moved["title"], moved["starts_at"], moved["ends_at"]) == ("Tình hình thời sự", local(2026, 3, 10, 8), local(2026, 3, 10, 9))
    with pytest.raises(ValidationError, match="sau giờ bắt đầu"):
        await conferences.update_session(SYSTEM, session["id"], starts_at=local(2026, 3, 10, 9, 30))
    with pytest.raises(ValidationError):
        await conferences.update_session(SYSTEM, session["id"], position=3)
    corrected = await conferences.update_speaker(SYSTEM, conference["id"], session_id=session["id"], speaker_id=speaker["id"],
                                                 name="Trần Quốc Bảo", organisation="Ban Tuyên giáo")
    assert (corrected["name"], corrected["organisation"]) == ("Trần Quốc Bảo", "Ban Tuyên giáo")
    other = await make_conference(tree)
    with pytest.raises(NotFound):
        await conferences.remove_speaker(SYSTEM, other["id"], session_id=session["id"], speaker_id=speaker["id"])
    await conferences.remove_speaker(SYSTEM, conference["id"], session_id=session["id"], speaker_id=speaker["id"])
    full = await conferences.get_conference(SYSTEM, conference["id"])
    assert full["sessions"][0]["speakers"] == []
    revision = full["revision"]
    assert revision == conference["revision"]  # the agenda is not a significant revision: no sequences rise
