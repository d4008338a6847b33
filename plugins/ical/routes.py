"""HTTP routes of the plugin; each declares its plugin and how its unit is found, so the core
answers 404 where the plugin is off. Feeds are read by calendar clients: no session, no CSRF."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime, parsedate_to_datetime

from litestar import Request, Response, get, post
from litestar.response import Redirect

from core.errors import NotFound
from plugins.ical import panel, services
from plugins.ical.settings import PLUGIN

SESSION_PERSON_KEY = "person_id"  # set by the core's attendee entry /i/<token> (web.plugin_routes)
CALENDAR_TYPE = "text/calendar; charset=utf-8"
CSRF_COOKIE = "hoinghi_csrf"  # web/security.py: the double-submit cookie the form field must repeat


def _conditions(request: Request) -> dict:
    since = request.headers.get("if-modified-since")
    try:
        parsed = parsedate_to_datetime(since) if since else None
    except (TypeError, ValueError):
        parsed = None  # a malformed date is ignored, as RFC 9110 asks
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return {"if_none_match": request.headers.get("if-none-match"), "if_modified_since": parsed}


def _response(feed: services.Feed, *, filename: str | None = None) -> Response:
    headers = {"ETag": feed.etag, "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
               "Cache-Control": "private, no-cache"}
    if feed.body is None:
        return Response(content=b"", status_code=304, headers=headers)
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(content=feed.body, media_type=CALENDAR_TYPE, headers=headers)


def _session_person(request: Request) -> int | None:
    session = request.scope.get("session")
    value = session.get(SESSION_PERSON_KEY) if isinstance(session, dict) else None
    return int(value) if value is not None else None


@get("/ical/{feed_token:str}", opt={"plugin": PLUGIN, "unit_from": "feed_token"}, include_in_schema=False)
async def person_feed(request: Request, feed_token: str) -> Response:
    """A person's subscription feed: /ical/<feed-token>.ics."""
    if not feed_token.endswith(".ics"):
        raise NotFound("Không tìm thấy lịch này.")
    person_id = await services.person_from_feed_token(feed_token.removesuffix(".ics"))
    return _response(await services.person_feed(request.app.state.plugin_host, person_id, **_conditions(request)))


@get("/ical/units/{unit_id:int}/cong-khai.ics", opt={"plugin": PLUGIN, "unit_from": "unit_id"})
async def unit_public_feed(request: Request, unit_id: int) -> Response:
    """The public conferences of a unit, as a subscription feed."""
    return _response(await services.unit_public_feed(unit_id, **_conditions(request)))


@get("/ical/conferences/{conference_id:int}/hoi-nghi.ics", opt={"plugin": PLUGIN, "unit_from": "conference_id"})
async def conference_download(request: Request, conference_id: int) -> Response:
    """One conference as an .ics file: public ones for anyone, others for their invitees."""
    feed = await services.conference_download(conference_id, person_id=_session_person(request), **_conditions(request))
    return _response(feed, filename=f"hoi-nghi-{conference_id}.ics")


@get("/me/ical", opt={"plugin": PLUGIN, "unit_from": "attendee_session"}, include_in_schema=False)
async def my_calendar(request: Request) -> Response:
    """The attendee's "add to calendar" panel as a page fragment."""
    # the rotate form posts without htmx too: it carries the CSRF token of the page's cookie
    html = await panel.render_panel(_session_person(request), None, csrf_token=request.cookies.get(CSRF_COOKIE, ""))
    return Response(content=html, media_type="text/html; charset=utf-8")


@post("/me/ical/feed/rotate", opt={"plugin": PLUGIN, "unit_from": "attendee_session"}, include_in_schema=False)
async def rotate_feed(request: Request) -> Redirect:
    """A new feed address; the old one stops working at once."""
    await services.rotate_feed(_session_person(request))
    return Redirect("/me/ical", status_code=303)


ROUTES = [person_feed, unit_public_feed, conference_download, my_calendar, rotate_feed]
