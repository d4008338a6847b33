"""The organisers' administration pages over real HTTP against a real ``hoinghi serve`` (SQLite and
PostgreSQL alike): people search and import, the audience builder's preview, roles and what a new
organiser then sees, plugin switches, campaign previews, template errors; the API pieces the
pages need; the channel plugins' hooks with a throw-away plugin; and, in headless Chromium, the
search as you type and the audience's live preview."""

from __future__ import annotations

import contextlib
import re

import httpx
import pytest

from core.hookspecs import hookimpl
from core.plugins import build_plugin_host  # noqa: F401  (imports the tables before a test binds its database)
from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server
from tests.web import clients

pytestmark = pytest.mark.timeout(240)
PASSWORD = "mat-khau-quan-tri-dai"
HTMX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served database: TU with the districts HU-TD and TX-QV, four people, a published
    conference of TU at a venue hosted by HU-TD, and the console channel for messages."""
    tmp_path = tmp_path_factory.mktemp("pages-admin")
    with empty_database(tmp_path) as env:
        env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), "HOINGHI_CONSOLE_CHANNEL": "1", **env}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        run_cli("unit", "add", "--name", "Huyện ủy Tiên Du", "--code", "HU-TD", "--kind", "district", "--parent", "TU", env=env)
        run_cli("unit", "add", "--name", "Thị ủy Quế Võ", "--code", "TX-QV", "--kind", "district", "--parent", "TU", env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            admin = clients.signed_in(base, "admin", PASSWORD)
            tree = {unit["short_code"]: unit for unit in admin.get(f"/api/v1/units/{admin.get('/api/v1/units').json()[0]['id']}/tree").json()}
            people = {}
            for name, unit, categories, phone in [("Nguyễn Văn An", "HU-TD", ["briefer"], "0912345001"),
                                                  ("Lê Văn Cường", "HU-TD", ["cadre"], "0912345002"),
                                                  ("Trần Thị Bình", "TX-QV", ["briefer", "propagandist"], "0912345003"),
                                                  ("Phạm Nguyên Hà", "TU", ["briefer"], None)]:
                created = admin.post("/api/v1/people", json={"unit_id": tree[unit]["id"], "full_name": name, "categories": categories,
                                                             "phone": phone})
                assert created.status_code == 201, created.text
                people[name] = created.json()
            audience = admin.post("/api/v1/audiences", json={"unit_id": tree["TU"]["id"], "name": "Báo cáo viên toàn tỉnh",
                                                              "rules": {"categories": ["briefer"]}}).json()
            conference = admin.post("/api/v1/conferences", json={
                "unit_id": tree["TU"]["id"], "title": "Hội nghị báo cáo viên tháng 3", "kind": "periodic_briefing",
                "format": "in_person", "starts_at": "2030-03-12T08:00:00+07:00", "ends_at": "2030-03-12T11:00:00+07:00",
                "venues": [{"name": "Điểm cầu Tiên Du", "address": "Số 2", "host_unit_id": tree["HU-TD"]["id"]}],
                "audience_ids": [audience["id"]]})
            assert conference.status_code == 201, conference.text
            assert admin.post(f"/api/v1/conferences/{conference.json()['id']}/publish").status_code == 200
            yield {"base": base, "env": env, "admin": admin, "units": tree, "people": people, "audience": audience,
                   "conference": conference.json()}


def form_token(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def fragment(client: httpx.Client, url: str, hx_target: str, **params) -> httpx.Response:
    """What htmx asks for: a piece of a page, to put in ``hx_target``."""
    return client.get(url, params=params, headers={**HTMX, "HX-Target": hx_target})


@contextlib.contextmanager
def signed_in_phone(site, path: str, console: list | None = None):
    """A phone-sized Chromium page signed in as admin, opened at ``path`` (its console messages
    gathered in ``console``). Chromium is started and stopped here (see the test below)."""
    from tests.browser import chromium, phone_context

    with chromium() as browser:
        context = phone_context(browser)
        page = context.new_page()
        if console is not None:
            page.on("console", lambda message: console.append(message.text))
        try:
            page.goto(f"{site['base']}/login?next={path}")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button.primary")
            page.wait_for_url(f"**{path}")
            yield page
        finally:
            context.close()


def test_search_finds_nguyen_typed_without_diacritics(site):
    admin, units = site["admin"], site["units"]
    found = fragment(admin, "/people", "people-results", q="nguyen", unit=units["TU"]["id"])
    assert found.status_code == 200 and "<html" not in found.text  # only the results, for htmx
    assert "Nguyễn Văn An" in found.text and "Phạm Nguyên Hà" in found.text  # word prefixes: "Nguyễn", "Nguyên"
    assert "Trần Thị Bình" not in found.text and 'data-total="2"' in found.text
    narrowed = fragment(admin, "/people", "people-results", q="nguyen van", unit=units["TU"]["id"])
    assert 'data-total="1"' in narrowed.text and "Phạm Nguyên Hà" not in narrowed.text
    assert "0912 345 001" in narrowed.text and "+84" not in narrowed.text  # the phone as people write it
    no_middle = fragment(admin, "/people", "people-results", q="guyen", unit=units["TU"]["id"])
    assert 'data-total="0"' in no_middle.text  # prefixes of words, not any substring
    by_unit = fragment(admin, "/people", "people-results", q="", unit=units["HU-TD"]["id"], category="briefer")
    assert "Nguyễn Văn An" in by_unit.text and "Lê Văn Cường" not in by_unit.text and "Phạm Nguyên Hà" not in by_unit.text
    whole = admin.get("/people", params={"q": "nguyen", "unit": units["TU"]["id"]})
    assert whole.status_code == 200 and "<html" in whole.text and 'value="nguyen"' in whole.text and "Nguyễn Văn An" in whole.text


def test_a_person_is_created_edited_deactivated_and_gets_a_personal_link(site):
    admin, units = site["admin"], site["units"]
    page = admin.get("/people/new", params={"unit": units["HU-TD"]["id"]})
    token = form_token(page.text)
    refused = admin.post("/people/new", data={"_csrf_token": token, "unit_id": units["HU-TD"]["id"], "full_name": "Đỗ Thị Hoa",
                                              "phone": "0912 34"})
    assert refused.status_code == 422 and "Số điện thoại không hợp lệ" in refused.text and 'value="Đỗ Thị Hoa"' in refused.text
    created = admin.post("/people/new", data={"_csrf_token": token, "unit_id": units["HU-TD"]["id"], "full_name": "Đỗ Thị Hoa",
                                               "phone": "0912 345 009", "categories": ["briefer", "member"]})
    assert created.status_code == 303
    person_url = created.headers["location"].split("?")[0]
    person = admin.get(person_url)
    assert person.status_code == 200 and "Đỗ Thị Hoa" in person.text and "Lịch sử tham dự" in person.text
    person_id = int(person_url.rsplit("/", 1)[1])
    assert admin.get(f"/api/v1/people/{person_id}").json()["categories"] == ["briefer", "member"]

    link = admin.post(f"{person_url}/link", headers={**HTMX, "x-csrftoken": admin.cookies.get("hoinghi_csrf")})
    assert link.status_code == 200
    url = re.search(r'value="(http[^"]+/i/[^"]+)"', link.text).group(1)
    attendee = httpx.Client(base_url=site["base"], timeout=10)
    opened = attendee.get(url.replace("http://127.0.0.1:8000", ""))
    assert opened.status_code == 303 and opened.headers["location"] == "/me"

    edited = admin.post(person_url, data={"_csrf_token": token, "unit_id": units["HU-TD"]["id"], "full_name": "Đỗ Thị Hoà",
                                          "phone": "0912345009", "position": "Bí thư chi bộ"})
    assert edited.status_code == 303
    assert admin.get(f"/api/v1/people/{person_id}").json()["position"] == "Bí thư chi bộ"
    off = admin.post(f"{person_url}/active", data={"_csrf_token": token, "active": "0"})
    assert off.status_code == 303 and admin.get(f"/api/v1/people/{person_id}").json()["active"] is False
    assert "Đỗ Thị Hoà" not in fragment(admin, "/people", "people-results", q="do thi", unit=units["TU"]["id"]).text
    assert "Đỗ Thị Hoà" in fragment(admin, "/people", "people-results", q="do thi", unit=units["TU"]["id"], active="0").text


def test_history_shows_the_conferences_a_person_was_invited_to(site):
    admin, an = site["admin"], site["people"]["Nguyễn Văn An"]
    page = admin.get(f"/people/{an['id']}")
    assert "Hội nghị báo cáo viên tháng 3" in page.text and "12/03/2030 08:00" in page.text and "Chưa trả lời" in page.text


def test_an_import_with_a_bad_row_names_its_row_and_column_and_writes_nothing(site):
    admin, units = site["admin"], site["units"]
    before = admin.get("/api/v1/people", params={"unit_id": units["TU"]["id"], "active": "true"}).json()["total"]
    page = admin.get("/people/import")
    assert page.status_code == 200 and 'name="dry_run"' in page.text
    bad = "Họ và tên,Số điện thoại,Mã đơn vị\nVũ Văn Dũng,0912345101,HU-TD\nHoàng Thị Em,0912 34,HU-TD\nNgô Văn Phúc,,XYZ\n"
    headers = {**HTMX, "x-csrftoken": admin.cookies.get("hoinghi_csrf")}
    refused = admin.post("/people/import", data={"unit_id": str(units["TU"]["id"])}, files={"file": ("danh-sach.csv", bad.encode())},
                         headers=headers)
    assert refused.status_code == 422 and "chưa nhập người nào" in refused.text
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>", refused.text)
    assert ("3", "Số điện thoại") in [(row, column) for row, column, _ in rows]
    assert ("4", "Mã đơn vị") in [(row, column) for row, column, _ in rows] and len(rows) == 2
    assert admin.get("/api/v1/people", params={"unit_id": units["TU"]["id"]}).json()["total"] == before

    good = "Họ và tên,Số điện thoại,Mã đơn vị,Đối tượng\nVũ Văn Dũng,0912345101,HU-TD,báo cáo viên\nHoàng Thị Em,,TX-QV,tuyên truyền viên\n"
    checked = admin.post("/people/import", data={"unit_id": str(units["TU"]["id"]), "dry_run": "1"},
                         files={"file": ("danh-sach.csv", good.encode())}, headers=headers)
    assert checked.status_code == 200 and "chạy thử" in checked.text and "2 dòng hợp lệ" in checked.text
    assert admin.get("/api/v1/people", params={"unit_id": units["TU"]["id"]}).json()["total"] == before
    imported = admin.post("/people/import", data={"unit_id": str(units["TU"]["id"])}, files={"file": ("danh-sach.csv", good.encode())},
                          headers=headers)
    assert imported.status_code == 200 and "đã nhập 2 người" in imported.text
    assert admin.get("/api/v1/people", params={"unit_id": units["TU"]["id"]}).json()["total"] == before + 2


def test_a_persons_categories_are_not_called_audiences(site):
    """"Đối tượng" is an audience (the menu, the builder); what a person is (báo cáo viên, tuyên
    truyền viên…) is their "Thành phần", in the form, the directory's filter and the builder."""
    admin, tu = site["admin"], site["units"]["TU"]["id"]
    for path in ("/people/new", "/people", "/audiences/new"):
        page = admin.get(path, params={"unit": tu}).text
        assert re.search(r"<(legend|label)>Thành phần", page), path
        english = admin.get(path, params={"unit": tu}, headers={"Accept-Language": "en"}).text
        assert re.search(r"<(legend|label)>Categories", english) and not re.search(r"<(legend|label)>Audiences", english), path


