"""The attendee's pages, reached through the personal link (``/i/<token>`` sets the session):
``/me`` (my conferences and my answers), the RSVP forms, ``/me/materials`` and what plugins add.

Phone first: one column, plain HTML forms that work without JavaScript, enhanced by htmx (the
RSVP part of the page is swapped in place). The services do the work: ``core.services.attendees``
(what the person may see and answer), ``core.services.invitations.respond`` (the answer),
``core.services.materials`` (levels and audited reads). A missing or expired session answers a
page explaining how to come back: open the personal link again.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.response import File, Redirect, Template
from markupsafe import Markup

from core.errors import NotFound, ValidationError
from core.services import attendees
from web import i18n
from web.errors import N_
from web.pages import PAGE
from web.pages.common import form_fields, is_htmx
from web.pages.session import safe_next
from web.plugin_routes import SESSION_PERSON_KEY

_ = i18n.gettext
log = logging.getLogger("hoinghi.web.attendee")

PANEL_TIMEOUT_SECONDS = 5.0
FLASH_KEY = "attendee_flash"

ANSWERS = {
    "pending": N_("Chưa trả lời"),
    "accepted": N_("Tham dự"),
    "declined": N_("Không tham dự"),
    "excused": N_("Vắng có lý do"),
    "delegated": N_("Cử người dự thay"),
}
FORMATS = {"in_person": N_("Trực tiếp"), "online": N_("Trực tuyến"), "hybrid": N_("Trực tiếp và trực tuyến")}
STATUSES = {"published": N_("Đã công bố"), "ended": N_("Đã kết thúc"), "cancelled": N_("Đã huỷ")}
MATERIAL_KINDS = {
    "chi_thi": N_("Chỉ thị"), "ke_hoach": N_("Kế hoạch"), "cong_van": N_("Công văn"), "huong_dan": N_("Hướng dẫn"),
    "bao_cao": N_("Báo cáo"), "quyet_dinh": N_("Quyết định"), "nghi_quyet": N_("Nghị quyết"), "other": N_("Khác"),
}
# The services' messages an attendee may meet on these pages, so they are shown in English too.
SERVICE_MESSAGES = (
    N_("Vui lòng nêu lý do vắng mặt."), N_("Vui lòng ghi tên người dự thay."),
    N_("Người dự thay phải là người cùng đơn vị với đồng chí."), N_("Không tìm thấy người dự thay."),
    N_("Hội nghị đã kết thúc hoặc đã huỷ."), N_("Không tìm thấy lời mời."), N_("Không tìm thấy tài liệu."),
    N_("Không tìm thấy hội nghị."), N_("Không tìm thấy phiên bản này."),
)


def human_size(size: int | None) -> str:
    """``350 KB``, ``1,2 MB`` (a decimal comma in Vietnamese)."""
    if not size:
        return ""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    text = f"{size / (1024 * 1024):.1f} MB"
    return text.replace(".", ",") if i18n.current_locale() == "vi" else text


async def signed_in_person(request: Request) -> dict:
    """The person of the attendee session; no session, or a person no longer active: 401 (the
    page that says to open the personal link again)."""
    person_id = request.session.get(SESSION_PERSON_KEY) if request.session else None
    if person_id is None:
        raise NotAuthorizedException()
    try:
        return await attendees.attendee(int(person_id))
    except (NotFound, ValueError, TypeError):
        request.clear_session()
        raise NotAuthorizedException() from None


def session_missing_page(request: Request, error: NotAuthorizedException) -> Response:
    """Instead of a bare 401: how to come back (the personal link), in the person's language."""
    return Template("attendee/expired.html", status_code=401, context={"title": _("Cần mở lại đường dẫn cá nhân")})


async def plugin_panels(request: Request, person: dict, conference: dict) -> list[dict]:
    """The ``attendee_panels`` of the plugins the conference's unit enables, each called on its
    own: a plugin that raises, or whose awaitable fails or hangs, is logged and left out, and the
    page shows the others."""
    host = request.app.state.plugin_host
    hooks = await host.hooks_for_unit(conference["unit"])
    arguments = {"person": person, "conference": conference}
    panels: list[dict] = []
    for impl in reversed(hooks.attendee_panels.get_hookimpls()):  # pluggy's own calling order
        if impl.hookwrapper or impl.wrapper:
            continue
        try:
            result = impl.function(**{name: arguments[name] for name in impl.argnames})
            if inspect.isawaitable(result):
                result = await asyncio.wait_for(result, timeout=PANEL_TIMEOUT_SECONDS)
            for panel in result or []:
                panels.append({"plugin": impl.plugin_name, "title": str(panel.get("title", "")),
                               "html": Markup(panel.get("html", ""))})  # escaped by the plugin (hookspec)
        except Exception:  # isolated: one plugin's failure never breaks the attendee's page
            log.exception("plugin %s failed in attendee_panels (conference %s)", impl.plugin_name, conference.get("id"))
    return panels


