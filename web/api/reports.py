"""/api/v1/reports: attendance by unit subtree and period, and one person's attendance
(core/services/reports.py). A period is a month, a quarter or a year in the unit's time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, get

from core.access import Actor
from core.errors import Label, ValidationError
from core.services import reports, units
from web.api.docs import answers, convert

Period = Literal["month", "quarter", "year"]


def period_bounds(period: str, year: int, number: int | None, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the period, or a ValidationError naming the field that is wrong."""
    if not 2000 <= year <= 2100:
        raise ValidationError("Năm phải trong khoảng 2000–2100.", field="year")
    tz = zoneinfo.ZoneInfo(timezone)
    if period == "year":
        return reports.year(year, tz)
    limit, label = (12, Label("Tháng")) if period == "month" else (4, Label("Quý"))
    if number is None or not 1 <= number <= limit:
        raise ValidationError("{label} phải từ 1 đến {limit} (tham số number).", field="number", label=label, limit=limit)
    return (reports.month if period == "month" else reports.quarter)(year, number, tz)


class Figures(msgspec.Struct):
    """Counts of invitations by roll-call status; rates are shares of ``invited`` (None when 0)."""

    conferences: int
    invited: int
    present: int
    late: int
    excused: int
    absent: int
    substitute: int
    not_recorded: int
    attendance_rate: float | None
    late_rate: float | None
    absence_rate: float | None


class UnitFigures(Figures):
    unit_id: int
    name: str


class UnitRef(msgspec.Struct):
    id: int
    name: str


class PeriodOut(msgspec.Struct):
    start: dt.datetime
    end: dt.datetime


class AttendanceReport(msgspec.Struct):
    """The subtree's total, and the same per child unit (the unit's own conferences under its id)."""

    unit: UnitRef
    period: PeriodOut
    by_kind: dict[str, int]
    total: Figures
    units: list[UnitFigures]
    # what the unit's enabled plugins add (the ``report_sections`` hook): [{"title", "rows", ...}]
    sections: list[dict[str, Any]] = []


_FIGURES = {"conferences": 3, "invited": 120, "present": 96, "late": 8, "excused": 6, "absent": 10, "substitute": 0,
            "not_recorded": 0, "attendance_rate": 0.8667, "late_rate": 0.0667, "absence_rate": 0.0833}
REPORT_EXAMPLE = {"unit": {"id": 1, "name": "Tỉnh ủy Bắc Ninh"},
                  "period": {"start": "2030-02-28T17:00:00Z", "end": "2030-03-31T17:00:00Z"},
                  "by_kind": {"periodic_briefing": 3}, "total": _FIGURES,
                  "units": [{"unit_id": 3, "name": "Huyện ủy Tiên Du", **_FIGURES}]}


class PersonConference(msgspec.Struct):
    conference_id: int
    title: str
    starts_at: dt.datetime
    status: str | None  # None: nothing recorded yet


class PersonRef(msgspec.Struct):
    id: int
    full_name: str


class PersonAttendance(msgspec.Struct):
    person: PersonRef
    conferences: list[PersonConference]
    invited: int
    attended: int
    attendance_rate: float | None


PERSON_EXAMPLE = {"person": {"id": 118, "full_name": "Trần Thị Hoa"}, "invited": 2, "attended": 1, "attendance_rate": 0.5,
                  "conferences": [{"conference_id": 5, "title": "Hội nghị báo cáo viên tháng 3", "starts_at": "2030-03-12T01:00:00Z",
                                   "status": "present"},
                                  {"conference_id": 6, "title": "Hội nghị học tập Nghị quyết", "starts_at": "2030-03-20T01:00:00Z",
                                   "status": "absent"}]}


class ReportsController(Controller):
    path = "/api/v1/reports"
    opt = {"access": "staff"}

    @get("/attendance", responses=answers(200, AttendanceReport, REPORT_EXAMPLE, errors=(400, 404, 422)))
    async def attendance(self, request: Request, actor: Actor, unit_id: int, period: Period, year: int,
                         number: int | None = None) -> AttendanceReport:
        """Attendance of the conferences held in the unit's subtree: ``period=month&year=2030&number=3``,
        ``period=quarter&number=1..4`` or ``period=year``; plus the sections of the unit's plugins."""
        unit = await units.view_unit(actor, unit_id)
        start, end = period_bounds(period, year, number, unit["timezone"])
        summary = await reports.attendance_summary(actor, unit_id=unit_id, start=start, end=end)
        summary["sections"] = await reports.plugin_sections(request.app.state.plugin_host, unit=unit, start=start, end=end)
        return convert(summary, AttendanceReport)

    @get("/people/{person_id:int}/attendance", responses=answers(200, PersonAttendance, PERSON_EXAMPLE, errors=(400, 404, 422)))
    async def person(self, actor: Actor, person_id: int, period: Period, year: int, number: int | None = None) -> PersonAttendance:
        """One person's invitations and roll-call records in the period (Vietnam's time zone)."""
        start, end = period_bounds(period, year, number, reports.TZ.key)
        return convert(await reports.person_attendance(actor, person_id=person_id, start=start, end=end), PersonAttendance)
