import io
import zipfile

import pytest

from core.config import get_settings
from core.errors import Forbidden, NotFound, TooLarge, ValidationError
from core.services import conferences, materials
from core.storage import LocalContentStore, sniff_mime
from core.tables import AuditEntry
from tests.core.flows import make_conference, make_people
from tests.factories import SYSTEM, make_actor, make_tree

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def chunks_of(data: bytes, size: int = 1000):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


async def test_store_dedups_sniffs_and_enforces_the_limit_while_streaming(tmp_path):
    store = LocalContentStore(tmp_path / "content")
    first = await store.put_stream(chunks_of(PDF), max_bytes=10_000)
    second = await store.put_stream(chunks_of(PDF, 7), max_bytes=10_000)
    assert first == second and first.mime_type == "application/pdf" and first.size == len(PDF)
    assert store.path_of(first.sha256).read_bytes() == PDF
    docx = await store.put_stream(chunks_of(docx_bytes()), max_bytes=10_000)
    assert docx.mime_type.endswith("wordprocessingml.document")
    with pytest.raises(TooLarge, match="vượt quá"):
        await store.put_stream(chunks_of(b"x" * 5000), max_bytes=4096)
    leftovers = [p for p in (tmp_path / "content").iterdir() if p.name.startswith(".upload-")]
    assert leftovers == []
    assert sniff_mime("Nghị quyết".encode()) == "text/plain; charset=utf-8"


async def test_state_secrets_are_refused(db):
    tree = await make_tree()
    conference = await make_conference(tree)
    for classification, title in [("Mật", "Văn bản"), ("TOI MAT", "Văn bản"), ("", "Báo cáo TUYỆT MẬT về tình hình")]:
        with pytest.raises(ValidationError, match="không được lưu trên hệ thống kết nối Internet"):
            await materials.add_material(SYSTEM, conference_id=conference["id"], title=title, kind="bao_cao", filename="a.pdf",
                                         chunks=chunks_of(PDF), classification=classification)
    ok = await materials.add_material(SYSTEM, conference_id=conference["id"], title="Hướng dẫn của Mặt trận Tổ quốc", kind="huong_dan",
                                      filename="mttq.pdf", chunks=chunks_of(PDF), official_number="105-HD/BTGTU",
                                      official_date="20/02/2024")
    assert ok["official_date"] == "2024-02-20" and ok["versions"][0]["mime_type"] == "application/pdf"
    with pytest.raises(ValidationError) as error:
        await materials.add_material(SYSTEM, conference_id=conference["id"], title="X", kind="memo", filename="a.pdf",
                                     chunks=chunks_of(PDF), official_number="???")
    assert {"kind", "official_number"} <= set(error.value.fields)


async def test_access_levels_and_audited_reads(db):
    tree = await make_tree()
    invited = (await make_people(tree["commune_a1"], 1))[0]
    outsider = (await make_people(tree["commune_b1"], 1, categories=("member",)))[0]
    conference = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, conference["id"])
    named = await make_actor("viewer", tree["province"])
    other_staff = await make_actor("viewer", tree["province"])
    stranger = await make_actor("organiser", tree["district_b"])
    made = {}
    for access in ("public", "audience", "restricted"):
        made[access] = await materials.add_material(
            SYSTEM, conference_id=conference["id"], title=f"Tài liệu {access}", kind="cong_van", filename=f"{access}.pdf",
            chunks=chunks_of(PDF), official_number="978-CV/TU", access=access, staff_user_ids=[named.user_id],
        )
    assert [m["access"] for m in await materials.materials_for_person(invited["id"], conference["id"])] == ["public", "audience"]
    assert [m["access"] for m in await materials.materials_for_person(outsider["id"], conference["id"])] == ["public"]
    with pytest.raises(NotFound):
        await materials.open_material_for_person(outsider["id"], made["audience"]["id"])
    version, path = await materials.open_material_for_person(invited["id"], made["audience"]["id"])
    assert path.read_bytes() == PDF
    await materials.open_material_for_staff(named, made["restricted"]["id"])
    with pytest.raises(Forbidden):
        await materials.open_material_for_staff(other_staff, made["restricted"]["id"])
    with pytest.raises(NotFound):
        await materials.open_material_for_staff(stranger, made["audience"]["id"])
    await materials.open_material_for_staff(other_staff, made["public"]["id"])
    reads = await AuditEntry.select().where(AuditEntry.action == "material.read")
    assert len(reads) == 2  # the two non-public reads; the public one is not logged


async def test_versions_and_retention(db):
    import datetime as dt

    from core import clock

    tree = await make_tree()
    conference = await make_conference(tree)
    material = await materials.add_material(SYSTEM, conference_id=conference["id"], title="Kế hoạch", kind="ke_hoach",
                                            filename="v1.pdf", chunks=chunks_of(PDF))
    updated = await materials.add_version(SYSTEM, material["id"], filename="v2.txt", chunks=chunks_of("bản sửa".encode()))
    assert [v["number"] for v in updated["versions"]] == [1, 2]
    clock.set_now(clock.now() + dt.timedelta(days=400))
    assert await materials.purge_old_versions(keep_days=365) == 1
    remaining = (await materials.get_material(SYSTEM, material["id"]))["versions"]
    assert [v["number"] for v in remaining] == [2]
    assert not (get_settings().content_dir / remaining[0]["sha256"][:2]).joinpath(
        remaining[0]["sha256"][2:4]).joinpath(updated["versions"][0]["sha256"]).exists()
