"""The organiser's conference pages over real HTTP against a real ``hoinghi serve`` (both
databases): create through the form, see it on the calendar and the dashboard, build it,
publish it, record attendance, export; errors beside the fields; another unit's organiser gets 404."""

import io
import re

import httpx
import pytest

from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server
from tests.web import clients

pytestmark = pytest.mark.timeout(240)
PASSWORD = "mat-khau-quan-tri-dai"
# the servers' clock: Sunday 1 March 2030, 09:00 in Hà Nội
NOW = "2030-03-01T09:00:00+07:00"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("conference-pages")
    with empty_database(tmp_path) as env:
        env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), **env, "HOINGHI_NOW": NOW, "HOINGHI_CONSOLE_CHANNEL": "1"}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        run_cli("unit", "add", "--name", "Thị ủy Quế Võ", "--code", "TX-QV", "--kind", "district", "--parent", "TU", env=env)
        run_cli("user", "add", "quevo", "--password", PASSWORD, env=env)
        run_cli("user", "grant", "quevo", "organiser", "TX-QV", env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            admin = clients.signed_in(base, "admin", PASSWORD)
            root = admin.get("/api/v1/units").json()[0]
            people = [admin.post("/api/v1/people", json={"unit_id": root["id"], "full_name": name, "categories": ["briefer"]}).json()
                      for name in ("Trần Thị Hoa", "Lê Văn Bình", "Nguyễn Văn An")]
            audience = admin.post("/api/v1/audiences", json={"unit_id": root["id"], "name": "Báo cáo viên toàn tỉnh",
                                                             "rules": {"categories": ["briefer"]}}).json()
            yield {"base": base, "root": root, "people": people, "audience": audience}


def session(served, username="admin") -> httpx.Client:
    return clients.signed_in(served["base"], username, PASSWORD)


def new_conference_form(served, **changes) -> dict:
    form = {"unit_id": str(served["root"]["id"]), "title": "Hội nghị báo cáo viên tháng 3", "kind": "periodic_briefing",
            "format": "in_person", "date": "2030-03-03", "start_time": "08:00", "end_time": "11:00", "timezone": "",
            "description": "Thông tin thời sự", "venue_name": "Hội trường Tỉnh ủy", "venue_address": "Số 1 Lý Thái Tổ",
            "venue_online_url": "", "audience_ids": str(served["audience"]["id"]), "repeat": "none", "repeat_count": ""}
    form.update(changes)
    return form


def created_id(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text[:2000]
    return int(re.fullmatch(r"/conferences/(\d+)", response.headers["location"]).group(1))


def error_beside(html: str, field: str) -> str:
    """The message in the error slot of a field (one field of that name carries one)."""
    shown = [text for text in re.findall(rf'data-error-for="{field}"[^>]*>([^<]*)<', html) if text]
    assert len(shown) == 1, f"error slots of {field}: {shown}"
    return shown[0]


def test_an_organiser_creates_builds_publishes_and_takes_the_roll_call(served):
    admin = session(served)
    dashboard = admin.get("/")
    assert dashboard.status_code == 200 and "Tổng quan" in dashboard.text and 'lang="vi"' in dashboard.text

    # refused: errors beside the fields, in Vietnamese, the typed values kept
    refused = admin.post("/conferences/new", data=new_conference_form(served, title="", end_time="07:00"))
    assert refused.status_code == 422
    assert error_beside(refused.text, "title") == "Tên hội nghị không được để trống."
    bad_time = admin.post("/conferences/new", data=new_conference_form(served, start_time="8 giờ"))
    assert bad_time.status_code == 422 and "HH:mm" in error_beside(bad_time.text, "start_time")
    assert 'value="Hội trường Tỉnh ủy"' in bad_time.text
    backwards = admin.post("/conferences/new", data=new_conference_form(served, end_time="07:00"))
    assert backwards.status_code == 422 and error_beside(backwards.text, "end_time") == "Giờ kết thúc phải sau giờ bắt đầu."

    conference_id = created_id(admin.post("/conferences/new", data=new_conference_form(served)))
    editor = admin.get(f"/conferences/{conference_id}")
    assert editor.status_code == 200 and "Đã tạo hội nghị (bản nháp)." in editor.text
    assert "03/03/2030 08:00" in editor.text and "Hội trường Tỉnh ủy" in editor.text
    reach_url = re.search(r'id="reach"[^>]*hx-get="([^"]+)" hx-trigger="load"', editor.text).group(1).replace("&amp;", "&")
    assert ">3 người<" in admin.get(reach_url).text  # the chosen audience's members, counted when the page shows

    calendar = admin.get("/calendar", params={"month": "2030-03"})
    day = re.search(r'data-date="2030-03-03">(.*?)</div>', calendar.text, re.S).group(1)
    assert f"/conferences/{conference_id}" in day and "08:00 Hội nghị báo cáo viên tháng 3" in day
    assert "Tháng 03/2030" in calendar.text and "?unit=%d&amp;month=2030-04" % served["root"]["id"] in calendar.text
    dashboard = admin.get("/").text
    upcoming = dashboard.split('data-testid="upcoming"')[1]
    assert "Hội nghị báo cáo viên tháng 3" in upcoming
    drafts = dashboard.split('data-testid="drafts"')[1].split('data-testid="without-materials"')[0]
    assert f"/conferences/{conference_id}" in drafts
    assert f"/conferences/{conference_id}#materials" in dashboard  # within seven days and no material yet
    listed = admin.get("/conferences", params={"status": "draft", "kind": "periodic_briefing"}).text
    assert f"/conferences/{conference_id}" in listed
    assert f"/conferences/{conference_id}" not in admin.get("/conferences", params={"kind": "study"}).text
    assert f"/conferences/{conference_id}" not in admin.get("/conferences", params={"when": "past"}).text

    # agenda, speaker, a second venue; a session outside the conference's hours is refused beside its field
    outside = admin.post(f"/conferences/{conference_id}/sessions", data={"session_title": "Thời sự", "session_start": "13:00"})
    assert outside.status_code == 422 and "trong thời gian hội nghị" in error_beside(outside.text, "session_start")
    assert admin.post(f"/conferences/{conference_id}/sessions", data={
        "session_title": "Thông tin thời sự trong nước và quốc tế", "session_topic": "Thời sự", "session_start": "08:00",
        "session_end": "09:30"}).status_code == 303
    session_id = int(re.search(rf'/conferences/{conference_id}/sessions/(\d+)/speakers', admin.get(f"/conferences/{conference_id}").text).group(1))
    assert admin.post(f"/conferences/{conference_id}/sessions/{session_id}/speakers", data={
        "speaker_name": "Nguyễn Văn Bình", "speaker_position": "Phó Trưởng Ban Tuyên giáo"}).status_code == 303
    no_name = admin.post(f"/conferences/{conference_id}/venues", data={"venue_name": "", "venue_address": "x"})
    assert no_name.status_code == 422 and error_beside(no_name.text, "venue_name") == "Tên điểm cầu không được để trống."
    assert admin.post(f"/conferences/{conference_id}/venues", data={"venue_name": "Điểm cầu Quế Võ"}).status_code == 303
    editor = admin.get(f"/conferences/{conference_id}").text
    venue_id = int(re.findall(rf'/conferences/{conference_id}/venues/(\d+)/edit', editor)[-1])
    bad_link = admin.post(f"/conferences/{conference_id}/venues/{venue_id}/edit", data={"venue_name": "Điểm cầu Quế Võ",
                                                                                       "venue_online_url": "hop.example.vn"})
    assert bad_link.status_code == 422 and "https://" in error_beside(bad_link.text, "venue_online_url")
    assert admin.post(f"/conferences/{conference_id}/venues/{venue_id}/edit", data={
        "venue_name": "Điểm cầu Thị ủy Quế Võ", "venue_address": "Phố Mới"}).status_code == 303
    editor = admin.get(f"/conferences/{conference_id}").text
    assert "Đã lưu điểm cầu." in editor and "Điểm cầu Thị ủy Quế Võ</strong> · Phố Mới" in editor
    assert "Nguyễn Văn Bình, Phó Trưởng Ban Tuyên giáo" in editor and "08:00–09:30" in editor
    renamed = admin.post(f"/conferences/{conference_id}/edit", data={**new_conference_form(served), "title": "Hội nghị BCV tháng 3",
                                                                     "version": "1"})
    assert renamed.status_code == 409 and "người khác sửa" in renamed.text  # the version moved with the agenda changes
    version = re.search(r'name="version" value="(\d+)"', editor).group(1)
    assert admin.post(f"/conferences/{conference_id}/edit", data={**new_conference_form(served), "title": "Hội nghị BCV tháng 3",
                                                                  "version": version}).status_code == 303

    # live audience count (htmx fragment)
    reach = admin.get("/conferences/reach", params={"audience_ids": [served["audience"]["id"]]}, headers={"HX-Request": "true"})
    assert reach.status_code == 200 and ">3 người<" in reach.text

    # a numbered document through the streamed upload the page's script uses
    uploaded = admin.post(f"/api/v1/conferences/{conference_id}/materials", content=b"%PDF-1.4\n%%EOF\n", params={
        "title": "Công văn tăng cường tuyên truyền miệng", "kind": "cong_van", "filename": "978-CV-TU.pdf",
        "official_number": "978-CV/TU", "official_date": "2030-02-14", "access": "audience"})
    assert uploaded.status_code == 201, uploaded.text
    forged = httpx.post(f"{served['base']}/api/v1/conferences/{conference_id}/materials", cookies=admin.cookies,
                        params={"title": "Giả", "kind": "other", "filename": "x.pdf"}, content=b"%PDF-1.4\n")
    assert forged.status_code == 403  # the session alone is not enough: the page's script sends the token in a header
    panel = admin.get(f"/conferences/{conference_id}/materials", headers={"HX-Request": "true"}).text
    assert "Số 978-CV/TU ngày 14/02/2030" in panel and f"/api/v1/materials/{uploaded.json()['id']}/download" in panel
    assert f"/conferences/{conference_id}#materials" not in admin.get("/").text

    # publish: invitations from the audience, counts on the editor
    published = admin.post(f"/conferences/{conference_id}/publish")
    assert published.status_code == 303
    editor = admin.get(f"/conferences/{conference_id}").text
    assert "Đã công bố hội nghị" in editor and 'data-rsvp="pending">3<' in editor and "Trần Thị Hoa" in editor
    again = admin.post(f"/conferences/{conference_id}/publish")
    assert again.status_code == 409 and "Chỉ công bố được bản nháp" in again.text
    assert "Lời mời chưa trả lời: 3" in admin.get("/").text
    found = admin.get(f"/conferences/{conference_id}/invitations", params={"rsvp": "pending", "q": "hoa"}).text
    assert "<html" in found and "Trần Thị Hoa" in found and "Lê Văn Bình" not in found
    live = admin.get(f"/conferences/{conference_id}/invitations", headers={"HX-Request": "true"}).text
    assert "<html" not in live and 'data-rsvp="pending">3<' in live and "Lê Văn Bình" in live

    # roll-call: a record through the form, one through htmx, an excuse refused without a reason, then with one
    hoa, binh, an = served["people"]
    assert admin.post(f"/conferences/{conference_id}/rollcall/record", data={"person_id": hoa["id"]}).status_code == 303
    board = admin.post(f"/conferences/{conference_id}/rollcall/record", data={"person_id": binh["id"]}, headers={"HX-Request": "true"})
    assert board.status_code == 200 and "<html" not in board.text and 'data-count="present">2<' in board.text
    no_reason = admin.post(f"/conferences/{conference_id}/rollcall/excuse", data={"person_id": an["id"], "reason": ""},
                           headers={"HX-Request": "true"})
    assert no_reason.status_code == 200 and "Cần ghi lý do vắng." in no_reason.text
    stranger = admin.post(f"/conferences/{conference_id}/rollcall/record", data={"person_id": "abc"}, headers={"HX-Request": "true"})
    assert stranger.status_code == 200 and "số nguyên" in stranger.text
    admin.post(f"/conferences/{conference_id}/rollcall/excuse", data={"person_id": an["id"], "reason": "Đi công tác"})
    page = admin.get(f"/conferences/{conference_id}/rollcall").text
    assert f'data-live="/api/v1/conferences/{conference_id}/live"' in page
    by_venue = page.split('data-testid="by-venue"')[1].split("</table>")[0]  # two venues: a line per venue
    assert re.search(r"Chưa xếp điểm cầu</td>\s*<td>3</td><td>2</td><td>1</td><td>0</td><td>0</td>", by_venue)
    assert re.search(rf'data-person="{an["id"]}" data-status="excused"', page) and "Đi công tác" in page
    only_excused = admin.get(f"/conferences/{conference_id}/rollcall/board", params={"status": "excused"}).text
    assert "Nguyễn Văn An" in only_excused and "Trần Thị Hoa" not in only_excused
    export_link = re.search(r'href="(/api/v1/conferences/\d+/rollcall\.xlsx)"', page).group(1)
    export = admin.get(export_link)
    assert export.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export.content)).active
    assert {"Trần Thị Hoa", "Lê Văn Bình", "Nguyễn Văn An"} <= {cell.value for row in sheet.iter_rows() for cell in row}

    # end, with confirmation on the page's button
    assert "Kết thúc hội nghị? Người chưa điểm danh" in admin.get(f"/conferences/{conference_id}").text
    assert admin.post(f"/conferences/{conference_id}/end").status_code == 303
    assert "Đã kết thúc" in admin.get(f"/conferences/{conference_id}").text