def _pop_flash(request: Request) -> str | None:
    session = request.session or {}
    if FLASH_KEY not in session:
        return None
    remaining = dict(session)
    flash = remaining.pop(FLASH_KEY)
    request.set_session(remaining)
    return flash


def _context(request: Request, person: dict, **context: Any) -> dict:
    return {"person": person, "ANSWERS": ANSWERS, "FORMATS": FORMATS, "STATUSES": STATUSES, "KINDS": MATERIAL_KINDS,
            "size": human_size, "flash": _pop_flash(request), "errors": {}, "values": {}, **context}


async def _conference_view(request: Request, person: dict, conference_id: int) -> dict:
    conference = await attendees.conference_for_person(person["id"], conference_id)
    conference["materials"] = await attendees.materials_of_conference(person["id"], conference_id)
    conference["panels"] = await plugin_panels(request, person, conference)
    return conference


def _parse_substitute(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise ValidationError("Người dự thay phải là người cùng đơn vị với đồng chí.", field="substitute_person_id") from None


class AttendeePages(Controller):
    path = "/me"
    opt = {"access": "attendee", **PAGE}
    include_in_schema = False
    exception_handlers = {NotAuthorizedException: session_missing_page}

    @get("/")
    async def home(self, request: Request) -> Template:
        """My upcoming conferences (and those that ended lately), each with my answer."""
        person = await signed_in_person(request)
        home = await attendees.home_for_person(person["id"])
        for conference in home["upcoming"]:
            conference["panels"] = await plugin_panels(request, person, conference)
        candidates = await attendees.substitute_candidates(person["id"]) if home["upcoming"] else []
        return Template("attendee/home.html", context=_context(
            request, person, title=_("Hội nghị của tôi"), upcoming=home["upcoming"], recent=home["recent"],
            candidates=candidates, next="/me"))

    @get("/conferences/{conference_id:int}")
    async def conference(self, request: Request, conference_id: int) -> Template:
        person = await signed_in_person(request)
        conference = await _conference_view(request, person, conference_id)
        return Template("attendee/conference.html", context=_context(
            request, person, title=conference["title"], conference=conference,
            candidates=await attendees.substitute_candidates(person["id"]), next=f"/me/conferences/{conference_id}"))

    @post("/invitations/{invitation_id:int}/rsvp")
    async def rsvp(self, request: Request, invitation_id: int) -> Template | Redirect:
        """The answer from one of the RSVP forms; htmx gets the RSVP part back, a plain form a
        redirect (or, when refused, the page again with the message next to the field)."""
        person = await signed_in_person(request)
        values = {key: value for key, value in (await form_fields(request)).items() if isinstance(value, str)}
        conference_id = await attendees.conference_of_invitation(person["id"], invitation_id)
        target = safe_next(values.get("next") or f"/me/conferences/{conference_id}")
        try:
            await attendees.answer_invitation(
                person["id"], invitation_id, answer=values.get("answer", ""), reason=values.get("reason", ""),
                substitute_person_id=_parse_substitute(values.get("substitute_person_id")),
                substitute_name=values.get("substitute_name"))
        except ValidationError as refused:
            message, fields = i18n.error_messages(refused)
            errors = fields or {"answer": message}
            return await self._rsvp_again(request, person, conference_id, errors=errors, values=values, next=target,
                                          status_code=422)
        flash = _("Đã ghi nhận câu trả lời của đồng chí.")
        if is_htmx(request):
            return await self._rsvp_again(request, person, conference_id, saved=flash, next=target)
        request.set_session({**(request.session or {}), FLASH_KEY: flash})
        return Redirect(f"{target}#rsvp-{invitation_id}", status_code=303)

    async def _rsvp_again(self, request: Request, person: dict, conference_id: int, *, status_code: int = 200, **context) -> Template:
        conference = await attendees.conference_for_person(person["id"], conference_id)
        candidates = await attendees.substitute_candidates(person["id"])
        if is_htmx(request):
            return Template("attendee/rsvp_fragment.html", status_code=status_code, context=_context(
                request, person, conference=conference, candidates=candidates, **context))
        conference = await _conference_view(request, person, conference_id)
        return Template("attendee/conference.html", status_code=status_code, context=_context(
            request, person, title=conference["title"], conference=conference, candidates=candidates, **context))

    @get("/materials")
    async def materials(self, request: Request) -> Template:
        """Every material I may read, by conference, latest conference first."""
        person = await signed_in_person(request)
        groups = await attendees.materials_for_attendee(person["id"])
        return Template("attendee/materials.html", context=_context(request, person, title=_("Tài liệu của tôi"), groups=groups))

    @get("/materials/{material_id:int}/download")
    async def download(self, request: Request, material_id: int, version: int | None = None) -> File:
        """A material of one of my conferences, at a level allowed to me; the read is audited."""
        from web.api.materials import material_file

        person = await signed_in_person(request)
        chosen, path = await attendees.open_material_for_attendee(person["id"], material_id, version=version)
        return material_file(chosen, path)


ATTENDEE_PAGES = [AttendeePages]
