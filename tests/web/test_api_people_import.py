"""POST /api/v1/people/import over real HTTP: a dry run, the import, a refused file with every
problem by row and column and nothing written, wrong files, oversize uploads, reach."""

import io

import pytest

from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server
from tests.web.clients import signed_in

pytestmark = pytest.mark.timeout(180)
PASSWORD = "mat-khau-quan-tri-dai"
HEADER = "Họ và tên,Số điện thoại,Mã đơn vị,Đối tượng,Cấp báo cáo viên\n"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("api-import")
    with empty_database(tmp_path) as env:
        env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), **env}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        run_cli("unit", "add", "--name", "Huyện ủy Tiên Du", "--code", "HU-TD", "--kind", "district", "--parent", "TU", env=env)
        run_cli("unit", "add", "--name", "Thị ủy Quế Võ", "--code", "TX-QV", "--kind", "district", "--parent", "TU", env=env)
        run_cli("user", "add", "quevo", "--password", PASSWORD, env=env)
        run_cli("user", "grant", "quevo", "organiser", "TX-QV", env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            admin = signed_in(base, "admin", PASSWORD)
            tree = {unit["short_code"]: unit for unit in admin.get(f"/api/v1/units/{admin.get('/api/v1/units').json()[0]['id']}/tree").json()}
            yield base, admin, tree


def _upload(client, unit_id, content: bytes, filename="bao-cao-vien.csv", **fields):
    data = {"unit_id": str(unit_id), **{key: str(value).lower() for key, value in fields.items()}}
    return client.post("/api/v1/people/import", data=data, files={"file": (filename, content, "text/csv")})


def _count(client, unit_id, query=""):
    return client.get("/api/v1/people", params={"unit_id": unit_id, "q": query}).json()["total"]


def test_a_dry_run_then_the_import(seeded):
    base, admin, tree = seeded
    csv = (HEADER + "Nguyễn Văn Hùng,0912 111 222,HU-TD,Báo cáo viên,Huyện\n"
           "Trần Thị Mai,,,\"Tuyên truyền viên, Đảng viên\",\n").encode()
    dry = _upload(admin, tree["TU"]["id"], csv, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert dry.json() == {"file": "bao-cao-vien.csv", "dry_run": True, "rows": 2, "created": 0,
                          "by_category": {"briefer": 1, "propagandist": 1, "member": 1}, "errors": []}
    assert _count(admin, tree["TU"]["id"], "nguyen van hung") == 0
    done = _upload(admin, tree["TU"]["id"], csv)
    assert done.status_code == 200 and done.json()["created"] == 2 and done.json()["dry_run"] is False
    hung = admin.get("/api/v1/people", params={"unit_id": tree["HU-TD"]["id"], "q": "nguyen van hung"}).json()["items"]
    assert [(p["full_name"], p["phone"]) for p in hung] == [("Nguyễn Văn Hùng", "+84912111222")]
    assert _count(admin, tree["TU"]["id"], "tran thi mai") == 1

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["Họ và tên", "Đối tượng"])
    workbook.active.append(["Lê Văn Tám", "CTV dư luận"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    xlsx = admin.post("/api/v1/people/import", data={"unit_id": str(tree["TX-QV"]["id"])},
                      files={"file": ("ctv.xlsx", buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    assert xlsx.status_code == 200 and xlsx.json()["by_category"] == {"opinion_collaborator": 1}, xlsx.text


def test_a_refused_file_lists_every_problem_and_writes_nothing(seeded):
    base, admin, tree = seeded
    before = _count(admin, tree["TU"]["id"])
    csv = (HEADER + "Phạm Thị Lụa,0912 333 444,HU-TD,Báo cáo viên,\n"
           ",0913,XYZ,Phi hành gia,\n"
           "Vũ Văn Long,0912 333 444,,,Thôn\n").encode()
    refused = _upload(admin, tree["TU"]["id"], csv, filename="C:\\Users\\ban\\Desktop\\danh sach.csv")
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["file"] == "danh sach.csv" and "chưa nhập người nào" in body["error"] and body["fields"] == {}
    problems = {(p["row"], p["column"]) for p in body["errors"]}
    assert {(3, "Họ và tên"), (3, "Số điện thoại"), (3, "Mã đơn vị"), (3, "Đối tượng"), (4, "Số điện thoại"),
            (4, "Cấp báo cáo viên")} <= problems
    assert any(p["row"] == 4 and "dòng 2" in p["message"] for p in body["errors"])  # the same phone as row 2
    assert _count(admin, tree["TU"]["id"]) == before


def test_wrong_files_and_forms_are_refused_in_vietnamese(seeded):
    base, admin, tree = seeded
    pdf = _upload(admin, tree["TU"]["id"], b"%PDF-1.4", filename="danh-sach.pdf")
    assert pdf.status_code == 400 and ".xlsx" in pdf.json()["error"]
    no_name = _upload(admin, tree["TU"]["id"], b"Chuc vu,Email\nA,a@b.vn\n")
    assert no_name.status_code == 400 and "Họ và tên" in no_name.json()["error"]
    tcvn3 = ("Hä vµ tªn\nNguyÔn V¨n An\n").encode("cp1252")
    legacy = _upload(admin, tree["TU"]["id"], tcvn3)
    assert legacy.status_code == 400 and "TCVN3" in legacy.json()["error"] and "Unikey" in legacy.json()["error"]
    extra = admin.post("/api/v1/people/import", data={"unit_id": str(tree["TU"]["id"]), "overwrite": "true"},
                       files={"file": ("a.csv", b"Ho va ten\nA\n")})
    assert extra.status_code == 400 and extra.json()["error"] == "Dữ liệu gửi lên không hợp lệ."
    no_unit = admin.post("/api/v1/people/import", files={"file": ("a.csv", b"Ho va ten\nA\n")})
    assert no_unit.status_code == 400
    oversize = _upload(admin, tree["TU"]["id"], b"Ho va ten\n" + b"Nguyen Van A\n" * (33 * 1024 * 1024 // 13))
    assert oversize.status_code == 413 and oversize.json()["error"] == "Tệp gửi lên vượt quá giới hạn 32 MB."

    quevo = signed_in(base, "quevo", PASSWORD)
    assert _upload(quevo, tree["TU"]["id"], (HEADER + "Đinh Văn Lạ,,,,\n").encode()).status_code == 404
    elsewhere = _upload(quevo, tree["TX-QV"]["id"], (HEADER + "Đinh Văn Lạ,,HU-TD,,\n").encode())
    assert elsewhere.status_code == 422 and elsewhere.json()["errors"][0]["column"] == "Mã đơn vị"
