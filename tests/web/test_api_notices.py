"""The notice choice over the JSON API: cancelling and a significant PATCH tell the invitees
unless ``notify`` is false, and say how many (``notice_recipients``); a draft tells nobody."""

import pytest

from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server
from tests.web import clients

pytestmark = pytest.mark.timeout(180)
PASSWORD = "mat-khau-quan-tri-dai"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("api-notices")
    with empty_database(tmp_path) as env:
        env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), **env, "HOINGHI_NOW": "2030-03-01T09:00:00+07:00"}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            admin = clients.signed_in(base, "admin", PASSWORD)
            root = admin.get("/api/v1/units").json()[0]
            for name in ("Trần Thị Hoa", "Lê Văn Bình", "Nguyễn Văn An"):
                admin.post("/api/v1/people", json={"unit_id": root["id"], "full_name": name, "categories": ["briefer"]})
            audience = admin.post("/api/v1/audiences", json={"unit_id": root["id"], "name": "Báo cáo viên",
                                                             "rules": {"categories": ["briefer"]}}).json()
            yield admin, root, audience


def _conference(admin, root, audience, *, publish=True) -> dict:
    created = admin.post("/api/v1/conferences", json={
        "unit_id": root["id"], "title": "Hội nghị báo cáo viên", "kind": "periodic_briefing", "format": "in_person",
        "starts_at": "2030-03-10T08:00:00+07:00", "ends_at": "2030-03-10T11:00:00+07:00",
        "venues": [{"name": "Hội trường Tỉnh ủy", "address": "Số 1 Lý Thái Tổ"}], "audience_ids": [audience["id"]]})
    assert created.status_code == 201, created.text
    if publish:
        assert admin.post(f"/api/v1/conferences/{created.json()['id']}/publish").status_code == 200
    return created.json()


def test_cancelling_tells_the_invitees_unless_asked_not_to(served):
    admin, root, audience = served
    told = admin.post(f"/api/v1/conferences/{_conference(admin, root, audience)['id']}/cancel", json={"reason": "Trùng lịch"})
    assert told.status_code == 200 and told.json()["status"] == "cancelled" and told.json()["notice_recipients"] == 3
    quiet = admin.post(f"/api/v1/conferences/{_conference(admin, root, audience)['id']}/cancel", json={"notify": False})
    assert quiet.status_code == 200 and quiet.json()["notice_recipients"] == 0
    draft = admin.post(f"/api/v1/conferences/{_conference(admin, root, audience, publish=False)['id']}/cancel", json={})
    assert draft.status_code == 200 and draft.json()["notice_recipients"] == 0
    wrong = admin.post(f"/api/v1/conferences/{_conference(admin, root, audience)['id']}/cancel", json={"notify": "có"})
    assert wrong.status_code == 400


def test_a_significant_patch_sends_a_change_notice_by_default(served):
    admin, root, audience = served
    conference = _conference(admin, root, audience)
    path = f"/api/v1/conferences/{conference['id']}"
    moved = admin.patch(path, json={"starts_at": "2030-03-11T08:00:00+07:00", "ends_at": "2030-03-11T11:00:00+07:00"})
    assert moved.status_code == 200 and moved.json()["notice_recipients"] == 3
    quiet = admin.patch(path, json={"starts_at": "2030-03-12T08:00:00+07:00", "ends_at": "2030-03-12T11:00:00+07:00", "notify": False})
    assert quiet.status_code == 200 and quiet.json()["notice_recipients"] == 0
    renamed = admin.patch(path, json={"title": "Hội nghị báo cáo viên quý I"})
    assert renamed.status_code == 200 and renamed.json()["notice_recipients"] == 0  # not a significant revision
