"""``/`` the organiser's dashboard, ``/calendar`` the month calendar, ``/conferences`` the list
with filters: reads over core/services/planning.py, conferences.py and reports.py."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from litestar import Request, get
from litestar.response import Template

from core import clock
from core.access import Actor
from core.errors import ValidationError
from core.services import conferences, planning, reports
from core.services.units import view_unit
from web.i18n import error_messages, gettext as _
from web.pages import PAGE
from web.pages.common import home_units
from web.pages.conference_forms import Id, Offset, OptionalId, render

STAFF_PAGE = {"access": "staff", **PAGE}
PAGE_SIZE = 50


async def chosen_unit(actor: Actor, unit: int | None) -> tuple[dict | None, list[dict]]:
    """The unit a page is about: the one asked for (if the actor sees it), else the first of
    the actor's units; with the units to choose from (see :func:`planning_choices`)."""
    tops = await home_units(actor)
    picked = await view_unit(actor, unit) if unit is not None else None  # NotFound for a unit out of reach
    choices = list(await planning_choices(tops, picked))
    if picked is not None:
        if all(choice["id"] != picked["id"] for choice in choices):
            choices.append(picked)
        return picked, choices
    if not tops:
        return None, choices
    return await view_unit(actor, tops[0]["id"]), choices


async def planning_choices(tops: list[dict], picked: dict | None = None) -> list[dict]:
    """The actor's units and one level below them; when a unit further down is picked, also the
    way down to it, each step with the units one level below, so that choosing a district offers
    its communes, and so on down the tree (the picked unit never stands alone out of its place)."""
    from core.tables import Unit

    if not tops:
        return []
    opened = {top["id"] for top in tops}
    if picked is not None:
        parts = picked["path"].strip("/").split("/")
        for depth in range(len(parts)):
            path = "/" + "/".join(parts[:depth + 1]) + "/"
            if any(path.startswith(top["path"]) for top in tops):
                opened.add(int(parts[depth]))
    rows = await Unit.select(Unit.id, Unit.name, Unit.path, Unit.depth, Unit.parent).where(
        Unit.id.is_in(list(opened)) | Unit.parent.is_in(list(opened))).order_by(Unit.path).limit(300)
    return rows


def previous_month(unit: dict) -> tuple[dt.datetime, dt.datetime]:
    zone = zoneinfo.ZoneInfo(unit["timezone"])
    first = clock.now().astimezone(zone).date().replace(day=1)
    last_month = (first - dt.timedelta(days=1)).replace(day=1)
    return reports.month(last_month.year, last_month.month, zone)


@get("/", opt=STAFF_PAGE, include_in_schema=False)
async def dashboard(request: Request, actor: Actor, unit: OptionalId = None) -> Template:
    picked, choices = await chosen_unit(actor, unit)
    context: dict = {"unit": picked, "unit_choices": choices, "title": _("Tổng quan")}
    if picked is not None:
        start, end = previous_month(picked)
        context.update(
            upcoming=await planning.upcoming_conferences(actor, unit_id=picked["id"], limit=8),
            summary=await reports.attendance_summary(actor, unit_id=picked["id"], start=start, end=end),
            last_month=start,
            action=await planning.needs_action(actor, unit_id=picked["id"], host=request.app.state.plugin_host),
        )
    return await render(request, actor, "conferences/dashboard.html", **context)


@get("/calendar", opt=STAFF_PAGE, include_in_schema=False)
async def calendar(request: Request, actor: Actor, unit: OptionalId = None, month: str | None = None) -> Template:
    picked, choices = await chosen_unit(actor, unit)
    context: dict = {"unit": picked, "unit_choices": choices, "title": _("Lịch hội nghị")}
    if picked is not None:
        try:
            context["calendar"] = await planning.month_calendar(actor, unit_id=picked["id"], month=month)
        except ValidationError as error:
            context["calendar"] = await planning.month_calendar(actor, unit_id=picked["id"])
            context["flash"], context["flash_kind"] = error_messages(error)[0], "error"
    return await render(request, actor, "conferences/calendar.html", **context)


PERIODS = ("upcoming", "past", "all")


@get("/conferences", opt=STAFF_PAGE, include_in_schema=False)
async def conference_list(request: Request, actor: Actor, unit: OptionalId = None, when: str = "upcoming", month: str | None = None,
                          status: str | None = None, kind: str | None = None, offset: Offset = 0) -> Template:
    picked, choices = await chosen_unit(actor, unit)
    filters = {"unit": picked["id"] if picked else None, "when": when if when in PERIODS else "upcoming", "month": month or "",
               "status": status if status in conferences.STATUSES else "", "kind": kind if kind in conferences.KINDS else ""}
    context: dict = {"unit": picked, "unit_choices": choices, "filters": filters, "rows": [], "title": _("Hội nghị"),
                     "offset": max(0, offset), "page_size": PAGE_SIZE}
    if picked is not None:
        start = end = None
        error = None
        if filters["month"]:
            try:
                _first, start, end = planning.month_bounds(filters["month"], picked["timezone"])
            except ValidationError as refused:
                error = error_messages(refused)[0]
                filters["month"] = ""
        if not filters["month"]:
            if filters["when"] == "upcoming":
                start = clock.now()
            elif filters["when"] == "past":
                end = clock.now()
        rows = await conferences.list_conferences(
            actor, unit_id=picked["id"], start=start, end=end, status=filters["status"] or None, kind=filters["kind"] or None,
            limit=PAGE_SIZE + 1, offset=context["offset"])
        context.update(rows=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE)
        if error:
            context.update(flash=error, flash_kind="error")
    return await render(request, actor, "conferences/list.html", **context)


DASHBOARD_PAGES = [dashboard, calendar, conference_list]
