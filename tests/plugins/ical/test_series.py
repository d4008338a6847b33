"""A series is one RRULE event: skipped months EXDATEd, moved ones RECURRENCE-ID overrides; a
split series continues under a new UID and the old one gets an UNTIL; calendar software that
expands the objects (``recurring_ical_events``) sees exactly the planned occurrences."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import recurring_ical_events

import plugins.ical.tables  # noqa: F401
from core import clock
from core.services import audiences, conferences, invitations, series
from core.tables import Conference, Invitation, Series
from plugins.ical import services
from tests.factories import SYSTEM, make_tree
from tests.plugins.ical.helpers import attachments, events, make_invitees, parse, plugin_host, switch

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC = dt.timezone.utc


async def _series(tree, *, rrule="FREQ=MONTHLY;BYDAY=2TU;UNTIL=20260630", local_start=dt.datetime(2026, 1, 13, 8),
                  timezone=None, duration=180):
    clock.set_now(dt.datetime(2026, 1, 1, tzinfo=UTC))
    audience = await audiences.create_audience(SYSTEM, unit_id=tree["province"]["id"], name="Báo cáo viên",
                                               rules={"categories": ["briefer"], "unit_ids": [tree["province"]["id"]]})
    created = await series.create_series(
        SYSTEM, unit_id=tree["province"]["id"], title="Hội nghị báo cáo viên định kỳ", kind="periodic_briefing",
        format="in_person", rrule=rrule, local_start=local_start, duration_minutes=duration, timezone=timezone,
        template={"venues": [{"name": "Hội trường Tỉnh ủy", "address": "Số 1 Lý Thái Tổ"}], "audience_ids": [audience["id"]],
                  "description": "Thông tin thời sự hằng tháng."})
    for occurrence in created["occurrences"]:
        await conferences.publish_conference(SYSTEM, occurrence["id"])
    return await series.get_series(SYSTEM, created["id"])


def _occurrences(data: bytes, start=dt.datetime(2025, 1, 1), end=dt.datetime(2028, 1, 1)) -> list[tuple[str, dt.datetime]]:
    calendar = parse(data)
    return sorted((str(event["UID"]), event.decoded("DTSTART")) for event in recurring_ical_events.of(calendar).between(start, end))


def _message(conference_id: int, unit_id: int, person: dict, kind: str) -> dict:
    return {"id": 1, "kind": kind, "unit_id": unit_id, "conference_id": conference_id, "person": person["id"], "channel": "email",
            "address": person["email"]}


def _local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HCM)


async def test_a_monthly_series_with_a_skipped_and_a_moved_month(db, tmp_path):
    host = plugin_host(tmp_path)
    tree = await make_tree()
    await switch(host, tree["province"], "on")
    person, other = await make_invitees(tree["commune_a1"], 2)
    monthly = await _series(tree)
    by_key = {c["occurrence_key"]: c for c in monthly["occurrences"]}
    assert sorted(by_key) == ["2026-01-13T08:00:00", "2026-02-10T08:00:00", "2026-03-10T08:00:00", "2026-04-14T08:00:00",
                              "2026-05-12T08:00:00", "2026-06-09T08:00:00"]
    march, april = by_key["2026-03-10T08:00:00"], by_key["2026-04-14T08:00:00"]
    path = tree["province"]["path"]
    uid = f"series-{monthly['id']}@127.0.0.1"

    await series.skip_occurrence(SYSTEM, march["id"], reason="Trùng Đại hội")
    await conferences.update_conference(SYSTEM, april["id"], starts_at=_local(2026, 4, 15, 8), ends_at=_local(2026, 4, 15, 11))
    revision = (await Series.select(Series.revision).where(Series.id == monthly["id"]).first())["revision"]
    assert revision >= 2  # the skip and the move are both significant for the series

    expected = [_local(2026, 1, 13, 8), _local(2026, 2, 10, 8), _local(2026, 4, 15, 8), _local(2026, 5, 12, 8), _local(2026, 6, 9, 8)]
    # the change notice for April: the whole series, one UID, with the moved month as an override
    (change,) = await attachments(host, path, _message(april["id"], tree["province"]["id"], person, "change_notice"))
    assert "method=REQUEST" in change["content_type"]
    calendar = parse(change["data"])
    master, *overrides = events(calendar)
    assert str(master["UID"]) == uid and "RRULE" in master and "RECURRENCE-ID" not in master
    assert int(master["SEQUENCE"]) == revision
    assert [exdate.dt for line in [master["EXDATE"]] for exdate in line.dts] == [_local(2026, 3, 10, 8)]
    assert all(str(event["UID"]) == uid for event in overrides)
    moved = next(event for event in overrides if event.decoded("RECURRENCE-ID") == _local(2026, 4, 14, 8))
    assert moved.decoded("DTSTART") == _local(2026, 4, 15, 8)
    assert [start for _, start in _occurrences(change["data"])] == expected
    assert change["data"].count(b"ATTENDEE") == len(overrides) + 1 and other["email"].encode() not in change["data"]

    # the personal feed shows the same occurrences, under the same UID
    feed = await services.person_feed(host, person["id"])
    assert _occurrences(feed.body) == [(uid, start) for start in expected]

    # the skipped month is cancelled for its invitees: same UID, its RECURRENCE-ID
    (cancel,) = await attachments(host, path, _message(march["id"], tree["province"]["id"], person, "cancellation"))
    calendar = parse(cancel["data"])
    (event,) = events(calendar)
    assert str(calendar["METHOD"]) == "CANCEL" and str(event["UID"]) == uid
    assert event.decoded("RECURRENCE-ID") == _local(2026, 3, 10, 8) and str(event["STATUS"]) == "CANCELLED"

    # an occurrence the person is no longer invited to is EXDATEd for them only
    february = by_key["2026-02-10T08:00:00"]
    invitation = await Invitation.select(Invitation.id).where(
        (Invitation.conference == february["id"]) & (Invitation.person == person["id"])).first()
    await invitations.withdraw_invitation(SYSTEM, invitation["id"])
    mine = await services.person_feed(host, person["id"])
    assert [start for _, start in _occurrences(mine.body)] == [start for start in expected if start.month != 2]
    theirs = await services.person_feed(host, other["id"])
    assert [start for _, start in _occurrences(theirs.body)] == expected


async def test_sequence_rises_only_on_significant_revisions(db, tmp_path):
    host = plugin_host(tmp_path)
    tree = await make_tree()
    await switch(host, tree["province"], "on")
    (person,) = await make_invitees(tree["commune_a1"], 1)
    monthly = await _series(tree)
    may = next(c for c in monthly["occurrences"] if c["occurrence_key"] == "2026-05-12T08:00:00")
    path, unit_id = tree["province"]["path"], tree["province"]["id"]

    async def sequences():
        (found,) = await attachments(host, path, _message(may["id"], unit_id, person, "change_notice"))
        found_events = events(parse(found["data"]))
        override = next(e for e in found_events if "RECURRENCE-ID" in e and e.decoded("RECURRENCE-ID") == _local(2026, 5, 12, 8))
        return int(found_events[0]["SEQUENCE"]), int(override["SEQUENCE"])

    assert await sequences() == (0, 0)
    await conferences.update_conference(SYSTEM, may["id"], title="Hội nghị báo cáo viên tháng 5 (chuyên đề)")
    assert await sequences() == (0, 0)  # a new title is not significant
    await conferences.update_conference(SYSTEM, may["id"], starts_at=_local(2026, 5, 12, 14), ends_at=_local(2026, 5, 12, 17))
    assert await sequences() == (1, 2)  # the series' revision, and the occurrence's own on top
    await conferences.update_conference(SYSTEM, may["id"], description="Bổ sung tài liệu.")
    assert await sequences() == (1, 2)


async def test_a_split_series_gets_a_new_uid_and_the_old_one_an_until_without_duplicates(db, tmp_path):
    host = plugin_host(tmp_path)
    tree = await make_tree()
    await switch(host, tree["province"], "on")
    (person,) = await make_invitees(tree["commune_a1"], 1)
    monthly = await _series(tree)
    new = await series.split_series(SYSTEM, monthly["id"], from_occurrence_key="2026-04-14T08:00:00",
                                    rrule="FREQ=MONTHLY;BYDAY=2TU;UNTIL=20260630", duration_minutes=120)
    assert new["id"] != monthly["id"]
    feed = await services.person_feed(host, person["id"])
    found = _occurrences(feed.body)
    old_uid, new_uid = f"series-{monthly['id']}@127.0.0.1", f"series-{new['id']}@127.0.0.1"
    assert found == [(old_uid, _local(2026, 1, 13, 8)), (old_uid, _local(2026, 2, 10, 8)), (old_uid, _local(2026, 3, 10, 8)),
                     (new_uid, _local(2026, 4, 14, 8)), (new_uid, _local(2026, 5, 12, 8)), (new_uid, _local(2026, 6, 9, 8))]
    old_master = next(e for e in events(parse(feed.body)) if str(e["UID"]) == old_uid and "RRULE" in e)
    assert old_master["RRULE"]["UNTIL"][0] == dt.datetime(2026, 4, 14, 0, 59, tzinfo=UTC)  # 07:59 local, in UTC
    # the moved occurrences keep their conference, now under the new UID, ending two hours later
    april = next(e for e in events(parse(feed.body)) if str(e["UID"]) == new_uid and "RECURRENCE-ID" in e
                 and e.decoded("RECURRENCE-ID") == _local(2026, 4, 14, 8))
    assert april.decoded("DTEND") - april.decoded("DTSTART") == dt.timedelta(hours=3)  # its own times, as published
    assert await Conference.count().where(Conference.series == new["id"]) == 3


async def test_a_weekly_series_across_daylight_saving_stays_at_eight_local(db, tmp_path):
    host = plugin_host(tmp_path)
    tree = await make_tree()
    await switch(host, tree["province"], "on")
    (person,) = await make_invitees(tree["commune_a1"], 1)
    await _series(tree, rrule="FREQ=WEEKLY;COUNT=4", local_start=dt.datetime(2026, 3, 19, 8), timezone="Europe/Paris", duration=60)
    feed = await services.person_feed(host, person["id"])
    assert b"BEGIN:VTIMEZONE\r\nTZID:Europe/Paris" in feed.body
    starts = [start for _, start in _occurrences(feed.body)]
    assert [start.astimezone(PARIS).hour for start in starts] == [8, 8, 8, 8]
    assert [start.astimezone(UTC).hour for start in starts] == [7, 7, 6, 6]  # CET, then CEST after 29 March
