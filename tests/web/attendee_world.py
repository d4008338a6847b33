"""The attendee's world, built over real HTTP by the organiser (admin API), for the attendee page
tests and the phone browser test: a served app whose clock stands at 01/05/2030 08:00 (+07:00).

* Phạm Văn Mời (briefer, of the root unit) invited to an upcoming hybrid conference (two venues'
  worth of details, an agenda with speakers, materials at every level), to one that ended ten
  days ago and to one that ended long ago; Lê Thị Thay, a colleague of the same unit; Hoàng Văn
  Khác, a briefer of another unit; a conference that invites nobody of ours.
"""

from __future__ import annotations

import contextlib

from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server
from tests.web import clients

PASSWORD = "mat-khau-quan-tri-dai"
NOW = "2030-05-01T08:00:00+07:00"
PDF = b"%PDF-1.4\n" + b"tai lieu hoi nghi " * 2000 + b"\n%%EOF\n"


@contextlib.contextmanager
def served_app(tmp_path):
    """A fresh database (SQLite file or PostgreSQL), initialised, behind a real ``hoinghi serve``."""
    with empty_database(tmp_path) as env:
        env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), **env, "HOINGHI_NOW": NOW}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        run_cli("unit", "add", "--name", "Huyện ủy Tiên Du", "--code", "HU-TD", "--kind", "district", "--parent", "TU", env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            yield base


def details(entry: dict) -> dict:
    """An audit entry's details (an object in the API's answer)."""
    return entry["details"]


def _ok(response, status=(200, 201)):
    assert response.status_code in status, f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    return response.json()


def conference(admin, unit_id: int, title: str, start: str, end: str, audience_id: int | None, **extra) -> dict:
    body = {"unit_id": unit_id, "title": title, "kind": "periodic_briefing", "format": "in_person", "starts_at": start,
            "ends_at": end, "venues": [{"name": "Hội trường Tỉnh ủy", "address": "Số 1 Lý Thái Tổ"}], **extra}
    if audience_id is not None:
        body["audience_ids"] = [audience_id]
    return _ok(admin.post("/api/v1/conferences", json=body))


def upload(admin, conference_id: int, title: str, access: str, filename: str = "tai-lieu.pdf") -> dict:
    return _ok(admin.post(f"/api/v1/conferences/{conference_id}/materials", content=PDF,
                          params={"title": title, "kind": "cong_van", "filename": filename, "access": access,
                                  "official_number": "978-CV/TU", "official_date": "20/04/2030"},
                          headers={"Content-Type": "application/octet-stream"}))


def build(base: str) -> dict:
    admin = clients.signed_in(base, "admin", PASSWORD)
    units = {unit["short_code"]: unit for unit in _ok(admin.get(f"/api/v1/units/{_ok(admin.get('/api/v1/units'))[0]['id']}/tree"))}
    root, district = units["TU"], units["HU-TD"]
    person = _ok(admin.post("/api/v1/people", json={"unit_id": root["id"], "full_name": "Phạm Văn Mời", "categories": ["briefer"],
                                                    "position": "Báo cáo viên"}))
    colleague = _ok(admin.post("/api/v1/people", json={"unit_id": root["id"], "full_name": "Lê Thị Thay",
                                                       "position": "Chuyên viên"}))
    outsider = _ok(admin.post("/api/v1/people", json={"unit_id": district["id"], "full_name": "Hoàng Văn Khác",
                                                      "categories": ["briefer"]}))
    audience = _ok(admin.post("/api/v1/audiences", json={"unit_id": root["id"], "name": "Báo cáo viên",
                                                         "rules": {"categories": ["briefer"]}}))

    upcoming = conference(admin, root["id"], "Hội nghị báo cáo viên tháng 5", "2030-05-14T08:00:00+07:00",
                          "2030-05-14T11:30:00+07:00", audience["id"], format="hybrid",
                          description="Thông tin thời sự trong nước và quốc tế.\nQuán triệt Chỉ thị 30.",
                          venues=[{"name": "Hội trường Tỉnh ủy", "address": "Số 1 Lý Thái Tổ",
                                   "online_url": "https://hop.example.vn/phong/bcv-thang-5"}])
    session = _ok(admin.post(f"/api/v1/conferences/{upcoming['id']}/sessions", json={
        "title": "Thông tin thời sự", "topic": "Thời sự", "starts_at": "2030-05-14T08:30:00+07:00",
        "ends_at": "2030-05-14T10:00:00+07:00"}))
    _ok(admin.post(f"/api/v1/conferences/{upcoming['id']}/sessions/{session['id']}/speakers",
                   json={"name": "PGS.TS Lê Văn Cường", "position_title": "Giảng viên", "organisation": "Học viện Chính trị"}))
    materials = {access: upload(admin, upcoming["id"], f"Tài liệu {access}", access) for access in ("audience", "public")}
    # a restricted material is stored, but the upload's answer is refused to anyone not named
    # for it (the API names nobody): its id comes from the audit log
    refused = admin.post(f"/api/v1/conferences/{upcoming['id']}/materials", content=PDF, headers={"Content-Type": "application/pdf"},
                         params={"title": "Tài liệu restricted", "kind": "other", "filename": "han-che.pdf", "access": "restricted"})
    assert refused.status_code == 403, refused.text
    added = _ok(admin.get(f"/api/v1/units/{root['id']}/audit", params={"object_type": "material"}))
    materials["restricted"] = {"id": next(entry["object_id"] for entry in added if entry["action"] == "material.add"
                                          and details(entry)["title"] == "Tài liệu restricted")}
    _ok(admin.post(f"/api/v1/conferences/{upcoming['id']}/publish"))

    recent = conference(admin, root["id"], "Hội nghị giao ban tháng 4", "2030-04-21T08:00:00+07:00", "2030-04-21T11:00:00+07:00",
                        audience["id"])
    _ok(admin.post(f"/api/v1/conferences/{recent['id']}/publish"))
    old = conference(admin, root["id"], "Hội nghị đầu năm", "2030-01-08T08:00:00+07:00", "2030-01-08T11:00:00+07:00",
                     audience["id"])
    _ok(admin.post(f"/api/v1/conferences/{old['id']}/publish"))
    elsewhere = conference(admin, district["id"], "Hội nghị của huyện", "2030-05-20T08:00:00+07:00",
                           "2030-05-20T11:00:00+07:00", None)
    elsewhere_material = upload(admin, elsewhere["id"], "Tài liệu của huyện", "public")
    _ok(admin.post(f"/api/v1/conferences/{elsewhere['id']}/invitations", json={"person_id": outsider["id"]}))
    _ok(admin.post(f"/api/v1/conferences/{elsewhere['id']}/publish"))

    return {"admin": admin, "root": root, "district": district, "person": person, "colleague": colleague, "outsider": outsider,
            "upcoming": upcoming, "recent": recent, "old": old, "elsewhere": elsewhere, "materials": materials,
            "elsewhere_material": elsewhere_material}


def personal_link(admin, person_id: int) -> str:
    return _ok(admin.post(f"/api/v1/people/{person_id}/login-link"))["path"]
