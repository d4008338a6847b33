from core import clock
from core.services import conferences, reports, rollcall
from tests.core.flows import local, make_conference, make_people
from tests.factories import SYSTEM, make_actor, make_tree


async def test_summary_by_subtree_period_and_child_unit(db):
    tree = await make_tree()
    group_a = await make_people(tree["commune_a1"], 4)
    group_b = await make_people(tree["commune_b1"], 2)
    march = await make_conference(tree, start=local(2026, 3, 10, 8))
    await conferences.publish_conference(SYSTEM, march["id"])
    clock.set_now(local(2026, 3, 10, 8))
    await rollcall.record_attendance(SYSTEM, conference_id=march["id"], person_id=group_a[0]["id"], method="manual")
    await rollcall.record_attendance(SYSTEM, conference_id=march["id"], person_id=group_a[1]["id"], method="manual",
                                     at=local(2026, 3, 10, 8, 30))
    await rollcall.excuse(SYSTEM, march["id"], group_b[0]["id"], "Ốm")
    clock.set_now(local(2026, 3, 10, 12))
    await conferences.end_conference(SYSTEM, march["id"])
    april = await make_conference(tree, start=local(2026, 4, 14, 8))  # a draft: not held
    assert april["status"] == "draft"

    start, end = reports.month(2026, 3)
    summary = await reports.attendance_summary(SYSTEM, unit_id=tree["province"]["id"], start=start, end=end)
    total = summary["total"]
    assert (total["conferences"], total["invited"], total["present"], total["late"], total["excused"], total["absent"]) == (1, 6, 1, 1, 1, 3)
    assert total["attendance_rate"] == round(2 / 6, 4)
    assert summary["by_kind"] == {"periodic_briefing": 1}
    # conferences of the province itself are counted on the province row
    assert [row["unit_id"] for row in summary["units"]] == [tree["province"]["id"]]

    quarter = await reports.attendance_summary(SYSTEM, unit_id=tree["province"]["id"], start=reports.quarter(2026, 2)[0],
                                               end=reports.quarter(2026, 2)[1])
    assert quarter["total"]["conferences"] == 0
    history = await reports.person_attendance(SYSTEM, person_id=group_a[1]["id"], start=start, end=end)
    assert history["invited"] == 1 and history["attendance_rate"] == 1.0

    district = await make_actor("viewer", tree["district_a"])
    mine = await reports.attendance_summary(district, unit_id=tree["district_a"]["id"], start=start, end=end)
    assert mine["total"]["conferences"] == 0  # the province's conference is not the district's


async def test_child_units_get_their_own_rows(db):
    import datetime as dt

    from core.services import audiences

    tree = await make_tree()
    people_a = await make_people(tree["commune_a1"], 2)
    audience = await audiences.create_audience(SYSTEM, unit_id=tree["district_a"]["id"], name="BCV huyện",
                                               rules={"categories": ["briefer"]})
    for unit in (tree["district_a"], tree["commune_a1"]):
        conference = await conferences.create_conference(
            SYSTEM, unit_id=unit["id"], title="Hội nghị", kind="study", format="in_person", starts_at=local(2026, 5, 5, 8),
            ends_at=local(2026, 5, 5, 10), venues=[{"name": "Hội trường"}], audience_ids=[audience["id"]])
        await conferences.publish_conference(SYSTEM, conference["id"])
        clock.set_now(local(2026, 5, 5, 8))
        await rollcall.record_attendance(SYSTEM, conference_id=conference["id"], person_id=people_a[0]["id"], method="manual")
        clock.set_now(None)
    start, end = reports.month(2026, 5)
    summary = await reports.attendance_summary(SYSTEM, unit_id=tree["province"]["id"], start=start, end=end)
    rows = {row["unit_id"]: row for row in summary["units"]}
    assert list(rows) == [tree["district_a"]["id"]]
    assert rows[tree["district_a"]["id"]]["conferences"] == 2 and rows[tree["district_a"]["id"]]["invited"] == 4
    assert rows[tree["district_a"]["id"]]["present"] == 2 and rows[tree["district_a"]["id"]]["not_recorded"] == 2
    assert dt.timedelta(0) < end - start
