"""The whole flow over real HTTP against a served `hoinghi serve` on the test's own database:
an organiser builds and attaches a form through the API, the conference ends (its event reaches
the plugin through the outbox), attendees answer through their personal link on the pages and
the API, the organiser reads results, pages, exports and the core's report."""

from __future__ import annotations

import datetime as dt
import io
import re

from core import clock, jobs
from core.services import tokens, users
from plugins.evaluation.demo import DEMO_CONTENT
from plugins.evaluation.tables import EvaluationAnswer, EvaluationResponse, EvaluationText
from tests.factories import SYSTEM
from tests.plugins.evaluation.conftest import NOW, ended_conference, good_answers
from tests.web import clients

PASSWORD = "mat-khau-dai-du-cho-test"


async def organiser(unit: dict, username: str = "tochuc.tinh") -> str:
    user = await users.create_user(SYSTEM, username=username, password=PASSWORD, full_name="Ban Tuyên giáo")
    await users.grant_role(SYSTEM, user_id=user["id"], unit_id=unit["id"], role="organiser")
    return username


async def attendee(base: str, person_id: int):
    _, plaintext = await tokens.issue_secret_token(SYSTEM, purpose="login_link", subject_type="person", subject_id=person_id,
                                                   ttl=dt.timedelta(days=30))
    client = clients.browser(base)
    assert client.get(f"/i/{plaintext}").status_code == 303
    return client


def csrf(page_html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page_html).group(1)


