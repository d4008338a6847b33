"""The plugin's pages over real HTTP: scanner keys issued from the staff page (the link carries
the key in its fragment), the badge sheet's progress page and print file, the attendee's badges
page and the service workers."""

from __future__ import annotations

import re

import httpx

from core import jobs
from core.plugins import build_plugin_host
from core.services import tokens
from tests.factories import SYSTEM, make_actor
from tests.plugins.qr_checkin.conftest import scanner
from tests.web.clients import browser, signed_in

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def test_staff_issue_a_scanner_key_from_the_devices_page(world, served):
    await make_actor("checkin_staff", world.tree["district_a"], username="tienDu")  # a venue grant: Tiên Du hosts the branch venue
    conference_id = world.conference["id"]
    with served() as base:
        staff = signed_in(base, "tienDu", "mat-khau-dai-du")
        page = staff.get(f"/qr_checkin/conferences/{conference_id}/devices")
        assert page.status_code == 200 and "Toàn hội nghị" not in page.text  # a venue grant issues venue keys only
        issued = staff.post(f"/qr_checkin/conferences/{conference_id}/devices",
                            data={"_csrf_token": CSRF.search(page.text).group(1), "label": "Cổng Tiên Du", "venue_id": world.branch["id"]})
        assert issued.status_code == 200, issued.text
        link = re.search(r'id="qr-issued-link" href="([^"]+)"', issued.text).group(1)
        assert link.startswith(f"/qr_checkin/conferences/{conference_id}/scanner#k=")
        key = link.split("#k=", 1)[1]
        with scanner(base, key) as device:
            info = device.get("/api/v1/qr_checkin/device").json()
            assert info["venue"]["id"] == world.branch["id"] and info["device"]["label"] == "Cổng Tiên Du"
        # without the CSRF token the form is refused
        assert staff.post(f"/qr_checkin/conferences/{conference_id}/devices", data={"label": "x"},
                          headers={"x-csrftoken": ""}).status_code == 403
        assert "Cổng Tiên Du" in staff.get(f"/qr_checkin/conferences/{conference_id}/devices").text
        anonymous = httpx.get(f"{base}/qr_checkin/conferences/{conference_id}/devices", follow_redirects=False)
        assert anonymous.status_code in (302, 303, 401)
        staff.close()


async def test_the_badge_sheet_page_shows_progress_then_the_print_file(world, served, plugins_toml, db, tmp_path, monkeypatch):
    await make_actor("organiser", world.tree["province"], username="tochuc")
    conference_id = world.conference["id"]
    with served() as base:
        staff = signed_in(base, "tochuc", "mat-khau-dai-du")
        form = staff.get(f"/qr_checkin/conferences/{conference_id}/badges")
        started = staff.post(f"/qr_checkin/conferences/{conference_id}/badges", data={"_csrf_token": CSRF.search(form.text).group(1),
                                                                                       "venue_id": ""}, follow_redirects=False)
        assert started.status_code == 303
        sheet_url = started.headers["location"]
        pending = staff.get(sheet_url)
        assert "<progress" in pending.text and "hx-trigger" in pending.text
        if db.engine_type != "postgres":  # the worker shares the server's var/ (where print files go)
            from core.config import reset_settings

            monkeypatch.setenv("HOINGHI_VAR_DIR", str(tmp_path))
            reset_settings()
        await jobs.run_due_jobs(jobs.all_job_handlers(build_plugin_host(plugins_toml=plugins_toml)))  # the worker's turn
        done = staff.get(sheet_url, headers={"HX-Request": "true"})
        assert "Đã xong: 7 thẻ." in done.text and "hx-trigger" not in done.text
        printed = staff.get(sheet_url + "/parts/1")
        assert printed.status_code == 200 and printed.text.count('class="qr-badge"') == 7
        assert staff.get(sheet_url + "/parts/2").status_code == 404
        assert httpx.get(f"{base}{sheet_url}/parts/1").status_code in (401, 404)
        staff.close()


async def test_the_attendee_sees_their_badges_offline_ready(world, served):
    person = world.people[0]
    _row, link = await tokens.issue_secret_token(SYSTEM, purpose="login_link", subject_type="person", subject_id=person["id"])
    with served() as base:
        attendee = browser(base)
        entered = attendee.get(f"/i/{link}")
        page = attendee.get("/me/qr_checkin/badges")
        assert page.status_code == 200, (entered.status_code, entered.text[:300], page.text[:500])
        assert page.status_code == 200 and "<svg" in page.text and person["full_name"] in page.text
        assert "/static/qr_checkin/badges.js" in page.text
        worker = attendee.get("/me/qr_checkin/sw.js")
        assert worker.status_code == 200 and worker.headers["service-worker-allowed"] == "/me/qr_checkin/"
        assert "javascript" in worker.headers["content-type"]
        attendee.close()
        assert httpx.get(f"{base}/me/qr_checkin/badges").status_code == 404  # no session, no page
        scanner_page = httpx.get(f"{base}/qr_checkin/conferences/{world.conference['id']}/scanner")
        assert scanner_page.status_code == 200 and 'id="qr-strings"' in scanner_page.text and "<script>" not in scanner_page.text