def test_a_monthly_series_from_the_form(served):
    admin = session(served)
    form = new_conference_form(served, title="Hội nghị báo cáo viên định kỳ", date="2030-03-12", repeat="monthly_weekday",
                               repeat_count="3")
    first = created_id(admin.post("/conferences/new", data=form))
    editor = admin.get(f"/conferences/{first}").text
    assert "3 kỳ đã lên lịch" in editor and "12/03/2030 08:00" in editor
    assert "(Hàng tháng, Thứ Ba tuần thứ 2, 3 lần)" in editor and "FREQ=" not in editor  # the rule in words, not RFC 5545
    english = admin.get(f"/conferences/{first}", headers={"Accept-Language": "en"}).text
    assert "(Monthly, Tuesday of week 2, 3 times)" in english
    april = admin.get("/calendar", params={"month": "2030-04"}).text  # the second Tuesday of April is the 9th
    assert "Hội nghị báo cáo viên định kỳ" in re.search(r'data-date="2030-04-09">(.*?)</div>', april, re.S).group(1)
    def series_created() -> int:
        entries = admin.get(f"/api/v1/units/{served['root']['id']}/audit", params={"limit": 500}).json()
        return sum(entry["action"] == "series.create" for entry in entries)

    before = series_created()
    online = admin.post("/conferences/new", data={**form, "format": "online", "title": "Chuỗi trực tuyến"})
    assert online.status_code == 422 and "đường dẫn trực tuyến" in error_beside(online.text, "venue_name")
    assert series_created() == before  # the refused occurrence left no half-made series behind
    too_many = admin.post("/conferences/new", data={**form, "repeat_count": "500"})
    assert too_many.status_code == 422 and error_beside(too_many.text, "repeat_count")


