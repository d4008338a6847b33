import asyncio
import datetime as dt

import pytest

from core import clock
from core.errors import Conflict, Forbidden, NotFound
from core.services import conferences, invitations, rollcall
from core.tables import Attendance, DomainEvent, Invitation
from tests.core.flows import local, make_conference, make_people
from tests.factories import SYSTEM, make_actor, make_tree


async def _published(tree, count=3):
    group = await make_people(tree["commune_a1"], count)
    conference = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, conference["id"])
    return conference, group


async def test_late_after_threshold(db):
    tree = await make_tree()
    conference, group = await _published(tree)
    clock.set_now(local(2026, 3, 10, 8, 10))
    on_time = await rollcall.record_attendance(SYSTEM, conference_id=conference["id"], person_id=group[0]["id"], method="manual")
    assert on_time["created"] and on_time["record"]["status"] == "present"
    late = await rollcall.record_attendance(SYSTEM, conference_id=conference["id"], person_id=group[1]["id"], method="manual",
                                            at=local(2026, 3, 10, 8, 16))
    assert late["record"]["status"] == "late"


@pytest.mark.parametrize("record", ["record_attendance", "record_scan"])
async def test_earliest_wins_and_event_fires_once_under_concurrency(db, record):
    tree = await make_tree()
    conference, group = await _published(tree)
    person = group[0]["id"]
    times = [local(2026, 3, 10, 8, minute) for minute in (20, 5, 12, 30)]
    results = await asyncio.gather(*[
        getattr(rollcall, record)(SYSTEM, conference_id=conference["id"], person_id=person, method="staff_scan", at=at) for at in times
    ])
    assert sum(r["created"] for r in results) == 1
    record = await Attendance.select().where(Attendance.person == person).first()
    assert record["recorded_at"] == local(2026, 3, 10, 8, 5) and record["status"] == "present"
    assert await DomainEvent.count().where(DomainEvent.name == "attendance_recorded") == 1


async def test_not_invited_and_not_published_are_refused(db):
    tree = await make_tree()
    conference, group = await _published(tree)
    stranger = (await make_people(tree["commune_b1"], 1, categories=("member",)))[0]
    with pytest.raises(NotFound, match="danh sách mời"):
        await rollcall.record_attendance(SYSTEM, conference_id=conference["id"], person_id=stranger["id"], method="manual")
    await conferences.cancel_conference(SYSTEM, conference["id"])
    with pytest.raises(Conflict):
        await rollcall.record_attendance(SYSTEM, conference_id=conference["id"], person_id=group[0]["id"], method="manual")


async def test_venue_staff_record_only_at_their_venue(db):
    tree = await make_tree()
    conference, group = await _published(tree)
    hosted = conference["venues"][1]["id"]
    await Invitation.update({Invitation.venue: hosted}).where(Invitation.person == group[0]["id"])
    staff = await make_actor("checkin_staff", tree["district_a"])
    clock.set_now(local(2026, 3, 10, 7, 50))
    result = await rollcall.record_attendance(staff, conference_id=conference["id"], person_id=group[0]["id"], method="staff_scan")
    assert result["record"]["venue"] == hosted
    with pytest.raises(Forbidden):
        await rollcall.record_attendance(staff, conference_id=conference["id"], person_id=group[1]["id"], method="staff_scan",
                                         venue_id=conference["venues"][0]["id"])
    view = await rollcall.roll_call(staff, conference["id"])
    assert view["invited"] == 1 and view["counts"]["present"] == 1


async def test_excuse_then_arrival_and_derived_absence(db):
    tree = await make_tree()
    conference, group = await _published(tree)
    await rollcall.excuse(SYSTEM, conference["id"], group[0]["id"], "Đi công tác")
    await rollcall.excuse(SYSTEM, conference["id"], group[1]["id"], "Ốm")
    arrived = await rollcall.record_attendance(SYSTEM, conference_id=conference["id"], person_id=group[1]["id"], method="manual",
                                               at=local(2026, 3, 10, 8))
    assert arrived["record"]["status"] == "present"
    clock.set_now(local(2026, 3, 10, 12))
    await conferences.end_conference(SYSTEM, conference["id"])
    view = await rollcall.roll_call(SYSTEM, conference["id"])
    assert view["counts"] == {"present": 1, "late": 0, "excused": 1, "absent": 1, "substitute": 0, "not_recorded": 0}
    # a paper list typed in after the end, the same day
    late_entry = await rollcall.record_attendance(SYSTEM, conference_id=conference["id"], person_id=group[2]["id"], method="manual",
                                                  at=local(2026, 3, 10, 8, 2))
    assert late_entry["record"]["status"] == "present"


