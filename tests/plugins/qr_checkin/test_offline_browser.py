"""Offline in headless Chromium: the server process is stopped (Playwright's offline switch does
not cover service-worker requests), three badges are scanned with a keyboard wedge, the page is
even reloaded from its service worker; the server restarts and each scan lands exactly once with
its scan time, although the device's clock is ten minutes fast."""

from __future__ import annotations

import datetime as dt
import time

from core.tables import Attendance
from plugins.qr_checkin import services
from plugins.qr_checkin.tables import QrScan
from tests.browser import chromium
from tests.plugins.qr_checkin.conftest import build_world, device_key
from tests.servers import free_port

DEVICE_CLOCK_ERROR = dt.timedelta(minutes=10)


def test_three_scans_offline_land_once_with_their_time(prepared):
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=5)

    async def setup():
        world = await build_world(start=started)
        codes = [await services.credential_for_person(world.conference["id"], p["id"]) for p in world.people]
        return world, codes, await device_key(conference_id=world.conference["id"], label="Máy ngoại tuyến")

    world, codes, key = prepared.run(setup)
    conference_id = world.conference["id"]
    port = free_port()
    scanned_at = []
    with chromium() as browser:
        context = browser.new_context(locale="vi-VN")
        context.clock.install(time=dt.datetime.now(dt.timezone.utc) + DEVICE_CLOCK_ERROR)
        page = context.new_page()
        with prepared.serve(now=None, port=port) as base:
            page.goto(f"{base}/qr_checkin/conferences/{conference_id}/scanner#k={key}")
            page.wait_for_selector("#qr-scanner[data-ready=true]", timeout=20000)
            page.wait_for_selector("#qr-roster:has-text('7 người')", timeout=20000)  # the roster of all 7 invitees is kept
            page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
            offset = page.evaluate("() => document.getElementById('qr-scanner').dataset.ready")
            assert offset == "true"
        # the server is gone: the page still reloads (service worker) and works from its roster
        page.reload()
        page.wait_for_selector("#qr-scanner[data-ready=true]", timeout=20000)
        assert "ngoại tuyến" in page.locator("#qr-device").inner_text()
        for code in codes:
            page.fill("#qr-input", code["credential"])  # what a keyboard-wedge scanner types
            scanned_at.append(dt.datetime.now(dt.timezone.utc))
            page.press("#qr-input", "Enter")
            page.wait_for_selector("#qr-result[data-status=checked_in]:has-text('ngoại tuyến')", timeout=10000)
            page.evaluate("() => { document.getElementById('qr-result').hidden = true; document.getElementById('qr-result').dataset.status = ''; }")
            time.sleep(1.2)  # real seconds between people at the door
        page.wait_for_selector("#qr-scanner[data-queued='3']", timeout=10000)
        with prepared.serve(now=None, port=port):
            page.evaluate("() => window.dispatchEvent(new Event('online'))")
            page.wait_for_selector("#qr-scanner[data-queued='0']", timeout=30000)
            page.evaluate("() => window.dispatchEvent(new Event('online'))")  # a second sync changes nothing
            time.sleep(1)
        context.close()

    async def landed():
        records = await Attendance.select().where(Attendance.conference == conference_id)
        scans = await QrScan.select().where((QrScan.conference == conference_id) & (QrScan.queued == True))  # noqa: E712
        return records, scans

    records, scans = prepared.run(landed)
    by_person = {row["person"]: row for row in records}
    assert len(records) == 3 and len(scans) == 3
    for person, moment in zip(world.people, scanned_at):
        recorded = by_person[person["id"]]["recorded_at"]
        assert abs((recorded - moment).total_seconds()) < 3, (recorded, moment)  # the true time, not the device's
        assert by_person[person["id"]]["method"] == "staff_scan"
    assert sorted(r["recorded_at"] for r in records) == [by_person[p["id"]]["recorded_at"] for p in world.people]
