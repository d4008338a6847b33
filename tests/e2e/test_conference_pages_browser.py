"""The organiser's journey in headless Chromium on a phone-sized screen, over the demo data set:
log in, create a monthly briefing series for the demo's briefers, attach a numbered document
with the upload control, publish; then the roll-call page updates by itself when another client
records attendance through the API. Screenshots under tests/e2e/artifacts/."""

import re

import pytest

from tests.browser import has_horizontal_overflow, phone_context, screenshot
from tests.e2e.conftest import PASSWORD  # the demo_server fixture's admin password
from tests.web import clients

pytestmark = [pytest.mark.timeout(300), pytest.mark.sqlite_only]  # browser tests run on one database
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")


def test_monthly_series_with_a_numbered_document_published_then_a_live_roll_call(browser, demo_server, tmp_path):
    base = demo_server
    document = tmp_path / "978-CV-TU.pdf"
    document.write_bytes(PDF)
    context = phone_context(browser)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of publish
    try:
        page.goto(f"{base}/conferences/new")
        assert "/login" in page.url
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button.primary")
        page.wait_for_url(re.compile(r"/conferences/new$"))
        # a long audience name ("Tuyên truyền viên và cộng tác viên dư luận xã hội") wraps; its box keeps its size
        boxes = page.eval_on_selector_all("label.check input[type=checkbox]", "boxes => boxes.map(box => box.offsetWidth)")
        assert len(boxes) >= 2 and min(boxes) == max(boxes) >= 12, boxes

        page.fill("input[name=title]", "Hội nghị báo cáo viên định kỳ tháng")
        page.select_option("select[name=kind]", "periodic_briefing")
        page.fill("input[name=date]", "2030-03-12")  # the second Tuesday of March
        page.fill("input[name=start_time]", "08:00")
        page.fill("input[name=end_time]", "11:00")
        page.select_option("select[name=repeat]", "monthly_weekday")
        page.fill("input[name=repeat_count]", "6")
        page.fill("input[name=venue_name]", "Hội trường Tỉnh ủy")
        page.fill("input[name=venue_address]", "Số 1 đường Lý Thái Tổ")
        assert page.inner_text("[data-testid=reach]") == "0 người"
        page.get_by_label("Báo cáo viên toàn tỉnh").check()
        # the live count, fetched by htmx as the box is ticked
        reach = page.locator("[data-testid=reach]", has_text=re.compile(r"^[1-9][0-9]* người$"))
        reach.wait_for()
        invited = int(re.match(r"(\d+) người", reach.inner_text()).group(1))
        assert invited > 20
        assert not has_horizontal_overflow(page)
        screenshot(page, "conference-new-series")
        page.get_by_role("button", name="Tạo hội nghị").click()

        page.wait_for_url(re.compile(r"/conferences/\d+$"))
        conference_id = int(page.url.rsplit("/", 1)[1])
        assert "6 kỳ đã lên lịch" in page.inner_text(".flash")
        assert "12/03/2030 08:00" in page.inner_text(".conf-head")
        page.locator("#reach [data-testid=reach]", has_text=f"{invited} người").wait_for()  # counted once the editor shows

        page.set_input_files("input[data-file]", str(document))
        page.fill("form[data-upload] input[name=title]", "")  # a title cleared is refused in words beside it
        page.get_by_role("button", name="Tải lên").click()
        page.locator('form[data-upload] [data-error-for="title"]', has_text="Tên tài liệu không được để trống.").wait_for()
        page.fill("form[data-upload] input[name=title]", "Công văn về việc tăng cường công tác tuyên truyền miệng")
        page.select_option("form[data-upload] select[name=kind]", "cong_van")
        page.fill("form[data-upload] input[name=official_number]", "978-CV/TU")
        page.fill("form[data-upload] input[name=official_date]", "2030-02-14")
        page.get_by_role("button", name="Tải lên").click()
        page.locator("[data-testid=materials]", has_text="Số 978-CV/TU ngày 14/02/2030").wait_for()
        assert "Đã tải lên tài liệu." in page.inner_text("[data-upload-status]")

        refused = page.locator("form[data-upload]")
        # dropped on the zone this time, as a file dragged from the desktop
        page.evaluate("""() => {
            const transfer = new DataTransfer();
            transfer.items.add(new File(["%PDF-1.4\\n%%EOF\\n"], "ban-sao.pdf", {type: "application/pdf"}));
            document.querySelector("[data-dropzone]").dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true}));
        }""")
        assert "ban-sao.pdf" in page.inner_text("[data-file-name]")
        page.fill("form[data-upload] input[name=title]", "Bản sao")
        page.fill("form[data-upload] input[name=official_number]", "số bảy")
        page.get_by_role("button", name="Tải lên").click()
        refused.locator("[data-error-for=official_number]", has_text="Số hiệu văn bản không hợp lệ").wait_for()

        page.get_by_role("button", name="Công bố").click()
        page.wait_for_url(re.compile(rf"/conferences/{conference_id}$"))
        assert "Đã công bố hội nghị" in page.inner_text(".flash")
        assert page.inner_text(f"[data-rsvp=pending]") == str(invited)
        assert not has_horizontal_overflow(page)
        screenshot(page, "conference-published")

        # the stream's first event (a snapshot) makes the board refresh once: the page is listening
        with page.expect_response(lambda response: "/rollcall/board" in response.url):
            page.goto(f"{base}/conferences/{conference_id}/rollcall")
        other = clients.signed_in(base, "admin", PASSWORD)
        invitees = other.get(f"/api/v1/conferences/{conference_id}/invitations", params={"limit": 3}).json()["items"]
        person = invitees[1]
        row = page.locator(f"tr[data-person='{person['person']}']")
        assert row.get_attribute("data-status") == "not_recorded"
        recorded = other.post(f"/api/v1/conferences/{conference_id}/rollcall", json={"person_id": person["person"]})
        assert recorded.status_code == 200, recorded.text
        page.locator(f"tr[data-person='{person['person']}'][data-status=present]").wait_for(timeout=15000)
        assert page.inner_text("[data-count=present]") == "1"
        assert not has_horizontal_overflow(page)
        screenshot(page, "rollcall-live")

        # and the organiser's own click, through htmx, without leaving the page
        first = invitees[0]["person"]
        page.locator(f"tr[data-person='{first}'] button", has_text="Có mặt").click()
        page.locator(f"tr[data-person='{first}'][data-status=present]").wait_for()
        assert page.inner_text("[data-count=present]") == "2"
        export = other.get(page.get_attribute("[data-testid=export]", "href"))
        assert export.status_code == 200 and export.content[:2] == b"PK"  # an XLSX (zip) file
    finally:
        context.close()