async def test_the_whole_flow_over_http(db, host, served):
    setup = await ended_conference(people=8, present=7)
    conference_id = setup["conference"]["id"]
    province = setup["tree"]["province"]
    username = await organiser(province)
    await organiser(setup["tree"]["district_b"], "tochuc.quevo")
    clock.set_now(NOW)
    with served() as base:
        staff = clients.signed_in(base, username, PASSWORD)
        api = f"/api/v1/evaluation/units/{province['id']}/templates"
        bad = staff.post(api, json={"name": "Sai", "content": {"title": "P", "sections": [{"questions": [
            {"type": "rating", "text": ""}]}]}})
        assert bad.status_code == 422 and "chưa có nội dung" in bad.json()["error"] and bad.json()["fields"]
        created = staff.post(api, json={"name": "Phiếu đánh giá hội nghị báo cáo viên", "content": DEMO_CONTENT})
        assert created.status_code == 201, created.text
        template = created.json()
        assert staff.get(api).json()[0]["name"] == "Phiếu đánh giá hội nghị báo cáo viên"
        wrong_type = staff.post(f"/api/v1/evaluation/conferences/{conference_id}/forms", json={"template_id": "một"})
        assert wrong_type.status_code == 400 and wrong_type.json()["error"] == "Dữ liệu gửi lên không hợp lệ."
        attached = staff.post(f"/api/v1/evaluation/conferences/{conference_id}/forms",
                              json={"template_id": template["id"], "anonymous": True, "close_after_days": 5})
        assert attached.status_code == 201, attached.text
        form = attached.json()[0]
        days = staff.post(f"/api/v1/evaluation/conferences/{conference_id}/forms", json={"template_id": template["id"], "close_after_days": 0})
        assert days.status_code == 422 and "từ 1 đến 90" in days.json()["error"]
        # another district's organiser: the conference is out of sight
        other = clients.signed_in(base, "tochuc.quevo", PASSWORD)
        assert other.get(f"/api/v1/evaluation/conferences/{conference_id}/forms").status_code == 404

        # the conference ends; the worker delivers conference_ended to the plugin, which opens the form
        assert staff.post(f"/api/v1/conferences/{conference_id}/end").status_code == 200
        for _ in range(3):
            await jobs.run_once(host)
        forms = staff.get(f"/api/v1/evaluation/conferences/{conference_id}/forms").json()
        assert forms[0]["status"] == "open" and forms[0]["is_open"]

        # attendees: the page, then the form, then a second anonymous response refused
        present = setup["present"]
        person = await attendee(base, present[0]["id"])
        listed = person.get("/api/v1/evaluation/me/forms").json()
        assert [f["id"] for f in listed] == [form["id"]] and not listed[0]["answered"]
        page = person.get(f"/me/evaluation/forms/{form['id']}")
        assert page.status_code == 200 and "Nội dung thông tin có thiết thực" in page.text and 'name="q_noi_dung"' in page.text
        missing = person.post(f"/me/evaluation/forms/{form['id']}", data={"_csrf_token": csrf(page.text), "q_noi_dung": "5"})
        assert missing.status_code == 422 and "bắt buộc" in missing.text and 'value="5" checked' in missing.text
        assert await EvaluationResponse.count() == 0
        answered = person.post(f"/me/evaluation/forms/{form['id']}", data={
            "_csrf_token": csrf(page.text), "q_noi_dung": "5", "q_bao_cao_vien": "4", "q_thoi_luong": "1", "q_chu_de": ["0", "2"],
            "q_tai_lieu": "1", "q_to_chuc": "3", "q_kien_nghi": "Đề nghị sửa đường liên thôn.", "q_kien_nghi_topic": "Đời sống nhân dân"})
        assert answered.status_code == 200, answered.text
        key = re.search(r'id="edit-key">([^<]+)<', answered.text).group(1)
        again = person.post(f"/api/v1/evaluation/me/forms/{form['id']}/responses", json={"answers": good_answers()})
        assert again.status_code == 409 and "đã gửi phiếu ẩn danh" in again.json()["error"]
        shown = person.post(f"/me/evaluation/forms/{form['id']}/edit", data={"_csrf_token": csrf(page.text), "edit_key": key})
        assert shown.status_code == 200 and 'value="4" checked' in shown.text and "Cập nhật phiếu" in shown.text
        wrong_key = person.post(f"/me/evaluation/forms/{form['id']}/edit", data={"_csrf_token": csrf(page.text), "edit_key": "x"})
        assert wrong_key.status_code == 422 and "Mã sửa phiếu không đúng" in wrong_key.text
        no_csrf = clients.browser(base)
        no_csrf.cookies.update(person.cookies)
        forged = no_csrf.post(f"/me/evaluation/forms/{form['id']}", data={"q_noi_dung": "1"}, headers={"x-csrftoken": "forged"})
        assert forged.status_code == 403

        # the others answer through the API; bad input is refused whole
        for index, member in enumerate(present[1:6]):
            client = await attendee(base, member["id"])
            if index == 0:
                bad = client.post(f"/api/v1/evaluation/me/forms/{form['id']}/responses", json={"answers": good_answers(noi_dung=7)})
                assert bad.status_code == 422 and "từ 1 đến 5" in bad.json()["fields"]["noi_dung"]
                assert await EvaluationAnswer.count() == 8  # only the first response's rows (with its multiple-choice mark)
            ok = client.post(f"/api/v1/evaluation/me/forms/{form['id']}/responses", json={"answers": good_answers(noi_dung=4)})
            assert ok.status_code == 200 and ok.json()["edit_key"], ok.text
        absent = await attendee(base, setup["absent"][0]["id"])
        assert absent.get(f"/me/evaluation/forms/{form['id']}").status_code == 404
        assert absent.get("/api/v1/evaluation/me/forms").json() == []

        # results, pages, exports
        results = staff.get(f"/api/v1/evaluation/conferences/{conference_id}/forms/{form['id']}/results").json()
        assert results["responses"] == 6 and results["asked"] == 7
        rating = next(item for item in results["questions"] if item["key"] == "noi_dung")
        assert rating["mean"] == 4.17 and rating["n"] == 6
        recommendation = next(item for item in results["questions"] if item["key"] == "kien_nghi")
        text_id = next(a["id"] for a in recommendation["answers"] if a["topic"] == "Đời sống nhân dân")
        marked = staff.patch(f"/api/v1/evaluation/conferences/{conference_id}/texts/{text_id}", json={"status": "answered", "tags": ["giao thông"]})
        assert marked.status_code == 200 and marked.json()["status"] == "answered"
        assert staff.patch(f"/api/v1/evaluation/conferences/{conference_id}/texts/{text_id}", json={"status": "?"}).status_code == 422
        html = staff.get(f"/evaluation/conferences/{conference_id}/forms/{form['id']}")
        assert html.status_code == 200 and html.text.count("<svg") >= 5 and "giao thông" in html.text
        printed = staff.get(f"/evaluation/conferences/{conference_id}/forms/{form['id']}/print")
        assert printed.status_code == 200 and "<svg" in printed.text and 'name="status"' not in printed.text
        csv_export = staff.get(f"/api/v1/evaluation/conferences/{conference_id}/forms/{form['id']}/export.csv")
        assert csv_export.status_code == 200 and "Phiếu trả lời" not in csv_export.text and "Đề nghị sửa đường liên thôn." in csv_export.text
        assert present[0]["full_name"] not in csv_export.text  # anonymous: no names
        xlsx = staff.get(f"/api/v1/evaluation/conferences/{conference_id}/forms/{form['id']}/export.xlsx")
        from openpyxl import load_workbook

        assert load_workbook(io.BytesIO(xlsx.content))["Phiếu trả lời"].max_row == 7
        recommendations = staff.get(f"/evaluation/units/{province['id']}/recommendations")
        assert recommendations.status_code == 200 and "Đề nghị sửa đường liên thôn." in recommendations.text
        assert staff.get(f"/evaluation/conferences/{conference_id}").status_code == 200
        assert staff.get(f"/evaluation/units/{province['id']}").status_code == 200
        assert staff.get(f"/evaluation/units/{province['id']}/speakers").status_code == 200
        # a staff page without a session goes to the sign-in page
        anonymous = clients.browser(base)
        login = anonymous.get(f"/evaluation/conferences/{conference_id}/forms/{form['id']}")
        assert login.status_code == 303 and login.headers["location"].startswith("/login")

        # the core's report carries the plugin's sections
        report = staff.get("/api/v1/reports/attendance", params={"unit_id": province["id"], "period": "month", "year": 2026, "number": 3})
        assert report.status_code == 200, report.text
        sections = {section["key"]: section for section in report.json()["sections"]}
        row = sections["evaluation.conferences"]["rows"][0]
        assert row["responses"] == 6 and row["asked"] == 7 and row["mean_rating"] is not None
        statuses = {r["status"]: r["count"] for r in sections["evaluation.recommendations"]["rows"]}
        assert statuses["answered"] == 1

        # switched off for the unit: every route answers as if it did not exist
        await host.set_state(SYSTEM, province["id"], "evaluation", "off")
        assert staff.get(f"/api/v1/evaluation/conferences/{conference_id}/forms").status_code == 404
        assert person.get(f"/me/evaluation/forms/{form['id']}").status_code == 404
        report = staff.get("/api/v1/reports/attendance", params={"unit_id": province["id"], "period": "month", "year": 2026, "number": 3})
        assert report.json()["sections"] == []


