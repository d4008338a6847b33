"""The conference editor: create (one-off or a monthly series), edit, agenda with speakers,
venues, audiences with a live count, materials (uploaded by the page's script straight to the
streamed materials API), publish / cancel / end, invitations with their answers, and what
plugins show on a conference (``conference_panels``).

Each form posts to its own route, which parses the form, calls one service and answers 303 back
to the editor; a refused change re-renders the editor with the messages beside the fields.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import urllib.parse

from litestar import Request, get, post
from litestar.response import Redirect, Template
from markupsafe import Markup

from core import notifications
from core.access import Actor
from core.errors import DomainError, NeedsConfirmation, NotFound, ValidationError
from core.reads import reads_reused
from core.services import audiences, conferences, invitations, materials, planning, series
from core.services.units import get_unit
from web.i18n import error_messages, gettext as _
from web.pages import PAGE
from web.pages.common import form_fields, is_htmx
from web.pages.conference_forms import (MAX_ID, Id, Offset, OptionalId, as_list, field_errors, flash, integer, integers, local_moment,
                             local_parts, parse_date, parse_time, render, text, zone)

log = logging.getLogger("hoinghi.web")
STAFF_PAGE = {"access": "staff", **PAGE}
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_OCCURRENCES = 60
EDITOR_INVITATIONS = 20  # the editor shows the first invitees; the invitations page pages through all
INVITATIONS_PAGE = 100

CONFERENCE_FIELDS = {"starts_at": "start_time", "ends_at": "end_time", "local_start": "start_time", "duration_minutes": "end_time",
                     "venues": "venue_name", "online_url": "venue_online_url", "rrule": "repeat", "audience_ids": "audience_ids"}
SESSION_FIELDS = {"title": "session_title", "topic": "session_topic", "starts_at": "session_start", "ends_at": "session_end"}
VENUE_FIELDS = {"name": "venue_name", "venues": "venue_name", "address": "venue_address", "online_url": "venue_online_url",
                "host_unit_id": "venue_host_unit"}


def editor_url(conference_id: int, anchor: str = "") -> str:
    return f"/conferences/{conference_id}" + (f"#{anchor}" if anchor else "")


# ---------------------------------------------------------------------------------------------
# reading a conference form


def conference_times(fields: dict, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """Start and end from the date, end date and time inputs, in the conference's zone."""
    errors: dict[str, str] = {}
    day = end_day = start = end = None
    for name, parse, target in (("date", parse_date, "day"), ("start_time", parse_time, "start"), ("end_time", parse_time, "end")):
        try:
            value = parse(text(fields, name), name)
        except ValidationError as error:
            errors.update(error.fields)
            continue
        if target == "day":
            day = value
        elif target == "start":
            start = value
        else:
            end = value
    if text(fields, "end_date"):
        try:
            end_day = parse_date(text(fields, "end_date"), "end_date")
        except ValidationError as error:
            errors.update(error.fields)
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    tz = zone(timezone)
    return local_moment(day, start, timezone), dt.datetime.combine(end_day or day, end, tz)


def venue_from(fields: dict) -> dict | None:
    name = text(fields, "venue_name")
    if not (name or text(fields, "venue_address") or text(fields, "venue_online_url")):
        return None
    host = integer(text(fields, "venue_host_unit"), "venue_host_unit", required=False)
    return {"name": name, "address": text(fields, "venue_address"), "online_url": text(fields, "venue_online_url") or None,
            "host_unit_id": host}


def monthly_rule(repeat: str, day: dt.date, count: int | None) -> str:
    """The recurrence of "every month, same weekday" (the 2nd Tuesday; a 5th becomes the last)
    or "every month, same day"."""
    if repeat == "monthly_weekday":
        week = (day.day - 1) // 7 + 1
        rule = f"FREQ=MONTHLY;BYDAY={-1 if week == 5 else week}{WEEKDAY_CODES[day.weekday()]}"
    else:
        rule = f"FREQ=MONTHLY;BYMONTHDAY={day.day}"
    return rule + (f";COUNT={count}" if count else "")


