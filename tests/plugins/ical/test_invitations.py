"""Calendar objects attached to messages: one REQUEST or CANCEL per recipient, holding only that
recipient, with a stable UID and the invitation's SEQUENCE; nothing where the plugin is off."""

import datetime as dt
import zoneinfo

import plugins.ical.tables  # noqa: F401  (bound to each test's database by the db fixture)
from core.services import conferences, invitations
from core.tables import Invitation
from tests.core.flows import local
from tests.factories import SYSTEM, make_tree
from tests.plugins.ical.helpers import attachments, events, make_invitees, parse, plugin_host, published_conference, switch

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def _message(conference: dict, person: dict, kind: str = "invitation") -> dict:
    return {"id": 1, "kind": kind, "unit_id": conference["unit"], "conference_id": conference["id"], "person": person["id"],
            "channel": "email", "address": person["email"]}


async def _sequence(conference_id: int, person_id: int) -> int:
    row = await Invitation.select(Invitation.sequence).where(
        (Invitation.conference == conference_id) & (Invitation.person == person_id)).first()
    return row["sequence"]


async def test_a_request_per_recipient_then_updates_and_a_cancel(db, tmp_path):
    host = plugin_host(tmp_path)
    tree = await make_tree()
    await switch(host, tree["province"], "on")
    first, second = await make_invitees(tree["commune_a1"], 2)
    conference = await published_conference(tree)
    path = tree["province"]["path"]

    found = await attachments(host, path, _message(conference, first))
    assert len(found) == 1
    assert found[0]["content_type"].startswith("text/calendar") and "method=REQUEST" in found[0]["content_type"]
    data = found[0]["data"]
    calendar = parse(data)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    (event,) = events(calendar)
    uid = str(event["UID"])
    assert uid.startswith(f"conference-{conference['id']}@")
    attendees = event.get("ATTENDEE")
    assert not isinstance(attendees, list), "one ATTENDEE only: the recipient"
    assert str(attendees) == "mailto:nguoi0@example.vn" and attendees.params["RSVP"] == "FALSE"
    assert attendees.params["PARTSTAT"] == "NEEDS-ACTION" and attendees.params["CN"] == "Người 0"
    assert b"nguoi1@example.vn" not in data  # the audience list never leaks
    assert str(event["ORGANIZER"]).startswith("mailto:") and event["ORGANIZER"].params["CN"] == "Tỉnh ủy Bắc Ninh"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == local(2026, 3, 10, 8) and event.decoded("DTSTART").tzinfo.key == "Asia/Ho_Chi_Minh"
    assert "Hội trường Tỉnh ủy" in str(event["LOCATION"])
    description = str(event["DESCRIPTION"])
    assert "Thông tin thời sự" in description and "Trần Văn Báo" in description and "/me" in description
    assert str(event["URL"]).endswith(f"/me/conferences/{conference['id']}")  # the conference on the attendee page
    assert [alarm.decoded("TRIGGER") for alarm in event.walk("VALARM")] == [dt.timedelta(minutes=-60)]
    assert b"/i/" not in data  # no login link, ever

    # a change of title is not significant: same SEQUENCE; a change of time is
    await conferences.update_conference(SYSTEM, conference["id"], title="Hội nghị báo cáo viên tháng 3 (bổ sung)")
    event = events(parse((await attachments(host, path, _message(conference, first, "change_notice")))[0]["data"]))[0]
    assert int(event["SEQUENCE"]) == 0 and "bổ sung" in str(event["SUMMARY"])
    await conferences.update_conference(SYSTEM, conference["id"], starts_at=local(2026, 3, 11, 14), ends_at=local(2026, 3, 11, 17))
    event = events(parse((await attachments(host, path, _message(conference, first, "change_notice")))[0]["data"]))[0]
    assert int(event["SEQUENCE"]) == 1 == await _sequence(conference["id"], first["id"])
    assert event.decoded("DTSTART") == local(2026, 3, 11, 14) and str(event["UID"]) == uid

    # the second invitee is withdrawn: a CANCEL for them, with the same UID and a higher SEQUENCE
    invitation = await Invitation.select(Invitation.id).where(
        (Invitation.conference == conference["id"]) & (Invitation.person == second["id"])).first()
    await invitations.withdraw_invitation(SYSTEM, invitation["id"])
    withdrawn = (await attachments(host, path, _message(conference, second, "change_notice")))[0]
    assert "method=CANCEL" in withdrawn["content_type"]
    calendar = parse(withdrawn["data"])
    assert str(calendar["METHOD"]) == "CANCEL"
    (event,) = events(calendar)
    assert str(event["UID"]) == uid and str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 2

    await conferences.cancel_conference(SYSTEM, conference["id"], reason="Trùng lịch")
    cancelled = (await attachments(host, path, _message(conference, first, "cancellation")))[0]
    (event,) = events(parse(cancelled["data"]))
    assert str(event["UID"]) == uid and str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 2 == await _sequence(conference["id"], first["id"])


async def test_times_in_a_zone_with_daylight_saving(db, tmp_path):
    host = plugin_host(tmp_path)
    tree = await make_tree()
    await switch(host, tree["province"], "on")
    (person,) = await make_invitees(tree["commune_a1"], 1)
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    # the night the clocks go forward: 09:00 CEST is 07:00 UTC
    start = dt.datetime(2026, 3, 29, 9, tzinfo=berlin)
    conference = await published_conference(tree, start=start, timezone="Europe/Berlin")
    data = (await attachments(host, tree["province"]["path"], _message(conference, person)))[0]["data"]
    calendar = parse(data)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    (event,) = events(calendar)
    assert b"DTSTART;TZID=Europe/Berlin:20260329T090000" in data
    assert event.decoded("DTSTART").astimezone(dt.timezone.utc) == dt.datetime(2026, 3, 29, 7, tzinfo=dt.timezone.utc)


async def test_other_kinds_and_a_unit_without_the_plugin_get_nothing(db, tmp_path):
    host = plugin_host(tmp_path)
    tree = await make_tree()
    (person,) = await make_invitees(tree["commune_a1"], 1)
    conference = await published_conference(tree)
    path = tree["province"]["path"]
    assert await attachments(host, path, _message(conference, person)) == []  # off by default
    await switch(host, tree["province"], "on")
    assert len(await attachments(host, path, _message(conference, person))) == 1
    assert await attachments(host, path, _message(conference, person, "reminder")) == []
    await switch(host, tree["province"], "off")
    assert await attachments(host, path, _message(conference, person)) == []


async def test_unit_settings_choose_the_organiser_and_the_alarms(db, tmp_path):
    from core.plugins import set_plugin_setting

    host = plugin_host(tmp_path)
    tree = await make_tree()
    await switch(host, tree["province"], "on")
    (person,) = await make_invitees(tree["commune_a1"], 1)
    conference = await published_conference(tree)
    await set_plugin_setting(host, SYSTEM, unit_id=tree["province"]["id"], plugin="ical", key="organizer_email",
                             value="bantuyengiao@bacninh.vn")
    await set_plugin_setting(host, SYSTEM, unit_id=tree["province"]["id"], plugin="ical", key="alarm_minutes", value=[1440, 30])
    (event,) = events(parse((await attachments(host, tree["province"]["path"], _message(conference, person)))[0]["data"]))
    assert str(event["ORGANIZER"]) == "mailto:bantuyengiao@bacninh.vn"
    assert sorted(alarm.decoded("TRIGGER") for alarm in event.walk("VALARM")) == [dt.timedelta(days=-1), dt.timedelta(minutes=-30)]