def test_last_months_attendance_rate_on_the_dashboard(served):
    admin = session(served)
    root = served["root"]
    february = admin.post("/api/v1/conferences", json={
        "unit_id": root["id"], "title": "Hội nghị tháng 2", "kind": "periodic_briefing", "format": "in_person",
        "starts_at": "2030-02-12T08:00:00+07:00", "ends_at": "2030-02-12T11:00:00+07:00", "venues": [{"name": "Hội trường"}],
        "audience_ids": [served["audience"]["id"]]}).json()
    admin.post(f"/api/v1/conferences/{february['id']}/publish")
    admin.post(f"/api/v1/conferences/{february['id']}/rollcall", json={"person_id": served["people"][0]["id"]})
    rate = re.search(r'data-testid="attendance-rate">([^<]*)<', admin.get("/").text).group(1)
    assert rate == "33%"  # one of three invited
    assert 'data-testid="quota"' not in admin.get("/").text
    assert admin.put(f"/api/v1/units/{root['id']}/settings/notifications.quota.console", json={"value": 5}).status_code == 200
    assert 'data-testid="quota"' not in admin.get("/").text  # 5 of 5 left
    assert admin.put(f"/api/v1/units/{root['id']}/settings/notifications.quota.console", json={"value": 0}).status_code == 200
    assert "sắp hết: còn 0/0 trong tháng" in admin.get("/").text


