"""The scanner page in headless Chromium with a fake camera showing a printed badge: the page
decodes the camera image, the roll-call records the attendee; a keyboard wedge and typed short
codes work; plain http is detected and explained."""

from __future__ import annotations

import subprocess

from PIL import Image

from core.services import rollcall
from plugins.qr_checkin import badges, services
from tests.browser import chromium
from tests.factories import SYSTEM
from tests.plugins.qr_checkin.conftest import build_world, device_key


def camera_file(tmp_path, credential: str):
    """A y4m video of the badge's QR code on a desk (what Chromium's fake camera plays)."""
    code = Image.open(__import__("io").BytesIO(badges.png(credential, size_mm=38, dpi=200)))
    frame = Image.new("RGB", (640, 480), (235, 235, 230))
    code = code.convert("RGB").resize((360, 360), Image.NEAREST)
    frame.paste(code, (140, 60))
    still = tmp_path / "badge-frame.png"
    frame.save(still)
    video = tmp_path / "badge.y4m"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", str(still), "-frames:v", "15", "-pix_fmt", "yuv420p",
                    str(video)], check=True, timeout=60)
    return video


def test_the_camera_decodes_a_badge_and_the_roll_call_records_it(prepared, tmp_path):
    async def setup():
        world = await build_world()
        badge = await services.credential_for_person(world.conference["id"], world.people[0]["id"])
        typed = await services.credential_for_person(world.conference["id"], world.people[1]["id"])
        return world, badge, typed, await device_key(conference_id=world.conference["id"], label="Cổng A")

    world, badge, typed, key = prepared.run(setup)
    video = camera_file(tmp_path, badge["credential"])
    conference_id = world.conference["id"]
    fake_camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}"]
    with prepared.serve() as base, chromium(extra_args=fake_camera) as browser:
        context = browser.new_context(viewport={"width": 360, "height": 640}, locale="vi-VN")
        page = context.new_page()
        logs = []
        page.on("console", lambda message: logs.append(message.text))
        page.on("request", lambda request: logs.append(request.method + " " + request.url))
        page.goto(f"{base}/qr_checkin/conferences/{conference_id}/scanner#k={key}")
        page.wait_for_selector("#qr-scanner[data-ready=true]", timeout=20000)
        assert "#k=" not in page.url  # the key left the address bar for the browser's storage
        assert page.locator("#qr-insecure").is_hidden()
        result = page.wait_for_selector("#qr-result[data-status=checked_in]", timeout=20000)
        assert world.people[0]["full_name"] in result.inner_text()
        assert "qr-green" in result.get_attribute("class")

        async def recorded():
            call = await rollcall.roll_call(SYSTEM, conference_id)
            return {row["person"]: row["record"] for row in call["rows"] if row["record"]}

        records = prepared.run(recorded)
        assert list(records) == [world.people[0]["id"]] and records[world.people[0]["id"]]["method"] == "staff_scan"

        # the camera keeps seeing the same badge: amber once the pause for the same code is over
        try:
            page.wait_for_selector("#qr-result[data-status=already_checked_in]", timeout=20000)
        except Exception:
            print("\n".join(logs), page.locator("#qr-result").get_attribute("data-status"), page.locator("#qr-result").inner_text())
            raise
        assert "Cổng A" in page.locator("#qr-result").inner_text()

        # a keyboard wedge (or a person) types the short code and Enter (the camera put away first)
        page.evaluate("() => { document.getElementById('qr-video').srcObject.getTracks().forEach((t) => t.stop()); "
                      "document.getElementById('qr-result').hidden = true; }")
        page.fill("#qr-input", typed["short_code"].lower())
        page.press("#qr-input", "Enter")
        page.wait_for_selector(f"#qr-result[data-status=checked_in]:has-text('{world.people[1]['full_name']}')", timeout=20000)
        assert set(prepared.run(recorded)) == {world.people[0]["id"], world.people[1]["id"]}
        context.close()


def test_plain_http_is_explained_in_vietnamese(prepared):
    async def setup():
        world = await build_world()
        return world, await device_key(conference_id=world.conference["id"])

    world, key = prepared.run(setup)
    with prepared.serve() as base, chromium(extra_args=["--host-resolver-rules=MAP hoinghi.test 127.0.0.1"]) as browser:
        port = base.rsplit(":", 1)[1]
        page = browser.new_page(locale="vi-VN")
        page.goto(f"http://hoinghi.test:{port}/qr_checkin/conferences/{world.conference['id']}/scanner#k={key}")
        page.wait_for_selector("#qr-scanner[data-ready=true]", timeout=20000)
        notice = page.locator("#qr-insecure")
        assert notice.is_visible() and "https://" in notice.inner_text() and "không bảo mật" in notice.inner_text()
        # typed codes still work online
        page.fill("#qr-input", "ABCDEFGH")
        page.press("#qr-input", "Enter")
        page.wait_for_selector("#qr-result[data-status=not_invited]", timeout=20000)