async def test_named_form_over_http_is_edited_until_closing(db, host, served):
    setup = await ended_conference(people=3, present=3, with_session=False)
    conference_id = setup["conference"]["id"]
    province = setup["tree"]["province"]
    username = await organiser(province)
    clock.set_now(NOW)
    with served() as base:
        staff = clients.signed_in(base, username, PASSWORD)
        template = staff.post(f"/api/v1/evaluation/units/{province['id']}/templates", json={"name": "Ngắn", "content": {
            "title": "Phiếu ngắn", "sections": [{"questions": [{"key": "diem", "type": "rating", "text": "Điểm hội nghị", "required": True},
                                                               {"key": "y_kien", "type": "short_text", "text": "Ý kiến"}]}]}}).json()
        form = staff.post(f"/api/v1/evaluation/conferences/{conference_id}/forms", json={"template_id": template["id"], "open_on_end": False}).json()[0]
        opened = staff.post(f"/api/v1/evaluation/conferences/{conference_id}/forms/{form['id']}/open")
        assert opened.status_code == 200 and opened.json()["notified"]["queued"] == 3
        assert staff.post(f"/api/v1/evaluation/conferences/{conference_id}/forms/{form['id']}/open").status_code == 409
        person = await attendee(base, setup["present"][0]["id"])
        first = person.post(f"/api/v1/evaluation/me/forms/{form['id']}/responses", json={"answers": {"diem": 3, "y_kien": "Tốt"}})
        assert first.status_code == 200 and first.json()["edit_key"] is None
        second = person.post(f"/api/v1/evaluation/me/forms/{form['id']}/responses", json={"answers": {"diem": 5}})
        assert second.status_code == 200 and second.json()["updated"]
        page = person.get(f"/me/evaluation/forms/{form['id']}")
        assert 'value="5" checked' in page.text and "Cập nhật phiếu" in page.text
        english = person.get(f"/me/evaluation/forms/{form['id']}", headers={"accept-language": "en"})
        assert "Update my answers" in english.text and "Back to my page" in english.text
        assert await EvaluationResponse.count() == 1 and await EvaluationText.count() == 0
        few = staff.get(f"/evaluation/conferences/{conference_id}/forms/{form['id']}")
        assert few.status_code == 200 and "Chưa đủ 5 phiếu" in few.text and "<svg" not in few.text
        closed = staff.post(f"/api/v1/evaluation/conferences/{conference_id}/forms/{form['id']}/close")
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        late = person.post(f"/api/v1/evaluation/me/forms/{form['id']}/responses", json={"answers": {"diem": 1}})
        assert late.status_code == 409 and "đã đóng" in late.json()["error"]