def test_the_audience_builder_previews_its_count_before_saving(site):
    admin, units, people = site["admin"], site["units"], site["people"]
    tu = units["TU"]["id"]
    # briefers of the whole province: An, Bình, Hà (and Dũng, imported above when run in order)
    everyone = fragment(admin, "/audiences/preview", "audience-preview", unit_id=tu, categories="briefer", active_only="1")
    count = int(re.search(r'data-count="(\d+)"', everyone.text).group(1))
    api_count = admin.get("/api/v1/people", params={"unit_id": tu, "category": "briefer"}).json()["total"]
    assert everyone.status_code == 200 and count == api_count >= 3
    district = fragment(admin, "/audiences/preview", "audience-preview", unit_id=tu, categories="briefer", unit_ids=units["HU-TD"]["id"],
                        active_only="1")
    district_count = int(re.search(r'data-count="(\d+)"', district.text).group(1))
    assert "Nguyễn Văn An" in district.text and "Trần Thị Bình" not in district.text
    fewer = admin.get("/audiences/preview", params=[("unit_id", tu), ("categories", "briefer"), ("unit_ids", units["HU-TD"]["id"]),
                                                     ("active_only", "1"), ("exclude_ids", people["Nguyễn Văn An"]["id"]),
                                                     ("include_ids", people["Lê Văn Cường"]["id"])], headers=HTMX)
    assert 'data-count="%d"' % district_count in fewer.text and "Lê Văn Cường" in fewer.text and "Nguyễn Văn An" not in fewer.text
    wrong = fragment(admin, "/audiences/preview", "audience-preview", unit_id=tu, categories="astronaut")
    assert wrong.status_code == 422 and "Thành phần không hợp lệ" in wrong.text

    page = admin.get("/audiences/new", params={"unit": tu})
    saved = admin.post("/audiences/new", data={"_csrf_token": form_token(page.text), "unit_id": tu, "name": "BCV Tiên Du",
                                                "categories": ["briefer"], "unit_ids": [units["HU-TD"]["id"]], "active_only": "1"})
    assert saved.status_code == 303
    audience_id = int(saved.headers["location"].split("?")[0].rsplit("/", 1)[1])
    assert admin.get(f"/api/v1/audiences/{audience_id}/preview").json()["count"] == district_count
    assert "BCV Tiên Du" in admin.get("/audiences", params={"unit": tu}).text
    api = admin.post("/api/v1/audiences/preview", json={"unit_id": tu, "rules": {"categories": ["briefer"]}})
    assert api.status_code == 200 and api.json()["count"] == count
    for rules in ({"unit_ids": ["x"]}, {"briefer_levels": 5}, {"categories": "briefer"}):
        malformed = admin.post("/api/v1/audiences/preview", json={"unit_id": tu, "rules": rules})
        assert malformed.status_code == 422 and "rules" in malformed.json()["fields"], rules


