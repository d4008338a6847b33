"""The attendee's side, without a password: the personal link ``/i/<token>`` opens a session for
that person and redirects to a token-free URL; ``/api/v1/me/…`` serves their conferences and
answers."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.response import Redirect, Template

from core.access import Actor
from core.errors import Label, NotFound
from core.services import attendees, invitations, tokens
from web.plugin_routes import SESSION_PERSON_KEY

LOGIN_LINK_TTL = dt.timedelta(days=60)


async def current_person(request: Request) -> int:
    person_id = request.session.get(SESSION_PERSON_KEY) if request.session else None
    if person_id is None:
        raise NotAuthorizedException("Hãy mở đường dẫn cá nhân đã được gửi cho đồng chí.")
    return int(person_id)


@get("/i/{token:str}", opt={"access": "public"}, include_in_schema=False)
async def personal_link(request: Request, token: str) -> Redirect | Template:
    """Check the personal link, sign the person in, and leave the token out of the address bar.
    A wrong or expired link answers a page (404) saying whom to ask for a new one."""
    from web.auth import start_new_session
    from web.i18n import gettext as _

    try:
        row = await tokens.verify_secret_token(token, "login_link")
    except NotFound:
        row = None
    if row is None or row["subject_type"] != "person":
        return Template("attendee/expired.html", status_code=404,
                        context={"link_invalid": True, "title": _("Đường dẫn không còn dùng được")})
    start_new_session(request, {SESSION_PERSON_KEY: row["subject_id"]})
    return Redirect("/me", status_code=303)


class RsvpRequest(msgspec.Struct, forbid_unknown_fields=True):
    answer: str
    reason: str = ""
    substitute_name: str | None = None
    substitute_person_id: int | None = None


class MeController(Controller):
    path = "/api/v1/me"
    opt = {"access": "attendee"}

    @get("/conferences")
    async def conferences(self, request: Request) -> list[dict]:
        """My upcoming conferences and my answers."""
        return await invitations.invitations_for_person(await current_person(request))

    @post("/invitations/{invitation_id:int}/rsvp", status_code=200)
    async def rsvp(self, request: Request, invitation_id: int, data: RsvpRequest) -> dict:
        """My answer: accepted, declined, excused (with a reason) or delegated (a substitute of my unit)."""
        return await attendees.answer_invitation(
            await current_person(request), invitation_id, answer=data.answer, reason=data.reason,
            substitute_person_id=data.substitute_person_id, substitute_name=data.substitute_name)


@post("/api/v1/people/{person_id:int}/login-link", opt={"access": "staff"})
async def issue_login_link(actor: Actor, person_id: int) -> dict:
    """A personal link for an attendee (shown once; send it by SMS or on paper)."""
    from core.services.people import get_person
    from core.access import require

    person = await get_person(actor, person_id)
    require(actor, "manage", person["unit_path"], what=Label("người này"))
    if person["erased_at"] is not None or not person["active"]:
        raise NotFound("Không tìm thấy người này.")
    row, plaintext = await tokens.issue_secret_token(actor, purpose="login_link", subject_type="person", subject_id=person_id,
                                                     ttl=LOGIN_LINK_TTL, label=person["full_name"])
    return {"path": f"/i/{plaintext}", "expires_at": row["expires_at"]}


