"""Roll-call exports: an XLSX sheet and a printable signature sheet (A4 HTML)."""

from __future__ import annotations

import html
import io
import zoneinfo

from openpyxl import Workbook
from openpyxl.styles import Font

from core.access import Actor
from core.db import transaction
from core.services import audit
from core.services.rollcall import METHODS, STATUSES, roll_call


def _local_time(record: dict | None, timezone: str) -> str:
    if not record:
        return ""
    return record["recorded_at"].astimezone(zoneinfo.ZoneInfo(timezone)).strftime("%d/%m/%Y %H:%M")


async def _audited(actor: Actor, conference_id: int, venue_id: int | None, kind: str) -> dict:
    view = await roll_call(actor, conference_id, venue_id=venue_id)
    async with transaction():
        await audit.record(actor, "rollcall.export", object_type="conference", object_id=conference_id,
                           unit_id=view["conference"]["unit"], format=kind, venue_id=venue_id)
    return view


async def export_xlsx(actor: Actor, conference_id: int, *, venue_id: int | None = None) -> bytes:
    view = await _audited(actor, conference_id, venue_id, "xlsx")
    conference = view["conference"]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Điểm danh"
    sheet.append([conference["title"]])
    sheet["A1"].font = Font(bold=True, size=13)
    start = conference["starts_at"].astimezone(zoneinfo.ZoneInfo(conference["timezone"]))
    sheet.append([f"Thời gian: {start:%H:%M ngày %d/%m/%Y}"])
    sheet.append([])
    sheet.append(["STT", "Họ và tên", "Đơn vị", "Trạng thái", "Giờ", "Hình thức", "Lý do / người dự thay"])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for number, row in enumerate(view["rows"], start=1):
        record = row["record"]
        sheet.append([
            number, row["full_name"], row["unit_name"], STATUSES.get(record["status"], "") if record else "Chưa điểm danh",
            _local_time(record, conference["timezone"]), METHODS.get(record["method"], "") if record else "",
            (record["reason"] or record["substitute_name"] or "") if record else "",
        ])
    for column, width in zip("ABCDEFG", (6, 30, 30, 16, 18, 18, 30)):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def signature_sheet_html(actor: Actor, conference_id: int, *, venue_id: int | None = None) -> str:
    """A printable A4 list with an empty signature column (for venues that sign on paper)."""
    view = await _audited(actor, conference_id, venue_id, "signature_sheet")
    conference = view["conference"]
    start = conference["starts_at"].astimezone(zoneinfo.ZoneInfo(conference["timezone"]))
    rows = "\n".join(
        f"<tr><td>{number}</td><td>{html.escape(row['full_name'])}</td><td>{html.escape(row['unit_name'] or '')}</td><td></td></tr>"
        for number, row in enumerate(view["rows"], start=1)
    )
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Danh sách ký tên — {html.escape(conference['title'])}</title>
<style>
@page {{ size: A4; margin: 15mm; }}
body {{ font-family: "Times New Roman", serif; font-size: 13pt; }}
h1 {{ font-size: 15pt; text-align: center; margin: 0 0 4mm; }}
p.meta {{ text-align: center; margin: 0 0 6mm; }}
table {{ width: 100%; border-collapse: collapse; }}
th, td {{ border: 1px solid #000; padding: 2mm; vertical-align: middle; }}
td:first-child {{ width: 10mm; text-align: center; }}
td:last-child {{ width: 40mm; height: 9mm; }}
tr {{ page-break-inside: avoid; }}
thead {{ display: table-header-group; }}
</style></head><body>
<h1>DANH SÁCH ĐẠI BIỂU DỰ HỘI NGHỊ</h1>
<p class="meta">{html.escape(conference['title'])}<br>{start:%H:%M ngày %d/%m/%Y}</p>
<table><thead><tr><th>STT</th><th>Họ và tên</th><th>Đơn vị</th><th>Ký tên</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""