def test_a_second_audience_of_the_same_name_is_refused_keeping_what_was_ticked(site):
    admin, units = site["admin"], site["units"]
    tu = units["TU"]["id"]
    refused = admin.post("/audiences/new", data={"unit_id": tu, "name": "báo cáo viên  toàn tỉnh", "categories": ["propagandist"],
                                                  "active_only": "1"})
    assert refused.status_code == 409
    assert re.search(r'Tên đối tượng <span class="field-error"[^>]*>Đơn vị đã có đối tượng tên &#34;báo cáo viên toàn tỉnh&#34;; đặt tên khác.<',
                     refused.text), refused.text
    assert re.search(r'<input[^>]*value="propagandist"[^>]*checked', refused.text)
    other = admin.post("/audiences/new", data={"unit_id": tu, "name": "Tuyên truyền viên", "categories": ["propagandist"]})
    assert other.status_code == 303
    renamed = admin.post(other.headers["location"].split("?")[0], data={"name": "Báo cáo viên toàn tỉnh", "categories": ["propagandist"]})
    assert renamed.status_code == 409 and "đặt tên khác" in renamed.text
    # the same name in another unit is another audience
    assert admin.post("/audiences/new", data={"unit_id": units["HU-TD"]["id"], "name": "Báo cáo viên toàn tỉnh",
                                              "categories": ["briefer"]}).status_code == 303


def test_a_role_granted_on_a_district_shows_only_that_subtree(site):
    admin, units, people = site["admin"], site["units"], site["people"]
    page = admin.get("/users", params={"unit": units["TU"]["id"]})
    token = form_token(page.text)
    created = admin.post("/users/grant", data={"_csrf_token": token, "new_user": "1", "username": "tochuc.quevo",
                                               "full_name": "Tổ chức Quế Võ", "password": PASSWORD, "role": "organiser",
                                               "unit_id": units["TX-QV"]["id"], "back_unit": units["TU"]["id"]})
    assert created.status_code == 303
    listed = admin.get("/users", params={"unit": units["TU"]["id"]})
    assert 'data-username="tochuc.quevo"' in listed.text and "Thị ủy Quế Võ" in listed.text
    unknown = admin.post("/users/grant", data={"_csrf_token": token, "username": "khong.co.ai", "role": "viewer",
                                               "unit_id": units["TX-QV"]["id"]})
    assert unknown.status_code == 422 and "khong.co.ai" in unknown.text

    organiser = clients.signed_in(site["base"], "tochuc.quevo", PASSWORD)
    mine = organiser.get("/people")
    assert mine.status_code == 200 and "Trần Thị Bình" in mine.text and "Nguyễn Văn An" not in mine.text
    assert organiser.get(f"/people/{people['Nguyễn Văn An']['id']}").status_code == 404
    assert organiser.get(f"/people/{people['Trần Thị Bình']['id']}").status_code == 200
    assert organiser.get("/people", params={"unit": units["HU-TD"]["id"]}).status_code == 404
    assert organiser.get(f"/api/v1/people/{people['Nguyễn Văn An']['id']}").status_code == 404
    assert organiser.get("/users", params={"unit": units["TU"]["id"]}).status_code == 404

    users = admin.get("/api/v1/users", params={"unit_id": units["TX-QV"]["id"]}).json()
    user = next(item for item in users if item["username"] == "tochuc.quevo")
    assert user["roles"] == [{"unit_id": units["TX-QV"]["id"], "unit_name": "Thị ủy Quế Võ", "role": "organiser"}]
    assert organiser.get(f"/api/v1/users/{user['id']}").json()["username"] == "tochuc.quevo"
    out = admin.post(f"/users/{user['id']}/logout-everywhere", data={"_csrf_token": token})
    assert out.status_code == 303
    assert organiser.get("/people").status_code in (303, 401) and organiser.get("/api/v1/units").status_code == 401