async def test_exports_xlsx_and_signature_sheet_are_audited(db):
    import io

    from openpyxl import load_workbook

    from core.services import rollcall_export
    from core.tables import AuditEntry

    tree = await make_tree()
    conference, group = await _published(tree, count=2)
    clock.set_now(local(2026, 3, 10, 8, 5))
    await rollcall.record_attendance(SYSTEM, conference_id=conference["id"], person_id=group[0]["id"], method="manual")
    data = await rollcall_export.export_xlsx(SYSTEM, conference["id"])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["B4"].value == "Họ và tên"
    rows = {sheet.cell(row=r, column=2).value: (sheet.cell(row=r, column=4).value, sheet.cell(row=r, column=5).value) for r in (5, 6)}
    assert rows[group[0]["full_name"]] == ("Có mặt", "10/03/2026 08:05")
    assert rows[group[1]["full_name"]][0] == "Chưa điểm danh"
    page = await rollcall_export.signature_sheet_html(SYSTEM, conference["id"])
    assert "Ký tên" in page and group[1]["full_name"] in page and "<script" not in page
    assert await AuditEntry.count().where(AuditEntry.action == "rollcall.export") == 2


# -- record_scan: the scanners' hot path keeps record_attendance's rules --------------------------

async def test_record_scan_records_like_record_attendance_with_one_event_and_one_audit_entry(db):
    from core.tables import AuditEntry

    tree = await make_tree()
    conference, group = await _published(tree)
    scanner = await make_actor("checkin_staff", tree["province"])
    on_time = await rollcall.record_scan(scanner, conference_id=conference["id"], person_id=group[0]["id"], method="staff_scan",
                                         at=local(2026, 3, 10, 8, 10))
    late = await rollcall.record_scan(scanner, conference_id=conference["id"], person_id=group[1]["id"], method="staff_scan",
                                      at=local(2026, 3, 10, 8, 16))
    assert on_time["created"] and on_time["record"]["status"] == "present"
    assert late["created"] and late["record"]["status"] == "late"
    stored = await Attendance.select().where(Attendance.person == group[0]["id"]).first()
    assert on_time["record"] == stored and stored["recorded_by"] == scanner.user_id and stored["method"] == "staff_scan"
    again = await rollcall.record_scan(scanner, conference_id=conference["id"], person_id=group[0]["id"], method="staff_scan",
                                       at=local(2026, 3, 10, 8, 40))
    assert not again["created"] and again["record"] == stored
    events = await DomainEvent.select().where(DomainEvent.name == "attendance_recorded").order_by(DomainEvent.id).output(load_json=True)
    assert [(e["unit_id"], e["conference_id"], e["payload"]) for e in events] == [
        (conference["unit"], conference["id"], {"person_id": group[0]["id"], "status": "present", "venue_id": None}),
        (conference["unit"], conference["id"], {"person_id": group[1]["id"], "status": "late", "venue_id": None}),
    ]
    audited = await AuditEntry.select().where(AuditEntry.action == "attendance.record").order_by(AuditEntry.id).output(load_json=True)
    assert [(a["actor_id"], a["object_id"], a["unit_id"], a["details"]) for a in audited] == [
        (scanner.user_id, stored["id"], conference["unit"], {"person_id": group[0]["id"], "method": "staff_scan"}),
        (scanner.user_id, late["record"]["id"], conference["unit"], {"person_id": group[1]["id"], "method": "staff_scan"}),
    ]


async def test_record_scan_an_excuse_gives_way(db):
    tree = await make_tree()
    conference, group = await _published(tree)
    await rollcall.excuse(SYSTEM, conference["id"], group[1]["id"], "Đi công tác")
    arrived = await rollcall.record_scan(SYSTEM, conference_id=conference["id"], person_id=group[1]["id"], method="staff_scan",
                                         at=local(2026, 3, 10, 8, 1))
    assert not arrived["created"] and arrived["record"]["status"] == "present"


async def test_record_scan_refuses_what_record_attendance_refuses(db):
    from core.errors import ValidationError

    tree = await make_tree()
    conference, group = await _published(tree)
    other, _ = await _published(tree, count=1)
    stranger = (await make_people(tree["commune_b1"], 1, categories=("member",)))[0]
    with pytest.raises(NotFound, match="danh sách mời"):
        await rollcall.record_scan(SYSTEM, conference_id=conference["id"], person_id=stranger["id"], method="staff_scan")
    with pytest.raises(ValidationError):
        await rollcall.record_scan(SYSTEM, conference_id=conference["id"], person_id=group[0]["id"], method="staff_scan",
                                   venue_id=other["venues"][0]["id"])
    with pytest.raises(ValidationError):
        await rollcall.record_scan(SYSTEM, conference_id=conference["id"], person_id=group[0]["id"], method="manual")
    staff = await make_actor("checkin_staff", tree["district_a"])  # a venue grant only
    with pytest.raises(Forbidden):
        await rollcall.record_scan(staff, conference_id=conference["id"], person_id=group[1]["id"], method="staff_scan",
                                   venue_id=conference["venues"][0]["id"])
    await conferences.cancel_conference(SYSTEM, conference["id"])
    with pytest.raises(Conflict):
        await rollcall.record_scan(SYSTEM, conference_id=conference["id"], person_id=group[0]["id"], method="staff_scan")
    assert await Attendance.count().where(Attendance.conference == conference["id"]) == 0
