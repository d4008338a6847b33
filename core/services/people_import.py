"""Importing people from CSV or XLSX: every row validated, all or nothing.

Files come from Excel on Windows machines, sometimes in legacy Vietnamese encodings. UTF-8 and
Windows-1258 are read (converted to NFC); TCVN3 (ABC) and VNI are recognised by their telltale
characters and refused with a message saying how to re-save the file, because guessing wrong
would silently corrupt names.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import unicodedata
from pathlib import Path
from typing import Callable

from charset_normalizer import from_bytes

from core import clock, events
from core.access import Actor, require
from core.db import bulk_insert, transaction
from core.errors import DomainError, Label, Phrase
from core.services import audit
from core.services.people import BRIEFER_LEVELS, CATEGORIES, check_email, check_name, parse_phone
from core.services.units import get_unit
from core.tables import Person, PersonCategory, Unit
from core.text import clean, fold, search_key, sort_key

HEADERS = {
    "full_name": {"ho va ten", "ho ten", "ten", "full name", "full_name", "name"},
    "phone": {"so dien thoai", "dien thoai", "sdt", "so dt", "phone", "mobile"},
    "email": {"email", "e-mail", "thu dien tu"},
    "unit": {"don vi", "ma don vi", "unit", "unit code", "unit_code"},
    "categories": {"doi tuong", "loai", "phan loai", "categories", "category"},
    "briefer_level": {"cap bao cao vien", "cap", "briefer level", "briefer_level", "level"},
    "position": {"chuc vu", "position", "title"},
}
CATEGORY_NAMES = {
    **{key: key for key in CATEGORIES},
    "bao cao vien": "briefer", "bcv": "briefer",
    "tuyen truyen vien": "propagandist", "ttv": "propagandist",
    "cong tac vien du luan xa hoi": "opinion_collaborator", "ctv du luan": "opinion_collaborator",
    "cong tac vien du luan": "opinion_collaborator", "ctv": "opinion_collaborator",
    "can bo": "cadre", "dang vien": "member", "khach moi": "guest", "khach": "guest",
    "opinion collaborator": "opinion_collaborator",
}
LEVEL_NAMES = {**{key: key for key in BRIEFER_LEVELS}, "trung uong": "central", "tinh": "province", "thanh pho": "province",
               "huyen": "district", "quan": "district", "thi xa": "district", "xa": "commune", "phuong": "commune",
               "thi tran": "commune"}
# Characters that only appear when TCVN3 / VNI bytes are read as Windows-1252 / Latin-1.
# TCVN3 puts ă, â, đ, ê, ô, ơ, ư and many toned vowels in 0xA1-0xBF (¨ © ª « ¬ ® § µ ¸ ¹ ...).
_TCVN3_TELLTALE = re.compile(r"[a-zA-Z][¡-¿]|[¡-¿][a-zA-Z]")
_VNI_TELLTALE = re.compile(r"[a-zA-Z](?:ö|ø|ù|ú|û|õ|ô|ò|ó|ñ|ï|î|í|ì|ë|ê|é|è|å|ä|ã|â|á|à|Ö|Ø|Ù|Ú|Û|Õ|Ô|Ò|Ó|Ñ)[a-zA-Z ]")


@dataclasses.dataclass(frozen=True)
class RowError:
    row: int
    column: str
    problem: str  # a Phrase: shown in the reader's language

    def __str__(self) -> str:
        return f"dòng {self.row}, cột \"{self.column}\": {self.problem}"


class ImportFailed(DomainError):
    """Nothing was imported; ``errors`` lists every problem found."""

    status = 422

    def __init__(self, message: str, errors: list[RowError], **params):
        super().__init__(message, **params)
        self.errors = errors


def _key(header: str) -> str | None:
    folded = fold(str(header or "")).strip().strip("*").strip()
    for field, names in HEADERS.items():
        if folded in names:
            return field
    return None


def decode_csv(data: bytes, filename: str) -> str:
    """UTF-8 (with or without BOM) or Windows-1258 -> NFC text; legacy font encodings refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        encoding = best.encoding if best else "cp1252"
        text = data.decode("cp1258" if encoding in {"cp1258", "windows_1258"} else "cp1252", errors="replace")
        if _TCVN3_TELLTALE.search(text) and not _looks_cp1258(data):
            raise DomainError(_legacy_message(filename, "TCVN3 (ABC)"))
        if _VNI_TELLTALE.search(text) and not _looks_cp1258(data):
            raise DomainError(_legacy_message(filename, "VNI"))
        text = data.decode("cp1258", errors="strict") if _looks_cp1258(data) else text
    return unicodedata.normalize("NFC", text)


