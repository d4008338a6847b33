"""/users: staff users and their roles per unit, venue grants, "log out everywhere"; /users/tokens:
API keys (issued and shown once, listed, revoked)."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core.access import ROLES, Actor
from core.errors import Conflict, Forbidden, ValidationError
from core.services import tokens, users
from web.pages import PAGE
from web.pages.admin.common import optional_int, page, unit_choices, working_unit
from web.pages.common import form_fields, refusal

STAFF = {"access": "staff", **PAGE}


async def _users_page(request: Request, actor: Actor, unit: dict, *, values: dict | None = None, error: str = "",
                      errors: dict | None = None, form: str = "", status_code: int = 200, flash: str = "") -> Template:
    choices = await unit_choices(actor)
    return await page(request, actor, "admin/users.html", status_code=status_code, unit=unit, choices=choices,
                      rows=await users.list_staff(actor, unit_id=unit["id"]), roles=ROLES, values=values or {}, error=error,
                      errors=errors or {}, form=form, flash=flash, is_admin=actor.has("admin", unit["path"]),
                      admin_units=[choice for choice in choices if actor.has("admin", choice["path"])])


@get("/users", opt=STAFF, include_in_schema=False)
async def users_page(request: Request, actor: Actor, unit: int | None = None, saved: str = "") -> Template:
    from web.i18n import gettext as _

    return await _users_page(request, actor, await working_unit(actor, unit), flash=_("Đã lưu.") if saved else "")


@post("/users/grant", opt=STAFF, include_in_schema=False)
async def grant(request: Request, actor: Actor) -> Template | Redirect:
    """A role for an existing user, or a new user with a first role."""
    fields = await form_fields(request)
    unit_id = optional_int(fields.get("unit_id"))
    current = await working_unit(actor, optional_int(fields.get("back_unit")) or unit_id)
    values = {"username": fields.get("username", ""), "full_name": fields.get("full_name", ""), "unit_id": unit_id,
              "role": fields.get("role", "")}
    try:
        if unit_id is None:
            raise ValidationError("Chọn đơn vị.", field="unit_id")
        if fields.get("new_user"):
            await users.create_staff_member(actor, username=values["username"], password=fields.get("password", ""),
                                            full_name=values["full_name"], email=fields.get("email") or None, unit_id=unit_id,
                                            role=values["role"])
        else:
            await users.grant_role_by_username(actor, username=values["username"], unit_id=unit_id, role=values["role"])
    except (ValidationError, Conflict, Forbidden) as refused:
        return await _users_page(request, actor, current, values=values, **refusal(refused),
                                 form="new" if fields.get("new_user") else "grant", status_code=refused.status)
    return Redirect(f"/users?unit={current['id']}&saved=1", status_code=303)


@post("/users/{user_id:int}/revoke", opt=STAFF, include_in_schema=False)
async def revoke(request: Request, actor: Actor, user_id: int) -> Redirect:
    fields = await form_fields(request)
    unit_id = optional_int(fields.get("unit_id"))
    if unit_id is None:
        raise ValidationError("Chọn đơn vị.", field="unit_id")
    await users.revoke_role(actor, user_id=user_id, unit_id=unit_id, role=fields.get("role", ""))
    return Redirect(f"/users/{user_id}?saved=1", status_code=303)


@get("/users/{user_id:int}", opt=STAFF, include_in_schema=False)
async def user_page(request: Request, actor: Actor, user_id: int, saved: str = "") -> Template:
    from web.i18n import gettext as _

    user = await users.get_staff_user(actor, user_id)
    manageable = {role["unit_id"] for role in user["roles"] if actor.has("admin", role["unit_path"])}
    return await page(request, actor, "admin/user.html", user=user, grants=await users.venue_grants(actor, user_id=user_id),
                      manageable=manageable, flash=_("Đã lưu.") if saved else "", myself=actor.user_id == user_id)


@post("/users/{user_id:int}/logout-everywhere", opt=STAFF, include_in_schema=False)
async def logout_everywhere(request: Request, actor: Actor, user_id: int) -> Redirect:
    await users.log_out_everywhere(actor, user_id=user_id)
    if actor.user_id == user_id:
        request.clear_session()
        return Redirect("/login", status_code=303)
    return Redirect(f"/users/{user_id}?saved=1", status_code=303)


async def _tokens_page(request: Request, actor: Actor, *, issued: dict | None = None, secret: str = "", error: str = "",
                       errors: dict | None = None, status_code: int = 200) -> Template:
    return await page(request, actor, "admin/tokens.html", status_code=status_code,
                      rows=await tokens.list_tokens(actor, purpose="api"), my_roles=sorted(actor.grants, key=lambda g: g.unit_path),
                      unit_names={choice["id"]: choice["name"] for choice in await unit_choices(actor)}, issued=issued,
                      secret=secret, error=error, errors=errors or {})


@get("/users/tokens", opt=STAFF, include_in_schema=False)
async def tokens_page(request: Request, actor: Actor) -> Template:
    return await _tokens_page(request, actor)


@post("/users/tokens", opt=STAFF, include_in_schema=False)
async def issue_token(request: Request, actor: Actor) -> Template:
    """Issue an API key carrying one of my roles; its secret is on this page only."""
    fields = await form_fields(request)
    unit_id, _, role = (fields.get("grant") or "").partition(":")
    try:
        if not unit_id.isdigit():
            raise ValidationError("Chọn vai trò mà khoá mang.", field="grant")
        row, secret = await tokens.issue_api_token(actor, unit_id=int(unit_id), role=role, label=fields.get("label", ""),
                                                   ttl_days=optional_int(fields.get("ttl_days")))
    except (ValidationError, Forbidden) as refused:
        return await _tokens_page(request, actor, **refusal(refused), status_code=refused.status)
    return await _tokens_page(request, actor, issued=row, secret=secret)


@post("/users/tokens/{token_id:int}/revoke", opt=STAFF, include_in_schema=False)
async def revoke_token(request: Request, actor: Actor, token_id: int) -> Redirect:
    await tokens.revoke_token(actor, token_id)
    return Redirect("/users/tokens", status_code=303)


USER_PAGES = [users_page, grant, tokens_page, issue_token, revoke_token, revoke, user_page, logout_everywhere]
