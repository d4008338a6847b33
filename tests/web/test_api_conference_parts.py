"""The JSON API over real HTTP: a conference's venues, agenda, speakers and audiences; the staff
side of invitations (invite, withdraw, answer on behalf, re-resolve with confirmation); audiences
edited and deleted. One seeded server for the module."""

import pytest

from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server
from tests.web.clients import signed_in

pytestmark = pytest.mark.timeout(180)
PASSWORD = "mat-khau-quan-tri-dai"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("api-parts")
    with empty_database(tmp_path) as env:
        env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), **env}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        run_cli("unit", "add", "--name", "Huyện ủy Tiên Du", "--code", "HU-TD", "--kind", "district", "--parent", "TU", env=env)
        run_cli("unit", "add", "--name", "Thị ủy Quế Võ", "--code", "TX-QV", "--kind", "district", "--parent", "TU", env=env)
        for username, role, unit in (("quevo", "organiser", "TX-QV"), ("tiendu", "organiser", "HU-TD")):
            run_cli("user", "add", username, "--password", PASSWORD, env=env)
            run_cli("user", "grant", username, role, unit, env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            admin = signed_in(base, "admin", PASSWORD)
            tree = {unit["short_code"]: unit for unit in admin.get(f"/api/v1/units/{admin.get('/api/v1/units').json()[0]['id']}/tree").json()}
            yield base, admin, tree


def _conference(admin, unit_id, title, **extra):
    response = admin.post("/api/v1/conferences", json={
        "unit_id": unit_id, "title": title, "kind": "periodic_briefing", "format": "in_person",
        "starts_at": "2030-03-12T08:00:00+07:00", "ends_at": "2030-03-12T11:00:00+07:00", **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_venues_agenda_speakers_and_audiences(seeded):
    base, admin, tree = seeded
    conference = _conference(admin, tree["TU"]["id"], "Hội nghị báo cáo viên tháng 3")
    cid = conference["id"]

    empty = admin.post(f"/api/v1/conferences/{cid}/venues", json={"name": "  "})
    assert empty.status_code == 422 and "điểm cầu" in empty.json()["error"]
    assert admin.post(f"/api/v1/conferences/{cid}/venues", json={"name": "A", "seats": 200}).status_code == 400
    venue = admin.post(f"/api/v1/conferences/{cid}/venues",
                       json={"name": "Hội trường Huyện ủy", "address": "Số 1", "host_unit_id": tree["HU-TD"]["id"]})
    assert venue.status_code == 201, venue.text
    assert venue.json() == {"id": venue.json()["id"], "conference": cid, "name": "Hội trường Huyện ủy", "address": "Số 1",
                            "host_unit": tree["HU-TD"]["id"], "online_url": None}
    venue_id = venue.json()["id"]
    renamed = admin.patch(f"/api/v1/venues/{venue_id}", json={"name": "Hội trường lớn"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Hội trường lớn" and renamed.json()["address"] == "Số 1"
    bad_link = admin.patch(f"/api/v1/venues/{venue_id}", json={"online_url": "zoom.example/abc"})
    assert bad_link.status_code == 422 and "online_url" in bad_link.json()["fields"]
    quevo = signed_in(base, "quevo", PASSWORD)
    assert quevo.patch(f"/api/v1/venues/{venue_id}", json={"name": "X"}).status_code == 404  # another branch: invisible
    tiendu = signed_in(base, "tiendu", PASSWORD)
    assert tiendu.patch(f"/api/v1/venues/{venue_id}", json={"name": "X"}).status_code == 403  # hosts a venue, does not organise

    outside = admin.post(f"/api/v1/conferences/{cid}/sessions", json={"title": "Khai mạc", "starts_at": "2030-03-12T07:00:00+07:00"})
    assert outside.status_code == 422 and "starts_at" in outside.json()["fields"]
    session = admin.post(f"/api/v1/conferences/{cid}/sessions", json={
        "title": "Thông tin thời sự", "topic": "Thời sự", "starts_at": "2030-03-12T08:00:00+07:00",
        "ends_at": "2030-03-12T09:00:00+07:00"})
    assert session.status_code == 201, session.text
    assert session.json()["position"] == 0 and session.json()["starts_at"].startswith("2030-03-12T01:00:00")
    person = admin.post("/api/v1/people", json={"unit_id": tree["TU"]["id"], "full_name": "Nguyễn Văn Bình",
                                                "position": "Phó Trưởng Ban Tuyên giáo"}).json()
    speaker = admin.post(f"/api/v1/conferences/{cid}/sessions/{session.json()['id']}/speakers", json={"person_id": person["id"]})
    assert speaker.status_code == 201, speaker.text
    assert speaker.json()["name"] == "Nguyễn Văn Bình" and speaker.json()["position_title"] == "Phó Trưởng Ban Tuyên giáo"
    guest = admin.post(f"/api/v1/conferences/{cid}/sessions/{session.json()['id']}/speakers",
                       json={"name": "PGS.TS Lê Văn Cường", "organisation": "Học viện Chính trị"})
    assert guest.status_code == 201 and guest.json()["person"] is None
    nameless = admin.post(f"/api/v1/conferences/{cid}/sessions/{session.json()['id']}/speakers", json={})
    assert nameless.status_code == 422 and "name" in nameless.json()["fields"]
    other = _conference(admin, tree["TU"]["id"], "Hội nghị khác")
    foreign = admin.post(f"/api/v1/conferences/{other['id']}/sessions/{session.json()['id']}/speakers", json={"name": "A"})
    assert foreign.status_code == 404 and "phiên" in foreign.json()["error"]  # the session is not in that conference's path
    detail = admin.get(f"/api/v1/conferences/{cid}").json()
    assert [s["title"] for s in detail["sessions"]] == ["Thông tin thời sự"]
    assert sorted(s["name"] for s in detail["sessions"][0]["speakers"]) == ["Nguyễn Văn Bình", "PGS.TS Lê Văn Cường"]
    retimed = admin.patch(f"/api/v1/sessions/{session.json()['id']}", json={"ends_at": "2030-03-12T09:30:00+07:00"})
    assert retimed.status_code == 200 and retimed.json()["ends_at"].startswith("2030-03-12T02:30:00"), retimed.text
    assert retimed.json()["title"] == "Thông tin thời sự"  # what the change does not name stays
    assert admin.patch(f"/api/v1/sessions/{session.json()['id']}", json={"title": ""}).status_code == 422
    assert admin.patch(f"/api/v1/sessions/{session.json()['id']}", json={"position": 2}).status_code == 400
    guest_path = f"/api/v1/conferences/{cid}/sessions/{session.json()['id']}/speakers/{guest.json()['id']}"
    corrected = admin.patch(guest_path, json={"position_title": "Phó Giám đốc"})
    assert corrected.status_code == 200 and corrected.json()["position_title"] == "Phó Giám đốc"
    assert corrected.json()["name"] == "PGS.TS Lê Văn Cường"
    assert tiendu.patch(guest_path, json={"name": "X"}).status_code == 403
    assert admin.delete(f"/api/v1/conferences/{other['id']}/sessions/{session.json()['id']}/speakers/{guest.json()['id']}"
                        ).status_code == 404
    assert admin.delete(guest_path).status_code == 204
    assert admin.delete(guest_path).status_code == 404
    detail = admin.get(f"/api/v1/conferences/{cid}").json()
    assert [s["name"] for s in detail["sessions"][0]["speakers"]] == ["Nguyễn Văn Bình"]

    audiences = [admin.post("/api/v1/audiences", json={"unit_id": tree["TU"]["id"], "name": name}).json()["id"]
                 for name in ("Báo cáo viên", "Tuyên truyền viên")]
    chosen = admin.put(f"/api/v1/conferences/{cid}/audiences", json={"audience_ids": [audiences[1], audiences[0], audiences[1]]})
    assert chosen.status_code == 200 and chosen.json() == {"conference_id": cid, "audience_ids": sorted(audiences)}
    assert sorted(a["id"] for a in admin.get(f"/api/v1/conferences/{cid}").json()["audiences"]) == sorted(audiences)
    missing = admin.put(f"/api/v1/conferences/{cid}/audiences", json={"audience_ids": [999999]})
    assert missing.status_code == 422 and "audience_ids" in missing.json()["fields"]

    assert admin.delete(f"/api/v1/sessions/{session.json()['id']}").status_code == 204
    assert admin.get(f"/api/v1/conferences/{cid}").json()["sessions"] == []
    assert admin.delete(f"/api/v1/venues/{venue_id}").status_code == 204
    assert admin.delete(f"/api/v1/venues/{venue_id}").status_code == 404
    assert admin.delete("/api/v1/sessions/999999").json()["error"] == "Không tìm thấy phiên."


def test_invitations_from_the_staff_side(seeded):
    base, admin, tree = seeded
    people = {}
    for name, unit, categories in (("Trần Thị Hoa", "HU-TD", ["briefer"]), ("Lê Văn Nam", "TX-QV", ["briefer"]),
                                   ("Phạm Văn Khách", "TU", ["guest"])):
        people[name] = admin.post("/api/v1/people", json={"unit_id": tree[unit]["id"], "full_name": name, "categories": categories}).json()
    audience = admin.post("/api/v1/audiences", json={"unit_id": tree["TU"]["id"], "name": "BCV toàn tỉnh",
                                                     "rules": {"categories": ["briefer"]}}).json()
    conference = _conference(admin, tree["TU"]["id"], "Hội nghị tháng 4", audience_ids=[audience["id"]],
                             venues=[{"name": "Hội trường Tiên Du", "host_unit_id": tree["HU-TD"]["id"]}])
    cid = conference["id"]
    assert admin.post(f"/api/v1/conferences/{cid}/publish").json()["status"] == "published"
    invited = {row["full_name"]: row for row in admin.get(f"/api/v1/conferences/{cid}/invitations").json()["items"]}
    assert sorted(invited) == ["Lê Văn Nam", "Trần Thị Hoa"]

    guest = admin.post(f"/api/v1/conferences/{cid}/invitations", json={"person_id": people["Phạm Văn Khách"]["id"]})
    assert guest.status_code == 201 and guest.json()["source"] == "individual" and guest.json()["rsvp"] == "pending"
    assert admin.post(f"/api/v1/conferences/{cid}/invitations", json={"person_id": 999999}).status_code == 404

    hoa = invited["Trần Thị Hoa"]["id"]
    no_reason = admin.post(f"/api/v1/invitations/{hoa}/rsvp", json={"answer": "excused"})
    assert no_reason.status_code == 422 and "lý do" in no_reason.json()["error"]
    assert admin.post(f"/api/v1/invitations/{hoa}/rsvp", json={"answer": "maybe"}).status_code == 422
    answered = admin.post(f"/api/v1/invitations/{hoa}/rsvp", json={"answer": "excused", "reason": "Đi công tác"})
    assert answered.status_code == 200 and answered.json()["rsvp"] == "excused" and answered.json()["rsvp_reason"] == "Đi công tác"
    entries = admin.get(f"/api/v1/units/{tree['TU']['id']}/audit", params={"object_type": "invitation"}).json()
    assert any(e["action"] == "invitation.respond" and e["object_id"] == hoa and e["actor_id"] is not None for e in entries)
    tiendu = signed_in(base, "tiendu", PASSWORD)
    assert tiendu.post(f"/api/v1/invitations/{hoa}/rsvp", json={"answer": "accepted"}).status_code == 403  # not at their venue
    quevo = signed_in(base, "quevo", PASSWORD)
    assert quevo.post(f"/api/v1/invitations/{hoa}/rsvp", json={"answer": "accepted"}).status_code == 404
    assert quevo.post(f"/api/v1/invitations/{hoa}/withdraw").status_code == 404

    withdrawn = admin.post(f"/api/v1/invitations/{hoa}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert admin.post(f"/api/v1/invitations/{hoa}/withdraw").json()["status"] == "withdrawn"  # idempotent
    counts = admin.get(f"/api/v1/conferences/{cid}/invitations").json()["counts"]
    assert sum(counts.values()) == 2

    # the audience now says more people; re-resolving shows the diff first, applies on confirmation
    grown = admin.patch(f"/api/v1/audiences/{audience['id']}", json={"rules": {"categories": ["briefer", "guest"]}})
    assert grown.status_code == 200 and grown.json()["rules"]["categories"] == ["briefer", "guest"]
    assert grown.json()["name"] == "BCV toàn tỉnh"
    diff = admin.post(f"/api/v1/conferences/{cid}/invitations/re-resolve")
    assert diff.status_code == 409 and diff.json()["preview"]["added"] == 1, diff.text
    assert [p["full_name"] for p in diff.json()["preview"]["first_added"]] == ["Trần Thị Hoa"]
    applied = admin.post(f"/api/v1/conferences/{cid}/invitations/re-resolve", params={"confirm": "true"})
    assert applied.status_code == 200 and applied.json()["applied"] is True and applied.json()["added"] == 1
    assert admin.post(f"/api/v1/conferences/{cid}/invitations/re-resolve").json() == {
        "added": 0, "withdrawn": 0, "first_added": [], "first_withdrawn": [], "applied": False}


def test_audiences_read_edit_and_delete(seeded):
    base, admin, tree = seeded
    unit_id = tree["HU-TD"]["id"]
    created = admin.post("/api/v1/audiences", json={"unit_id": unit_id, "name": "Tuyên truyền viên Tiên Du",
                                                    "rules": {"categories": ["propagandist"]}}).json()
    assert admin.get(f"/api/v1/audiences/{created['id']}").json()["rules"]["categories"] == ["propagandist"]
    assert created["id"] in [a["id"] for a in admin.get("/api/v1/audiences", params={"unit_id": unit_id}).json()]
    unknown = admin.patch(f"/api/v1/audiences/{created['id']}", json={"rules": {"categories": ["astronaut"]}})
    assert unknown.status_code == 422 and "astronaut" in unknown.json()["error"]
    assert admin.patch(f"/api/v1/audiences/{created['id']}", json={"colour": "red"}).status_code == 400
    person = admin.post("/api/v1/people", json={"unit_id": unit_id, "full_name": "Đỗ Thị Lan", "categories": ["propagandist"]}).json()
    renamed = admin.patch(f"/api/v1/audiences/{created['id']}", json={"name": "TTV Tiên Du", "exclude_ids": [person["id"]]})
    assert renamed.status_code == 200 and renamed.json()["exclude_ids"] == [person["id"]]
    preview = admin.get(f"/api/v1/audiences/{created['id']}/preview").json()
    assert preview == {"count": 0, "first": []}
    quevo = signed_in(base, "quevo", PASSWORD)
    assert quevo.get(f"/api/v1/audiences/{created['id']}").status_code == 404
    assert quevo.delete(f"/api/v1/audiences/{created['id']}").status_code == 404

    used = admin.post("/api/v1/audiences", json={"unit_id": unit_id, "name": "Dùng cho hội nghị"}).json()
    conference = _conference(admin, unit_id, "Hội nghị Tiên Du", audience_ids=[used["id"]], venues=[{"name": "Hội trường"}])
    admin.post(f"/api/v1/conferences/{conference['id']}/publish")
    refused = admin.delete(f"/api/v1/audiences/{used['id']}")
    assert refused.status_code == 409 and "đã công bố" in refused.json()["error"]
    assert admin.delete(f"/api/v1/audiences/{created['id']}").status_code == 204
    assert admin.get(f"/api/v1/audiences/{created['id']}").status_code == 404


def test_the_schema_shows_typed_answers_with_examples(seeded):
    base, admin, tree = seeded
    schema = admin.get("/schema/openapi.json").json()
    venue = schema["paths"]["/api/v1/conferences/{conference_id}/venues"]["post"]["responses"]["201"]["content"]["application/json"]
    assert venue["schema"]["$ref"].endswith("/VenueOut")
    assert next(iter(venue["examples"].values()))["value"]["name"] == "Hội trường Huyện ủy Tiên Du"
    conflict = schema["paths"]["/api/v1/conferences/{conference_id}/invitations/re-resolve"]["post"]["responses"]["409"]
    assert "preview" in next(iter(conflict["content"]["application/json"]["examples"].values()))["value"]