def test_cancelling_from_the_page_keeps_the_reason(served):
    admin = session(served)
    conference_id = created_id(admin.post("/conferences/new", data=new_conference_form(served, title="Hội nghị sẽ huỷ")))
    editor = admin.get(f"/conferences/{conference_id}").text
    assert "Huỷ hội nghị này?" in editor  # the button asks first
    assert "Bản nháp chưa công bố: không ai được báo huỷ." in editor and 'name="notify"' not in editor
    assert admin.post(f"/conferences/{conference_id}/cancel", data={"reason": "Trùng lịch họp Tỉnh ủy"}).status_code == 303
    editor = admin.get(f"/conferences/{conference_id}").text
    assert "Đã huỷ hội nghị." in editor and "Trùng lịch họp Tỉnh ủy" in editor and 'action="/conferences/%d/edit"' % conference_id not in editor
    twice = admin.post(f"/conferences/{conference_id}/cancel", data={"reason": "x"})
    assert twice.status_code == 409 and "đã huỷ" in twice.text
    assert admin.post(f"/conferences/{conference_id}/edit", data=new_conference_form(served, date="0001-01-01")).status_code == 422


def notice_count(html: str) -> int:
    (shown,) = set(re.findall(r'data-testid="notice-count">\((\d+) người được mời chưa từ chối sẽ nhận\)', html))
    return int(shown)


