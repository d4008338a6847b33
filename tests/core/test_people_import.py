import pytest
from openpyxl import Workbook

from core.services.people_import import ImportFailed, import_people
from core.tables import Person, PersonCategory
from tests.conftest import run_cli
from tests.core.encodings import to_cp1258
from tests.factories import SYSTEM, make_tree

GOOD = """Họ và tên,Số điện thoại,Đơn vị,Đối tượng,Cấp báo cáo viên,Chức vụ
Nguyễn Văn An,0912 345 678,X-PT,"Báo cáo viên, Đảng viên",Xã,Bí thư chi bộ
Trần Thị Bình,+84 987-654-321,X-LV,Tuyên truyền viên,,
Lê Văn Cường,,,CTV dư luận,,
"""


async def test_csv_with_vietnamese_headers(db, tmp_path):
    tree = await make_tree()
    path = tmp_path / "danh-sach.csv"
    path.write_bytes(("\ufeff" + GOOD).encode())
    dry = await import_people(SYSTEM, unit_id=tree["district_a"]["id"], path=path, dry_run=True)
    assert dry["rows"] == 3 and dry["created"] == 0 and await Person.count() == 0
    report = await import_people(SYSTEM, unit_id=tree["district_a"]["id"], path=path)
    assert report["created"] == 3 and report["by_category"] == {"briefer": 1, "member": 1, "propagandist": 1, "opinion_collaborator": 1}
    an = await Person.select().where(Person.full_name == "Nguyễn Văn An").first()
    assert an["phone"] == "+84912345678" and an["unit"] == tree["commune_a1"]["id"] and an["briefer_level"] == "commune"
    assert an["search_folded"] == " nguyen van an "
    cuong = await Person.select().where(Person.phone.is_null()).first()
    assert cuong["unit"] == tree["district_a"]["id"]
    assert await PersonCategory.count() == 4
    created = await Person.insert(Person(full_name="Sau", search_folded=" sau ", sort_key="x", unit=tree["province"]["id"])).returning(Person.id)
    assert created[0]["id"] == 4  # the id sequence moved past the imported rows


async def test_every_error_names_row_and_column_and_nothing_is_written(db, tmp_path):
    tree = await make_tree()
    path = tmp_path / "loi.csv"
    path.write_text("Họ tên;SĐT;Mã đơn vị;Loại\n;0912345678;X-PT;báo cáo viên\nLê B;0912345678;X-XX;phù thủy\nLê C;12;;\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failure:
        await import_people(SYSTEM, unit_id=tree["district_a"]["id"], path=path)
    problems = {(e.row, e.column) for e in failure.value.errors}
    assert {(2, "Họ tên"), (3, "SĐT"), (3, "Mã đơn vị"), (3, "Loại"), (4, "SĐT")} <= problems
    assert await Person.count() == 0


async def test_xlsx_and_windows_1258_are_read_legacy_fonts_refused(db, tmp_path):
    tree = await make_tree()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Full name", "Phone", "Categories"])
    sheet.append(["Đặng Thị Hoa", "0987 111 222", "briefer"])
    workbook.save(tmp_path / "list.xlsx")
    assert (await import_people(SYSTEM, unit_id=tree["province"]["id"], path=tmp_path / "list.xlsx"))["created"] == 1

    (tmp_path / "cp1258.csv").write_bytes(to_cp1258("Họ và tên,Số điện thoại\nNguyễn Văn Đức,0912000111\n"))
    await import_people(SYSTEM, unit_id=tree["province"]["id"], path=tmp_path / "cp1258.csv")
    assert await Person.exists().where(Person.full_name == "Nguyễn Văn Đức")

    (tmp_path / "tcvn3.csv").write_bytes("Hä vµ tªn\nNguyÔn V¨n §øc\n".encode("cp1252"))
    with pytest.raises(Exception, match="tcvn3.csv dùng bảng mã cũ TCVN3"):
        await import_people(SYSTEM, unit_id=tree["province"]["id"], path=tmp_path / "tcvn3.csv")
    (tmp_path / "vni.csv").write_bytes("Hoï vaø teân\nNguyeãn Vaên Ñöùc\n".encode("cp1252"))
    with pytest.raises(Exception, match="vni.csv dùng bảng mã cũ VNI"):
        await import_people(SYSTEM, unit_id=tree["province"]["id"], path=tmp_path / "vni.csv")


@pytest.mark.sqlite_only
def test_cli_import_reports_file_row_and_column(tmp_path):
    env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": ""}
    run_cli("init", "--non-interactive", "--unit-code", "TU", env=env)
    bad = tmp_path / "bad.csv"
    bad.write_text("Họ và tên,Số điện thoại\nAn,abc\n", encoding="utf-8")
    failed = run_cli("people", "import", str(bad), "--unit", "TU", env=env, check=False)
    assert failed.returncode == 2
    assert f"{bad}:2: cột \"Số điện thoại\"" in failed.stderr
    good = tmp_path / "good.csv"
    good.write_text(GOOD.replace("X-PT", "").replace("X-LV", ""), encoding="utf-8")
    done = run_cli("people", "import", str(good), "--unit", "TU", env=env)
    assert "Đã nhập 3 người" in done.stdout
    exported = run_cli("people", "export", "1", env=env)
    assert "Nguyễn Văn An" in exported.stdout
    assert "--yes" in run_cli("people", "erase", "1", env=env, check=False).stderr
