"""/units: the unit tree the organiser sees, creating a unit under another, moving a subtree."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core.access import Actor
from core.errors import Conflict, ValidationError
from core.services import units
from web.pages import PAGE
from web.pages.admin.common import optional_int, page, unit_choices
from web.pages.common import form_fields, refusal

STAFF = {"access": "staff", **PAGE}


async def _tree_page(request: Request, actor: Actor, *, values: dict | None = None, error: str = "", errors: dict | None = None,
                     form: str = "", status_code: int = 200, flash: str = "") -> Template:
    choices = await unit_choices(actor)
    administered = {choice["id"] for choice in choices if actor.has("admin", choice["path"])}
    return await page(request, actor, "admin/units.html", status_code=status_code, choices=choices, administered=administered,
                      kinds=units.UNIT_KINDS, values=values or {}, error=error, errors=errors or {}, form=form, flash=flash)


@get("/units", opt=STAFF, include_in_schema=False)
async def units_page(request: Request, actor: Actor, saved: str = "") -> Template:
    from web.i18n import gettext as _

    return await _tree_page(request, actor, flash=_("Đã lưu.") if saved else "")


@post("/units", opt=STAFF, include_in_schema=False)
async def create_unit(request: Request, actor: Actor) -> Template | Redirect:
    fields = await form_fields(request)
    values = {"name": fields.get("name", ""), "short_code": fields.get("short_code", ""), "kind": fields.get("kind", ""),
              "parent_id": optional_int(fields.get("parent_id")), "timezone": fields.get("timezone") or None}
    try:
        if values["parent_id"] is None:
            raise ValidationError("Chọn đơn vị cấp trên.", field="parent_id")
        await units.create_unit(actor, **values)
    except (ValidationError, Conflict) as refused:
        return await _tree_page(request, actor, values=values, **refusal(refused), form="create",
                                status_code=refused.status)
    return Redirect("/units?saved=1", status_code=303)


@post("/units/move", opt=STAFF, include_in_schema=False)
async def move_unit(request: Request, actor: Actor) -> Template | Redirect:
    fields = await form_fields(request)
    unit_id, parent_id = optional_int(fields.get("unit_id")), optional_int(fields.get("new_parent_id"))
    try:
        if unit_id is None or parent_id is None:
            raise ValidationError("Chọn đơn vị cần chuyển và đơn vị cấp trên mới.", field="unit_id")
        await units.move_unit(actor, unit_id, new_parent_id=parent_id)
    except (ValidationError, Conflict) as refused:
        return await _tree_page(request, actor, values={"unit_id": unit_id, "new_parent_id": parent_id}, **refusal(refused),
                                form="move", status_code=refused.status)
    return Redirect("/units?saved=1", status_code=303)


UNIT_PAGES = [units_page, create_unit, move_unit]
