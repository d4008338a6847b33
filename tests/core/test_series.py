import datetime as dt

import pytest

from core import clock
from core.errors import ValidationError
from core.services import conferences, series
from core.tables import Conference, Series
from tests.factories import SYSTEM, make_tree

UTC = dt.timezone.utc


async def _monthly(tree, **extra):
    clock.set_now(dt.datetime(2026, 1, 1, tzinfo=UTC))
    return await series.create_series(
        SYSTEM, unit_id=tree["province"]["id"], title="Hội nghị báo cáo viên định kỳ", kind="periodic_briefing", format="in_person",
        rrule="FREQ=MONTHLY;BYDAY=2TU", local_start=dt.datetime(2026, 1, 13, 8, 0), duration_minutes=180,
        template={"venues": [{"name": "Hội trường Tỉnh ủy", "address": "Số 1"}]}, **extra,
    )


async def test_second_tuesday_at_eight_local_for_twelve_months(db):
    tree = await make_tree()
    monthly = await _monthly(tree)
    starts = [c["starts_at"] for c in monthly["occurrences"]]
    assert len(starts) == 12
    assert all(s.astimezone(UTC).hour == 1 and s.weekday() == 1 and 8 <= s.day <= 14 for s in starts)
    assert starts[1] == dt.datetime(2026, 2, 10, 1, tzinfo=UTC)
    assert await series.materialise_series(monthly["id"]) == 0  # idempotent


async def test_dst_zone_keeps_local_wall_clock(db):
    tree = await make_tree()
    clock.set_now(dt.datetime(2026, 3, 1, tzinfo=UTC))
    weekly = await series.create_series(
        SYSTEM, unit_id=tree["province"]["id"], title="Họp giao ban (Paris)", kind="review", format="online",
        rrule="FREQ=WEEKLY;COUNT=4", local_start="2026-03-19T08:00", duration_minutes=60, timezone="Europe/Paris",
        template={"venues": [{"name": "Trực tuyến", "online_url": "https://hop.example.vn/a"}]},
    )
    hours = [c["starts_at"].astimezone(UTC).hour for c in weekly["occurrences"]]
    assert hours == [7, 7, 6, 6]  # 08:00 CET, then 08:00 CEST after 29 March


async def test_moved_and_skipped_occurrences_survive_regeneration(db):
    tree = await make_tree()
    monthly = await _monthly(tree)
    second, third = monthly["occurrences"][1], monthly["occurrences"][2]
    moved = await conferences.update_conference(SYSTEM, second["id"], starts_at=dt.datetime(2026, 2, 11, 1, tzinfo=UTC),
                                                 ends_at=dt.datetime(2026, 2, 11, 4, tzinfo=UTC))
    assert moved["is_exception"] and moved["revision"] == 1
    await series.skip_occurrence(SYSTEM, third["id"])
    await Conference.delete().where(Conference.id == monthly["occurrences"][5]["id"])  # a lost row comes back
    assert await series.materialise_series(monthly["id"]) == 1
    again = await series.get_series(SYSTEM, monthly["id"])
    by_key = {c["occurrence_key"]: c for c in again["occurrences"]}
    assert by_key["2026-02-10T08:00:00"]["starts_at"] == dt.datetime(2026, 2, 11, 1, tzinfo=UTC)
    assert by_key["2026-03-10T08:00:00"]["skipped"] and by_key["2026-03-10T08:00:00"]["status"] == "cancelled"
    assert again["revision"] == 2


async def test_split_this_and_following(db):
    tree = await make_tree()
    monthly = await _monthly(tree)
    june = next(c for c in monthly["occurrences"] if c["occurrence_key"] == "2026-06-09T08:00:00")
    await conferences.publish_conference(SYSTEM, monthly["occurrences"][6]["id"])  # July is published
    new = await series.split_series(SYSTEM, monthly["id"], from_occurrence_key=june["occurrence_key"],
                                    rrule="FREQ=MONTHLY;BYDAY=2TU", local_start="2026-06-09T14:00")
    old = await Series.select().where(Series.id == monthly["id"]).first()
    assert old["until_local"] == "2026-06-09T07:59:00"
    # January to May stay, plus the published July occurrence, cancelled below
    assert await Conference.count().where(Conference.series == monthly["id"]) == 6
    assert new["split_from"] == monthly["id"]
    afternoon = [c for c in new["occurrences"] if c["status"] == "draft"]
    assert afternoon and all(c["starts_at"].astimezone(UTC).hour == 7 for c in afternoon)
    july_old = await Conference.select().where(Conference.id == monthly["occurrences"][6]["id"]).first()
    assert july_old["status"] == "cancelled"  # the new rule no longer produces 08:00 in July


async def test_bad_rules_are_refused(db):
    tree = await make_tree()
    for bad in ["MONTHLY", "FREQ=SOMETIMES", "FREQ=MONTHLY;BYDAY=9XX"]:
        with pytest.raises(ValidationError) as error:
            await series.create_series(SYSTEM, unit_id=tree["province"]["id"], title="X", kind="other", format="in_person",
                                       rrule=bad, local_start="2026-01-13T08:00", duration_minutes=60)
        assert "rrule" in error.value.fields
    with pytest.raises(ValidationError, match="địa phương"):
        await series.create_series(SYSTEM, unit_id=tree["province"]["id"], title="X", kind="other", format="in_person",
                                   rrule="FREQ=DAILY", local_start="2026-01-13T08:00+07:00", duration_minutes=60)
