"""The newcomer's journey of the web issue, exactly, in headless Chromium at 360×640 over the demo
data set (`hoinghi init` + `hoinghi demo`, as `make demo` runs them): the organiser logs in,
creates a monthly briefing series for a demo audience, attaches a numbered document and
publishes; creates an invitee's personal link; the invitee opens it on their phone, accepts and
sees the material; the organiser's conference page shows the answer without a reload.
Screenshots under tests/e2e/artifacts/."""

import re

import pytest

from tests.browser import has_horizontal_overflow, phone_context, screenshot
from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server
from tests.web import clients

pytestmark = [pytest.mark.timeout(300), pytest.mark.sqlite_only]  # browser tests run on one database
PASSWORD = "mat-khau-quan-tri-dai"
NOW = "2030-03-01T09:00:00+07:00"
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")
TITLE = "Hội nghị báo cáo viên định kỳ tháng"
DOCUMENT = "Công văn về việc tăng cường công tác tuyên truyền miệng"


@pytest.fixture
def demo_server(tmp_path):
    with empty_database(tmp_path) as env:
        env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), **env, "HOINGHI_NOW": NOW, "HOINGHI_CONSOLE_CHANNEL": "1"}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        run_cli("demo", env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            yield base


def _create_and_publish_series(page, base: str, document) -> int:
    page.goto(f"{base}/conferences/new")
    assert "/login" in page.url  # a newcomer starts at the sign-in page
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(re.compile(r"/conferences/new$"))
    page.fill("input[name=title]", TITLE)
    page.select_option("select[name=kind]", "periodic_briefing")
    page.fill("input[name=date]", "2030-03-12")  # the second Tuesday of March
    page.fill("input[name=start_time]", "08:00")
    page.fill("input[name=end_time]", "11:00")
    page.select_option("select[name=repeat]", "monthly_weekday")
    page.fill("input[name=repeat_count]", "6")
    page.fill("input[name=venue_name]", "Hội trường Tỉnh ủy")
    page.fill("input[name=venue_address]", "Số 1 đường Lý Thái Tổ")
    page.get_by_label("Báo cáo viên toàn tỉnh").check()
    page.locator("[data-testid=reach]", has_text=re.compile(r"^[1-9][0-9]* người$")).wait_for()
    page.get_by_role("button", name="Tạo hội nghị").click()
    page.wait_for_url(re.compile(r"/conferences/\d+$"))
    conference_id = int(page.url.rsplit("/", 1)[1])

    page.set_input_files("input[data-file]", str(document))
    page.fill("form[data-upload] input[name=title]", DOCUMENT)
    page.select_option("form[data-upload] select[name=kind]", "cong_van")
    page.fill("form[data-upload] input[name=official_number]", "978-CV/TU")
    page.fill("form[data-upload] input[name=official_date]", "2030-02-14")
    page.get_by_role("button", name="Tải lên").click()
    page.locator("[data-testid=materials]", has_text="Số 978-CV/TU ngày 14/02/2030").wait_for()

    page.get_by_role("button", name="Công bố").click()
    page.wait_for_url(re.compile(rf"/conferences/{conference_id}$"))
    assert "Đã công bố hội nghị" in page.inner_text(".flash")
    return conference_id


def test_the_newcomers_journey(browser, demo_server, tmp_path):
    base = demo_server
    document = tmp_path / "978-CV-TU.pdf"
    document.write_bytes(PDF)
    organiser = phone_context(browser)
    attendee = phone_context(browser)
    page = organiser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmation of publish
    try:
        conference_id = _create_and_publish_series(page, base, document)
        invitee = clients.signed_in(base, "admin", PASSWORD).get(
            f"/api/v1/conferences/{conference_id}/invitations", params={"limit": 1}).json()["items"][0]

        # the organiser makes the invitee's personal link (shown once, to send by message)
        page.goto(f"{base}/people/{invitee['person']}")
        page.get_by_role("button", name="Tạo đường dẫn cá nhân để gửi").click()
        link = page.locator("#personal-link [data-copy]").get_attribute("data-copy")
        token_path = re.match(r"^https?://[^/]+(/i/[A-Za-z0-9_-]{32,})$", link)  # on HOINGHI_PUBLIC_URL
        assert token_path, link
        link = base + token_path.group(1)  # this test's server listens on a port of its own

        # the organiser watches the conference page; it listens to the live stream
        with page.expect_response(lambda response: f"/api/v1/conferences/{conference_id}/live" in response.url):
            page.goto(f"{base}/conferences/{conference_id}")
        assert page.inner_text("[data-rsvp=accepted]") == "0"

        phone = attendee.new_page()
        phone.goto(link)
        phone.wait_for_url(re.compile(r"/me$"))  # the token left the address bar
        assert TITLE in phone.inner_text("main") and "12/03/2030 08:00" in phone.inner_text("main")
        # the demo invited this person to other conferences too: open ours from the list
        phone.get_by_role("link", name=TITLE).first.click()
        phone.wait_for_url(re.compile(rf"/me/conferences/{conference_id}$"))
        phone.get_by_role("button", name="Tham dự", exact=True).click()
        phone.locator(".rsvp .badge.accepted").wait_for()
        assert DOCUMENT in phone.inner_text("main")
        href = phone.get_by_role("link", name=DOCUMENT).get_attribute("href")
        opened = phone.request.get(base + href)  # with the attendee's session, as the tap would
        assert opened.status == 200 and opened.body().startswith(b"%PDF")
        assert not has_horizontal_overflow(phone)
        screenshot(phone, "journey-attendee-accepted")

        # no reload: the answer reaches the organiser's page through the stream
        page.locator("[data-rsvp=accepted]", has_text="1").wait_for(timeout=15000)
        screenshot(page, "journey-organiser-sees-rsvp")
    finally:
        organiser.close()
        attendee.close()
