"""/audiences: the audience builder — categories × unit subtrees × briefer levels, people added or
left out by name — with a live preview (count and first members) as the rules change."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core.access import Actor, require
from core.errors import Conflict, Label, ValidationError
from core.services import audiences, people
from core.tables import Person
from web.i18n import error_messages
from web.pages import PAGE
from web.pages.admin.common import as_list, checked, fragment, int_list, optional_int, page, unit_choices, working_unit
from web.pages.common import form_fields, refusal

STAFF = {"access": "staff", **PAGE}
PREVIEW_SIZE = 10


def _rules(values: dict) -> dict:
    return {"categories": as_list(values.get("categories")), "unit_ids": int_list(values.get("unit_ids")),
            "briefer_levels": as_list(values.get("briefer_levels")), "active_only": checked(values, "active_only")}


async def _names(ids: list[int]) -> list[dict]:
    if not ids:
        return []
    return await Person.select(Person.id, Person.full_name, Person.unit.name.as_alias("unit_name")).where(
        Person.id.is_in(ids)).order_by(Person.sort_key)


async def _builder(request: Request, actor: Actor, *, audience: dict | None, values: dict, error: str = "",
                   errors: dict | None = None, status_code: int = 200) -> Template:
    return await page(request, actor, "admin/audience.html", status_code=status_code, audience=audience, values=values,
                      rules=values.get("rules") or {}, includes=await _names(values.get("include_ids") or []),
                      excludes=await _names(values.get("exclude_ids") or []), error=error, errors=errors or {},
                      choices=await unit_choices(actor), categories=people.CATEGORIES, levels=people.BRIEFER_LEVELS)


def _submitted(fields: dict) -> dict:
    return {"name": fields.get("name", ""), "unit_id": optional_int(fields.get("unit_id")), "rules": _rules(fields),
            "include_ids": int_list(fields.get("include_ids")), "exclude_ids": int_list(fields.get("exclude_ids"))}


@get("/audiences", opt=STAFF, include_in_schema=False)
async def audiences_page(request: Request, actor: Actor, unit: int | None = None) -> Template:
    current = await working_unit(actor, unit)
    rows = await audiences.list_audiences(actor, current["id"])
    return await page(request, actor, "admin/audiences.html", unit=current, rows=rows, choices=await unit_choices(actor),
                      categories=people.CATEGORIES)


@get("/audiences/new", opt=STAFF, include_in_schema=False)
async def new_audience_page(request: Request, actor: Actor, unit: int | None = None) -> Template:
    current = await working_unit(actor, unit)
    require(actor, "manage", current["path"], what=Label("đơn vị"))  # a form only those who may submit it see
    return await _builder(request, actor, audience=None, values={"unit_id": current["id"], "rules": {"active_only": True}})


@post("/audiences/new", opt=STAFF, include_in_schema=False)
async def create_audience(request: Request, actor: Actor) -> Template | Redirect:
    values = _submitted(await form_fields(request))
    try:
        if values["unit_id"] is None:
            raise ValidationError("Chọn đơn vị sở hữu đối tượng.", field="unit_id")
        created = await audiences.create_audience(actor, **values)
    except (ValidationError, Conflict) as refused:
        return await _builder(request, actor, audience=None, values=values, **refusal(refused),
                              status_code=refused.status)
    return Redirect(f"/audiences/{created['id']}?saved=1", status_code=303)


@get("/audiences/{audience_id:int}", opt=STAFF, include_in_schema=False)
async def audience_page(request: Request, actor: Actor, audience_id: int, saved: str = "") -> Template:
    audience = await audiences.get_audience(actor, audience_id)
    template = await _builder(request, actor, audience=audience, values={**audience, "unit_id": audience["unit"]})
    if saved:
        from web.i18n import gettext as _

        template.context["flash"] = _("Đã lưu.")
    return template


@post("/audiences/{audience_id:int}", opt=STAFF, include_in_schema=False)
async def update_audience(request: Request, actor: Actor, audience_id: int) -> Template | Redirect:
    values = _submitted(await form_fields(request))
    changes = {key: value for key, value in values.items() if key != "unit_id"}
    try:
        await audiences.update_audience(actor, audience_id, **changes)
    except (ValidationError, Conflict) as refused:
        audience = await audiences.get_audience(actor, audience_id)
        return await _builder(request, actor, audience=audience, values={**values, "unit_id": audience["unit"]},
                              **refusal(refused), status_code=refused.status)
    return Redirect(f"/audiences/{audience_id}?saved=1", status_code=303)


@post("/audiences/{audience_id:int}/delete", opt=STAFF, include_in_schema=False)
async def delete_audience(request: Request, actor: Actor, audience_id: int) -> Template | Redirect:
    audience = await audiences.get_audience(actor, audience_id)
    try:
        await audiences.delete_audience(actor, audience_id)
    except Conflict as refused:
        return await _builder(request, actor, audience=audience, values={**audience, "unit_id": audience["unit"]},
                              error=error_messages(refused)[0], status_code=409)
    return Redirect(f"/audiences?unit={audience['unit']}", status_code=303)


@get("/audiences/preview", opt=STAFF, include_in_schema=False)
async def preview(request: Request, actor: Actor) -> Template:
    """The live preview: what the builder's current rules mean now (count, first members)."""
    values = _submitted(dict(_query_fields(request)))
    if values["unit_id"] is None:
        raise ValidationError("Chọn đơn vị sở hữu đối tượng.", field="unit_id")
    try:
        result = await audiences.preview_rules(actor, unit_id=values["unit_id"], rules=values["rules"],
                                               include_ids=values["include_ids"], exclude_ids=values["exclude_ids"],
                                               limit=PREVIEW_SIZE)
    except ValidationError as refused:
        return fragment("admin/audience_preview.html", status_code=422, error=error_messages(refused)[0], result=None)
    return fragment("admin/audience_preview.html", result=result, error="")


def _query_fields(request: Request):
    for key in request.query_params.keys():
        values = request.query_params.getall(key)
        yield key, values if len(values) > 1 else values[0]


@get("/audiences/people-picker", opt=STAFF, include_in_schema=False)
async def people_picker(request: Request, actor: Actor, unit_id: int, q: str = "") -> Template:
    """People to add to or leave out of an audience, found by name as the organiser types."""
    rows = await people.search_people(actor, unit_id=unit_id, query=q, limit=10) if q.strip() else []
    return fragment("admin/audience_picker.html", rows=rows, q=q)


@get("/audiences/member", opt=STAFF, include_in_schema=False)
async def member_chip(request: Request, actor: Actor, person_id: int, mode: str = "include") -> Template:
    """One chosen person, as a ticked box of the include or exclude list (untick to drop them)."""
    person = await people.get_person(actor, person_id)
    return fragment("admin/audience_member.html", headers={"HX-Trigger-After-Swap": "audience-changed"}, person=person,
                    mode="exclude" if mode == "exclude" else "include")


AUDIENCE_PAGES = [audiences_page, new_audience_page, create_audience, preview, people_picker, member_chip, audience_page,
                  update_audience, delete_audience]
