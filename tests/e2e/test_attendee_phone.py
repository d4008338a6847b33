"""The attendee on a cheap phone (headless Debian Chromium at 360×640): open the personal link,
answer, see the material; no page scrolls sideways, and the first load of every attendee page
(HTML, CSS, JS, fonts; a cold cache) transfers under 150 KB, counted from the encoded body sizes
of all responses. Screenshots under tests/e2e/artifacts/. Browser tests run on one database."""

import re
import urllib.parse

import pytest

from tests.browser import has_horizontal_overflow, phone_context, screenshot
from tests.web.attendee_world import PDF, build, personal_link, served_app

pytestmark = [pytest.mark.sqlite_only, pytest.mark.timeout(300)]

BUDGET_BYTES = 150_000
# Visible elements reaching past the right edge, unless a scrolling/clipping box holds them.
WIDER_THAN_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (!box.width || !box.height || box.right <= width + 1) continue;
    let parent = element.parentElement, held = false;
    while (parent && parent !== document.body) {
      if (getComputedStyle(parent).overflowX !== 'visible') { held = true; break; }
      parent = parent.parentElement;
    }
    if (!held) found.push(`${element.tagName.toLowerCase()}.${element.className} right=${Math.round(box.right)}`);
  }
  return found;
}"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("attendee-phone")) as base:
        data = build(base)
        data["admin"].put(f"/api/v1/units/{data['root']['id']}/plugins/ical", json={"state": "on"}).raise_for_status()
        yield base, data


class Transfer:
    """Bytes on the wire for one page load: every finished response's encoded body size."""

    def __init__(self, page):
        self.responses: list[tuple[str, int, str]] = []
        page.on("requestfinished", self._finished)

    def _finished(self, request) -> None:
        response = request.response()
        encoding = response.headers.get("content-encoding", "") if response else ""
        self.responses.append((request.url, request.sizes()["responseBodySize"], encoding))

    @property
    def total(self) -> int:
        return sum(size for _, size, _ in self.responses)

    def report(self) -> str:
        return "\n".join(f"{size:>8} {encoding or '-':5} {url}" for url, size, encoding in self.responses) + f"\n{self.total:>8} total"


def assert_fits_the_phone(page, name: str) -> None:
    screenshot(page, name)
    assert not has_horizontal_overflow(page), f"{name}: the page scrolls sideways"
    assert page.evaluate(WIDER_THAN_SCREEN) == [], f"{name}: wider than the screen"


def first_load(browser, base: str, path: str, cookies: list[dict] | None, name: str) -> int:
    """Load ``path`` in a fresh phone context (cold cache) and check width and weight."""
    context = phone_context(browser)
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    transfer = Transfer(page)
    page.goto(base + path, wait_until="networkidle")
    assert_fits_the_phone(page, name)
    document = next((size, encoding) for url, size, encoding in transfer.responses if url == base + path)
    assert document[1] == "gzip", f"{path} was not compressed:\n{transfer.report()}"
    fetched = [urllib.parse.urlsplit(url).path for url, _, _ in transfer.responses]  # our files carry ?v=<digest>
    assert any(name.endswith(".css") for name in fetched) and any(name.endswith(".js") for name in fetched)
    assert 0 < transfer.total < BUDGET_BYTES, f"{path} first load is {transfer.total} bytes:\n{transfer.report()}"
    context.close()
    return transfer.total