async def create_from_form(actor: Actor, fields: dict) -> tuple[int, str]:
    """Create what the new-conference form describes; (conference to open, flash message)."""
    unit_id = integer(text(fields, "unit_id"), "unit_id")
    unit = await get_unit(unit_id)
    timezone = text(fields, "timezone") or unit["timezone"]
    starts_at, ends_at = conference_times(fields, timezone)
    venue = venue_from(fields)
    audience_ids = integers(as_list(fields, "audience_ids"), "audience_ids")
    repeat = text(fields, "repeat") or "none"
    common = {"unit_id": unit_id, "title": text(fields, "title"), "kind": text(fields, "kind"), "format": text(fields, "format"),
              "timezone": timezone}
    if repeat == "none":
        created = await conferences.create_conference(
            actor, **common, starts_at=starts_at, ends_at=ends_at, description=text(fields, "description"),
            venues=[venue] if venue else [], audience_ids=audience_ids)
        return created["id"], _("Đã tạo hội nghị (bản nháp).")
    if repeat not in ("monthly_weekday", "monthly_day"):
        raise ValidationError("Chọn cách lặp trong danh sách.", field="repeat")
    count = integer(text(fields, "repeat_count"), "repeat_count", required=False, low=1, high=MAX_OCCURRENCES)
    minutes = int((ends_at - starts_at).total_seconds() // 60)
    if minutes <= 0:
        raise ValidationError("Giờ kết thúc phải sau giờ bắt đầu.", field="end_time")
    local_start = starts_at.replace(tzinfo=None)
    created = await series.create_series(
        actor, **common, rrule=monthly_rule(repeat, local_start.date(), count), local_start=local_start, duration_minutes=minutes,
        template={"description": text(fields, "description"), "venues": [venue] if venue else [], "audience_ids": audience_ids})
    occurrences = [row for row in created["occurrences"] if not row["skipped"]]
    if not occurrences:
        raise ValidationError("Quy tắc lặp không tạo ra kỳ nào trong thời gian tới.", field="repeat")
    message = _("Đã tạo chuỗi hội nghị hàng tháng: {count} kỳ đã lên lịch (bản nháp).").format(count=len(occurrences))
    return occurrences[0]["id"], message


def new_form_defaults(unit: dict | None) -> dict:
    return {"unit_id": str(unit["id"]) if unit else "", "kind": "periodic_briefing", "format": "in_person", "title": "",
            "date": "", "start_time": "08:00", "end_time": "11:00", "end_date": "", "timezone": unit["timezone"] if unit else "",
            "description": "", "venue_name": "", "venue_address": "", "venue_online_url": "", "venue_host_unit": "",
            "audience_ids": [], "repeat": "none", "repeat_count": ""}


async def audience_choices(actor: Actor, unit_id: int) -> list[dict]:
    try:
        return await audiences.list_audiences(actor, unit_id)
    except DomainError:
        return []


async def new_page(request: Request, actor: Actor, values: dict, errors: dict | None = None, status_code: int = 200) -> Template:
    units = await planning.managed_units(actor)
    typed = str(values.get("unit_id", ""))
    unit_id = int(typed) if typed.isdigit() and int(typed) <= MAX_ID else None
    if unit_id is None and units:
        unit_id = units[0]["id"]
    choices = await audience_choices(actor, unit_id) if unit_id else []
    chosen = {int(value) for value in values.get("audience_ids", []) if str(value).isdigit() and int(value) <= MAX_ID}
    reach = await planning.audience_reach(actor, audience_ids=sorted(chosen)) if chosen else 0
    return await render(request, actor, "conferences/new.html", status_code=status_code, units=units, values=values,
                        errors=errors or {}, audience_list=choices, chosen_audiences=chosen, reach=reach,
                        title=_("Tạo hội nghị"))


@get("/conferences/new", opt=STAFF_PAGE, include_in_schema=False)
async def new_conference(request: Request, actor: Actor, unit: OptionalId = None) -> Template:
    units = await planning.managed_units(actor)
    picked = next((row for row in units if row["id"] == unit), units[0] if units else None)
    return await new_page(request, actor, new_form_defaults(picked))


@post("/conferences/new", opt=STAFF_PAGE, include_in_schema=False)
async def create_conference(request: Request, actor: Actor) -> Template | Redirect:
    fields = await form_fields(request)
    values = {**new_form_defaults(None), **fields, "audience_ids": as_list(fields, "audience_ids")}
    try:
        conference_id, message = await create_from_form(actor, fields)
    except ValidationError as error:
        return await new_page(request, actor, values, field_errors(error, CONFERENCE_FIELDS), status_code=422)
    flash(request, message)
    return Redirect(editor_url(conference_id), status_code=303)


@get("/conferences/audience-choices", opt=STAFF_PAGE, include_in_schema=False)
async def audience_choices_panel(request: Request, actor: Actor, unit_id: OptionalId = None) -> Template:
    """The audiences offered by the new-conference form, for the unit just chosen."""
    choices = await audiences.list_audiences(actor, unit_id) if unit_id else []  # out of reach: 404
    return Template("conferences/_audience_choices.html", context={"audience_list": choices, "chosen_audiences": set(), "reach": 0,
                                                                  "errors": {}})


@get("/conferences/reach", opt=STAFF_PAGE, include_in_schema=False)
async def audience_reach(request: Request, actor: Actor) -> Template:
    """The live count beside the audience choice: how many people the ticked audiences mean."""
    chosen = [int(value) for value in request.query_params.getall("audience_ids", []) if value.isdigit() and int(value) <= MAX_ID]
    try:
        reach, error = await planning.audience_reach(actor, audience_ids=chosen), None
    except DomainError as refused:
        if refused.status in (403, 404):  # an audience out of reach is not counted, nor named
            raise
        reach, error = None, error_messages(refused)[0]
    return Template("conferences/_reach.html", context={"reach": reach, "error": error})


# ---------------------------------------------------------------------------------------------
# the editor


async def plugin_panels(request: Request, conference: dict, unit_path: str) -> list[dict]:
    """``conference_panels`` of the plugins the conference's unit enables, one plugin at a time
    so that a failing plugin hides only its own panel."""
    hooks = await request.app.state.plugin_host.hooks_for_path(unit_path)
    panels: list[dict] = []
    for impl in hooks.conference_panels.get_hookimpls():
        try:
            result = impl.function(conference=conference)
            if inspect.isawaitable(result):
                result = await result
            for panel in result or []:
                panels.append({"plugin": impl.plugin_name, "title": str(panel.get("title", "")),
                               "html": Markup(str(panel.get("html", "")))})  # escaped by the plugin (hook contract)
        except Exception:
            log.exception("plugin %s failed in conference_panels", impl.plugin_name)
    return panels


def edit_values(conference: dict) -> dict:
    day, start = local_parts(conference["starts_at"], conference["timezone"])
    end_day, end = local_parts(conference["ends_at"], conference["timezone"])
    return {"title": conference["title"], "kind": conference["kind"], "format": conference["format"], "date": day,
            "start_time": start, "end_time": end, "end_date": end_day if end_day != day else "", "timezone": conference["timezone"],
            "description": conference["description"], "version": str(conference["version"])}


async def editor_page(request: Request, actor: Actor, conference_id: int, *, errors: dict | None = None, form: str = "",
                      values: dict | None = None, status_code: int = 200, confirm: dict | None = None) -> Template:
    with reads_reused():  # each service below checks access by reading the conference again
        conference = await conferences.get_conference(actor, conference_id)
        unit = await get_unit(conference["unit"])
        can_manage = conference["visible_venue_ids"] is None and actor.has("manage", unit["path"])
        chosen = {row["id"] for row in conference["audiences"]}
        rsvp = await invitations.count_by_rsvp(actor, conference_id)  # active invitations by answer
        context = {
            "conference": conference, "unit": unit, "can_manage": can_manage, "errors": errors or {}, "form": form,
            "edit": values if form == "edit" and values else edit_values(conference),
            "values": values if values and form != "edit" else {},
            "materials": await materials.list_materials(actor, conference_id),
            "rsvp": rsvp,
            "audience_list": await audience_choices(actor, conference["unit"]) if can_manage else [],
            "chosen_audiences": chosen,
            # counted by the page itself once shown (resolving large audiences costs more than the rest of the page)
            "reach_query": urllib.parse.urlencode([("audience_ids", audience_id) for audience_id in sorted(chosen)]),
            "panels": await plugin_panels(request, conference, unit["path"]),
            "series": await series.get_series(actor, conference["series"]) if conference["series"] else None,
            "venue_units": await planning.managed_units(actor) if can_manage else [],
            "confirm": confirm, "title": conference["title"],
            # who a cancellation or change notice reaches, said beside the choice to send it
            "notice_count": notifications.notice_recipients_among(rsvp, "cancellation")
            if can_manage and conference["status"] == "published" else 0,
        }
        if conference["status"] != "draft":
            rows = await invitations.list_invitations(actor, conference_id, limit=EDITOR_INVITATIONS + 1)
            context.update(rows=rows[:EDITOR_INVITATIONS], more=len(rows) > EDITOR_INVITATIONS, filter_rsvp="", q="", offset=0,
                           query="", page_size=EDITOR_INVITATIONS)
        return await render(request, actor, "conferences/editor.html", status_code=status_code, **context)


@get("/conferences/{conference_id:int}", opt=STAFF_PAGE, include_in_schema=False)
async def conference_editor(request: Request, actor: Actor, conference_id: Id) -> Template:
    return await editor_page(request, actor, conference_id)


async def _apply(request: Request, actor: Actor, conference_id: int, form: str, action, *, mapping: dict | None = None,
                 done: str = "", anchor: str = "") -> Template | Redirect:
    """Run one change from a form: 303 to the editor with ``done`` on success; the editor again
    with the messages beside the form's fields when refused (404 stays a 404)."""
    fields = await form_fields(request)
    try:
        await action(fields)
    except NeedsConfirmation as needed:
        return await editor_page(request, actor, conference_id, form=form, values=fields, status_code=409,
                                 confirm={"message": error_messages(needed)[0], "preview": needed.preview})
    except DomainError as error:
        if error.status == 404:
            raise
        return await editor_page(request, actor, conference_id, errors=field_errors(error, mapping), form=form, values=fields,
                                 status_code=error.status)
    if done:
        flash(request, done)
    return Redirect(editor_url(conference_id, anchor), status_code=303)


async def _part_of(actor: Actor, conference_id: int, part: str, part_id: int) -> None:
    """The venue or session in the path belongs to the conference in the path (else 404)."""
    current = await conferences.get_conference(actor, conference_id)
    if part_id not in {row["id"] for row in current[part]}:
        raise NotFound("Không tìm thấy điểm cầu.") if part == "venues" else NotFound("Không tìm thấy phiên.")


def notify_chosen(fields: dict) -> bool:
    """The "send the notice" box: ticked by default, so only a ticked box sends it."""
    return text(fields, "notify") == "1"


def flash_notice(request: Request, done: str, kind: str, told: int) -> None:
    """What was done, and how many invitees the notice goes to."""
    if told:
        notice = _("Thông báo huỷ") if kind == "cancellation" else _("Thông báo thay đổi")
        done = _("{done} {notice} sẽ được gửi tới {count} người được mời.").format(done=done, notice=notice, count=told)
    flash(request, done)


@post("/conferences/{conference_id:int}/edit", opt=STAFF_PAGE, include_in_schema=False)
async def update_conference(request: Request, actor: Actor, conference_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        current = await conferences.get_conference(actor, conference_id)
        timezone = text(fields, "timezone") or current["timezone"]
        starts_at, ends_at = conference_times(fields, timezone)
        updated = await conferences.update_conference(
            actor, conference_id, expected_version=integer(text(fields, "version"), "version", required=False),
            title=text(fields, "title"), kind=text(fields, "kind"), format=text(fields, "format"), timezone=timezone,
            starts_at=starts_at, ends_at=ends_at, description=text(fields, "description"), notify=notify_chosen(fields))
        flash_notice(request, _("Đã lưu thay đổi."), "change_notice", updated["notice_recipients"])
    return await _apply(request, actor, conference_id, "edit", action, mapping=CONFERENCE_FIELDS)


@post("/conferences/{conference_id:int}/venues", opt=STAFF_PAGE, include_in_schema=False)
async def add_venue(request: Request, actor: Actor, conference_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        venue = venue_from(fields) or {"name": ""}
        added = await conferences.add_venue(actor, conference_id, notify=notify_chosen(fields), **venue)
        flash_notice(request, _("Đã thêm điểm cầu."), "change_notice", added["notice_recipients"])
    return await _apply(request, actor, conference_id, "venue", action, mapping=VENUE_FIELDS, anchor="venues")


@post("/conferences/{conference_id:int}/venues/{venue_id:int}/edit", opt=STAFF_PAGE, include_in_schema=False)
async def update_venue(request: Request, actor: Actor, conference_id: Id, venue_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        await _part_of(actor, conference_id, "venues", venue_id)
        updated = await conferences.update_venue(actor, venue_id, notify=notify_chosen(fields), **(venue_from(fields) or {"name": ""}))
        flash_notice(request, _("Đã lưu điểm cầu."), "change_notice", updated["notice_recipients"])
    return await _apply(request, actor, conference_id, f"venue-{venue_id}", action, mapping=VENUE_FIELDS, anchor="venues")


@post("/conferences/{conference_id:int}/venues/{venue_id:int}/remove", opt=STAFF_PAGE, include_in_schema=False)
async def remove_venue(request: Request, actor: Actor, conference_id: Id, venue_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        await _part_of(actor, conference_id, "venues", venue_id)
        removed = await conferences.remove_venue(actor, venue_id, notify=notify_chosen(fields))
        flash_notice(request, _("Đã bỏ điểm cầu."), "change_notice", removed["notice_recipients"])
    return await _apply(request, actor, conference_id, "venue", action, anchor="venues")


async def _session_fields(actor: Actor, conference_id: int, fields: dict) -> dict:
    """The agenda form's fields as the service takes them; times are on the conference's day."""
    current = await conferences.get_conference(actor, conference_id)
    day = current["starts_at"].astimezone(zone(current["timezone"])).date()
    values = {"title": text(fields, "session_title"), "topic": text(fields, "session_topic")}
    for name, key in (("session_start", "starts_at"), ("session_end", "ends_at")):
        values[key] = local_moment(day, parse_time(text(fields, name), name), current["timezone"]) if text(fields, name) else None
    return values


@post("/conferences/{conference_id:int}/sessions", opt=STAFF_PAGE, include_in_schema=False)
async def add_session(request: Request, actor: Actor, conference_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        await conferences.add_session(actor, conference_id, **await _session_fields(actor, conference_id, fields))
    return await _apply(request, actor, conference_id, "session", action, mapping=SESSION_FIELDS, done=_("Đã thêm phiên."),
                        anchor="agenda")


@post("/conferences/{conference_id:int}/sessions/{session_id:int}/edit", opt=STAFF_PAGE, include_in_schema=False)
async def update_session(request: Request, actor: Actor, conference_id: Id, session_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        await _part_of(actor, conference_id, "sessions", session_id)
        await conferences.update_session(actor, session_id, **await _session_fields(actor, conference_id, fields))
    return await _apply(request, actor, conference_id, f"session-{session_id}", action, mapping=SESSION_FIELDS,
                        done=_("Đã lưu phiên."), anchor="agenda")


@post("/conferences/{conference_id:int}/sessions/{session_id:int}/remove", opt=STAFF_PAGE, include_in_schema=False)
async def remove_session(request: Request, actor: Actor, conference_id: Id, session_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        await _part_of(actor, conference_id, "sessions", session_id)
        await conferences.remove_session(actor, session_id)
    return await _apply(request, actor, conference_id, "session", action, done=_("Đã bỏ phiên."), anchor="agenda")


def _speaker_fields(fields: dict) -> dict:
    return {"name": text(fields, "speaker_name"), "position_title": text(fields, "speaker_position"),
            "organisation": text(fields, "speaker_organisation")}


SPEAKER_FIELDS = {"name": "speaker_name", "session_id": "speaker_name"}


@post("/conferences/{conference_id:int}/sessions/{session_id:int}/speakers", opt=STAFF_PAGE, include_in_schema=False)
async def add_speaker(request: Request, actor: Actor, conference_id: Id, session_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        await conferences.add_speaker(actor, conference_id, session_id=session_id, **_speaker_fields(fields))
    return await _apply(request, actor, conference_id, f"speaker-{session_id}", action, mapping=SPEAKER_FIELDS,
                        done=_("Đã thêm người trình bày."), anchor="agenda")


@post("/conferences/{conference_id:int}/sessions/{session_id:int}/speakers/{speaker_id:int}/edit", opt=STAFF_PAGE,
      include_in_schema=False)
async def update_speaker(request: Request, actor: Actor, conference_id: Id, session_id: Id, speaker_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        await conferences.update_speaker(actor, conference_id, session_id=session_id, speaker_id=speaker_id,
                                         **_speaker_fields(fields))
    return await _apply(request, actor, conference_id, f"speaker-{session_id}-{speaker_id}", action, mapping=SPEAKER_FIELDS,
                        done=_("Đã lưu người trình bày."), anchor="agenda")


@post("/conferences/{conference_id:int}/sessions/{session_id:int}/speakers/{speaker_id:int}/remove", opt=STAFF_PAGE,
      include_in_schema=False)
async def remove_speaker(request: Request, actor: Actor, conference_id: Id, session_id: Id, speaker_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        await conferences.remove_speaker(actor, conference_id, session_id=session_id, speaker_id=speaker_id)
    return await _apply(request, actor, conference_id, f"speaker-{session_id}", action, done=_("Đã bỏ người trình bày."),
                        anchor="agenda")


@post("/conferences/{conference_id:int}/audiences", opt=STAFF_PAGE, include_in_schema=False)
async def set_audiences(request: Request, actor: Actor, conference_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        await conferences.set_audiences(actor, conference_id, integers(as_list(fields, "audience_ids"), "audience_ids"))
    return await _apply(request, actor, conference_id, "audiences", action, done=_("Đã lưu đối tượng mời."), anchor="audiences")


@post("/conferences/{conference_id:int}/invitations/re-resolve", opt=STAFF_PAGE, include_in_schema=False)
async def re_resolve(request: Request, actor: Actor, conference_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        result = await invitations.re_resolve(actor, conference_id, confirm=text(fields, "confirm") == "1")
        flash(request, _("Đã cập nhật danh sách mời: thêm {added}, rút {withdrawn}.").format(
            added=result["added"], withdrawn=result["withdrawn"]))
    return await _apply(request, actor, conference_id, "re-resolve", action, anchor="invitations")


@post("/conferences/{conference_id:int}/publish", opt=STAFF_PAGE, include_in_schema=False)
async def publish(request: Request, actor: Actor, conference_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        await conferences.publish_conference(actor, conference_id)
    return await _apply(request, actor, conference_id, "status", action, mapping={"venues": "_form"},
                        done=_("Đã công bố hội nghị; lời mời đã được lập."))


@post("/conferences/{conference_id:int}/cancel", opt=STAFF_PAGE, include_in_schema=False)
async def cancel(request: Request, actor: Actor, conference_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        cancelled = await conferences.cancel_conference(actor, conference_id, reason=text(fields, "reason"),
                                                        notify=notify_chosen(fields))
        flash_notice(request, _("Đã huỷ hội nghị."), "cancellation", cancelled["notice_recipients"])
    return await _apply(request, actor, conference_id, "status", action)


@post("/conferences/{conference_id:int}/end", opt=STAFF_PAGE, include_in_schema=False)
async def end(request: Request, actor: Actor, conference_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        await conferences.end_conference(actor, conference_id)
    return await _apply(request, actor, conference_id, "status", action, done=_("Đã kết thúc hội nghị; người chưa điểm danh được ghi vắng."))


@get("/conferences/{conference_id:int}/materials", opt=STAFF_PAGE, include_in_schema=False)
async def materials_panel(request: Request, actor: Actor, conference_id: Id) -> Template:
    """The materials list (re-fetched by the page after an upload)."""
    from web.pages.conference_labels import LABELS

    conference = await conferences.get_conference(actor, conference_id)
    return Template("conferences/_materials.html", context={
        "conference": conference, "materials": await materials.list_materials(actor, conference_id), **LABELS})


@get("/conferences/{conference_id:int}/invitations", opt=STAFF_PAGE, include_in_schema=False)
async def invitations_panel(request: Request, actor: Actor, conference_id: Id, rsvp: str | None = None, q: str = "",
                            offset: Offset = 0) -> Template:
    """Invitations with their answers; a region of the editor, refreshed live."""
    from web.pages.conference_labels import LABELS

    conference = await conferences.get_conference(actor, conference_id)
    answer = rsvp if rsvp in LABELS["RSVP"] else None
    live = is_htmx(request) and not request.query_params  # the editor's live region refreshing itself
    size = EDITOR_INVITATIONS if live else INVITATIONS_PAGE
    rows = await invitations.list_invitations(actor, conference_id, rsvp=answer, query=q, limit=size + 1, offset=offset)
    context = {"conference": conference, "rsvp": await invitations.count_by_rsvp(actor, conference_id), "rows": rows[:size],
               "more": len(rows) > size, "filter_rsvp": answer or "", "q": q, "offset": offset, "page_size": size,
               "query": urllib.parse.urlencode({key: value for key, value in (("rsvp", answer), ("q", q)) if value}), **LABELS}
    if is_htmx(request):
        return Template("conferences/_invitations.html", context=context)
    return await render(request, actor, "conferences/invitations.html", **context, title=conference["title"])


CONFERENCE_PAGES = [new_conference, create_conference, audience_choices_panel, audience_reach, conference_editor, update_conference, add_venue, update_venue,
                    remove_venue,
                    add_session, update_session, remove_session, add_speaker, update_speaker, remove_speaker, set_audiences, re_resolve, publish, cancel, end, materials_panel,
                    invitations_panel]
