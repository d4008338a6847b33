"""Attendance reports by unit subtree and period — the figures a Ban Tuyên giáo sends upward.

Everything is a few GROUP BY queries over the subtree, whatever the number of conferences.
Plugins add sections through a hook (the plugin contract).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from core.access import Actor, require
from core.errors import Label
from core.services.units import get_unit
from core.tables import Conference, Unit

STATUSES = ("present", "late", "excused", "absent", "substitute")
TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def month(year: int, number: int, tz: zoneinfo.ZoneInfo = TZ) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(year, number, 1, tzinfo=tz)
    end = dt.datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=tz)
    return start, end


def quarter(year: int, number: int, tz: zoneinfo.ZoneInfo = TZ) -> tuple[dt.datetime, dt.datetime]:
    start, _ = month(year, 3 * number - 2, tz)
    _, end = month(year, 3 * number, tz)
    return start, end


def year(number: int, tz: zoneinfo.ZoneInfo = TZ) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime(number, 1, 1, tzinfo=tz), dt.datetime(number + 1, 1, 1, tzinfo=tz)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


_HELD = "c.status IN ('ended', 'published') AND c.starts_at >= {} AND c.starts_at < {} AND u.path LIKE {}"


async def attendance_summary(actor: Actor, *, unit_id: int, start: dt.datetime, end: dt.datetime) -> dict:
    """Conferences held in [start, end) by units of the subtree: by kind, invited, statuses, rates;
    the same per child unit."""
    unit = await get_unit(unit_id)
    require(actor, "read", unit["path"], what=Label("đơn vị"))
    prefix = f"{unit['path']}%"
    by_kind = await Conference.raw(
        f"SELECT c.kind AS kind, COUNT(*) AS n FROM conference c JOIN unit u ON u.id = c.unit WHERE {_HELD} GROUP BY c.kind",
        start, end, prefix,
    )
    # one row per (child-or-self unit, status); the child is the path segment after the unit's own
    depth = unit["depth"]
    rows = await Conference.raw(
        f"SELECT u.path AS path, i.status AS invitation_status, a.status AS status, COUNT(*) AS n "
        f"FROM invitation i JOIN conference c ON c.id = i.conference JOIN unit u ON u.id = c.unit "
        f"LEFT JOIN attendance a ON a.conference = i.conference AND a.person = i.person "
        f"WHERE i.status = 'active' AND {_HELD} GROUP BY u.path, i.status, a.status",
        start, end, prefix,
    )
    conference_counts = await Conference.raw(
        f"SELECT u.path AS path, COUNT(*) AS n FROM conference c JOIN unit u ON u.id = c.unit WHERE {_HELD} GROUP BY u.path",
        start, end, prefix,
    )
    children = {row["id"]: row for row in await Unit.select(Unit.id, Unit.name, Unit.short_code).where(Unit.parent == unit_id)}

    def bucket(path: str) -> int:
        parts = [int(p) for p in path.strip("/").split("/")]
        return parts[depth + 1] if len(parts) > depth + 1 else unit_id

    def empty() -> dict:
        return {"conferences": 0, "invited": 0, **{status: 0 for status in STATUSES}, "not_recorded": 0}

    total = empty()
    per_unit: dict[int, dict] = {}
    for row in conference_counts:
        total["conferences"] += row["n"]
        per_unit.setdefault(bucket(row["path"]), empty())["conferences"] += row["n"]
    for row in rows:
        key = row["status"] or "not_recorded"
        for target in (total, per_unit.setdefault(bucket(row["path"]), empty())):
            target["invited"] += row["n"]
            target[key] += row["n"]
    for figures in [total, *per_unit.values()]:
        attended = figures["present"] + figures["late"] + figures["substitute"]
        figures["attendance_rate"] = _rate(attended, figures["invited"])
        figures["late_rate"] = _rate(figures["late"], figures["invited"])
        figures["absence_rate"] = _rate(figures["absent"], figures["invited"])
    names = {unit_id: unit["name"], **{child_id: child["name"] for child_id, child in children.items()}}
    return {
        "unit": {"id": unit_id, "name": unit["name"]},
        "period": {"start": start, "end": end},
        "by_kind": {row["kind"]: row["n"] for row in by_kind},
        "total": total,
        "units": [{"unit_id": key, "name": names.get(key, str(key)), **value} for key, value in sorted(per_unit.items())],
    }


async def person_attendance(actor: Actor, *, person_id: int, start: dt.datetime, end: dt.datetime) -> dict:
    """One person's invitations and records in a period, with their attendance rate."""
    from core.services.people import get_person

    person = await get_person(actor, person_id)
    rows = await Conference.raw(
        "SELECT c.id AS conference_id, c.title AS title, c.starts_at AS starts_at, a.status AS status "
        "FROM invitation i JOIN conference c ON c.id = i.conference "
        "LEFT JOIN attendance a ON a.conference = i.conference AND a.person = i.person "
        "WHERE i.person = {} AND i.status = 'active' AND c.status IN ('ended', 'published') "
        "AND c.starts_at >= {} AND c.starts_at < {} ORDER BY c.starts_at",
        person_id, start, end,
    )
    attended = sum(1 for row in rows if row["status"] in ("present", "late", "substitute"))
    return {"person": {"id": person["id"], "full_name": person["full_name"]}, "conferences": rows,
            "invited": len(rows), "attended": attended, "attendance_rate": _rate(attended, len(rows))}




async def plugin_sections(host, *, unit: dict, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """The sections the unit's enabled plugins add to its report (``report_sections`` hook, each
    result awaited when a plugin returns an awaitable). The caller has checked access to the unit."""
    import inspect

    hooks = await host.hooks_for_path(unit["path"])
    sections: list[dict] = []
    for result in hooks.report_sections(unit=unit, start=start, end=end):
        if inspect.isawaitable(result):
            result = await result
        sections.extend(result or [])
    return sections
