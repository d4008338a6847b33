"""/people: the directory (search as you type, filters by unit subtree and category), a person's
page (edit, deactivate, attendance history, personal link) and the import upload."""

from __future__ import annotations

import tempfile
from pathlib import Path

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core.access import Actor, require
from core.errors import Conflict, DomainError, Forbidden, Label, NotFound, ValidationError
from core.services import people, people_import, units
from web.api.people_import import IMPORT_MAX_BYTES, _safe_name
from web.i18n import error_messages
from web.pages import PAGE
from web.pages.admin.common import as_list, checked, fragment, optional_int, page, unit_choices, working_unit
from web.pages.common import form_fields, is_htmx, refusal

STAFF = {"access": "staff", **PAGE}
PAGE_SIZE = 50


def _active_filter(value: str) -> bool | None:
    return {"1": True, "0": False}.get(value)


@get("/people", opt=STAFF, include_in_schema=False)
async def people_page(request: Request, actor: Actor, unit: int | None = None, q: str = "", category: str = "",
                      active: str = "1", offset: int = 0) -> Template:
    """The directory; an htmx request (typing in the search box) gets only the results."""
    current = await working_unit(actor, unit)
    categories = [category] if category else None
    found = await people.search_page(actor, unit_id=current["id"], query=q, categories=categories, active=_active_filter(active),
                                     limit=PAGE_SIZE, offset=offset, unit=current)
    context = {"unit": current, "q": q, "category": category, "active": active, "rows": found["items"], "total": found["total"],
               "total_exact": found["total_exact"],
               "offset": max(0, offset), "page_size": PAGE_SIZE, "categories": people.CATEGORIES}
    if is_htmx(request) and request.headers.get("hx-target") == "people-results":
        return fragment("admin/people_results.html", **context)
    return await page(request, actor, "admin/people.html", choices=await unit_choices(actor), **context)


def _person_values(fields: dict) -> dict:
    return {"full_name": fields.get("full_name", ""), "phone": fields.get("phone") or None, "email": fields.get("email") or None,
            "categories": as_list(fields.get("categories")), "briefer_level": fields.get("briefer_level") or None,
            "position": fields.get("position") or None, "is_head": checked(fields, "is_head")}


async def _form_page(request: Request, actor: Actor, *, person: dict | None, values: dict, error: str = "", errors: dict | None = None,
                     status_code: int = 200) -> Template:
    return await page(request, actor, "admin/person_new.html" if person is None else "admin/person.html", status_code=status_code,
                      person=person, values=values, error=error, errors=errors or {}, choices=await unit_choices(actor),
                      categories=people.CATEGORIES, levels=people.BRIEFER_LEVELS,
                      history=await people.attendance_history(actor, person["id"]) if person else [])


@get("/people/new", opt=STAFF, include_in_schema=False)
async def new_person_page(request: Request, actor: Actor, unit: int | None = None) -> Template:
    current = await working_unit(actor, unit)
    require(actor, "manage", current["path"], what=Label("đơn vị"))  # a form only those who may submit it see
    return await _form_page(request, actor, person=None, values={"unit_id": current["id"], "categories": []})


@post("/people/new", opt=STAFF, include_in_schema=False)
async def create_person(request: Request, actor: Actor) -> Template | Redirect:
    fields = await form_fields(request)
    values = {**_person_values(fields), "unit_id": optional_int(fields.get("unit_id"))}
    try:
        if values["unit_id"] is None:
            raise ValidationError("Chọn đơn vị.", field="unit_id")
        created = await people.create_person(actor, allow_shared_phone=checked(fields, "allow_shared_phone"), **values)
    except (ValidationError, Conflict) as refused:
        return await _form_page(request, actor, person=None, values=values, **refusal(refused),
                                status_code=refused.status)
    return Redirect(f"/people/{created['id']}?saved=1", status_code=303)


@get("/people/{person_id:int}", opt=STAFF, include_in_schema=False)
async def person_page(request: Request, actor: Actor, person_id: int, saved: str = "") -> Template:
    person = await people.get_person(actor, person_id)
    template = await _form_page(request, actor, person=person, values={**person, "unit_id": person["unit"]})
    if saved:
        from web.i18n import gettext as _

        template.context["flash"] = _("Đã lưu.")
    return template