def test_venue_grants_and_log_out_everywhere_through_the_api(site):
    admin, units = site["admin"], site["units"]
    admin.post("/api/v1/users", json={"username": "tochuc.tiendu", "password": PASSWORD, "full_name": "Tổ chức Tiên Du"})
    created = [u for u in admin.get("/api/v1/users", params={"unit_id": units["TU"]["id"]}).json() if u["username"] == "tochuc.tiendu"]
    assert not created  # no role yet: nobody's list shows it
    page = admin.get("/users")
    assert admin.post("/users/grant", data={"_csrf_token": form_token(page.text), "username": "tochuc.tiendu", "role": "checkin_staff",
                                            "unit_id": units["HU-TD"]["id"]}).status_code == 303
    user = next(u for u in admin.get("/api/v1/users", params={"unit_id": units["TU"]["id"]}).json() if u["username"] == "tochuc.tiendu")
    grants = admin.get(f"/api/v1/users/{user['id']}/venue-grants").json()
    assert [(g["name"], g["conference_title"], g["roles"]) for g in grants] == [
        ("Điểm cầu Tiên Du", "Hội nghị báo cáo viên tháng 3", ["checkin_staff"])]
    detail = admin.get(f"/users/{user['id']}")
    assert "Điểm cầu Tiên Du" in detail.text and "Hội nghị báo cáo viên tháng 3" in detail.text
    clerk = clients.signed_in(site["base"], "tochuc.tiendu", PASSWORD)
    assert clerk.get(f"/api/v1/users/{user['id']}/venue-grants").status_code == 200
    assert clerk.post(f"/api/v1/users/{user['id']}/logout-everywhere").json() == {"ok": True}
    assert clerk.get("/api/v1/units").status_code == 401
    assert admin.get("/api/v1/users/999999").status_code == 404


