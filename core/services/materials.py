"""Materials (tài liệu): documents on a conference or a session, versioned, access-controlled.

State secrets (Mật, Tối mật, Tuyệt mật) may not be stored on an internet-facing system: such
documents are refused with a message saying so. Every read of a non-public material is audited.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import AsyncIterator, Iterable

from core import clock, events
from core.access import Actor, conference_scope
from core.config import get_settings
from core.db import transaction
from core.errors import Forbidden, NotFound, Phrase, ValidationError
from core.limits import fit
from core.services import audit
from core.storage import default_store
from core.tables import AgendaSession, Invitation, Material, MaterialStaff, MaterialVersion
from core.text import clean, fold

KINDS = {
    "chi_thi": "Chỉ thị", "ke_hoach": "Kế hoạch", "cong_van": "Công văn", "huong_dan": "Hướng dẫn",
    "bao_cao": "Báo cáo", "quyet_dinh": "Quyết định", "nghi_quyet": "Nghị quyết", "other": "Khác",
}
ACCESS = {"public": "Công khai", "audience": "Người được mời và cán bộ đơn vị", "restricted": "Chỉ cán bộ được chỉ định"}
SECRET_REFUSAL = Phrase(
    "Tài liệu mang độ mật (Mật, Tối mật, Tuyệt mật) không được lưu trên hệ thống kết nối Internet. "
    "Hãy phổ biến tài liệu này theo quy định bảo vệ bí mật nhà nước."
)
# In titles only the accented word counts ("mặt", "mất" fold to the same letters: Mặt trận
# Tổ quốc is no secret); the classification field is compared folded, so "MAT" means Mật.
_SECRET_WORD = re.compile(r"(?<!\w)(tuyệt mật|tối mật|mật)(?!\w)")
_SECRET_LEVELS = {"mat", "toi mat", "tuyet mat", "do mat", "mat a", "mat b", "mat c"}
_OFFICIAL_NUMBER = re.compile(r"^\d{1,6}[-/][A-Za-zĐđ0-9/\-.]{1,40}$")


def _is_secret(classification: str, *texts: str) -> bool:
    if fold(classification) in _SECRET_LEVELS:
        return True
    return any(_SECRET_WORD.search(clean(text).lower()) for text in texts if text)


def _official_date(value) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    text = clean(str(value))
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise ValidationError("Ngày văn bản không hợp lệ: {text!r} (dạng dd/mm/yyyy).", field="official_date", text=text)


async def _material(material_id: int) -> dict:
    row = await Material.select().where(Material.id == material_id).first()
    if row is None:
        raise NotFound("Không tìm thấy tài liệu.")
    return row


async def _store(filename: str, chunks: AsyncIterator[bytes]):
    name = fit(Path(clean(filename)).name, MaterialVersion.filename, field="file")
    if not name:
        raise ValidationError("Thiếu tên tệp.", field="file")
    blob = await default_store().put_stream(chunks, max_bytes=get_settings().max_upload_bytes)
    return name, blob


async def add_material(
    actor: Actor, *, conference_id: int, title: str, kind: str, filename: str, chunks: AsyncIterator[bytes],
    official_number: str = "", official_date=None, access: str = "audience", classification: str = "",
    session_id: int | None = None, staff_user_ids: Iterable[int] = (),
) -> dict:
    scope = await conference_scope(actor, conference_id, "manage")
    if not scope.whole:
        raise Forbidden("Chỉ đơn vị tổ chức mới thêm được tài liệu.")
    title, number = clean(title), clean(official_number)
    if _is_secret(classification, title, number):
        raise ValidationError(SECRET_REFUSAL, field="classification")
    errors = {}
    if not title:
        errors["title"] = Phrase("Tên tài liệu không được để trống.")
    elif len(title) > Material.title.length:
        errors["title"] = Phrase("Dài quá {limit} ký tự.", {"limit": Material.title.length})
    if kind not in KINDS:
        errors["kind"] = Phrase("Loại tài liệu không hợp lệ. Chọn: {choices}.", {"choices": KINDS})
    if access not in ACCESS:
        errors["access"] = Phrase("Mức truy cập không hợp lệ. Chọn: {choices}.", {"choices": ACCESS})
    if number and not _OFFICIAL_NUMBER.match(number):
        errors["official_number"] = Phrase("Số hiệu văn bản không hợp lệ: {number!r} (ví dụ 978-CV/TU).", {"number": number})
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    date = _official_date(official_date)
    if session_id is not None and not await AgendaSession.exists().where(
            (AgendaSession.id == session_id) & (AgendaSession.conference == conference_id)):
        raise ValidationError("Phiên không thuộc hội nghị này.", field="session_id")
    classification = fit(clean(classification), Material.classification, field="classification")
    name, blob = await _store(filename, chunks)
    async with transaction():
        row = (await Material.insert(Material(
            conference=conference_id, session=session_id, title=title, official_number=number, official_date=date, kind=kind,
            access=access, classification=classification, created_at=clock.now(),
        )).returning(Material.id))[0]
        await MaterialVersion.insert(MaterialVersion(material=row["id"], number=1, sha256=blob.sha256, size=blob.size,
                                                     mime_type=blob.mime_type, filename=name, uploaded_by=actor.user_id,
                                                     uploaded_at=clock.now()))
        staff = sorted(set(staff_user_ids))
        if staff:
            await MaterialStaff.insert(*[MaterialStaff(material=row["id"], user_id=user_id) for user_id in staff])
        await audit.record(actor, "material.add", object_type="material", object_id=row["id"], unit_id=scope.conference["unit"],
                           title=title, sha256=blob.sha256)
        await events.emit("material_added", unit_id=scope.conference["unit"], conference_id=conference_id, material_id=row["id"])
    return await get_material(actor, row["id"])


async def add_version(actor: Actor, material_id: int, *, filename: str, chunks: AsyncIterator[bytes]) -> dict:
    material = await _material(material_id)
    scope = await conference_scope(actor, material["conference"], "manage")
    if not scope.whole:
        raise Forbidden("Chỉ đơn vị tổ chức mới thêm được phiên bản.")
    name, blob = await _store(filename, chunks)
    async with transaction():
        number = (await MaterialVersion.count().where(MaterialVersion.material == material_id)) + 1
        await MaterialVersion.insert(MaterialVersion(material=material_id, number=number, sha256=blob.sha256, size=blob.size,
                                                     mime_type=blob.mime_type, filename=name, uploaded_by=actor.user_id,
                                                     uploaded_at=clock.now()))
        await audit.record(actor, "material.version", object_type="material", object_id=material_id, unit_id=scope.conference["unit"],
                           number=number)
        await events.emit("material_version_added", unit_id=scope.conference["unit"], conference_id=material["conference"],
                          material_id=material_id, number=number)
    return await get_material(actor, material_id)


async def _versions(material_id: int) -> list[dict]:
    return await MaterialVersion.select().where(MaterialVersion.material == material_id).order_by(MaterialVersion.number)


async def _staff_may_read(actor: Actor, material: dict) -> None:
    scope = await conference_scope(actor, material["conference"], "read")
    if material["access"] == "restricted" and not actor.system:
        named = await MaterialStaff.exists().where((MaterialStaff.material == material["id"]) & (MaterialStaff.user_id == actor.user_id))
        if not named:
            raise Forbidden("Tài liệu hạn chế: chỉ cán bộ được chỉ định mới xem được.")
    return scope


async def get_material(actor: Actor, material_id: int) -> dict:
    material = await _material(material_id)
    await _staff_may_read(actor, material)
    material["versions"] = await _versions(material_id)
    return material


async def list_materials(actor: Actor, conference_id: int) -> list[dict]:
    """Materials of a conference for staff; restricted ones only for their named staff."""
    scope = await conference_scope(actor, conference_id, "read")
    rows = await Material.select().where(Material.conference == conference_id).order_by(Material.id)
    named = {row["material"] for row in await MaterialStaff.select(MaterialStaff.material).where(MaterialStaff.user_id == actor.user_id)}
    visible = [row for row in rows if row["access"] != "restricted" or actor.system or row["id"] in named]
    if not scope.whole:
        visible = [row for row in visible if row["access"] != "restricted"]
    return visible


async def materials_for_person(person_id: int, conference_id: int) -> list[dict]:
    """What an attendee may read: public, plus audience materials when invited. Never restricted."""
    invited = await Invitation.exists().where(
        (Invitation.conference == conference_id) & (Invitation.person == person_id) & (Invitation.status == "active"))
    levels = ["public", "audience"] if invited else ["public"]
    return await Material.select().where((Material.conference == conference_id) & Material.access.is_in(levels)).order_by(Material.id)


async def _open(material: dict, version: int | None, reader: str, actor: Actor) -> tuple[dict, Path]:
    versions = await _versions(material["id"])
    chosen = versions[-1] if version is None else next((v for v in versions if v["number"] == version), None)
    if chosen is None:
        raise NotFound("Không tìm thấy phiên bản này.")
    if material["access"] != "public":
        from core.tables import Conference

        conference = await Conference.select(Conference.unit).where(Conference.id == material["conference"]).first()
        async with transaction():  # under the conference's unit, so the unit's audit log shows who read it
            await audit.record(actor, "material.read", object_type="material", object_id=material["id"],
                               unit_id=conference["unit"] if conference else None, version=chosen["number"], reader=reader)
    return chosen, default_store().path_of(chosen["sha256"])


async def open_material_for_staff(actor: Actor, material_id: int, *, version: int | None = None) -> tuple[dict, Path]:
    material = await _material(material_id)
    await _staff_may_read(actor, material)
    return await _open(material, version, f"staff:{actor.user_id}", actor)


async def open_material_for_person(person_id: int, material_id: int, *, version: int | None = None) -> tuple[dict, Path]:
    material = await _material(material_id)
    allowed = {row["id"] for row in await materials_for_person(person_id, material["conference"])}
    if material_id not in allowed:
        raise NotFound("Không tìm thấy tài liệu.")
    return await _open(material, version, f"person:{person_id}", Actor(user_id=None, label=f"người được mời #{person_id}"))


async def delete_material(actor: Actor, material_id: int) -> None:
    material = await _material(material_id)
    scope = await conference_scope(actor, material["conference"], "manage")
    if not scope.whole:
        raise Forbidden("Chỉ đơn vị tổ chức mới xoá được tài liệu.")
    versions = await _versions(material_id)
    async with transaction():
        await Material.delete().where(Material.id == material_id)
        await audit.record(actor, "material.delete", object_type="material", object_id=material_id, unit_id=scope.conference["unit"])
    for version in versions:
        await _delete_blob_if_unused(version["sha256"])


async def _delete_blob_if_unused(sha256: str) -> None:
    if not await MaterialVersion.exists().where(MaterialVersion.sha256 == sha256):
        await default_store().delete(sha256)


async def purge_old_versions(*, keep_days: int) -> int:
    """Retention: delete superseded versions older than ``keep_days`` (the latest always stays)."""
    cutoff = clock.now() - dt.timedelta(days=keep_days)
    removed = 0
    for row in await MaterialVersion.select().where(MaterialVersion.uploaded_at < cutoff):
        latest = await MaterialVersion.select(MaterialVersion.number).where(MaterialVersion.material == row["material"]).order_by(
            MaterialVersion.number, ascending=False).first()
        if latest["number"] == row["number"]:
            continue
        async with transaction():
            await MaterialVersion.delete().where(MaterialVersion.id == row["id"])
        await _delete_blob_if_unused(row["sha256"])
        removed += 1
    return removed