def test_the_organiser_chooses_to_tell_the_invitees_of_a_cancellation_or_a_change(served):
    admin = session(served)
    told, untold = (created_id(admin.post("/conferences/new", data=new_conference_form(served, title=title)))
                    for title in ("Hội nghị báo tin", "Hội nghị lặng lẽ"))
    for conference_id in (told, untold):
        assert admin.post(f"/conferences/{conference_id}/publish").status_code == 303
    editor = admin.get(f"/conferences/{told}").text
    invitees = int(re.search(r'data-rsvp="pending">(\d+)<', editor).group(1))  # nobody has answered yet
    assert invitees > 1
    assert re.search(r'<input type="checkbox" name="notify" value="1" checked>', editor)  # on unless the organiser unticks it
    assert notice_count(editor) == invitees

    moved = new_conference_form(served, title="Hội nghị báo tin", date="2030-03-04", version=str(
        admin.get(f"/api/v1/conferences/{told}").json()["version"]))
    assert admin.post(f"/conferences/{told}/edit", data={**moved, "notify": "1"}).status_code == 303
    assert f"Đã lưu thay đổi. Thông báo thay đổi sẽ được gửi tới {invitees} người được mời." in admin.get(f"/conferences/{told}").text
    quietly = {**moved, "date": "2030-03-05", "version": str(admin.get(f"/api/v1/conferences/{told}").json()["version"])}
    assert admin.post(f"/conferences/{told}/edit", data=quietly).status_code == 303  # box unticked: the form sends no "notify"
    page = admin.get(f"/conferences/{told}").text
    assert "Đã lưu thay đổi." in page and "Thông báo thay đổi sẽ được gửi" not in page

    assert admin.post(f"/conferences/{told}/cancel", data={"reason": "Trùng lịch", "notify": "1"}).status_code == 303
    assert f"Đã huỷ hội nghị. Thông báo huỷ sẽ được gửi tới {invitees} người được mời." in admin.get(f"/conferences/{told}").text
    assert admin.post(f"/conferences/{untold}/cancel", data={"reason": "Trùng lịch"}).status_code == 303
    page = admin.get(f"/conferences/{untold}").text
    assert "Đã huỷ hội nghị." in page and "Thông báo huỷ sẽ được gửi" not in page


