"""Badges: the QR code at print size decoded by an independent reader (zxing-cpp) and then
scanned; the attendee's panel; the A4 sheet built by a background job with progress."""

from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image

from core import jobs
from core.plugins import build_plugin_host
from plugins.qr_checkin import badges, services
from plugins.qr_checkin.tables import QrBadgeSheet
from tests.browser import chromium
from tests.factories import SYSTEM
from tests.plugins.qr_checkin.conftest import build_world, device_key, scanner


def decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image) if result.format == zxingcpp.BarcodeFormat.QRCode]


async def test_a_png_badge_at_print_size_decodes_and_scans(world, served):
    conference = world.conference
    badge = await services.credential_for_person(conference["id"], world.people[0]["id"])
    assert len(badge["credential"]) <= 130 and re.fullmatch(r"[0-9A-Z]+", badge["credential"])  # QR alphanumeric mode
    decoded = {}
    for dpi in (300, 150):  # an office laser printer, and a cheap one
        data = badges.png(badge["credential"], size_mm=badges.PRINT_MM, dpi=dpi)
        image = Image.open(io.BytesIO(data))
        assert abs(image.size[0] / dpi * 25.4 / badges.PRINT_MM - 1) < 0.1  # printed at the badge's size (whole pixels per module)
        decoded[dpi] = decode(image)
    assert decoded == {300: [badge["credential"]], 150: [badge["credential"]]}
    key = await device_key(conference_id=conference["id"])
    with served() as base, scanner(base, key) as client:
        answer = client.post(f"/api/v1/qr_checkin/conferences/{conference['id']}/scans", json={"credential": decoded[150][0]})
        assert answer.json()["status"] == "checked_in"


def test_an_svg_badge_printed_by_the_browser_decodes_and_scans(prepared):
    """The SVG as the attendee's page and the sheet embed it, drawn by Chromium at 38 mm."""
    async def setup():
        world = await build_world()
        badge = await services.credential_for_person(world.conference["id"], world.people[1]["id"])
        return world, badge, await device_key(conference_id=world.conference["id"])

    world, badge, key = prepared.run(setup)
    svg = badges.svg(badge["credential"])
    with chromium() as browser:
        context = browser.new_context(device_scale_factor=2)  # a phone photographing the printed page
        page = context.new_page()
        page.set_content(f"<body style='margin:0;background:#fff'>{svg}</body>")
        shot = page.locator("svg").screenshot()
        context.close()
    image = Image.open(io.BytesIO(shot))
    assert 280 <= image.size[0] <= 300  # 38 mm at 96 css px per inch, twice
    assert decode(image) == [badge["credential"]]
    with prepared.serve() as base, scanner(base, key) as client:
        answer = client.post(f"/api/v1/qr_checkin/conferences/{world.conference['id']}/scans", json={"credential": decode(image)[0]})
        assert answer.json()["status"] == "checked_in"
        assert answer.json()["person"]["full_name"] == world.people[1]["full_name"]


async def test_the_attendee_panel_shows_the_badge_only_to_invitees(world, plugins_toml):
    host = build_plugin_host(plugins_toml=plugins_toml)
    hooks = await host.hooks_for_path(world.tree["province"]["path"])
    results = [await result for result in hooks.attendee_panels(person=world.people[0], conference=world.conference)]
    mine = [panel for panels in results for panel in panels if panel["title"] == "Thẻ điểm danh"]
    assert len(mine) == 1
    badge = await services.credential_for_person(world.conference["id"], world.people[0]["id"])
    assert "<svg" in mine[0]["html"] and badge["short_code"] in mine[0]["html"] and world.people[0]["full_name"] in mine[0]["html"]
    assert badge["credential"] not in mine[0]["html"]  # drawn, never printed as text
    outsider = [await result for result in hooks.attendee_panels(person=world.outsider, conference=world.conference)]
    assert not [panel for panels in outsider for panel in panels if panel["title"] == "Thẻ điểm danh"]


async def test_the_badge_sheet_is_a_background_job_with_progress(world, plugins_toml):
    conference = world.conference
    sheet = await badges.request_sheet(SYSTEM, conference_id=conference["id"], venue_id=world.hall["id"])
    assert sheet["status"] == "pending"
    host = build_plugin_host(plugins_toml=plugins_toml)
    ran = await jobs.run_due_jobs(jobs.all_job_handlers(host))
    assert ran
    status = await badges.sheet_status(SYSTEM, conference_id=conference["id"], sheet_id=sheet["id"])
    assert status["status"] == "done" and status["done"] == status["total"] == 2 and status["parts"] == 1
    printed = badges.part_path(sheet["id"], 1).read_text(encoding="utf-8")
    assert printed.count('class="qr-badge"') == 2 and "@page{size:A4" in printed
    for person in world.hall_people:
        code = (await services.credential_for_person(conference["id"], person["id"]))["short_code"]
        assert person["full_name"] in printed and code in printed
    assert world.people[0]["full_name"] not in printed  # another venue's (unassigned) invitee
    assert await QrBadgeSheet.count() == 1
