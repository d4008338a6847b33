"""The roll-call page: who is present, late, absent or excused, per venue; manual record and
excuse; the XLSX export. The board is a live region: every change in the conference's outbox
reaches the page as a server-sent event (``/api/v1/conferences/{id}/live``) and the board is
fetched again, so check-ins made anywhere appear without a reload."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core.access import Actor
from core.errors import DomainError
from core.services import conferences, planning, rollcall
from web.i18n import error_messages, gettext as _
from web.pages import PAGE
from web.pages.common import form_fields, is_htmx
from web.pages.conference_labels import LABELS
from web.pages.conference_forms import Id, OptionalId, flash, integer, render, text

STAFF_PAGE = {"access": "staff", **PAGE}
FILTERS = ("present", "late", "substitute", "excused", "absent", "not_recorded")
# the board lists at most this many people (the counts cover everyone); search narrows it
BOARD_ROWS = 300


async def board_context(actor: Actor, conference_id: int, venue: int | None, status: str, q: str) -> dict:
    conference = await conferences.get_conference(actor, conference_id)
    visible = conference["visible_venue_ids"]
    venues = [row for row in conference["venues"] if visible is None or row["id"] in visible]
    if venue is not None and all(row["id"] != venue for row in venues):
        venue = None
    status = status if status in FILTERS else ""
    view = await planning.roll_call_board(actor, conference_id, venue_id=venue, status=status or None, query=q, limit=BOARD_ROWS)
    counts = view["counts"]
    attended = counts["present"] + counts["late"] + counts["substitute"]
    by_venue = []
    if venue is None and len(venues) > 1:
        for row in [*venues, None]:
            figures = view["by_venue"].get(row["id"] if row else None)
            if figures:
                by_venue.append({"venue": row, **figures, "attended": figures["present"] + figures["late"] + figures["substitute"]})
    return {"conference": conference, "venues": venues, "venue_names": {row["id"]: row["name"] for row in conference["venues"]},
            "venue": venue, "status": status, "q": q, "view": view, "shown": view["rows"], "more": view["more"],
            "board_rows": BOARD_ROWS, "attended": attended, "by_venue": by_venue,
            "can_record": conference["status"] in ("published", "ended") and actor_may_check_in(actor, conference),
            **LABELS}


def actor_may_check_in(actor: Actor, conference: dict) -> bool:
    """Whether to show the record buttons (the service decides for real)."""
    return any(grant.role in ("admin", "organiser", "checkin_staff") for grant in actor.grants) or actor.system


@get("/conferences/{conference_id:int}/rollcall", opt=STAFF_PAGE, include_in_schema=False)
async def rollcall_page(request: Request, actor: Actor, conference_id: Id, venue: OptionalId = None, status: str = "",
                        q: str = "") -> Template:
    context = await board_context(actor, conference_id, venue, status, q)
    return await render(request, actor, "conferences/rollcall.html", title=_("Điểm danh") + " · " + context["conference"]["title"],
                        **context)


@get("/conferences/{conference_id:int}/rollcall/board", opt=STAFF_PAGE, include_in_schema=False)
async def rollcall_board(request: Request, actor: Actor, conference_id: Id, venue: OptionalId = None, status: str = "",
                         q: str = "") -> Template:
    """The live region alone (fetched again on every live event)."""
    return Template("conferences/_board.html", context=await board_context(actor, conference_id, venue, status, q))


async def _change(request: Request, actor: Actor, conference_id: int, action, done: str) -> Template | Redirect:
    await conferences.get_conference(actor, conference_id)  # out of reach: 404, before anything is read
    fields = await form_fields(request)
    venue = integer(text(fields, "filter_venue"), "filter_venue", required=False) if text(fields, "filter_venue").isdigit() else None
    status, q = text(fields, "filter_status"), text(fields, "filter_q")
    error = None
    try:
        await action(fields)
    except DomainError as refused:
        if refused.status in (403, 404):  # not allowed is a refusal, not a message on the board
            raise
        message, fields = error_messages(refused)
        error = next(iter(fields.values()), message)
    if is_htmx(request):
        context = await board_context(actor, conference_id, venue, status, q)
        return Template("conferences/_board.html", context={**context, "notice": error or done, "notice_kind": "error" if error else "ok"},
                        status_code=200)
    flash(request, error or done, "error" if error else "ok")
    query = "&".join(f"{key}={value}" for key, value in (("venue", venue), ("status", status)) if value)
    return Redirect(f"/conferences/{conference_id}/rollcall" + (f"?{query}" if query else ""), status_code=303)


@post("/conferences/{conference_id:int}/rollcall/record", opt=STAFF_PAGE, include_in_schema=False)
async def record(request: Request, actor: Actor, conference_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        await rollcall.record_attendance(
            actor, conference_id=conference_id, person_id=integer(text(fields, "person_id"), "person_id"), method="manual",
            venue_id=integer(text(fields, "venue_id"), "venue_id", required=False),
            substitute_name=text(fields, "substitute_name") or None)
    return await _change(request, actor, conference_id, action, _("Đã ghi nhận có mặt."))


@post("/conferences/{conference_id:int}/rollcall/excuse", opt=STAFF_PAGE, include_in_schema=False)
async def excuse(request: Request, actor: Actor, conference_id: Id) -> Template | Redirect:
    async def action(fields: dict) -> None:
        await rollcall.excuse(actor, conference_id, integer(text(fields, "person_id"), "person_id"), text(fields, "reason"))
    return await _change(request, actor, conference_id, action, _("Đã ghi nhận vắng có lý do."))


ROLLCALL_PAGES = [rollcall_page, rollcall_board, record, excuse]
