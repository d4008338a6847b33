"""Self check-in over real HTTP: the venue screen's rotating code, the personal-link session,
phone and one-time code (same answer for an uninvited number), the flag for a device checking in
several people, and "staff scans only"."""

from __future__ import annotations

import datetime as dt
import re

import httpx

from core import clock
from core.services import people, tokens
from core.services import invitations
from core.tables import Attendance, Message
from plugins.qr_checkin import selfcheck
from tests.factories import SYSTEM, make_actor
from tests.plugins.qr_checkin.conftest import NOW
from tests.web.clients import browser, signed_in

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def _post(client: httpx.Client, url: str, page: str, **fields) -> httpx.Response:
    return client.post(url, data={"_csrf_token": CSRF.search(page).group(1), **fields})


async def _phone_invitee(world, phone: str, name: str) -> dict:
    person = await people.create_person(SYSTEM, unit_id=world.tree["commune_a2"]["id"], full_name=name, phone=phone,
                                        categories=["cadre"])
    await invitations.invite_person(SYSTEM, world.conference["id"], person["id"], venue_id=world.hall["id"])
    return person


async def test_the_screen_code_rotates_and_a_signed_in_attendee_checks_in(world, served):
    hall = world.hall
    staff = await make_actor("checkin_staff", world.tree["province"], username="canbo")
    person = world.hall_people[0]
    _row, link = await tokens.issue_secret_token(SYSTEM, purpose="login_link", subject_type="person", subject_id=person["id"])
    with served() as base:
        screen = signed_in(base, "canbo", "mat-khau-dai-du")
        page = screen.get(f"/qr_checkin/venues/{hall['id']}/screen")
        assert page.status_code == 200 and "30 giây" in page.text and "hx-get" in page.text
        fragment = screen.get(f"/qr_checkin/venues/{hall['id']}/screen/code").text
        url = re.search(r'data-url="([^"]+)"', fragment).group(1)
        assert url == f"{base}/qr_checkin/venues/{hall['id']}/self/{selfcheck.screen_code(hall['id'], NOW)}" and "<svg" in fragment
        # the previous window is still accepted, the one before is not (a photo sent home)
        previous = selfcheck.screen_code(hall["id"], NOW - dt.timedelta(seconds=30))
        stale = selfcheck.screen_code(hall["id"], NOW - dt.timedelta(seconds=61))
        other_venue = selfcheck.screen_code(world.branch["id"], NOW)
        assert httpx.get(f"{base}/qr_checkin/venues/{hall['id']}/self/{stale}").status_code == 410
        assert httpx.get(f"{base}/qr_checkin/venues/{hall['id']}/self/{other_venue.replace('.', '.X')}").status_code == 410

        attendee = browser(base, follow_redirects=True)
        assert attendee.get(f"/i/{link}").status_code in (200, 404)  # /me belongs to another area; the session is what counts
        opened = attendee.get(f"/qr_checkin/venues/{hall['id']}/self/{previous}")
        assert opened.status_code == 200 and "Điểm danh" in opened.text
        done = _post(attendee, f"/qr_checkin/venues/{hall['id']}/self", opened.text)
        assert done.status_code == 200 and 'data-status="checked_in"' in done.text and person["full_name"] in done.text
        # the pass was used: posting again without scanning asks for the screen again
        assert _post(attendee, f"/qr_checkin/venues/{hall['id']}/self", opened.text).status_code == 410
        attendee.close()
        screen.close()
    record = await Attendance.select().where(Attendance.person == person["id"]).first()
    assert record["method"] == "self_scan" and record["venue"] == hall["id"] and staff is not None


async def test_phone_and_one_time_code_with_the_same_answer_for_strangers(world, served):
    hall = world.hall
    first = await _phone_invitee(world, "0912345678", "Nguyễn Văn Gọi")
    second = await _phone_invitee(world, "0987654321", "Trần Thị Nhắn")
    code_url = f"/qr_checkin/venues/{hall['id']}/self/{selfcheck.screen_code(hall['id'], NOW)}"
    with served(extra_env={"HOINGHI_CONSOLE_CHANNEL": "1"}) as base:  # the core's development channel sends the codes
        phone = browser(base)
        opened = phone.get(code_url)
        assert 'name="phone"' in opened.text
        stranger = _post(phone, f"/qr_checkin/venues/{hall['id']}/self/phone", opened.text, phone="0900000001")
        invited = _post(phone, f"/qr_checkin/venues/{hall['id']}/self/phone", opened.text, phone="0912 345 678")
        assert stranger.status_code == invited.status_code == 200
        assert _normalised(stranger.text) == _normalised(invited.text)  # nothing tells whether the number is invited
        sent = await Message.select().where(Message.kind == "one_time_code")
        assert len(sent) == 1 and sent[0]["person"] == first["id"]
        code = re.search(r"\b(\d{6})\b", sent[0]["body"]).group(1)
        wrong = _post(phone, f"/qr_checkin/venues/{hall['id']}/self/verify", invited.text, code="000000" if code != "000000" else "111111")
        assert wrong.status_code == 422
        done = _post(phone, f"/qr_checkin/venues/{hall['id']}/self/verify", invited.text, code=code)
        assert 'data-status="checked_in"' in done.text and "Nguyễn Văn Gọi" in done.text

        # the same phone now checks in somebody else: recorded, and flagged for staff
        opened = phone.get(code_url)
        again = _post(phone, f"/qr_checkin/venues/{hall['id']}/self/phone", opened.text, phone="0987654321")
        # the device cap (3 codes an hour) is reached at the fourth request
        code = re.search(r"\b(\d{6})\b", (await Message.select().where(Message.person == second["id"]).first())["body"]).group(1)
        done = _post(phone, f"/qr_checkin/venues/{hall['id']}/self/verify", again.text, code=code)
        assert 'data-status="checked_in"' in done.text
        capped = _post(phone, f"/qr_checkin/venues/{hall['id']}/self/phone", phone.get(code_url).text, phone="0987654321")
        assert capped.status_code == 429
        phone.close()
    flagged = await selfcheck.flagged(SYSTEM, world.conference["id"])
    assert [row["person"] for row in flagged] == [second["id"]]
    methods = {r["person"]: r["method"] for r in await Attendance.select()}
    assert methods == {first["id"]: "self_scan", second["id"]: "self_scan"}


def _normalised(html: str) -> str:
    """The page without its CSRF tokens, which are masked anew in every answer."""
    return re.sub(r'(name="_csrf_token" value|name="csrf-token" content)="[^"]+"', "", html)


async def test_staff_scans_only_turns_self_check_in_off(world, served):
    hall = world.hall
    await selfcheck.set_staff_scans_only(SYSTEM, world.conference["id"], True)
    person = world.hall_people[1]
    _row, link = await tokens.issue_secret_token(SYSTEM, purpose="login_link", subject_type="person", subject_id=person["id"])
    with served() as base:
        attendee = browser(base, follow_redirects=True)
        attendee.get(f"/i/{link}")
        opened = attendee.get(f"/qr_checkin/venues/{hall['id']}/self/{selfcheck.screen_code(hall['id'], NOW)}")
        assert 'data-status="staff_only"' in opened.text
        attendee.close()
    assert await Attendance.count() == 0
    assert clock.now() == NOW
