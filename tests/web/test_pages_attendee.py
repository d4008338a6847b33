"""The attendee's pages over real HTTP (a real ``hoinghi serve``, SQLite or PostgreSQL): the
personal link, my conferences, answering each way with plain forms and with htmx, my materials
(levels, audit), other people's things out of reach, the page for a missing session."""

import asyncio
import re
import secrets
from types import SimpleNamespace

import httpx
import pytest

from core.hookspecs import hookimpl
from core.plugins import build_plugin_host
from tests.factories import make_unit
from web.pages import attendee as pages
from tests.web import clients
from tests.web.attendee_world import PDF, build, details, personal_link, served_app

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("attendee")) as base:
        data = build(base)
        data["admin"].put(f"/api/v1/units/{data['root']['id']}/plugins/ical", json={"state": "on"}).raise_for_status()
        yield base, data


def form_token(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def attendee(base: str, admin, person_id: int) -> httpx.Client:
    client = clients.browser(base)
    opened = client.get(personal_link(admin, person_id))
    assert opened.status_code == 303 and opened.headers["location"] == "/me"
    assert opened.headers["referrer-policy"] == "no-referrer"
    return client


def invitation_of(client: httpx.Client, conference_id: int) -> dict:
    return next(row for row in client.get("/api/v1/me/conferences").json() if row["conference"] == conference_id)


def test_the_personal_link_opens_my_conferences(world):
    base, w = world
    me = attendee(base, w["admin"], w["person"]["id"])
    page = me.get("/me")
    assert page.status_code == 200 and 'lang="vi"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["content-encoding"] == "gzip"
    html = page.text
    assert "Phạm Văn Mời" in html and "Hội nghị báo cáo viên tháng 5" in html
    assert "14/05/2030 08:00 – 11:30" in html  # dd/mm/yyyy HH:mm in the conference's zone
    assert "Hội trường Tỉnh ủy" in html and "Số 1 Lý Thái Tổ" in html
    assert 'href="https://hop.example.vn/phong/bcv-thang-5"' in html and "Vào phòng họp trực tuyến" in html
    assert "Thông tin thời sự" in html and "08:30" in html and "PGS.TS Lê Văn Cường" in html and "Học viện Chính trị" in html
    assert "Tài liệu audience" in html and "Tài liệu public" in html and "Tài liệu restricted" not in html
    assert "Chưa trả lời" in html and f'action="/me/invitations/' in html
    assert "Hội nghị giao ban tháng 4" in html  # ended ten days ago: still on the page
    assert "Hội nghị đầu năm" not in html and "Hội nghị của huyện" not in html
    assert "Thêm vào lịch" in html and "webcal://" in html  # the ical plugin's panel, on for this unit
    assert "<script>" not in html  # no inline script (CSP)

    detail = me.get(f"/me/conferences/{w['upcoming']['id']}")
    assert detail.status_code == 200 and "<h1" in detail.text and "Quán triệt Chỉ thị 30" in detail.text
    assert "Thêm vào lịch" in detail.text and "Lê Thị Thay" in detail.text  # a colleague to name as substitute
    assert "Hoàng Văn Khác" not in detail.text  # another unit's people are not offered

    english = me.post("/lang", data={"_csrf_token": form_token(html), "lang": "en", "next": "/me"})
    assert english.status_code == 303 and english.headers["location"] == "/me"
    page = me.get("/me").text
    assert 'lang="en"' in page and "My conferences" in page and "Not answered" in page and "Attend" in page
    assert "14/05/2030 08:00 – 11:30" in page
    me.post("/lang", data={"_csrf_token": form_token(page), "lang": "vi", "next": "/me"})


def test_answer_each_way_with_plain_forms_and_with_htmx(world):
    base, w = world
    me = attendee(base, w["admin"], w["person"]["id"])
    token = form_token(me.get("/me").text)
    invitation = invitation_of(me, w["upcoming"]["id"])
    action = f"/me/invitations/{invitation['id']}/rsvp"
    conference_page = f"/me/conferences/{w['upcoming']['id']}"

    accepted = me.post(action, data={"_csrf_token": token, "answer": "accepted", "next": "/me"})
    assert accepted.status_code == 303 and accepted.headers["location"] == f"/me#rsvp-{invitation['id']}"
    after = me.get("/me").text
    assert "Đã ghi nhận câu trả lời của đồng chí." in after and 'class="badge accepted">Tham dự<' in after
    assert invitation_of(me, w["upcoming"]["id"])["rsvp"] == "accepted"
    assert "Đã ghi nhận" not in me.get("/me").text  # the notice is shown once

    declined = me.post(action, data={"_csrf_token": token, "answer": "declined"})
    assert declined.status_code == 303 and declined.headers["location"] == f"{conference_page}#rsvp-{invitation['id']}"
    assert invitation_of(me, w["upcoming"]["id"])["rsvp"] == "declined"

    refused = me.post(action, data={"_csrf_token": token, "answer": "excused", "reason": "   "})
    assert refused.status_code == 422 and "<html" in refused.text
    assert re.search(rf'id="reason-{invitation["id"]}-error"[^>]*>Vui lòng nêu lý do vắng mặt.<', refused.text)
    assert 'aria-invalid="true"' in refused.text and "<details class=\"more\" open" in refused.text
    assert invitation_of(me, w["upcoming"]["id"])["rsvp"] == "declined"  # nothing changed

    excused = me.post(action, data={"_csrf_token": token, "answer": "excused", "reason": "Đi công tác tỉnh ngoài"})
    assert excused.status_code == 303
    row = invitation_of(me, w["upcoming"]["id"])
    assert row["rsvp"] == "excused" and row["rsvp_reason"] == "Đi công tác tỉnh ngoài"
    assert "Đi công tác tỉnh ngoài" in me.get(conference_page).text

    stranger = me.post(action, data={"_csrf_token": token, "answer": "delegated", "substitute_person_id": str(w["outsider"]["id"])})
    assert stranger.status_code == 422 and "Người dự thay phải là người cùng đơn vị với đồng chí." in stranger.text
    nobody = me.post(action, data={"_csrf_token": token, "answer": "delegated", "substitute_person_id": ""})
    assert nobody.status_code == 422 and "Vui lòng ghi tên người dự thay." in nobody.text
    assert invitation_of(me, w["upcoming"]["id"])["rsvp"] == "excused"

    # htmx: the RSVP part comes back alone, refused or saved
    htmx = {"HX-Request": "true", "X-CSRFToken": token}
    fragment = me.post(action, headers=htmx, data={"answer": "excused", "reason": ""})
    assert fragment.status_code == 422 and fragment.text.lstrip().startswith(f'<section class="rsvp" id="rsvp-{invitation["id"]}"')
    assert "<html" not in fragment.text and "Vui lòng nêu lý do vắng mặt." in fragment.text
    fragment = me.post(action, headers=htmx, data={"answer": "delegated", "substitute_person_id": str(w["colleague"]["id"])})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Đã ghi nhận câu trả lời của đồng chí." in fragment.text and "Người dự thay: Lê Thị Thay" in fragment.text
    row = invitation_of(me, w["upcoming"]["id"])
    assert row["rsvp"] == "delegated" and row["substitute_name"] == "Lê Thị Thay" and row["substitute_person"] == w["colleague"]["id"]

    # the organiser sees the answer
    listed = w["admin"].get(f"/api/v1/conferences/{w['upcoming']['id']}/invitations").json()
    mine = next(item for item in listed["items"] if item["person"] == w["person"]["id"])
    assert mine["rsvp"] == "delegated" and mine["substitute_name"] == "Lê Thị Thay"

    # without the CSRF token a form is refused
    assert me.post(action, data={"answer": "accepted"}, headers={"X-CSRFToken": "forged"}).status_code == 403
    assert me.post(action, data={"_csrf_token": token, "answer": "accepted"}).status_code == 303


def test_another_persons_invitation_and_conference_are_not_found(world):
    base, w = world
    me = attendee(base, w["admin"], w["person"]["id"])
    token = form_token(me.get("/me").text)
    listed = w["admin"].get(f"/api/v1/conferences/{w['elsewhere']['id']}/invitations").json()
    theirs = next(item for item in listed["items"] if item["person"] == w["outsider"]["id"])
    refused = me.post(f"/me/invitations/{theirs['id']}/rsvp", data={"_csrf_token": token, "answer": "declined"})
    assert refused.status_code == 404 and "<html" in refused.text and "Không tìm thấy" in refused.text
    assert me.post(f"/api/v1/me/invitations/{theirs['id']}/rsvp", json={"answer": "declined"}).status_code == 404
    listed = w["admin"].get(f"/api/v1/conferences/{w['elsewhere']['id']}/invitations").json()
    assert next(item for item in listed["items"] if item["person"] == w["outsider"]["id"])["rsvp"] == "pending"
    assert me.get(f"/me/conferences/{w['elsewhere']['id']}").status_code == 404
    assert me.get(f"/me/conferences/{w['old']['id']}").status_code == 200  # old, but mine
    assert me.get("/me/conferences/999999").status_code == 404


def test_my_materials_download_with_levels_and_audit(world):
    base, w = world
    me = attendee(base, w["admin"], w["person"]["id"])
    page = me.get("/me/materials")
    assert page.status_code == 200 and page.headers["content-encoding"] == "gzip"
    assert "Tài liệu audience" in page.text and "Tài liệu public" in page.text and "Tài liệu restricted" not in page.text
    assert "Tài liệu của huyện" not in page.text and "978-CV/TU" in page.text and "20/04/2030" in page.text

    audience = me.get(f"/me/materials/{w['materials']['audience']['id']}/download")
    assert audience.status_code == 200 and audience.content == PDF
    assert audience.headers["content-disposition"].startswith("inline;") and "sandbox" in audience.headers["content-security-policy"]
    assert "content-encoding" not in audience.headers  # a document goes out as it is, not gzipped
    assert me.get(f"/me/materials/{w['materials']['public']['id']}/download").status_code == 200
    restricted = me.get(f"/me/materials/{w['materials']['restricted']['id']}/download")
    assert restricted.status_code == 404 and "<html" in restricted.text
    assert me.get(f"/me/materials/{w['elsewhere_material']['id']}/download").status_code == 404  # not invited there
    assert me.get("/me/materials/999999/download").status_code == 404
    assert clients.browser(base).get(f"/me/materials/{w['materials']['audience']['id']}/download").status_code == 401

    entries = w["admin"].get(f"/api/v1/units/{w['root']['id']}/audit", params={"object_type": "material"}).json()
    reads = [entry for entry in entries if entry["action"] == "material.read"]
    reader = f"person:{w['person']['id']}"
    assert [entry["object_id"] for entry in reads if details(entry)["reader"] == reader] == [w["materials"]["audience"]["id"]]
    assert not any(entry["object_id"] == w["materials"]["restricted"]["id"] for entry in reads)


def test_without_a_session_the_page_says_to_open_the_link_again(world):
    base, w = world
    for client in (clients.browser(base), clients.browser(base, cookies={"hoinghi_session": secrets.token_hex(32)})):
        for path in ("/me", "/me/materials", f"/me/conferences/{w['upcoming']['id']}"):
            page = client.get(path)
            assert page.status_code == 401 and "<html" in page.text, path
            assert "Cần mở lại đường dẫn cá nhân" in page.text and "tin nhắn mời" in page.text
            assert 'action="/lang"' in page.text and page.headers["referrer-policy"] == "no-referrer"
    english = clients.browser(base, headers={"Accept-Language": "en"}).get("/me")
    assert english.status_code == 401 and "Open your personal link again" in english.text

    me = attendee(base, w["admin"], w["person"]["id"])
    assert me.get("/me").status_code == 200
    retired = w["admin"].post("/api/v1/people", json={"unit_id": w["root"]["id"], "full_name": "Trịnh Văn Nghỉ"}).json()
    leaver = attendee(base, w["admin"], retired["id"])
    assert leaver.get("/me").status_code == 200 and "Trịnh Văn Nghỉ" in leaver.get("/me").text
    w["admin"].post(f"/api/v1/people/{retired['id']}/deactivate").raise_for_status()
    assert leaver.get("/me").status_code == 401  # a deactivated person's session no longer opens the page
    guesser = clients.browser(base)
    wrong = guesser.get(f"/i/{secrets.token_urlsafe(32)}")
    assert wrong.status_code == 404 and "<html" in wrong.text and "Đường dẫn không còn dùng được" in wrong.text
    assert guesser.get("/me").status_code == 401  # a wrong link signs nobody in


class Badge:
    @hookimpl
    def attendee_panels(self, person, conference):
        return [{"title": "Thẻ dự hội nghị", "html": f"<p>Thẻ của {person['full_name']}</p>"}]


class Evaluation:
    """Reads the database, so it returns an awaitable (as the hookspec allows)."""

    @hookimpl
    def attendee_panels(self, conference):
        async def panels():
            return [{"title": "Phiếu đánh giá", "html": f"<p>Hội nghị #{conference['id']}</p>"}]
        return panels()


class Broken:
    @hookimpl
    def attendee_panels(self, person, conference):
        raise RuntimeError("plugin hỏng")


class BrokenLater:
    @hookimpl
    def attendee_panels(self, person, conference):
        async def panels():
            raise RuntimeError("cơ sở dữ liệu của plugin không trả lời")
        return panels()


class Hangs:
    @hookimpl
    def attendee_panels(self, person, conference):
        return asyncio.Event().wait()  # never resolves


class Elsewhere:
    @hookimpl
    def attendee_panels(self, person, conference):
        return [{"title": "Của đơn vị khác", "html": ""}]


async def test_plugin_panels_come_from_the_units_plugins_each_isolated(db, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(pages, "PANEL_TIMEOUT_SECONDS", 0.05)
    toml = tmp_path / "plugins.toml"
    toml.write_text("".join(f'[plugins.{name}]\ndefault = "on"\n' for name in ("badge", "broken", "broken_later", "evaluation", "hangs")),
                    encoding="utf-8")
    host = build_plugin_host(plugins_toml=toml, discover=False, extra=[
        ("badge", Badge()), ("evaluation", Evaluation()), ("broken", Broken()), ("broken_later", BrokenLater()),
        ("hangs", Hangs()), ("elsewhere", Elsewhere())])  # elsewhere: installed, off for this unit
    unit = await make_unit("Tỉnh ủy thử", code="TU-PANEL")
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(plugin_host=host)))

    panels = await pages.plugin_panels(request, {"id": 7, "full_name": "Phạm Văn Mời"}, {"id": 3, "unit": unit["id"]})
    assert sorted((panel["plugin"], panel["title"]) for panel in panels) == [("badge", "Thẻ dự hội nghị"), ("evaluation", "Phiếu đánh giá")]
    assert next(panel for panel in panels if panel["plugin"] == "badge")["html"] == "<p>Thẻ của Phạm Văn Mời</p>"
    failed = {record.getMessage().split()[1] for record in caplog.records if "attendee_panels" in record.getMessage()}
    assert failed == {"broken", "broken_later", "hangs"}