def _looks_cp1258(data: bytes) -> bool:
    """Windows-1258 writes tones as combining marks (0xCC, 0xEC, 0xD2, 0xDE, 0xF2) after vowels."""
    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError:
        return False
    return bool(re.search(r"[aeiouyâêôăơư][\u0300\u0301\u0303\u0309\u0323]", unicodedata.normalize("NFD", text).lower())) and \
        bool(re.search(r"[\u0300\u0301\u0303\u0309\u0323]", text))


def _legacy_message(filename: str, encoding: str) -> Phrase:
    return Phrase("Tệp {file} dùng bảng mã cũ {encoding}, không đọc được chính xác. "
                   "Hãy mở tệp bằng Excel và lưu lại dưới dạng \"CSV UTF-8\" hoặc .xlsx, "
                   "hoặc chuyển mã sang Unicode bằng Unikey (Công cụ chuyển mã) rồi nhập lại.", {"file": filename, "encoding": encoding})


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and data rows of a CSV or XLSX file, as text."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a damaged file
            raise DomainError("Tệp {file} không phải tệp Excel .xlsx hợp lệ ({reason}).", file=path.name,
                              reason=error.__class__.__name__) from None
        sheet = workbook.active
        rows = [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
        workbook.close()
    elif path.suffix.lower() in {".csv", ".txt"}:
        text = decode_csv(path.read_bytes(), path.name)
        dialect = csv.excel
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            pass
        rows = list(csv.reader(io.StringIO(text), dialect))
    else:
        raise DomainError("Tệp {file}: chỉ nhận .csv hoặc .xlsx.", file=path.name)
    rows = [row for row in rows if any(clean(cell) for cell in row)]
    if not rows:
        raise DomainError("Tệp {file} không có dữ liệu.", file=path.name)
    return rows[0], rows[1:]


async def import_people(
    actor: Actor, *, unit_id: int, path: Path, dry_run: bool = False, progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Validate every row; write all of them in one transaction, or none (ImportFailed)."""
    path = Path(path)
    default_unit = await get_unit(unit_id)
    require(actor, "manage", default_unit["path"], what=Label("đơn vị"))
    header, rows = read_rows(path)
    columns = {index: _key(name) for index, name in enumerate(header)}
    names = {field: header[index] for index, field in columns.items() if field}
    if "full_name" not in names:
        raise DomainError("Tệp {file}: không thấy cột \"Họ và tên\" ở dòng tiêu đề.", file=path.name)
    units = {row["short_code"].lower(): row for row in await Unit.select(Unit.id, Unit.short_code, Unit.path).where(
        Unit.path.like(f"{default_unit['path']}%"))}
    taken = {row["phone"]: row["full_name"] for row in await Person.select(Person.phone, Person.full_name).where(
        Person.phone.is_not_null() & (Person.active == True))}  # noqa: E712
    errors: list[RowError] = []
    parsed: list[dict] = []
    seen_phones: dict[str, int] = {}
    for offset, raw in enumerate(rows):
        line = offset + 2  # as the spreadsheet numbers it, after the header
        record = {field: clean(raw[index]) if index < len(raw) else "" for index, field in columns.items() if field}
        item: dict = {"line": line}

        def check(field, function):
            try:
                item[field] = function(record.get(field, ""))
            except DomainError as error:
                errors.append(RowError(line, names.get(field, field), error.message))

        check("full_name", check_name)
        check("phone", parse_phone)
        check("email", check_email)
        item["position"] = record.get("position") or None
        unit_code = record.get("unit", "").lower()
        if unit_code:
            unit = units.get(unit_code)
            if unit is None:
                errors.append(RowError(line, names["unit"], Phrase("không có đơn vị mã {code!r} trong đơn vị của bạn", {"code": record['unit']})))
            item["unit"] = unit["id"] if unit else None
        else:
            item["unit"] = default_unit["id"]
        categories = []
        for part in re.split(r"[,;/]", record.get("categories", "")):
            if clean(part):
                value = CATEGORY_NAMES.get(fold(part).strip())
                if value is None:
                    errors.append(RowError(line, names.get("categories", "categories"), Phrase("đối tượng không rõ: {value!r}", {"value": clean(part)})))
                else:
                    categories.append(value)
        item["categories"] = sorted(set(categories))
        level = record.get("briefer_level", "")
        item["briefer_level"] = None
        if level:
            item["briefer_level"] = LEVEL_NAMES.get(fold(level).strip())
            if item["briefer_level"] is None:
                errors.append(RowError(line, names["briefer_level"], Phrase("cấp không rõ: {value!r}", {"value": level})))
        phone = item.get("phone")
        if phone:
            if phone in seen_phones:
                errors.append(RowError(line, names["phone"], Phrase("trùng số với dòng {row}", {"row": seen_phones[phone]})))
            elif phone in taken:
                errors.append(RowError(line, names["phone"], Phrase("số đã thuộc về {holder}", {"holder": taken[phone]})))
            seen_phones.setdefault(phone, line)
        parsed.append(item)
    if errors:
        raise ImportFailed("Tệp {file}: {count} lỗi; chưa nhập người nào.", errors, file=path.name, count=len(errors))
    by_category: dict[str, int] = {}
    for item in parsed:
        for category in item["categories"]:
            by_category[category] = by_category.get(category, 0) + 1
    report = {"file": path.name, "rows": len(parsed), "created": 0 if dry_run else len(parsed), "by_category": by_category,
              "dry_run": dry_run}
    if dry_run:
        return report
    now = clock.now()
    async with transaction():
        first_id = (await Person.raw("SELECT COALESCE(MAX(id), 0) + 1 AS next FROM person"))[0]["next"]
        people_rows, category_rows = [], []
        for offset, item in enumerate(parsed):
            person_id = first_id + offset
            people_rows.append((person_id, item["full_name"], search_key(item["full_name"]), sort_key(item["full_name"]), item["phone"],
                                False, item["email"], item["unit"], item["briefer_level"], item["position"], False, True, now, now))
            category_rows += [(person_id, category) for category in item["categories"]]
            if progress and offset % 5000 == 0:
                progress(offset, len(parsed))
        await bulk_insert(Person, ["id", "full_name", "search_folded", "sort_key", "phone", "phone_shared", "email", "unit",
                                   "briefer_level", "position", "is_head", "active", "created_at", "updated_at"], people_rows)
        await bulk_insert(PersonCategory, ["person", "category"], category_rows)
        if Person._meta.db.engine_type == "postgres":
            await Person.raw("SELECT setval(pg_get_serial_sequence('person', 'id'), (SELECT MAX(id) FROM person))")
        await audit.record(actor, "people.import", object_type="unit", object_id=unit_id, unit_id=unit_id, file=path.name,
                           created=len(parsed))
        await events.emit("person_created", unit_id=unit_id, imported=len(parsed), first_id=first_id)
    if progress:
        progress(len(parsed), len(parsed))
    return report
