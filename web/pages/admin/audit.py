"""/audit: the audit log of a unit's subtree (unit admins), filtered by object, action and dates."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from litestar import Request, get
from litestar.response import Template

from core.access import Actor
from core.errors import ValidationError
from core.services import audit
from web.pages import PAGE
from web.pages.admin.common import page, unit_choices, working_unit

STAFF = {"access": "staff", **PAGE}
PAGE_SIZE = 100
OBJECT_TYPES = ("person", "conference", "audience", "unit", "staff_user", "token", "material", "invitation")


def _day(value: str, timezone: str, field: str) -> dt.datetime | None:
    """A date from the form (yyyy-mm-dd) as the start of that day in the unit's time zone."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError("Ngày không hợp lệ.", field=field) from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=zoneinfo.ZoneInfo(timezone))


@get("/audit", opt=STAFF, include_in_schema=False)
async def audit_page(request: Request, actor: Actor, unit: int | None = None, object_type: str = "", action: str = "",
                     object_id: int | None = None, since: str = "", until: str = "", offset: int = 0) -> Template:
    current = await working_unit(actor, unit)
    start = _day(since, current["timezone"], "since")
    end = _day(until, current["timezone"], "until")
    rows = await audit.list_entries(actor, unit_path=current["path"], object_type=object_type or None, object_id=object_id,
                                    action=action or None, since=start, until=end + dt.timedelta(days=1) if end else None,
                                    limit=PAGE_SIZE + 1, offset=max(0, offset))
    return await page(request, actor, "admin/audit.html", unit=current, choices=await unit_choices(actor), rows=rows[:PAGE_SIZE],
                      more=len(rows) > PAGE_SIZE, actions=await audit.actions_seen(actor, unit_path=current["path"]),
                      object_types=OBJECT_TYPES, object_type=object_type, action=action, object_id=object_id, since=since,
                      until=until, offset=max(0, offset), page_size=PAGE_SIZE)


AUDIT_PAGES = [audit_page]