def test_the_notice_choice_in_english(served):
    admin = session(served)
    conference_id = created_id(admin.post("/conferences/new", data=new_conference_form(served, title="Hội nghị tiếng Anh")))
    assert admin.post(f"/conferences/{conference_id}/publish").status_code == 303
    editor = admin.get(f"/conferences/{conference_id}", headers={"Accept-Language": "en"}).text
    assert "Send the cancellation notice" in editor and "Send a change notice if the change is significant" in editor
    assert re.search(r"\(\d+ invitees who have not declined will receive it\)", editor)
    cancelled = admin.post(f"/conferences/{conference_id}/cancel", data={"notify": "1"}, headers={"Accept-Language": "en"})
    assert cancelled.status_code == 303
    assert "invitees will receive it." in admin.get(f"/conferences/{conference_id}", headers={"Accept-Language": "en"}).text


def test_the_pages_labels_name_the_cores_codes():
    from core.services import conferences, invitations, materials, rollcall
    from web.pages import conference_labels as labels

    assert labels.KINDS.keys() == conferences.KINDS.keys() and labels.FORMATS.keys() == conferences.FORMATS.keys()
    assert labels.STATUSES.keys() == conferences.STATUSES.keys()
    assert labels.RSVP.keys() - {"pending"} == invitations.RSVP_ANSWERS.keys()
    assert labels.ATTENDANCE.keys() - {"not_recorded"} == rollcall.STATUSES.keys() and labels.METHODS.keys() == rollcall.METHODS.keys()
    assert labels.MATERIAL_KINDS.keys() == materials.KINDS.keys() and labels.ACCESS.keys() == materials.ACCESS.keys()


def test_another_units_organiser_gets_404_and_english_pages(served):
    admin = session(served)
    conference_id = created_id(admin.post("/conferences/new", data=new_conference_form(served, title="Hội nghị riêng của Tỉnh ủy")))
    other = session(served, "quevo")
    assert other.get("/").status_code == 200
    for path in (f"/conferences/{conference_id}", f"/conferences/{conference_id}/rollcall",
                 f"/conferences/{conference_id}/rollcall/board", f"/conferences/{conference_id}/materials",
                 f"/conferences/{conference_id}/invitations", f"/?unit={served['root']['id']}",
                 f"/calendar?unit={served['root']['id']}"):
        answer = other.get(path)
        assert answer.status_code == 404, path
        assert "Không tìm thấy" in answer.text and "<html" in answer.text
    for path in (f"/conferences/{conference_id}/publish", f"/conferences/{conference_id}/rollcall/record",
                 f"/conferences/{conference_id}/venues", f"/conferences/{conference_id}/edit"):
        assert other.post(path, data={"person_id": "1", "venue_name": "X"}).status_code == 404, path
    assert "Hội nghị riêng của Tỉnh ủy" not in other.get("/calendar", params={"month": "2030-03"}).text
    mine = other.get("/conferences/new").text
    assert "Thị ủy Quế Võ" in mine and "Tỉnh ủy</option>" not in mine
    assert "Báo cáo viên toàn tỉnh" not in other.get("/conferences/audience-choices", params={"unit_id": served["root"]["id"]}).text
    assert "Báo cáo viên toàn tỉnh" in admin.get("/conferences/audience-choices", params={"unit_id": served["root"]["id"]}).text
    foreign_unit = other.post("/conferences/new", data=new_conference_form(served))
    assert foreign_unit.status_code == 404

    anonymous = clients.browser(served["base"])
    assert anonymous.get(f"/conferences/{conference_id}").status_code == 303  # to /login
    english = session(served)
    english.headers["Accept-Language"] = "en"
    page = english.get(f"/conferences/{conference_id}").text
    assert 'lang="en"' in page and ">Publish<" in page and "Agenda" in page and "Draft" in page
    assert "Month 03/2030" in english.get("/calendar", params={"month": "2030-03"}).text
    assert english.get("/calendar", params={"month": "2030-13"}).status_code == 200  # a bad month falls back, never a 500
    assert english.get("/conferences", params={"month": "03/2030"}).status_code == 200
    for params in ({"unit": "abc"}, {"offset": "-5"}, {"unit": str(2**40)}):  # bad input, never sent to the database
        assert english.get("/conferences", params=params).status_code == 400
    assert english.get(f"/conferences/{2**40}").status_code == 404  # an id no conference can have: not found, as in the API
    assert english.post(f"/conferences/{conference_id}/audiences", data={"audience_ids": str(2**40)}).status_code == 422