def test_api_tokens_are_shown_once_listed_and_revoked(site):
    admin, units = site["admin"], site["units"]
    page = admin.get("/users/tokens")
    assert page.status_code == 200
    grant = re.search(r'<option value="(\d+:admin)"', page.text).group(1)
    issued = admin.post("/users/tokens", data={"_csrf_token": form_token(page.text), "grant": grant, "label": "Đồng bộ danh sách",
                                               "ttl_days": "30"})
    assert issued.status_code == 200
    secret = re.search(r'class="secret" readonly value="([^"]+)"', issued.text).group(1)
    assert len(secret) >= 40
    keyed = httpx.get(f"{site['base']}/api/v1/units", headers={"Authorization": f"Bearer {secret}"})
    assert keyed.status_code == 200
    again = admin.get("/users/tokens")
    assert "Đồng bộ danh sách" in again.text and secret not in again.text
    token_id = int(re.findall(r'data-token="(\d+)"', again.text)[0])
    assert admin.post(f"/users/tokens/{token_id}/revoke", data={"_csrf_token": form_token(again.text)}).status_code == 303
    assert httpx.get(f"{site['base']}/api/v1/units", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_plugin_is_switched_on_for_one_district_and_its_settings_saved(site):
    admin, units = site["admin"], site["units"]
    district = units["HU-TD"]["id"]
    page = admin.get("/plugins", params={"unit": district})
    assert page.status_code == 200 and 'data-plugin="ical"' in page.text
    assert re.search(r'data-plugin="ical" data-enabled="off"', page.text)
    switched = admin.post(f"/plugins/ical/state?unit={district}", data={"_csrf_token": form_token(page.text), "state": "on"})
    assert switched.status_code == 303
    after = admin.get("/plugins", params={"unit": district})
    assert re.search(r'data-plugin="ical" data-enabled="on"', after.text)
    states = {row["plugin"]: row for row in admin.get(f"/api/v1/units/{district}/plugins").json()}
    assert states["ical"]["enabled"] and states["ical"]["setting"] == "on"
    sibling = {row["plugin"]: row for row in admin.get(f"/api/v1/units/{units['TX-QV']['id']}/plugins").json()}
    assert not sibling["ical"]["enabled"]
    wrong = admin.post(f"/plugins/ical/state?unit={district}", data={"_csrf_token": form_token(page.text), "state": "maybe"})
    assert wrong.status_code == 422 and "Trạng thái phải là" in wrong.text

    saved = admin.post(f"/plugins/ical/settings?unit={district}", data={"_csrf_token": form_token(page.text),
                                                                        "organizer_email": "vp@tiendu.example", "alarm_minutes": "60\n15"})
    assert saved.status_code == 303
    fields = {field["key"]: field for field in admin.get(f"/api/v1/units/{district}/plugins/ical/settings").json()}
    assert fields["organizer_email"]["value"] == "vp@tiendu.example" and fields["organizer_email"]["own"]
    assert fields["alarm_minutes"]["value"] == [60, 15]
    refused = admin.put(f"/api/v1/units/{district}/plugins/ical/settings/alarm_minutes", json={"value": "60"})
    assert refused.status_code == 422 and refused.json()["fields"]


def test_the_plugin_page_in_english_names_plugins_and_settings_in_english(site):
    from plugins.ical.settings import SCHEMA as ICAL
    from plugins.sms.settings import SCHEMA as SMS

    english = site["admin"].get("/plugins", params={"unit": site["units"]["TU"]["id"]}, headers={"Accept-Language": "en"}).text
    for vietnamese, translated in (("Lịch (iCalendar)", "Calendar"), (ICAL["imap_port"]["label"], "IMAP port"),
                                   (ICAL["alarm_minutes"]["label"], "Calendar reminders (minutes before)"),
                                   (SMS["preset"]["label"], "Built-in SMS gateway preset")):
        assert vietnamese not in english and translated in english, vietnamese


def test_a_plugins_message_kind_is_named_in_english_too(site):
    english = site["admin"].get("/notifications", params={"unit": site["units"]["TU"]["id"]}, headers={"Accept-Language": "en"}).text
    assert "Invitation to evaluate the conference" in english and "Mời đánh giá hội nghị" not in english


def test_campaign_previews_count_the_chosen_recipients(site):
    admin, conference, audience = site["admin"], site["conference"], site["audience"]
    invited = admin.get(f"/api/v1/conferences/{conference['id']}/invitations").json()["counts"]
    total = sum(invited.values())
    everyone = fragment(admin, "/notifications/compose/preview", "campaign-preview", target=f"conference:{conference['id']}",
                        group="all", kind="invitation")
    assert everyone.status_code == 200 and f'data-recipients="{total}"' in everyone.text and total >= 3
    assert "Kính mời đồng chí" in everyone.text and "Hội nghị báo cáo viên tháng 3" in everyone.text
    accepted = fragment(admin, "/notifications/compose/preview", "campaign-preview", target=f"conference:{conference['id']}",
                        group="accepted", kind="nudge")
    assert 'data-recipients="0"' in accepted.text
    api = admin.get(f"/api/v1/conferences/{conference['id']}/messages/campaign-preview",
                    params={"kind": "nudge", "audience": "not_answered"}).json()
    assert api["recipients"] == invited["pending"] and api["channel"] == "console"
    to_audience = fragment(admin, "/notifications/compose/preview", "campaign-preview", target=f"audience:{audience['id']}",
                           text="Họp chi bộ lúc 14 giờ")
    expected = admin.get(f"/api/v1/audiences/{audience['id']}/preview").json()["count"]
    assert f'data-recipients="{expected}"' in to_audience.text and "Họp chi bộ lúc 14 giờ" in to_audience.text
    nothing = fragment(admin, "/notifications/compose/preview", "campaign-preview", target="")
    assert nothing.status_code == 422

    page = admin.get("/notifications/compose")
    assert f'value="conference:{conference["id"]}"' in page.text
    campaign = re.search(r'name="campaign" value="([0-9a-f]+)"', page.text).group(1)
    form = {"_csrf_token": form_token(page.text), "unit_id": site["units"]["TU"]["id"], "campaign": campaign,
            "target": f"audience:{audience['id']}", "text": "Họp chi bộ lúc 14 giờ", "urgent": "1"}
    sent = admin.post("/notifications/compose", data=form)
    assert sent.status_code == 200 and "Đã xếp hàng gửi" in sent.text
    with_phone = sum(1 for person in admin.get("/api/v1/people", params={"unit_id": site["units"]["TU"]["id"], "category": "briefer"}).json()["items"])
    assert with_phone == expected
    again = admin.post("/notifications/compose", data=form)  # the same form twice: nothing sent twice
    assert "Đã xếp hàng gửi 0 tin" in again.text
    log = admin.get("/api/v1/units/{}/messages".format(site["units"]["TU"]["id"]), params={"kind": "free_message"}).json()
    assert log["total"] == expected and {item["kind"] for item in log["items"]} == {"free_message"}
    page = admin.get("/notifications/log", params={"kind": "free_message"})
    assert page.status_code == 200 and f'data-total="{expected}"' in page.text
    assert admin.get("/api/v1/units/{}/messages".format(site["units"]["TU"]["id"]), params={"status": "lost"}).status_code == 422


def test_the_withdrawal_notice_is_among_the_templates_and_editable(site):
    admin, tu = site["admin"], site["units"]["TU"]["id"]
    listing = admin.get("/notifications", params={"unit": tu})
    assert 'data-kind="withdrawal" data-channel="console"' in listing.text and "Thông báo rút lời mời" in listing.text
    assert "Withdrawal notice" in admin.get("/notifications", params={"unit": tu}, headers={"Accept-Language": "en"}).text
    edit = admin.get("/notifications/templates/edit", params={"unit": tu, "kind": "withdrawal", "channel": "console"})
    assert edit.status_code == 200 and "không còn trong danh sách mời dự {title}" in edit.text and "<code>{name}</code>" in edit.text


def test_a_template_error_is_shown_and_nothing_saved(site):
    admin, tu = site["admin"], site["units"]["TU"]["id"]
    listing = admin.get("/notifications", params={"unit": tu})
    assert listing.status_code == 200 and 'data-kind="invitation" data-channel="console"' in listing.text
    edit = admin.get("/notifications/templates/edit", params={"unit": tu, "kind": "invitation", "channel": "console"})
    assert edit.status_code == 200 and "Kính mời đồng chí {name}" in edit.text
    token = form_token(edit.text)
    refused = admin.post("/notifications/templates", data={"_csrf_token": token, "unit_id": tu, "kind": "invitation",
                                                           "channel": "console", "body": "Kính mời {ten} dự {title}"})
    assert refused.status_code == 422 and "Biến không có: ten" in refused.text and "Kính mời {ten} dự {title}" in refused.text
    typed = fragment(admin, "/notifications/templates/preview", "template-preview", unit=tu, channel="console", body="Mời {title")
    assert typed.status_code == 422 and "Mẫu không hợp lệ: dấu ngoặc nhọn { } chưa khớp" in typed.text
    assert "expected" not in typed.text  # not Python's English
    good = fragment(admin, "/notifications/templates/preview", "template-preview", unit=tu, channel="console",
                    body="Mời đồng chí {name} dự {title}")
    assert good.status_code == 200 and "Mời đồng chí Nguyễn Văn A dự Hội nghị báo cáo viên tháng" in good.text
    templates = {(t["kind"], t["channel"]): t for t in admin.get(f"/api/v1/units/{tu}/notifications/templates").json()}
    assert templates[("invitation", "console")]["source"] == "default"
    api = admin.post("/api/v1/notifications/templates/preview", json={"unit_id": tu, "channel": "console", "body": "{oops}"})
    assert api.status_code == 422 and "body" in api.json()["fields"]
    saved = admin.post("/notifications/templates", data={"_csrf_token": token, "unit_id": tu, "kind": "invitation",
                                                         "channel": "console", "body": "Mời đồng chí {name} dự {title}"})
    assert saved.status_code == 303
    templates = {(t["kind"], t["channel"]): t for t in admin.get(f"/api/v1/units/{tu}/notifications/templates").json()}
    assert templates[("invitation", "console")]["source"] == "own"
    district = {(t["kind"], t["channel"]): t for t in admin.get(
        f"/api/v1/units/{site['units']['HU-TD']['id']}/notifications/templates").json()}
    assert district[("invitation", "console")]["source"] == "inherited"


def test_notification_settings_are_checked_and_saved(site):
    admin, district = site["admin"], site["units"]["HU-TD"]["id"]
    page = admin.get("/notifications/settings", params={"unit": district})
    assert page.status_code == 200 and 'name="quota_console"' in page.text
    form = {"_csrf_token": form_token(page.text), "unit_id": district, "quiet_start": "22", "quiet_end": "6",
            "reminder_offsets_hours": "2, 48", "channel_order": "console", "quota_console": "500"}
    wrong = admin.post("/notifications/settings", data={**form, "reminder_offsets_hours": "2, ngày mai"})
    assert wrong.status_code == 422 and "Mốc nhắc lịch" in wrong.text and "ví dụ 24, 2." in wrong.text  # the form's way, not [24, 2]
    quiet = admin.post("/notifications/settings", data={**form, "quiet_start": "25"})
    assert quiet.status_code == 422 and "ví dụ 21 và 7" in quiet.text and "[" not in re.search(r'role="alert">([^<]*)<', quiet.text).group(1)
    quota = admin.post("/notifications/settings", data={**form, "quota_console": "-5"})
    assert quota.status_code == 422 and "để trống (null) là không giới hạn" in quota.text
    for name, typed in (("reminder_offsets_hours", "2, ngày mai"), ("quiet_start", "22"), ("quiet_end", "6"),
                        ("channel_order", "console"), ("quota_console", "500")):  # what was typed is shown again, not what is stored
        assert re.search(rf'<input name="{name}"[^>]* value="{typed}"', wrong.text), name
    saved = admin.post("/notifications/settings", data=form)
    assert saved.status_code == 303
    values = admin.get(f"/api/v1/units/{district}/notification-settings").json()
    assert values["quiet_hours"] == [22, 6] and values["reminder_offsets_hours"] == [48, 2] and values["quotas"]["console"] == 500


def test_the_unit_tree_grows_and_a_unit_moves(site):
    admin, units = site["admin"], site["units"]
    page = admin.get("/units")
    token = form_token(page.text)
    created = admin.post("/units", data={"_csrf_token": token, "name": "Xã Liên Bão", "short_code": "X-LB", "kind": "commune",
                                         "parent_id": units["TX-QV"]["id"]})
    assert created.status_code == 303
    duplicate = admin.post("/units", data={"_csrf_token": token, "name": "Xã khác", "short_code": "X-LB", "kind": "commune",
                                           "parent_id": units["TX-QV"]["id"]})
    assert duplicate.status_code == 409 and "đã được dùng" in duplicate.text
    tree = {unit["short_code"]: unit for unit in admin.get(f"/api/v1/units/{units['TU']['id']}/tree").json()}
    moved = admin.post("/units/move", data={"_csrf_token": token, "unit_id": tree["X-LB"]["id"], "new_parent_id": units["HU-TD"]["id"]})
    assert moved.status_code == 303
    tree = {unit["short_code"]: unit for unit in admin.get(f"/api/v1/units/{units['TU']['id']}/tree").json()}
    assert tree["X-LB"]["parent"] == units["HU-TD"]["id"] and tree["X-LB"]["path"].startswith(units["HU-TD"]["path"])
    cycle = admin.post("/units/move", data={"_csrf_token": token, "unit_id": units["HU-TD"]["id"], "new_parent_id": tree["X-LB"]["id"]})
    assert cycle.status_code == 409 and "chính nó" in cycle.text
    assert 'data-unit="X-LB"' in admin.get("/units").text


def test_the_planning_pages_unit_choice_goes_down_the_tree(site):
    """The dashboard, calendar and list offer the actor's units and one level below; a district
    chosen offers its communes, a commune chosen stands under its district, not alone at the end."""
    admin, units = site["admin"], site["units"]
    assert admin.post("/units", data={"name": "Đảng ủy xã Nội Duệ", "short_code": "HU-TD-ND", "kind": "commune",
                                      "parent_id": units["HU-TD"]["id"], "timezone": ""}).status_code == 303
    tree = {unit["short_code"]: unit for unit in admin.get(f"/api/v1/units/{units['TU']['id']}/tree").json()}
    commune = tree["HU-TD-ND"]["id"]

    def offered(path, unit):
        select = re.search(r'<select name="unit">(.*?)</select>', admin.get(path, params={"unit": unit}).text, re.S).group(1)
        return [(int(value), name.strip()) for value, name in re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', select)]

    for path in ("/", "/calendar", "/conferences"):
        assert commune not in [value for value, _name in offered(path, units["TU"]["id"])], path
        district = offered(path, units["HU-TD"]["id"])
        assert (commune, "· · Đảng ủy xã Nội Duệ") in district, (path, district)
        down = offered(path, commune)
        ids = [value for value, _name in down]
        assert ids.index(units["HU-TD"]["id"]) < ids.index(commune) < ids.index(units["TX-QV"]["id"]), (path, down)


def test_the_audit_log_filters_by_action(site):
    admin = site["admin"]
    everything = admin.get("/audit")
    assert everything.status_code == 200 and 'data-action="person.create"' in everything.text
    moves = admin.get("/audit", params={"action": "unit.move"})
    actions = set(re.findall(r'data-action="([^"]+)"', moves.text))
    assert actions == {"unit.move"}
    assert re.search(r"<summary>Dữ liệu kỹ thuật</summary><code>old_parent: \d+; new_parent: \d+</code>", moves.text)  # what moved where
    assert admin.get("/audit", params={"since": "khong-phai-ngay"}).status_code == 422
    future = admin.get("/audit", params={"since": "2099-01-01"})
    assert "data-action=" not in future.text


def test_the_audit_log_says_in_words_what_was_done_to_what(site):
    """A person reads "Thêm người dự" on "Người dự #3", not the codes person.create and person."""
    admin = site["admin"]
    vietnamese = admin.get("/audit").text
    row = re.search(r'<tr data-action="person.create">(.*?)</tr>', vietnamese, re.S).group(1)
    assert "Thêm người dự" in row and "Người dự #" in row and "person" not in row
    assert '<option value="staff_user" >Tài khoản cán bộ</option>' in vietnamese
    assert ">Thêm người dự</option>" in vietnamese  # the action filter too
    assert "<code>person" not in vietnamese
    english = admin.get("/audit", headers={"Accept-Language": "en"}).text
    row = re.search(r'<tr data-action="person.create">(.*?)</tr>', english, re.S).group(1)
    assert "Added a person" in row and "Person #" in row
    assert ">Object type<" in english and ">Audiences<select" not in english


def test_every_admin_page_needs_a_session_and_answers_in_english_too(site):
    anonymous = httpx.Client(base_url=site["base"], timeout=10)
    for path in ("/people", "/audiences", "/units", "/users", "/users/tokens", "/plugins", "/notifications",
                 "/notifications/compose", "/notifications/log", "/notifications/settings", "/audit"):
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next="), path
        page = site["admin"].get(path, headers={"Accept-Language": "en"})
        assert page.status_code == 200, path
    english = clients.signed_in(site["base"], "admin", PASSWORD, headers={"Accept-Language": "en"})
    assert "People" in english.get("/people").text and "Người dự" not in english.get("/people").text


class ProbeChannelPlugin:
    """A throw-away channel plugin: figures for its own channel, read from the database (it
    returns a coroutine, as a plugin that reads the database does), and a settings panel."""

    @hookimpl
    def notification_preview_parts(self, unit, channel, subject, body, recipients):
        async def parts():
            from core.tables import Unit

            row = await Unit.select(Unit.short_code).where(Unit.id == unit["id"]).first()
            return [{"label": "Số tin thăm dò", "value": f"{len(body)} ký tự × {recipients} ({row['short_code']})"},
                    {"label": "<b>không phải HTML</b>", "value": "an toàn"}, {"broken": "no label"}]

        return parts() if channel == "probe" else []

    @hookimpl
    def channel_settings_panels(self, unit):
        return [{"title": "Cổng thăm dò", "html": f'<p class="probe-panel">Tên gửi của {unit["short_code"]}</p>'}]


class BrokenPlugin:
    @hookimpl
    def notification_preview_parts(self, unit, channel, subject, body, recipients):
        raise RuntimeError("a plugin's bug")


async def test_channel_plugins_add_preview_figures_and_settings_panels_where_they_are_on(db, tmp_path):
    from core.plugins import build_plugin_host
    from tests.factories import SYSTEM, make_tree
    from web.hook_parts import preview_parts, settings_panels
    from web.pages import template_environment

    toml = tmp_path / "plugins.toml"
    toml.write_text('[plugins.probe]\ndefault = "off"\n[plugins.broken]\ndefault = "on"\n')
    host = build_plugin_host(plugins_toml=toml, extra=[("probe", ProbeChannelPlugin()), ("broken", BrokenPlugin())], discover=False)
    tree = await make_tree()
    district, sibling = tree["district_a"], tree["district_b"]
    await host.set_state(SYSTEM, district["id"], "probe", "on")

    parts = await preview_parts(host, district, channel="probe", subject="", body="Kính mời", recipients=12)
    assert parts == [{"label": "Số tin thăm dò", "value": "8 ký tự × 12 (HU-TD)", "plugin": "probe"},
                     {"label": "<b>không phải HTML</b>", "value": "an toàn", "plugin": "probe"}]  # the broken part is dropped
    assert await preview_parts(host, district, channel="sms", subject="", body="Kính mời", recipients=12) == []
    assert await preview_parts(host, sibling, channel="probe", subject="", body="Kính mời", recipients=12) == []  # off there
    assert [panel["title"] for panel in await settings_panels(host, district)] == ["Cổng thăm dò"]
    assert await settings_panels(host, sibling) == []

    html = template_environment([]).get_template("admin/campaign_preview.html").render(
        error="", parts=parts, labels={}, result={"recipients": 12, "channel": "probe", "channel_label": "Thăm dò", "subject": "",
                                                  "body": "Kính mời", "estimated_cost": 0.0, "quota": None})
    assert "8 ký tự × 12 (HU-TD)" in html and "&lt;b&gt;không phải HTML&lt;/b&gt;" in html


@pytest.mark.sqlite_only  # browser tests run on one database; skipped before Chromium starts
def test_people_search_and_audience_preview_update_as_you_type_in_chromium(site):
    """In headless Chromium on a phone-sized screen: the directory narrows as a name is typed
    without diacritics, and the audience builder's count follows the ticked boxes. Chromium is
    started and stopped here, not by the session's ``browser`` fixture: Playwright's sync API
    keeps an event loop running in this thread while it lives, and the async tests after this
    module could not start theirs."""
    from tests.browser import has_horizontal_overflow, screenshot

    with signed_in_phone(site, "/people") as page:
        page.wait_for_function("() => !!window.htmx")
        assert page.locator("#people-results .list-item").count() >= 4
        page.fill("#people-q", "nguyen van")
        page.wait_for_function("() => document.querySelector('#people-results [data-total]').dataset.total === '1'")
        assert page.locator("#people-results .list-item").all_inner_texts()[0].startswith("Nguyễn Văn An")
        assert "q=nguyen+van" in page.url or "q=nguyen%20van" in page.url  # the address keeps the search
        assert not has_horizontal_overflow(page)
        screenshot(page, "pages-admin-people-search")

        page.goto(f"{site['base']}/audiences/new")
        page.wait_for_selector("#audience-preview [data-count]")
        everyone = int(page.locator("#audience-preview [data-count]").get_attribute("data-count"))
        page.check("input[name=categories][value=cadre]")
        page.wait_for_function(f"() => document.querySelector('#audience-preview [data-count]').dataset.count !== '{everyone}'")
        cadres = int(page.locator("#audience-preview [data-count]").get_attribute("data-count"))
        assert 1 <= cadres < everyone and "Lê Văn Cường" in page.inner_text("#audience-preview")
        page.fill("input[name=q]", "nguyen van an")
        page.click("#picker-results button:has-text('Thêm')")
        page.wait_for_function(f"() => document.querySelector('#audience-preview [data-count]').dataset.count === '{cadres + 1}'")
        assert "Nguyễn Văn An" in page.inner_text("#include-list")
        assert not has_horizontal_overflow(page)
        screenshot(page, "pages-admin-audience-preview")


def test_the_campaign_preview_follows_the_text_as_it_is_typed_in_chromium(site):
    """The preview of a free message shows the text while it is typed (no need to leave the box),
    and htmx reads every trigger of the compose form (no syntax error in the console)."""
    from tests.browser import has_horizontal_overflow

    console = []
    with signed_in_phone(site, "/notifications/compose", console) as page:
        page.wait_for_function("() => !!window.htmx")
        page.select_option("select[name=target]", f"conference:{site['conference']['id']}")
        page.wait_for_selector("#campaign-preview [data-recipients]")
        page.type("textarea[name=text]", "Mời các đồng chí dự họp")  # focus stays in the box: no change event
        page.wait_for_function(
            "() => (document.querySelector('#campaign-preview .message-body') || {}).textContent?.includes('dự họp')")
        assert not [text for text in console if "htmx:syntax:error" in text], console
        assert not has_horizontal_overflow(page)


def test_a_table_on_a_phone_keeps_dates_and_badges_whole_in_chromium(site):
    """At 360 px the attendance history of a person breaks no date ("05/1 2/20 26") and no
    badge: the table scrolls inside its frame instead, and the page itself does not."""
    from tests.browser import has_horizontal_overflow

    with signed_in_phone(site, f"/people/{site['people']['Nguyễn Văn An']['id']}") as page:
        page.wait_for_selector(".table-wrap td")
        lines = page.evaluate("""() => {
            const lines = (element) => {  // the lines its text takes: distinct tops of the text's boxes
                const range = document.createRange(); range.selectNodeContents(element);
                return new Set([...range.getClientRects()].map((box) => Math.round(box.top))).size;
            };
            const date = [...document.querySelectorAll('.table-wrap td')].find((cell) => /\\d\\d\\/\\d\\d\\/\\d{4}/.test(cell.textContent));
            return {date: lines(date), badge: lines(document.querySelector('.table-wrap td .badge')),
                    heading: Math.max(...[...document.querySelectorAll('.table-wrap th')].map(lines))};
        }""")
        assert lines["date"] <= 2 and lines["badge"] == 1 and lines["heading"] == 1, lines  # "05/12/2030" and "08:00" at most
        assert not has_horizontal_overflow(page)


async def test_an_audience_campaign_keeps_opt_outs_quotas_and_quiet_hours(db, tmp_path, monkeypatch):
    """The service behind the compose page's audience target: one message per person on the
    console channel, people who opted out and those past the monthly quota left out, quiet
    hours respected unless urgent, the same form key never queued twice."""
    import datetime as dt

    from core import clock, notifications
    from core.services import audiences
    from core.tables import Job, Message
    from tests.core.flows import make_people
    from tests.factories import SYSTEM, make_tree

    monkeypatch.setenv("HOINGHI_CONSOLE_CHANNEL", "1")
    clock.set_now(dt.datetime(2030, 3, 1, 15, 0, tzinfo=dt.timezone.utc))  # 22:00 in Hà Nội: quiet hours
    host = build_plugin_host(plugins_toml=tmp_path / "none.toml", discover=False)
    tree = await make_tree()
    people = await make_people(tree["district_a"], 4)
    audience = await audiences.create_audience(SYSTEM, unit_id=tree["district_a"]["id"], name="BCV",
                                               rules={"categories": ["briefer"]})
    await notifications.opt_out(people[0]["id"], "console")
    await notifications.set_unit_setting(SYSTEM, tree["district_a"]["id"], "notifications.quota.console", 2)

    counts = await notifications.queue_audience_messages(SYSTEM, host, audience_id=audience["id"], text="Họp lúc 14 giờ",
                                                         campaign="form-1")
    assert counts == {"queued": 2, "duplicates": 0, "no_channel": 0, "opted_out": 1, "over_quota": 1}
    queued = await Message.select().where(Message.kind == "free_message")
    assert {row["body"] for row in queued} == {"Họp lúc 14 giờ"} and people[0]["id"] not in {row["person"] for row in queued}
    assert {row["send_after"] for row in queued} == {dt.datetime(2030, 3, 2, 0, 0, tzinfo=dt.timezone.utc)}  # 07:00 local
    assert await Job.exists().where(Job.kind == "send_messages")
    again = await notifications.queue_audience_messages(SYSTEM, host, audience_id=audience["id"], text="Họp lúc 14 giờ",
                                                        campaign="form-1")
    assert again["queued"] == 0 and again["duplicates"] == 2
    preview = await notifications.campaign_preview(SYSTEM, host, kind="free_message", audience_id=audience["id"], text="Xin chào")
    assert preview["recipients"] == 4 and preview["channel"] == "console" and preview["body"] == "Xin chào"
    assert preview["quota"] == {"limit": 2, "left": 0}


def test_the_directory_pages_no_further_than_a_search_can_read(site):
    admin, units = site["admin"], site["units"]
    for offset in (10_001, 2**63 - 1, 10**30):
        api = admin.get("/api/v1/people", params={"unit_id": units["TU"]["id"], "offset": offset})
        assert api.status_code == 422 and "gõ thêm để thu hẹp" in api.json()["error"], api.text
        page = admin.get("/people", params={"unit": units["TU"]["id"], "offset": offset})
        assert page.status_code == 422 and "gõ thêm để thu hẹp" in page.text
    assert admin.get("/api/v1/people", params={"unit_id": units["TU"]["id"], "offset": 10_000}).status_code == 200
