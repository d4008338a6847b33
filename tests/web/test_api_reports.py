"""GET /api/v1/reports/... over real HTTP: attendance of a unit's subtree by month, quarter and
year, one person's attendance, and the periods refused with the field named."""

import datetime as dt

import pytest

from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server
from tests.web.clients import signed_in

pytestmark = pytest.mark.timeout(180)
PASSWORD = "mat-khau-quan-tri-dai"


@pytest.fixture(scope="module")
def held(tmp_path_factory):
    """A March 2030 conference of Tiên Du with two invitees: one present, one absent."""
    tmp_path = tmp_path_factory.mktemp("api-reports")
    with empty_database(tmp_path) as env:
        env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), **env}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        run_cli("unit", "add", "--name", "Huyện ủy Tiên Du", "--code", "HU-TD", "--kind", "district", "--parent", "TU", env=env)
        run_cli("unit", "add", "--name", "Thị ủy Quế Võ", "--code", "TX-QV", "--kind", "district", "--parent", "TU", env=env)
        run_cli("user", "add", "quevo", "--password", PASSWORD, env=env)
        run_cli("user", "grant", "quevo", "organiser", "TX-QV", env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            admin = signed_in(base, "admin", PASSWORD)
            tree = {u["short_code"]: u for u in admin.get(f"/api/v1/units/{admin.get('/api/v1/units').json()[0]['id']}/tree").json()}
            district = tree["HU-TD"]["id"]
            people = [admin.post("/api/v1/people", json={"unit_id": district, "full_name": name, "categories": ["briefer"]}).json()
                      for name in ("Trần Thị Hoa", "Lê Văn Nam")]
            audience = admin.post("/api/v1/audiences", json={"unit_id": district, "name": "BCV", "rules": {"categories": ["briefer"]}})
            conference = admin.post("/api/v1/conferences", json={
                "unit_id": district, "title": "Hội nghị báo cáo viên tháng 3", "kind": "periodic_briefing", "format": "in_person",
                "starts_at": "2030-03-12T08:00:00+07:00", "ends_at": "2030-03-12T11:00:00+07:00", "venues": [{"name": "Hội trường"}],
                "audience_ids": [audience.json()["id"]]}).json()
            assert admin.post(f"/api/v1/conferences/{conference['id']}/publish").status_code == 200
            recorded = admin.post(f"/api/v1/conferences/{conference['id']}/rollcall",
                                  json={"person_id": people[0]["id"], "at": "2030-03-12T07:55:00+07:00"})
            assert recorded.status_code == 200, recorded.text
            assert admin.post(f"/api/v1/conferences/{conference['id']}/end").json()["status"] == "ended"
            yield base, admin, tree, people


def test_attendance_of_a_subtree_by_period(held):
    base, admin, tree, people = held
    march = admin.get("/api/v1/reports/attendance", params={"unit_id": tree["TU"]["id"], "period": "month", "year": 2030, "number": 3})
    assert march.status_code == 200, march.text
    report = march.json()
    assert report["unit"] == {"id": tree["TU"]["id"], "name": tree["TU"]["name"]}
    start = dt.datetime.fromisoformat(report["period"]["start"])
    assert start == dt.datetime(2030, 2, 28, 17, tzinfo=dt.timezone.utc)  # midnight of 1 March in Hà Nội
    assert report["by_kind"] == {"periodic_briefing": 1}
    total = report["total"]
    assert (total["conferences"], total["invited"], total["present"], total["absent"], total["attendance_rate"]) == (1, 2, 1, 1, 0.5)
    assert [(row["name"], row["invited"]) for row in report["units"]] == [("Huyện ủy Tiên Du", 2)]
    quarter = admin.get("/api/v1/reports/attendance", params={"unit_id": tree["HU-TD"]["id"], "period": "quarter", "year": 2030,
                                                              "number": 1}).json()
    assert quarter["total"]["invited"] == 2
    year = admin.get("/api/v1/reports/attendance", params={"unit_id": tree["TU"]["id"], "period": "year", "year": 2031}).json()
    assert year["total"]["conferences"] == 0 and year["total"]["attendance_rate"] is None

    person = admin.get(f"/api/v1/reports/people/{people[1]['id']}/attendance", params={"period": "year", "year": 2030})
    assert person.status_code == 200, person.text
    assert person.json()["person"]["full_name"] == "Lê Văn Nam"
    assert [(c["title"], c["status"]) for c in person.json()["conferences"]] == [("Hội nghị báo cáo viên tháng 3", "absent")]
    assert person.json()["conferences"][0]["starts_at"].startswith("2030-03-12T01:00:00")
    assert (person.json()["invited"], person.json()["attended"], person.json()["attendance_rate"]) == (1, 0, 0.0)


def test_bad_periods_and_reach(held):
    base, admin, tree, people = held
    url = "/api/v1/reports/attendance"
    unit_id = tree["TU"]["id"]
    no_month = admin.get(url, params={"unit_id": unit_id, "period": "month", "year": 2030})
    assert no_month.status_code == 422 and "number" in no_month.json()["fields"] and "Tháng" in no_month.json()["error"]
    fifth = admin.get(url, params={"unit_id": unit_id, "period": "quarter", "year": 2030, "number": 5})
    assert fifth.status_code == 422 and "Quý" in fifth.json()["error"]
    assert admin.get(url, params={"unit_id": unit_id, "period": "year", "year": 1990}).json()["fields"].keys() == {"year"}
    week = admin.get(url, params={"unit_id": unit_id, "period": "week", "year": 2030})
    assert week.status_code == 400 and week.json()["error"] == "Dữ liệu gửi lên không hợp lệ."
    assert admin.get(url, params={"unit_id": 999999, "period": "year", "year": 2030}).status_code == 404
    quevo = signed_in(base, "quevo", PASSWORD)
    assert quevo.get(url, params={"unit_id": tree["HU-TD"]["id"], "period": "year", "year": 2030}).status_code == 404
    assert quevo.get(f"/api/v1/reports/people/{people[0]['id']}/attendance", params={"period": "year", "year": 2030}).status_code == 404
    own = quevo.get(url, params={"unit_id": tree["TX-QV"]["id"], "period": "year", "year": 2030})
    assert own.status_code == 200 and own.json()["total"]["invited"] == 0