@post("/people/{person_id:int}", opt=STAFF, include_in_schema=False)
async def update_person(request: Request, actor: Actor, person_id: int) -> Template | Redirect:
    fields = await form_fields(request)
    values = {**_person_values(fields), "unit_id": optional_int(fields.get("unit_id"))}
    changes = {key: value for key, value in values.items() if key != "unit_id" or value is not None}
    try:
        await people.update_person(actor, person_id, allow_shared_phone=checked(fields, "allow_shared_phone"), **changes)
    except (ValidationError, Conflict) as refused:
        person = await people.get_person(actor, person_id)
        return await _form_page(request, actor, person=person, values={**person, **values}, **refusal(refused),
                                status_code=refused.status)
    return Redirect(f"/people/{person_id}?saved=1", status_code=303)


@post("/people/{person_id:int}/active", opt=STAFF, include_in_schema=False)
async def set_active(request: Request, actor: Actor, person_id: int) -> Template | Redirect:
    fields = await form_fields(request)
    try:
        await people.set_active(actor, person_id, checked(fields, "active"), allow_shared_phone=checked(fields, "allow_shared_phone"))
    except Conflict as refused:
        person = await people.get_person(actor, person_id)
        return await _form_page(request, actor, person=person, values={**person, "unit_id": person["unit"]},
                                error=error_messages(refused)[0], status_code=409)
    return Redirect(f"/people/{person_id}?saved=1", status_code=303)


@post("/people/{person_id:int}/link", opt=STAFF, include_in_schema=False)
async def personal_link(request: Request, actor: Actor, person_id: int) -> Template:
    """A new personal link, shown once, to send to the person (by SMS, Zalo or on paper)."""
    from core.config import get_settings

    link = await people.issue_personal_link(actor, person_id)
    person = await people.get_person(actor, person_id)
    return fragment("admin/person_link.html", person=person, url=get_settings().public_url + link["path"],
                    expires_at=link["expires_at"], timezone=(await units.get_unit(person["unit"]))["timezone"])


@get("/people/import", opt=STAFF, include_in_schema=False)
async def import_page(request: Request, actor: Actor, unit: int | None = None) -> Template:
    current = await working_unit(actor, unit)
    require(actor, "manage", current["path"], what=Label("đơn vị"))  # a form only those who may submit it see
    return await page(request, actor, "admin/people_import.html", unit=current, choices=await unit_choices(actor),
                      headers=people_import.HEADERS)


@post("/people/import", opt=STAFF, include_in_schema=False, request_max_body_size=IMPORT_MAX_BYTES)
async def import_upload(request: Request, actor: Actor) -> Template:
    """Check (dry run) or import a CSV/XLSX file; the report lists every refused row and column."""
    form = await request.form()
    upload = form.get("file")
    unit_id = optional_int(form.get("unit_id"))
    dry_run = form.get("dry_run") not in (None, "", "0")
    if upload is None or not hasattr(upload, "read") or unit_id is None:
        return fragment("admin/import_report.html", status_code=422, refused=True, dry_run=dry_run, file="", errors=[],
                        message=_missing_message(upload is None or not hasattr(upload, "read")))
    name = _safe_name(upload.filename)
    with tempfile.TemporaryDirectory(prefix="hoinghi-import-") as folder:
        path = Path(folder) / name
        path.write_bytes(await upload.read())
        try:
            report = await people_import.import_people(actor, unit_id=unit_id, path=path, dry_run=dry_run)
        except people_import.ImportFailed as failed:
            return fragment("admin/import_report.html", status_code=422, refused=True, dry_run=dry_run, file=name,
                            message=failed.message, errors=failed.errors)
        except DomainError as refused:  # a file it cannot read, a missing column
            if isinstance(refused, (NotFound, Forbidden)):
                raise
            return fragment("admin/import_report.html", status_code=422, refused=True, dry_run=dry_run, file=name,
                            message=error_messages(refused)[0], errors=[])
    return fragment("admin/import_report.html", refused=False, report=report, dry_run=dry_run, file=name, errors=[],
                    categories=people.CATEGORIES, unit_id=unit_id)


def _missing_message(no_file: bool) -> str:
    from web.i18n import gettext as _

    return _("Chọn tệp CSV hoặc XLSX để nhập.") if no_file else _("Chọn đơn vị nhận người được nhập.")


PEOPLE_PAGES = [people_page, new_person_page, create_person, person_page, update_person, set_active, personal_link, import_page,
                import_upload]
