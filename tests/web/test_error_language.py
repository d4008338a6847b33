"""A refusal speaks the reader's language over real HTTP: the API's message and per-field messages,
with their parameters filled in and their fixed words (a permission, what was refused) translated;
a page shows the English message beside the field; Vietnamese stays the default."""

import re

import httpx
import pytest

from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server
from tests.web import clients

pytestmark = pytest.mark.timeout(180)
PASSWORD = "mat-khau-quan-tri-dai"
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("error-language")
    with empty_database(tmp_path) as env:
        if "HOINGHI_VAR_DIR" not in env:
            env = {**env, "HOINGHI_VAR_DIR": str(tmp_path / "var")}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            admin = clients.signed_in(base, "admin", PASSWORD)
            root = admin.get("/api/v1/units").json()[0]
            district = admin.post("/api/v1/units", json={"name": "Thị ủy Quế Võ", "short_code": "TX-QV", "kind": "district",
                                                         "parent_id": root["id"]}).json()
            organiser = admin.post("/api/v1/users", json={"username": "quevo", "password": PASSWORD}).json()
            admin.post(f"/api/v1/users/{organiser['id']}/roles", json={"unit_id": district["id"], "role": "organiser"}).raise_for_status()
            yield base, {"TU": root, "TX-QV": district}


def signed_in(base: str, username: str = "admin") -> httpx.Client:
    return clients.signed_in(base, username, PASSWORD)


def test_an_english_api_answer_fills_in_the_parameters_of_its_messages(seeded):
    base, units = seeded
    admin = signed_in(base)
    taken = {"name": "Thị ủy mới", "short_code": "TX-QV", "kind": "district", "parent_id": units["TU"]["id"]}
    english = admin.post("/api/v1/units", json=taken, headers=ENGLISH)
    assert english.status_code == 409
    assert english.json() == {"error": "The unit code 'TX-QV' is already taken.", "fields": {"short_code": "The unit code 'TX-QV' is already taken."}}
    vietnamese = admin.post("/api/v1/units", json=taken)
    assert vietnamese.json()["error"] == "Mã đơn vị 'TX-QV' đã được dùng." and vietnamese.json()["fields"]["short_code"] == "Mã đơn vị 'TX-QV' đã được dùng."

    short = admin.post("/api/v1/users", json={"username": "ngan", "password": "ngan"}, headers=ENGLISH)
    assert short.status_code == 422 and short.json()["fields"] == {"password": "The password must have 10 characters at least."}

    several = admin.post("/api/v1/units", json={"name": "", "short_code": "mã có dấu", "kind": "galaxy", "parent_id": units["TU"]["id"]},
                         headers=ENGLISH).json()["fields"]
    assert several["name"] == "The unit name must not be empty."
    assert several["kind"].startswith("Not a valid unit kind: 'galaxy'. Choose one of: ") and "district" in several["kind"]
    assert several["short_code"].startswith("A unit code has only letters without accents")


def test_not_found_and_a_permission_refusal_in_english(seeded):
    base, units = seeded
    admin = signed_in(base)
    missing = admin.get("/api/v1/conferences/999999", headers=ENGLISH)
    assert missing.status_code == 404 and missing.json()["error"] == "Conference not found."
    assert admin.get("/api/v1/conferences/999999").json()["error"] == "Không tìm thấy hội nghị."

    organiser = signed_in(base, "quevo")
    below = {"name": "Xã Phượng Mao", "short_code": "X-PM", "kind": "commune", "parent_id": units["TX-QV"]["id"]}
    refused = organiser.post("/api/v1/units", json=below, headers=ENGLISH)
    assert refused.status_code == 403 and refused.json()["error"] == "You are not allowed to administer the parent unit."
    assert organiser.post("/api/v1/units", json=below).json()["error"] == "Bạn không có quyền quản trị đơn vị cấp trên."


def test_litestar_validation_messages_in_english(seeded):
    base, units = seeded
    admin = signed_in(base)
    unknown = admin.post("/api/v1/units", json={"name": "A", "short_code": "A", "kind": "district", "parent_id": "TU"}, headers=ENGLISH)
    assert unknown.status_code == 400 and unknown.json()["error"] == "The data sent is not valid."
    assert unknown.json()["fields"] == {"parent_id": "Must be a whole number (got text)."}
    assert admin.post("/api/v1/units", json={"name": "A", "short_code": "A", "kind": "district", "parent_id": "TU"}).json() == {
        "error": "Dữ liệu gửi lên không hợp lệ.", "fields": {"parent_id": "Phải là số nguyên (nhận được chuỗi ký tự)."}}
    assert signed_in(base).get("/api/v1/nowhere", headers=ENGLISH).json()["error"] == "Page not found."
    assert clients.browser(base).get("/api/v1/units", headers=ENGLISH).json()["error"] == "Please sign in."


def test_an_english_page_shows_the_english_message_beside_the_field(seeded):
    base, units = seeded
    admin = signed_in(base)
    form = {"name": "Thị ủy mới", "short_code": "TX-QV", "kind": "district", "parent_id": str(units["TU"]["id"])}
    page = admin.post("/units", data=form, headers={**ENGLISH, "Accept": "text/html"})
    assert page.status_code == 409
    label = re.search(r'<label>Unit code (.*?)<input name="short_code"', page.text, re.S)
    assert label and "The unit code &#39;TX-QV&#39; is already taken." in label.group(1), page.text
    vietnamese = admin.post("/units", data=form, headers={"Accept": "text/html"})
    assert "Mã đơn vị &#39;TX-QV&#39; đã được dùng." in vietnamese.text
