"""Feeds and downloads over real HTTP, against ``hoinghi serve`` on the test's own database:
conditional GETs, refresh hints, only units with the plugin on, declined conferences shown
cancelled or left out, 404 where the plugin is off, the attendee's panel and feed rotation."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

import httpx
import pytest

import plugins.ical.tables  # noqa: F401
from core.plugins import set_plugin_setting
from core.services import audiences, conferences, invitations, tokens
from core.tables import Invitation
from plugins.ical import panel
from tests.conftest import PROJECT_ROOT
from tests.core.flows import local
from tests.factories import SYSTEM, make_tree
from tests.plugins.ical.helpers import events, make_invitees, parse, plugin_host, published_conference, switch
from tests.servers import running_server
from tests.web.clients import browser


@pytest.fixture
def served(db, tmp_path):
    """The app served over the test's own database (no worker: the test drives the jobs)."""
    toml = tmp_path / "served-plugins.toml"
    toml.write_text('[plugins.ical]\ndefault = "off"\n')
    env = {"HOINGHI_PLUGINS_TOML": str(toml), "HOINGHI_NO_WORKER": "1"}
    if db.engine_type == "postgres":
        env["DATABASE_URL"] = db.config["dsn"]
    else:
        env.update({"HOINGHI_VAR_DIR": str(tmp_path), "DATABASE_URL": ""})
    with running_server(env, cwd=str(PROJECT_ROOT)) as base_url:
        yield base_url


async def _conference_of(unit: dict, tree: dict, *, title: str, start: dt.datetime, is_public: bool = False) -> dict:
    audience = await audiences.create_audience(SYSTEM, unit_id=unit["id"], name=f"Báo cáo viên – {title}",
                                               rules={"categories": ["briefer"], "unit_ids": [unit["id"]]})
    conference = await conferences.create_conference(
        SYSTEM, unit_id=unit["id"], title=title, kind="periodic_briefing", format="in_person", starts_at=start,
        ends_at=start + dt.timedelta(hours=2), venues=[{"name": "Hội trường", "address": "Số 5 Nguyễn Đăng Đạo"}],
        audience_ids=[audience["id"]], is_public=is_public)
    return await conferences.publish_conference(SYSTEM, conference["id"])


async def _feed_path(person_id: int) -> str:
    return f"/ical/{await tokens.derived_token('calendar_feed', 'person', person_id)}.ics"


def _summaries(body: bytes) -> dict[str, str]:
    return {str(event["SUMMARY"]): str(event["STATUS"]) for event in events(parse(body))}


