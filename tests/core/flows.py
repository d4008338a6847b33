"""Factories for conference-shaped test data, through the services."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

from core.services import audiences, conferences, people
from tests.factories import SYSTEM

TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def local(year, month, day, hour=8, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


_AUDIENCES = itertools.count(1)


async def make_people(unit: dict, count: int, *, categories=("briefer",), prefix="Người") -> list[dict]:
    return [
        await people.create_person(SYSTEM, unit_id=unit["id"], full_name=f"{prefix} {unit['short_code']} {index}", categories=categories)
        for index in range(count)
    ]


async def make_conference(tree: dict, *, audience_units=("province",), categories=("briefer",), start=None, venues=None, **extra) -> dict:
    start = start or local(2026, 3, 10, 8)
    audience = await audiences.create_audience(
        SYSTEM, unit_id=tree["province"]["id"], name=f"Báo cáo viên {next(_AUDIENCES)}",  # a unit's audiences have distinct names
        rules={"categories": list(categories), "unit_ids": [tree[name]["id"] for name in audience_units]},
    )
    return await conferences.create_conference(
        SYSTEM, unit_id=tree["province"]["id"], title="Hội nghị báo cáo viên tháng 3", kind="periodic_briefing", format="in_person",
        starts_at=start, ends_at=start + dt.timedelta(hours=3),
        venues=venues or [
            {"name": "Hội trường Tỉnh ủy", "address": "Số 1 Lý Thái Tổ"},
            {"name": "Điểm cầu Tiên Du", "address": "Thị trấn Lim", "host_unit_id": tree["district_a"]["id"]},
        ],
        audience_ids=[audience["id"]], **extra,
    )
