"""Self check-in pages: the venue screen (staff) with its rotating code, and the attendee's
side opened by scanning it (personal-link session, or phone and one-time code)."""

from __future__ import annotations

import inspect

from litestar import Request, get, post
from litestar.response import Template
from markupsafe import Markup

from core.access import Actor
from plugins.qr_checkin import badges, selfcheck
from plugins.qr_checkin.settings import PLUGIN

VENUE = {"plugin": PLUGIN, "unit_from": "venue_id", "page": True}
# the venue screen is for check-in staff: "access": "staff" sends whoever is not signed in to
# the sign-in page (web/errors.py); the self check-in steps stay open to whoever scans the code
SCREEN = {**VENUE, "access": "staff"}
OTP_STORE = "qr_checkin_otp"


def _session(request: Request) -> dict:
    return dict(request.session or {}) if isinstance(request.scope.get("session"), dict) else {}


@get("/qr_checkin/venues/{venue_id:int}/screen", opt=SCREEN, include_in_schema=False)
async def venue_screen(request: Request, actor: Actor, venue_id: int) -> Template:
    """For a projector at the venue: the self check-in code (changing every 30 s) and what other
    plugins add through ``venue_screen_panels``."""
    venue, conference = await selfcheck.screen(actor, venue_id)
    panels = []
    hooks = await request.app.state.plugin_host.hooks_for_path(conference["unit_path"])
    for result in hooks.venue_screen_panels(conference=conference, venue=venue):
        if inspect.isawaitable(result):
            result = await result
        panels.extend(result or [])
    return Template("qr_checkin/screen.html", context={
        "venue": venue, "conference": conference, "panels": [{"title": p["title"], "html": Markup(p["html"])} for p in panels],
        "staff_only": await selfcheck.staff_scans_only(conference["id"])})


@get("/qr_checkin/venues/{venue_id:int}/screen/code", opt=SCREEN, include_in_schema=False)
async def venue_screen_code(request: Request, actor: Actor, venue_id: int) -> Template:
    await selfcheck.screen(actor, venue_id)
    url = f"{str(request.base_url).rstrip('/')}/qr_checkin/venues/{venue_id}/self/{selfcheck.screen_code(venue_id)}"
    return Template("qr_checkin/screen_code.html", context={"venue_id": venue_id, "svg": Markup(badges.svg(url, size_mm=120)),
                                                             "url": url})


@get("/qr_checkin/venues/{venue_id:int}/self/{code:str}", opt=VENUE, include_in_schema=False)
async def self_open(request: Request, venue_id: int, code: str) -> Template:
    """Opened from the screen's QR code: binds the code to this browser's session."""
    venue, conference = await selfcheck.venue_conference(venue_id)
    session = _session(request)
    context = {"venue": venue, "conference": conference, "error": None, "person": session.get("person_id"), "step": "start"}
    if await selfcheck.staff_scans_only(conference["id"]):
        context.update(step="result", answer={"status": "staff_only", "message": selfcheck.SELF_STATUSES["staff_only"]})
        return Template("qr_checkin/self.html", context=context)
    try:
        session = selfcheck.open_pass(session, venue_id, code)
    except selfcheck.ValidationError as error:
        context.update(step="expired", error=error.message)
        return Template("qr_checkin/self.html", context=context, status_code=410)
    request.set_session(session)
    return Template("qr_checkin/self.html", context=context)


@post("/qr_checkin/venues/{venue_id:int}/self", opt=VENUE, include_in_schema=False)
async def self_confirm(request: Request, venue_id: int) -> Template:
    """The attendee signed in by their personal link confirms."""
    venue, conference = await selfcheck.venue_conference(venue_id)
    session = _session(request)
    context = {"venue": venue, "conference": conference, "error": None, "person": session.get("person_id"), "step": "result"}
    if not selfcheck.pass_valid(session, venue_id) or session.get("person_id") is None:
        context.update(step="expired", error="Hãy quét lại mã đang hiện trên màn hình điểm cầu.")
        return Template("qr_checkin/self.html", context=context, status_code=410)
    context["answer"] = await selfcheck.check_in(venue_id=venue_id, person_id=int(session["person_id"]),
                                                  device=session[selfcheck.SESSION_DEVICE])
    request.set_session({k: v for k, v in session.items() if k != selfcheck.SESSION_PASS})
    return Template("qr_checkin/self.html", context=context)


@post("/qr_checkin/venues/{venue_id:int}/self/phone", opt=VENUE, include_in_schema=False)
async def self_phone(request: Request, venue_id: int) -> Template:
    """Send a one-time code to the number (if invited: the page says the same either way)."""
    venue, conference = await selfcheck.venue_conference(venue_id)
    form = await request.form()
    session = _session(request)
    context = {"venue": venue, "conference": conference, "error": None, "person": None, "step": "code",
               "phone": form.get("phone", "")}
    try:
        session = await selfcheck.request_code(request.app.state.plugin_host, request.app.stores.get(OTP_STORE), session,
                                               venue_id=venue_id, phone=form.get("phone", ""))
    except selfcheck.DomainError as error:
        context.update(step="start", error=error.message)
        return Template("qr_checkin/self.html", context=context, status_code=error.status)
    request.set_session(session)
    return Template("qr_checkin/self.html", context=context)


@post("/qr_checkin/venues/{venue_id:int}/self/verify", opt=VENUE, include_in_schema=False)
async def self_verify(request: Request, venue_id: int) -> Template:
    venue, conference = await selfcheck.venue_conference(venue_id)
    form = await request.form()
    session = _session(request)
    context = {"venue": venue, "conference": conference, "error": None, "person": None, "step": "code"}
    if not selfcheck.pass_valid(session, venue_id):
        context.update(step="expired", error="Hãy quét lại mã đang hiện trên màn hình điểm cầu.")
        return Template("qr_checkin/self.html", context=context, status_code=410)
    try:
        person_id, session = selfcheck.verify_code(session, venue_id=venue_id, code=form.get("code", ""))
    except selfcheck.DomainError as error:
        context["error"] = error.message
        return Template("qr_checkin/self.html", context=context, status_code=error.status)
    request.set_session(session)
    if person_id is None:
        context["error"] = "Mã xác nhận không đúng hoặc đã hết hạn."
        return Template("qr_checkin/self.html", context=context, status_code=422)
    context.update(step="result", answer=await selfcheck.check_in(venue_id=venue_id, person_id=person_id,
                                                                  device=session[selfcheck.SESSION_DEVICE]))
    request.set_session({k: v for k, v in session.items() if k != selfcheck.SESSION_PASS})
    return Template("qr_checkin/self.html", context=context)


SELF_PAGES = [venue_screen, venue_screen_code, self_open, self_confirm, self_phone, self_verify]