def test_after_publishing_the_invitation_list_follows_the_audience_on_confirmation(served):
    """Runs last: it adds a briefer to the audience the other tests count."""
    admin = session(served)
    conference_id = created_id(admin.post("/conferences/new", data=new_conference_form(served, title="Hội nghị có người mới")))
    assert admin.post(f"/conferences/{conference_id}/publish").status_code == 303
    newcomer = admin.post("/api/v1/people", json={"unit_id": served["root"]["id"], "full_name": "Phạm Thị Mới",
                                                 "categories": ["briefer"]}).json()
    asked = admin.post(f"/conferences/{conference_id}/invitations/re-resolve")
    assert asked.status_code == 409 and 'data-testid="re-resolve-preview"' in asked.text and "Phạm Thị Mới" in asked.text
    assert 'name="confirm" value="1"' in asked.text
    applied = admin.post(f"/conferences/{conference_id}/invitations/re-resolve", data={"confirm": "1"})
    assert applied.status_code == 303
    editor = admin.get(f"/conferences/{conference_id}").text
    assert "Đã cập nhật danh sách mời: thêm 1, rút 0." in editor and 'data-rsvp="pending">4<' in editor
    assert newcomer["full_name"] in editor


def test_the_change_history_names_what_changed_in_words(served):
    admin = session(served)
    conference_id = created_id(admin.post("/conferences/new", data=new_conference_form(served, title="Hội nghị có lịch sử")))
    assert admin.post(f"/conferences/{conference_id}/edit", data=new_conference_form(
        served, title="Hội nghị có lịch sử thay đổi", start_time="08:30")).status_code == 303
    assert admin.post(f"/conferences/{conference_id}/sessions", data={"session_title": "Thời sự", "session_start": "08:30"}).status_code == 303
    page = admin.get(f"/conferences/{conference_id}")
    assert page.status_code == 200, page.text[-3000:]
    history = re.search(r"<details class=\"card history\">(.*?)</details>", page.text, re.S).group(1)
    assert "lập hội nghị" in history and "thêm phiên" in history and "tên hội nghị" in history and "giờ bắt đầu" in history
    assert not re.search(r"created|session_added|starts_at|title", history)
    english = re.search(r'<details class="card history">(.*?)</details>', admin.get(
        f"/conferences/{conference_id}", headers={"Accept-Language": "en"}).text, re.S).group(1)
    assert "conference created" in english and "session added" in english and "start time" in english


def test_a_title_longer_than_its_column_is_refused_beside_its_field(served):
    """PostgreSQL refuses a string longer than its varchar (SQLite would store it): the service
    says so first, on both databases, instead of a 500."""
    admin = session(served)
    refused = admin.post("/conferences/new", data=new_conference_form(served, title="Hội nghị " * 60, description="Đã gõ mô tả"))
    assert refused.status_code == 422 and error_beside(refused.text, "title") == "Dài quá 500 ký tự."
    assert "Đã gõ mô tả" in refused.text
    refused = admin.post("/conferences/new", data=new_conference_form(served, venue_name="Hội trường " * 30))
    assert refused.status_code == 422 and error_beside(refused.text, "venue_name") == "Dài quá 255 ký tự."
    conference_id = created_id(admin.post("/conferences/new", data=new_conference_form(served, title="Hội nghị có phiên dài")))
    refused = admin.post(f"/conferences/{conference_id}/sessions", data={"session_title": "Phiên " * 120, "session_start": "08:00"})
    assert refused.status_code == 422 and error_beside(refused.text, "session_title") == "Dài quá 500 ký tự."
    english = admin.post("/conferences/new", data=new_conference_form(served, title="x" * 501), headers={"Accept-Language": "en"})
    assert english.status_code == 422 and error_beside(english.text, "title") == "Longer than 500 characters."


