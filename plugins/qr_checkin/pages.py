"""Pages of the plugin: the scanner (a shell; its data comes through the device-token API), the
service workers keeping pages loadable offline, the attendee's badges, and the staff pages
issuing scanner keys and badge sheets."""

from __future__ import annotations

from pathlib import Path

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from core.access import Actor, conference_scope
from core.errors import NotFound
from core.services import tokens
from core.tables import Conference, Venue
from plugins.qr_checkin import badges, services
from plugins.qr_checkin.settings import PLUGIN

STATIC = Path(__file__).parent / "static"
PAGE = {"page": True}
# staff pages: "access": "staff" sends whoever is not signed in to the sign-in page (web/errors.py)
STAFF_PAGE = {"access": "staff", "page": True}


@get("/qr_checkin/conferences/{conference_id:int}/scanner", opt={"plugin": PLUGIN, "unit_from": "conference_id", **PAGE},
     include_in_schema=False)
async def scanner_page(conference_id: int) -> Template:
    """The scanner for phones. It holds no data itself: the device key (from the link's fragment,
    then the browser's storage) authenticates its API calls."""
    if not await Conference.exists().where(Conference.id == conference_id):
        raise NotFound("Không tìm thấy hội nghị.")
    return Template("qr_checkin/scanner.html", context={"conference": {"id": conference_id}})


def _script(name: str, scope: str) -> Response:
    return Response(content=(STATIC / name).read_bytes(), media_type="application/javascript",
                    headers={"Service-Worker-Allowed": scope, "Cache-Control": "no-cache"})


@get("/qr_checkin/conferences/{conference_id:int}/sw.js", opt={"plugin": PLUGIN, "unit_from": "conference_id"}, include_in_schema=False)
async def scanner_worker(conference_id: int) -> Response:
    return _script("sw.js", f"/qr_checkin/conferences/{conference_id}/")


@get("/me/qr_checkin/sw.js", opt={"plugin": PLUGIN, "unit_from": "attendee_session"}, include_in_schema=False)
async def badge_worker() -> Response:
    return _script("sw.js", "/me/qr_checkin/")


def _session_person(request: Request) -> int:
    session = request.scope.get("session")
    value = session.get("person_id") if isinstance(session, dict) else None
    if value is None:
        raise NotFound("Không tìm thấy trang này.")
    return int(value)


@get("/me/qr_checkin/badges", opt={"plugin": PLUGIN, "unit_from": "attendee_session", **PAGE}, include_in_schema=False)
async def my_badges(request: Request) -> Template:
    """The attendee's badges for their upcoming conferences where the plugin is on; the page and
    its files stay loadable offline through a service worker."""
    from markupsafe import Markup

    from core.plugins import conferences_with_plugin

    person_id = _session_person(request)
    allowed = await conferences_with_plugin(request.app.state.plugin_host, person_id=person_id, plugin=PLUGIN)
    items = []
    for conference_id in sorted(set(allowed)):
        badge = await badges.badge_for(person_id, int(conference_id))
        if badge is not None:
            items.append({**badge, "svg": Markup(badges.svg(badge["credential"]))})
    return Template("qr_checkin/my_badges.html", context={"badges": items},
                    headers={"Cache-Control": "private, no-cache"})


async def _staff_scope(actor: Actor, conference_id: int):
    return await conference_scope(actor, conference_id, "checkin")


@get("/qr_checkin/conferences/{conference_id:int}/devices", opt={"plugin": PLUGIN, "unit_from": "conference_id", **STAFF_PAGE},
     include_in_schema=False)
async def devices_page(actor: Actor, conference_id: int) -> Template:
    """Scanner keys of the conference (issue, list; revoking is the core's token page/API)."""
    scope = await _staff_scope(actor, conference_id)
    venues = await Venue.select(Venue.id, Venue.name).where(Venue.conference == conference_id).order_by(Venue.id)
    mine = [t for t in await tokens.list_tokens(actor, purpose="scanner_device") if t["conference_id"] == conference_id]
    return Template("qr_checkin/devices.html", context={"conference": scope.conference, "venues": venues, "devices": mine,
                                                         "issued": None, "whole": scope.whole})


@post("/qr_checkin/conferences/{conference_id:int}/devices", opt={"plugin": PLUGIN, "unit_from": "conference_id", **STAFF_PAGE},
      include_in_schema=False)
async def issue_device(request: Request, actor: Actor, conference_id: int) -> Template:
    """A new scanner key, shown once inside the scanner link's fragment (never sent in a URL)."""
    form = await request.form()
    venue = form.get("venue_id") or None
    label = form.get("label") or ""
    if venue:
        row, plaintext = await tokens.issue_device_token(actor, venue_id=int(venue), label=label)
    else:
        row, plaintext = await tokens.issue_device_token(actor, conference_id=conference_id, label=label)
    page = await devices_page.fn(actor=actor, conference_id=conference_id)
    page.context["issued"] = {"label": row["label"], "link": f"/qr_checkin/conferences/{conference_id}/scanner#k={plaintext}"}
    return page


@get("/qr_checkin/conferences/{conference_id:int}/badges", opt={"plugin": PLUGIN, "unit_from": "conference_id", **STAFF_PAGE},
     include_in_schema=False)
async def sheets_page(actor: Actor, conference_id: int) -> Template:
    scope = await _staff_scope(actor, conference_id)
    venues = await Venue.select(Venue.id, Venue.name).where(Venue.conference == conference_id).order_by(Venue.id)
    return Template("qr_checkin/sheets.html", context={"conference": scope.conference, "venues": venues, "whole": scope.whole})


@post("/qr_checkin/conferences/{conference_id:int}/badges", opt={"plugin": PLUGIN, "unit_from": "conference_id", **STAFF_PAGE},
      include_in_schema=False)
async def request_sheet(request: Request, actor: Actor, conference_id: int) -> Redirect:
    form = await request.form()
    venue = form.get("venue_id") or None
    sheet = await badges.request_sheet(actor, conference_id=conference_id, venue_id=int(venue) if venue else None)
    return Redirect(f"/qr_checkin/conferences/{conference_id}/badges/{sheet['id']}", status_code=303)


@get("/qr_checkin/conferences/{conference_id:int}/badges/{sheet_id:int}", opt={"plugin": PLUGIN, "unit_from": "conference_id", **STAFF_PAGE},
     include_in_schema=False)
async def sheet_page(request: Request, actor: Actor, conference_id: int, sheet_id: int) -> Template:
    """The sheet's progress (htmx polls the fragment until it is done), then its print files."""
    sheet = await badges.sheet_status(actor, conference_id=conference_id, sheet_id=sheet_id)
    fragment = request.headers.get("hx-request") == "true"
    return Template("qr_checkin/sheet_progress.html" if fragment else "qr_checkin/sheet.html",
                    context={"sheet": sheet, "conference_id": conference_id})


@get("/qr_checkin/conferences/{conference_id:int}/badges/{sheet_id:int}/parts/{part:int}",
     opt={"plugin": PLUGIN, "unit_from": "conference_id"}, include_in_schema=False)
async def sheet_file(actor: Actor, conference_id: int, sheet_id: int, part: int) -> Response:
    sheet = await badges.sheet_status(actor, conference_id=conference_id, sheet_id=sheet_id)
    if not 1 <= part <= sheet["parts"]:
        raise NotFound("Không tìm thấy bản in.")
    return Response(content=badges.part_path(sheet_id, part).read_bytes(), media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "private, no-store"})


PAGES = [scanner_page, scanner_worker, badge_worker, my_badges, devices_page, issue_device, sheets_page, request_sheet, sheet_page,
         sheet_file]
