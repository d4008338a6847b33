"""The JSON API over real HTTP: sign-in, errors in one shape and in Vietnamese, subtree access."""

import httpx
import pytest

from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server
from tests.web import clients

pytestmark = pytest.mark.timeout(180)
PASSWORD = "mat-khau-quan-tri-dai"


@pytest.fixture
def seeded(tmp_path):
    with empty_database(tmp_path) as env:
        if "HOINGHI_VAR_DIR" not in env:
            env = {**env, "HOINGHI_VAR_DIR": str(tmp_path / "var")}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        run_cli("unit", "add", "--name", "Huyện ủy Tiên Du", "--code", "HU-TD", "--kind", "district", "--parent", "TU", env=env)
        run_cli("unit", "add", "--name", "Thị ủy Quế Võ", "--code", "TX-QV", "--kind", "district", "--parent", "TU", env=env)
        run_cli("user", "add", "quevo", "--password", PASSWORD, env=env)
        run_cli("user", "grant", "quevo", "organiser", "TX-QV", env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            yield base, env


def signed_in(base: str, username: str = "admin") -> httpx.Client:
    return clients.signed_in(base, username, PASSWORD)


def test_sign_in_and_errors_in_one_shape(seeded):
    base, env = seeded
    anonymous = clients.browser(base)
    refused = anonymous.get("/api/v1/units")
    assert refused.status_code == 401 and refused.json()["error"] == "Vui lòng đăng nhập."
    wrong = anonymous.post("/api/v1/auth/login", json={"username": "admin", "password": "sai-mat-khau"})
    assert wrong.status_code == 401 and "không đúng" in wrong.json()["error"]
    admin = signed_in(base)
    cookie = admin.cookies.get("hoinghi_session")
    assert cookie and len(cookie) >= 32
    roots = admin.get("/api/v1/units").json()
    assert [unit["short_code"] for unit in roots] == ["TU"]
    tree = admin.get(f"/api/v1/units/{roots[0]['id']}/tree").json()
    assert [unit["short_code"] for unit in tree] == ["TU", "HU-TD", "TX-QV"]

    bad = admin.post("/api/v1/people", json={"unit_id": tree[1]["id"], "full_name": "Nguyễn Văn An", "phone": "091 23"})
    assert bad.status_code == 422 and "phone" in bad.json()["fields"] and "không hợp lệ" in bad.json()["fields"]["phone"]
    unknown = admin.post("/api/v1/people", json={"unit_id": tree[1]["id"], "full_name": "A", "shoe_size": 42})
    assert unknown.status_code == 400 and unknown.json()["error"] == "Dữ liệu gửi lên không hợp lệ."
    created = admin.post("/api/v1/people", json={"unit_id": tree[1]["id"], "full_name": "Nguyễn Văn An", "phone": "0912 345 678",
                                                 "categories": ["briefer"]})
    assert created.status_code == 201 and created.json()["phone"] == "+84912345678"
    duplicate = admin.post("/api/v1/people", json={"unit_id": tree[1]["id"], "full_name": "Lê Văn Bình", "phone": "0912345678"})
    assert duplicate.status_code == 409 and "Nguyễn Văn An" in duplicate.json()["error"]
    found = admin.get("/api/v1/people", params={"unit_id": roots[0]["id"], "q": "nguyen van a"}).json()
    assert found["total"] == 1 and found["total_exact"] and found["items"][0]["full_name"] == "Nguyễn Văn An"
    renamed = admin.patch(f"/api/v1/people/{created.json()['id']}", json={"full_name": "Nguyễn Văn Ân", "email": "an@example.vn"})
    assert renamed.status_code == 200 and renamed.json()["full_name"] == "Nguyễn Văn Ân" and renamed.json()["phone"] == "+84912345678"
    assert admin.get("/api/v1/people", params={"unit_id": "abc"}).status_code == 400

    other = signed_in(base, "quevo")
    assert other.get(f"/api/v1/people/{created.json()['id']}").status_code == 404  # another branch: invisible
    assert other.get(f"/api/v1/units/{tree[1]['id']}/tree").status_code == 404
    assert other.post("/api/v1/people", json={"unit_id": tree[1]["id"], "full_name": "X"}).status_code == 404

    run_cli("user", "password", "admin", env=env)  # log out everywhere
    assert admin.get("/api/v1/units").status_code == 401


def test_a_conference_from_creation_to_roll_call_export(seeded):
    import io

    from openpyxl import load_workbook

    base, env = seeded
    admin = signed_in(base)
    root = admin.get("/api/v1/units").json()[0]
    person = admin.post("/api/v1/people", json={"unit_id": root["id"], "full_name": "Trần Thị Hoa", "categories": ["briefer"]}).json()
    audience = admin.post("/api/v1/audiences", json={"unit_id": root["id"], "name": "Báo cáo viên", "rules": {"categories": ["briefer"]}})
    assert audience.status_code == 201
    assert admin.get(f"/api/v1/audiences/{audience.json()['id']}/preview").json()["count"] == 1
    naive = admin.post("/api/v1/conferences", json={"unit_id": root["id"], "title": "HN", "kind": "periodic_briefing",
                                                    "format": "in_person", "starts_at": "2030-03-12T08:00:00",
                                                    "ends_at": "2030-03-12T11:00:00"})
    assert naive.status_code == 422 and "starts_at" in naive.json()["fields"]
    conference = admin.post("/api/v1/conferences", json={
        "unit_id": root["id"], "title": "Hội nghị báo cáo viên tháng 3", "kind": "periodic_briefing", "format": "in_person",
        "starts_at": "2030-03-12T08:00:00+07:00", "ends_at": "2030-03-12T11:00:00+07:00",
        "venues": [{"name": "Hội trường Tỉnh ủy", "address": "Số 1"}], "audience_ids": [audience.json()["id"]]})
    assert conference.status_code == 201, conference.text
    conference_id = conference.json()["id"]
    assert admin.post(f"/api/v1/conferences/{conference_id}/publish").json()["status"] == "published"
    listed = admin.get(f"/api/v1/conferences/{conference_id}/invitations").json()
    assert listed["counts"]["pending"] == 1 and listed["items"][0]["person"] == person["id"]
    recorded = admin.post(f"/api/v1/conferences/{conference_id}/rollcall",
                          json={"person_id": person["id"], "at": "2030-03-12T07:55:00+07:00"})
    assert recorded.status_code == 200 and recorded.json()["record"]["status"] == "present"
    stranger = admin.post(f"/api/v1/conferences/{conference_id}/rollcall", json={"person_id": 999999})
    assert stranger.status_code == 404 and "danh sách mời" in stranger.json()["error"]
    export = admin.get(f"/api/v1/conferences/{conference_id}/rollcall.xlsx")
    assert export.status_code == 200
    assert load_workbook(io.BytesIO(export.content)).active["B5"].value == "Trần Thị Hoa"
    admin.post("/api/v1/people/%d/deactivate" % person["id"])
    confirm = admin.post(f"/api/v1/conferences/{conference_id}/invitations/re-resolve")
    assert confirm.status_code == 409 and confirm.json()["preview"]["withdrawn"] == 1
    assert admin.post(f"/api/v1/conferences/{conference_id}/invitations/re-resolve", params={"confirm": "true"}).json()["applied"]


def test_materials_stream_up_and_down_with_their_checks(seeded):
    base, env = seeded
    admin = signed_in(base)
    root = admin.get("/api/v1/units").json()[0]
    conference = admin.post("/api/v1/conferences", json={
        "unit_id": root["id"], "title": "Hội nghị học tập Chỉ thị 30", "kind": "study", "format": "in_person",
        "starts_at": "2030-04-02T08:00:00+07:00", "ends_at": "2030-04-02T11:00:00+07:00", "venues": [{"name": "Hội trường"}]}).json()
    pdf = b"%PDF-1.4\n" + b"0" * 300_000 + b"\n%%EOF\n"
    params = {"title": "Chỉ thị 30-CT/TW", "kind": "chi_thi", "filename": "chỉ thị 30.pdf", "official_number": "30-CT/TW",
              "official_date": "20/01/2024"}
    uploaded = admin.post(f"/api/v1/conferences/{conference['id']}/materials", params=params, content=pdf,
                          headers={"Content-Type": "application/octet-stream"})
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["versions"][0]["mime_type"] == "application/pdf" and uploaded.json()["versions"][0]["size"] == len(pdf)
    secret = admin.post(f"/api/v1/conferences/{conference['id']}/materials", params={**params, "classification": "Mật"}, content=pdf)
    assert secret.status_code == 422 and "Internet" in secret.json()["error"]
    download = admin.get(f"/api/v1/materials/{uploaded.json()['id']}/download")
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["content-disposition"].startswith("inline;")  # a PDF is shown, sandboxed
    assert "sandbox" in download.headers["content-security-policy"]
    other = signed_in(base, "quevo")
    assert other.get(f"/api/v1/materials/{uploaded.json()['id']}/download").status_code == 404
    big = b"%PDF-1.4\n" + b"1" * (11 * 1024 * 1024)  # above Litestar's default body limit, below ours
    version = admin.post(f"/api/v1/materials/{uploaded.json()['id']}/versions", params={"filename": "ban-sua.pdf"}, content=big)
    assert version.status_code == 201, version.text
    assert [v["size"] for v in version.json()["versions"]] == [len(pdf), len(big)]


def test_attendee_personal_link_session_and_rsvp(seeded):
    base, env = seeded
    admin = signed_in(base)
    root = admin.get("/api/v1/units").json()[0]
    person = admin.post("/api/v1/people", json={"unit_id": root["id"], "full_name": "Phạm Văn Mời", "categories": ["briefer"]}).json()
    audience = admin.post("/api/v1/audiences", json={"unit_id": root["id"], "name": "BCV", "rules": {"categories": ["briefer"]}}).json()
    conference = admin.post("/api/v1/conferences", json={
        "unit_id": root["id"], "title": "Hội nghị tháng 5", "kind": "periodic_briefing", "format": "in_person",
        "starts_at": "2030-05-14T08:00:00+07:00", "ends_at": "2030-05-14T11:00:00+07:00", "venues": [{"name": "Hội trường"}],
        "audience_ids": [audience["id"]]}).json()
    admin.post(f"/api/v1/conferences/{conference['id']}/publish")
    link = admin.post(f"/api/v1/people/{person['id']}/login-link").json()["path"]
    attendee = clients.browser(base)
    assert attendee.get("/api/v1/me/conferences").status_code == 401
    opened = attendee.get(link)
    assert opened.status_code == 303 and opened.headers["location"] == "/me"  # the token leaves the address bar
    mine = attendee.get("/api/v1/me/conferences").json()
    assert [row["title"] for row in mine] == ["Hội nghị tháng 5"]
    answered = attendee.post(f"/api/v1/me/invitations/{mine[0]['id']}/rsvp", json={"answer": "excused"})
    assert answered.status_code == 422 and "lý do" in answered.json()["error"]
    answered = attendee.post(f"/api/v1/me/invitations/{mine[0]['id']}/rsvp", json={"answer": "accepted"})
    assert answered.status_code == 200 and answered.json()["rsvp"] == "accepted"
    assert attendee.get("/api/v1/units").status_code == 401  # an attendee session is not a staff session
    assert httpx.get(f"{base}/i/not-a-real-token", timeout=10).status_code == 404


def test_administration_over_http(seeded):
    base, env = seeded
    admin = signed_in(base)
    root = admin.get("/api/v1/units").json()[0]
    listed = admin.get(f"/api/v1/units/{root['id']}/plugins").json()
    assert {row["plugin"] for row in listed} >= {"ical", "sms"}  # the built-in plugins, off until a unit switches them on
    assert all(row["setting"] == "inherit" and not row["enabled"] for row in listed)
    assert admin.put(f"/api/v1/units/{root['id']}/plugins/ghost", json={"state": "on"}).status_code == 422
    user = admin.post("/api/v1/users", json={"username": "tochuc.moi", "password": PASSWORD, "full_name": "Tổ chức mới"})
    assert user.status_code == 201
    assert admin.post(f"/api/v1/users/{user.json()['id']}/roles", json={"unit_id": root["id"], "role": "organiser"}).status_code == 200
    assert admin.post(f"/api/v1/users/{user.json()['id']}/roles", json={"unit_id": root["id"], "role": "king"}).status_code == 422
    organiser = signed_in(base, "tochuc.moi")
    assert organiser.get(f"/api/v1/units/{root['id']}/audit").status_code == 403  # visible, not allowed
    entries = admin.get(f"/api/v1/units/{root['id']}/audit").json()
    assert any(entry["action"] == "role.grant" for entry in entries)
    assert all(isinstance(entry["details"], dict) for entry in entries)  # an object, not the JSON text it is stored as

    template = admin.put("/api/v1/notifications/templates", json={"unit_id": root["id"], "kind": "reminder", "channel": "console",
                                                                  "body": "Nhắc {name}: {title} lúc {start} {ngay}"})
    assert template.status_code == 422 and "ngay" in template.json()["error"]
    assert admin.put(f"/api/v1/units/{root['id']}/settings/notifications.quiet_hours", json={"value": [22, 6]}).status_code == 200
    assert admin.put(f"/api/v1/units/{root['id']}/settings/secret", json={"value": 1}).status_code == 422

    created = admin.post("/api/v1/series", json={
        "unit_id": root["id"], "title": "Hội nghị báo cáo viên định kỳ", "kind": "periodic_briefing", "format": "in_person",
        "rrule": "FREQ=MONTHLY;BYDAY=2TU", "local_start": "2030-01-08T08:00", "duration_minutes": 180,
        "template": {"venues": [{"name": "Hội trường", "address": "Số 1"}]}})
    assert created.status_code == 201, created.text
    bad_rule = admin.post("/api/v1/series", json={
        "unit_id": root["id"], "title": "X", "kind": "other", "format": "in_person", "rrule": "FREQ=SOMETIMES",
        "local_start": "2030-01-08T08:00", "duration_minutes": 60})
    assert bad_rule.status_code == 422 and "rrule" in bad_rule.json()["fields"]