def test_the_agenda_is_edited_from_the_page(served):
    admin = session(served)
    conference_id = created_id(admin.post("/conferences/new", data=new_conference_form(served, title="Hội nghị sửa chương trình")))
    assert admin.post(f"/conferences/{conference_id}/sessions", data={"session_title": "Thời sự", "session_start": "08:00"}).status_code == 303
    editor = admin.get(f"/conferences/{conference_id}").text
    session_id = int(re.search(rf'/conferences/{conference_id}/sessions/(\d+)/edit', editor).group(1))
    assert admin.post(f"/conferences/{conference_id}/sessions/{session_id}/speakers",
                      data={"speaker_name": "Nguyen Van Binh", "speaker_position": "Phó ban"}).status_code == 303

    # a session retimed outside the conference's hours is refused beside its field, the typed title kept
    outside = admin.post(f"/conferences/{conference_id}/sessions/{session_id}/edit",
                         data={"session_title": "Thông tin thời sự", "session_start": "13:00"})
    assert outside.status_code == 422 and "trong thời gian hội nghị" in error_beside(outside.text, "session_start")
    assert 'value="Thông tin thời sự"' in outside.text
    assert admin.post(f"/conferences/{conference_id}/sessions/{session_id}/edit", data={
        "session_title": "Thông tin thời sự", "session_topic": "Thời sự", "session_start": "08:30", "session_end": "09:30"}
    ).status_code == 303
    editor = admin.get(f"/conferences/{conference_id}")
    assert "Đã lưu phiên." in editor.text and "08:30–09:30" in editor.text and "<strong>Thông tin thời sự</strong>" in editor.text

    speaker_id = int(re.search(rf'/sessions/{session_id}/speakers/(\d+)/edit', editor.text).group(1))
    nameless = admin.post(f"/conferences/{conference_id}/sessions/{session_id}/speakers/{speaker_id}/edit",
                          data={"speaker_name": " ", "speaker_position": "Phó ban"})
    assert nameless.status_code == 422 and error_beside(nameless.text, "speaker_name") == "Cần tên người trình bày."
    assert admin.post(f"/conferences/{conference_id}/sessions/{session_id}/speakers/{speaker_id}/edit", data={
        "speaker_name": "Nguyễn Văn Bình", "speaker_position": "Phó Trưởng Ban Tuyên giáo", "speaker_organisation": "Tỉnh ủy"}
    ).status_code == 303
    speakers = admin.get(f"/api/v1/conferences/{conference_id}").json()["sessions"][0]["speakers"]
    assert [(s["name"], s["position_title"], s["organisation"]) for s in speakers] == [
        ("Nguyễn Văn Bình", "Phó Trưởng Ban Tuyên giáo", "Tỉnh ủy")]

    # a speaker is taken off through the session that names them, not through another conference's path
    other_id = created_id(admin.post("/conferences/new", data=new_conference_form(served, title="Hội nghị khác")))
    assert admin.post(f"/conferences/{other_id}/sessions/{session_id}/speakers/{speaker_id}/remove").status_code == 404
    assert admin.post(f"/conferences/{conference_id}/sessions/{session_id}/speakers/{speaker_id}/remove").status_code == 303
    editor = admin.get(f"/conferences/{conference_id}").text
    assert "Đã bỏ người trình bày." in editor and "Nguyễn Văn Bình" not in editor
    history = admin.get(f"/api/v1/conferences/{conference_id}").json()["changes"]
    assert {"session.title", "session.starts_at", "speaker.name", "speaker_removed"} <= {key for change in history for key in change["changes"]}


def test_a_series_rule_reads_in_words():
    from web.pages.conference_labels import recurrence

    assert recurrence("FREQ=MONTHLY;BYDAY=-1FR;COUNT=6") == "Hàng tháng, Thứ Sáu cuối tháng, 6 lần"
    assert recurrence("FREQ=MONTHLY;BYMONTHDAY=12") == "Hàng tháng, ngày 12"
    assert recurrence("FREQ=WEEKLY;BYDAY=MO;UNTIL=20301231T000000Z") == "Hàng tuần, Thứ Hai, đến 31/12/2030"
    assert recurrence("FREQ=MONTHLY;BYDAY=2TU") == "Hàng tháng, Thứ Ba tuần thứ 2"  # no end
    assert recurrence("FREQ=DAILY;INTERVAL=2") == "FREQ=DAILY;INTERVAL=2"  # a rule made elsewhere, shown as it is