async def test_a_personal_feed_with_conditional_gets_and_refresh_hints(db, tmp_path, served):
    host = plugin_host(tmp_path)
    tree = await make_tree()
    await switch(host, tree["district_a"], "on")  # the district and its communes, not the province
    (person,) = await make_invitees(tree["commune_a1"], 1)
    district = await _conference_of(tree["district_a"], tree, title="Hội nghị huyện", start=local(2026, 3, 10, 8))
    await _conference_of(tree["province"], tree, title="Hội nghị tỉnh", start=local(2026, 3, 12, 8))
    path = await _feed_path(person["id"])

    response = httpx.get(served + path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    body = response.content
    assert _summaries(body) == {"Hội nghị huyện": "CONFIRMED"}  # the province has the plugin off
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body and b"X-PUBLISHED-TTL:PT1H\r\n" in body
    calendar = parse(body)
    assert str(calendar["METHOD"]) == "PUBLISH" and "ATTENDEE" not in events(calendar)[0]
    etag, modified = response.headers["etag"], response.headers["last-modified"]

    again = httpx.get(served + path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert httpx.get(served + path, headers={"If-Modified-Since": modified}).status_code == 304
    earlier = format_datetime(response_date(modified) - dt.timedelta(hours=1), usegmt=True)
    assert httpx.get(served + path, headers={"If-Modified-Since": earlier}).status_code == 200

    # a revision changes the feed: the old ETag no longer matches
    await conferences.update_conference(SYSTEM, district["id"], starts_at=local(2026, 3, 11, 8), ends_at=local(2026, 3, 11, 10))
    changed = httpx.get(served + path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    (event,) = events(parse(changed.content))
    assert event.decoded("DTSTART") == local(2026, 3, 11, 8) and int(event["SEQUENCE"]) == 1

    # declined: shown cancelled by default, left out when the unit says so
    invitation = await Invitation.select(Invitation.id).where(
        (Invitation.conference == district["id"]) & (Invitation.person == person["id"])).first()
    await invitations.respond(invitation["id"], answer="declined")
    assert _summaries(httpx.get(served + path).content) == {"Hội nghị huyện": "CANCELLED"}
    await set_plugin_setting(host, SYSTEM, unit_id=tree["district_a"]["id"], plugin="ical", key="declined_in_feed", value="hidden")
    assert _summaries(httpx.get(served + path).content) == {}

    # switched off for the person's unit: the feed is gone, as if it never existed
    await switch(host, tree["district_a"], "off")
    assert httpx.get(served + path).status_code == 404
    assert httpx.get(served + "/ical/not-a-token.ics").status_code == 404


def response_date(value: str) -> dt.datetime:
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(value)


async def test_the_unit_public_feed_and_a_conference_download(db, tmp_path, served):
    host = plugin_host(tmp_path)
    tree = await make_tree()
    await make_invitees(tree["commune_a1"], 1)
    public = await _conference_of(tree["province"], tree, title="Hội nghị công khai", start=local(2026, 4, 1, 8), is_public=True)
    internal = await _conference_of(tree["province"], tree, title="Hội nghị nội bộ", start=local(2026, 4, 2, 8))
    unit_feed = f"/ical/units/{tree['province']['id']}/cong-khai.ics"
    public_file = f"/ical/conferences/{public['id']}/hoi-nghi.ics"
    assert httpx.get(served + unit_feed).status_code == 404  # the plugin is off: no feed
    assert httpx.get(served + public_file).status_code == 404

    await switch(host, tree["province"], "on")
    response = httpx.get(served + unit_feed)
    assert response.status_code == 200 and _summaries(response.content) == {"Hội nghị công khai": "CONFIRMED"}
    assert httpx.get(served + unit_feed, headers={"If-None-Match": response.headers["etag"]}).status_code == 304

    download = httpx.get(served + public_file)
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    (event,) = events(parse(download.content))
    assert str(event["UID"]) == f"conference-{public['id']}@127.0.0.1"  # the same UID as mail and feed
    # an internal conference is for its invitees only
    assert httpx.get(served + f"/ical/conferences/{internal['id']}/hoi-nghi.ics").status_code == 404

    await conferences.cancel_conference(SYSTEM, public["id"], reason="Hoãn")
    assert _summaries(httpx.get(served + unit_feed).content) == {"Hội nghị công khai": "CANCELLED"}


async def test_the_add_to_calendar_panel_and_rotating_the_feed(db, tmp_path, served):
    host = plugin_host(tmp_path)
    tree = await make_tree()
    await switch(host, tree["province"], "on")
    (person,) = await make_invitees(tree["commune_a1"], 1)
    conference = await published_conference(tree)
    old_path = await _feed_path(person["id"])

    # the hook's output, as the attendee's page receives it
    hooks = await host.hooks_for_path(tree["province"]["path"])
    (panels,) = [await result for result in hooks.attendee_panels(person=person, conference=conference)]
    (found,) = panels
    assert found["title"] == "Thêm vào lịch"
    webcal = f"webcal://127.0.0.1:8000{old_path}"
    assert f'href="{webcal}"' in found["html"] and f'value="http://127.0.0.1:8000{old_path}"' in found["html"]
    assert str(panel.qr_svg(webcal)) in found["html"] and str(panel.qr_svg(webcal + "x")) not in found["html"]
    assert f"/ical/conferences/{conference['id']}/hoi-nghi.ics" in found["html"]

    # the attendee's own page: open the personal link, see the panel, rotate the address
    _, login = await tokens.issue_secret_token(SYSTEM, purpose="login_link", subject_type="person", subject_id=person["id"])
    client = browser(served, follow_redirects=False)
    try:
        assert client.get("/me/ical").status_code == 404  # nobody signed in
        assert client.get(f"/i/{login}").status_code == 303
        page = client.get("/me/ical")
        assert page.status_code == 200 and old_path in page.text and "<svg" in page.text
        download = client.get(f"/ical/conferences/{conference['id']}/hoi-nghi.ics")
        assert download.status_code == 200  # an invitee may download an internal conference
        assert httpx.post(served + "/me/ical/feed/rotate", cookies=client.cookies).status_code in (401, 403)  # no CSRF token
        rotated = client.post("/me/ical/feed/rotate")
        assert rotated.status_code == 303 and rotated.headers["location"] == "/me/ical"
        new_path = await _feed_path(person["id"])
        assert new_path != old_path and new_path in client.get("/me/ical").text
    finally:
        client.close()
    assert httpx.get(served + old_path).status_code == 404
    assert httpx.get(served + new_path).status_code == 200


async def test_unit_settings_reach_the_feed(db, tmp_path):
    host = plugin_host(tmp_path)
    tree = await make_tree()
    await switch(host, tree["province"], "on")
    (person,) = await make_invitees(tree["commune_a1"], 1)
    await published_conference(tree)
    from plugins.ical import services

    first = await services.person_feed(host, person["id"])
    await set_plugin_setting(host, SYSTEM, unit_id=tree["province"]["id"], plugin="ical", key="alarm_minutes", value=[15])
    second = await services.person_feed(host, person["id"])
    assert second.etag != first.etag
    (event,) = events(parse(second.body))
    assert [alarm.decoded("TRIGGER") for alarm in event.walk("VALARM")] == [dt.timedelta(minutes=-15)]
    assert (await services.person_feed(host, person["id"], if_none_match=second.etag)).body is None