def test_open_the_link_answer_and_see_the_material_on_a_phone(world, browser):
    base, w = world
    context = phone_context(browser)
    page = context.new_page()
    transfer = Transfer(page)
    page.goto(base + personal_link(w["admin"], w["person"]["id"]), wait_until="networkidle")
    assert page.url == base + "/me"  # the token has left the address bar
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("heading", name="Hội nghị của tôi").is_visible()
    card = page.locator(f"#conf-{w['upcoming']['id']}")
    assert "14/05/2030 08:00 – 11:30" in card.inner_text() and "PGS.TS Lê Văn Cường" in card.inner_text()
    assert_fits_the_phone(page, "attendee-01-home")
    assert transfer.total < BUDGET_BYTES, transfer.report()

    # excused without a reason: refused in place, the message next to the field (htmx swaps the 422)
    rsvp = card.locator("section.rsvp")
    rsvp.locator("summary").click()
    rsvp.get_by_role("button", name="Báo vắng có lý do").click()
    error = page.locator(f"#reason-{rsvp.get_attribute('id').split('-')[1]}-error")
    error.wait_for()
    assert error.inner_text() == "Vui lòng nêu lý do vắng mặt."
    assert page.url == base + "/me"  # swapped in place, no navigation
    assert_fits_the_phone(page, "attendee-02-excuse-refused")

    # accept
    card.locator("section.rsvp").get_by_role("button", name="Tham dự", exact=True).click()
    page.get_by_text("Đã ghi nhận câu trả lời của đồng chí.").wait_for()
    assert card.locator("section.rsvp .badge.accepted").inner_text() == "Tham dự"
    assert_fits_the_phone(page, "attendee-03-accepted")
    mine = page.request.get(base + "/api/v1/me/conferences").json()
    assert next(row for row in mine if row["conference"] == w["upcoming"]["id"])["rsvp"] == "accepted"

    # my materials: listed, and the document opens
    page.get_by_role("navigation", name="Trang của tôi").get_by_role("link", name="Tài liệu").click()
    page.wait_for_url(base + "/me/materials")
    link = page.get_by_role("link", name="Tài liệu audience").first
    assert link.is_visible() and page.get_by_text("Tài liệu restricted").count() == 0
    assert_fits_the_phone(page, "attendee-04-materials")
    document = page.request.get(base + link.get_attribute("href"))
    assert document.status == 200 and document.body() == PDF

    # the conference page, then the same pages in English
    page.goto(base + f"/me/conferences/{w['upcoming']['id']}", wait_until="networkidle")
    assert page.get_by_text("Thêm vào lịch").first.is_visible()  # the ical plugin's panel
    assert_fits_the_phone(page, "attendee-05-conference")
    page.goto(base + "/me")
    page.locator("form.lang button[value=en]").click()
    page.wait_for_url(base + "/me")
    assert page.get_by_role("heading", name="My conferences").is_visible()
    assert_fits_the_phone(page, "attendee-06-home-english")
    page.locator("form.lang button[value=vi]").click()
    page.wait_for_url(base + "/me")
    cookies = context.cookies()
    context.close()

    # the first load of every attendee page, each in a cold browser
    weights = {path: first_load(browser, base, path, cookies, f"attendee-first-{index}") for index, path in enumerate(
        ["/me", f"/me/conferences/{w['upcoming']['id']}", "/me/materials", f"/me/conferences/{w['recent']['id']}"])}
    assert all(weight < BUDGET_BYTES for weight in weights.values())


def test_without_a_session_the_phone_shows_how_to_come_back(world, browser):
    base, _ = world
    context = phone_context(browser)
    page = context.new_page()
    transfer = Transfer(page)
    response = page.goto(base + "/me", wait_until="networkidle")
    assert response.status == 401 and response.headers["referrer-policy"] == "no-referrer"
    assert page.get_by_role("heading", name="Cần mở lại đường dẫn cá nhân").is_visible()
    assert_fits_the_phone(page, "attendee-07-session-missing")
    assert transfer.total < BUDGET_BYTES, transfer.report()
    context.close()


def test_the_answer_forms_work_without_javascript(world, browser):
    base, w = world
    context = phone_context(browser, java_script_enabled=False)
    page = context.new_page()
    page.goto(base + personal_link(w["admin"], w["person"]["id"]))
    card = page.locator(f"#conf-{w['upcoming']['id']}")
    card.get_by_role("button", name="Không tham dự").click()
    page.wait_for_url(re.compile(re.escape(base) + r"/me#rsvp-\d+$"))
    assert page.get_by_text("Đã ghi nhận câu trả lời của đồng chí.").is_visible()
    assert card.locator("section.rsvp .badge.declined").inner_text() == "Không tham dự"

    card.locator("summary").click()  # <details> opens without JavaScript
    card.get_by_role("button", name="Báo vắng có lý do").click()
    page.wait_for_load_state()
    assert page.locator(".field-error").first.inner_text() == "Vui lòng nêu lý do vắng mặt."
    assert_fits_the_phone(page, "attendee-08-no-js-refused")
    page.locator("textarea[name=reason]").fill("Trực cơ quan")
    page.get_by_role("button", name="Báo vắng có lý do").click()
    page.get_by_text("Đã ghi nhận câu trả lời của đồng chí.").wait_for()
    assert page.get_by_text("Lý do: Trực cơ quan").is_visible()
    context.close()
