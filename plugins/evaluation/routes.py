"""HTTP routes of the plugin: the JSON API under /api/v1/evaluation/…, staff pages under
/evaluation/…, the attendee's form under /me/evaluation/…. Each declares its plugin and how its
unit is found (web/plugin_routes.py), so the core answers 404 where the plugin is off; staff
routes take the signed-in ``actor``, attendee routes the person of the session.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, patch, post, put
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from core.access import Actor
from core.errors import Conflict, NotFound, ValidationError
from core.plugins import conferences_with_plugin
from plugins.evaluation import charts, exports, services
from plugins.evaluation import questions as q
from plugins.evaluation.i18n import _, pgettext
from plugins.evaluation.settings import PLUGIN

SESSION_PERSON_KEY = "person_id"  # set by the core's attendee entry /i/<token>


def _opt(unit_from: str, **extra) -> dict:
    return {"plugin": PLUGIN, "unit_from": unit_from, **extra}


STAFF_PAGE = {"access": "staff", "page": True}
# no "access": the plugin guard (unit_from="attendee_session") answers 404 to whoever has no
# personal-link session, as where the plugin is off — the route's existence is not revealed
ATTENDEE_PAGE = {"page": True}


# -- request bodies -------------------------------------------------------------------------------

class TemplateIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    content: dict[str, Any]


class TemplateChange(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    content: dict[str, Any] | None = None


class FormIn(msgspec.Struct, forbid_unknown_fields=True):
    template_id: int
    per_session: bool = False
    anonymous: bool = False
    audience: str | None = None
    close_after_days: int | None = None
    editable: bool | None = None
    open_on_end: bool = True
    title: str | None = None


class TextChange(msgspec.Struct, forbid_unknown_fields=True):
    tags: list[str] | None = None
    status: str | None = None
    reply: str | None = None


class ResponseIn(msgspec.Struct, forbid_unknown_fields=True):
    answers: dict[str, Any]
    edit_key: str | None = None


# -- helpers --------------------------------------------------------------------------------------

def _person(request: Request) -> int:
    session = request.scope.get("session")
    value = session.get(SESSION_PERSON_KEY) if isinstance(session, dict) else None
    if value is None:
        raise NotFoundException("Không tìm thấy trang này.")
    return int(value)


async def _my_conferences(request: Request, person_id: int) -> list[int]:
    """The person's conferences whose unit has the plugin on (content is filtered by these)."""
    return await conferences_with_plugin(request.app.state.plugin_host, person_id=person_id, plugin=PLUGIN)


async def _fields(request: Request) -> dict[str, Any]:
    submitted = (await request.form()).dict()
    return {key: values if len(values) > 1 else values[0] for key, values in submitted.items() if key != "_csrf_token"}


def _with_charts(result: dict) -> dict:
    for item in result["questions"]:
        if item.get("distribution"):
            item["chart"] = charts.bars(item["distribution"], title=item["text"])
    return result


# -- JSON API: templates --------------------------------------------------------------------------

@get("/api/v1/evaluation/units/{unit_id:int}/templates", opt=_opt("unit_id"))
async def api_list_templates(actor: Actor, unit_id: int) -> list[dict]:
    """Templates usable by the unit (its own and its ancestors')."""
    return await services.list_templates(actor, unit_id=unit_id)


@post("/api/v1/evaluation/units/{unit_id:int}/templates", opt=_opt("unit_id"))
async def api_create_template(actor: Actor, unit_id: int, data: TemplateIn) -> dict:
    """A new template (version 1): sections and questions (see plugins/evaluation/README.md)."""
    return await services.create_template(actor, unit_id=unit_id, name=data.name, content=data.content)


@get("/api/v1/evaluation/units/{unit_id:int}/templates/{template_id:int}", opt=_opt("unit_id"))
async def api_get_template(actor: Actor, unit_id: int, template_id: int, version: int | None = None) -> dict:
    return await services.get_template(actor, unit_id=unit_id, template_id=template_id, version=version)


@put("/api/v1/evaluation/units/{unit_id:int}/templates/{template_id:int}", opt=_opt("unit_id"))
async def api_update_template(actor: Actor, unit_id: int, template_id: int, data: TemplateChange) -> dict:
    """Rename and/or write a new version; forms already attached keep theirs."""
    return await services.update_template(actor, unit_id=unit_id, template_id=template_id, name=data.name, content=data.content)


# -- JSON API: forms and results ------------------------------------------------------------------

@get("/api/v1/evaluation/conferences/{conference_id:int}/forms", opt=_opt("conference_id"))
async def api_list_forms(actor: Actor, conference_id: int) -> list[dict]:
    return await services.list_forms(actor, conference_id=conference_id)


@post("/api/v1/evaluation/conferences/{conference_id:int}/forms", opt=_opt("conference_id"))
async def api_attach_form(actor: Actor, conference_id: int, data: FormIn) -> list[dict]:
    """Attach a template to the conference, or with ``per_session`` to each of its sessions."""
    return await services.attach_form(actor, conference_id=conference_id, **msgspec.structs.asdict(data))


@get("/api/v1/evaluation/conferences/{conference_id:int}/forms/{form_id:int}", opt=_opt("conference_id"))
async def api_get_form(actor: Actor, conference_id: int, form_id: int) -> dict:
    return await services.get_form(actor, conference_id=conference_id, form_id=form_id)


@post("/api/v1/evaluation/conferences/{conference_id:int}/forms/{form_id:int}/open", opt=_opt("conference_id"), status_code=200)
async def api_open_form(request: Request, actor: Actor, conference_id: int, form_id: int) -> dict:
    """Open by hand; sends the "evaluation open" message to the people asked."""
    return await services.open_form(actor, request.app.state.plugin_host, conference_id=conference_id, form_id=form_id)


@post("/api/v1/evaluation/conferences/{conference_id:int}/forms/{form_id:int}/close", opt=_opt("conference_id"), status_code=200)
async def api_close_form(actor: Actor, conference_id: int, form_id: int) -> dict:
    return await services.close_form(actor, conference_id=conference_id, form_id=form_id)


@get("/api/v1/evaluation/conferences/{conference_id:int}/forms/{form_id:int}/results", opt=_opt("conference_id"))
async def api_results(actor: Actor, conference_id: int, form_id: int, by_unit: bool = False) -> dict:
    """Per question: distribution, mean, n; text answers; nothing broken down below 5 responses."""
    return await services.results(actor, conference_id=conference_id, form_id=form_id, by_unit=by_unit)


@get("/api/v1/evaluation/conferences/{conference_id:int}/forms/{form_id:int}/export.csv", opt=_opt("conference_id"))
async def api_export_csv(actor: Actor, conference_id: int, form_id: int) -> Response:
    body = await exports.csv_export(actor, conference_id=conference_id, form_id=form_id)
    return Response(content=body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="danh-gia-{form_id}.csv"'})


@get("/api/v1/evaluation/conferences/{conference_id:int}/forms/{form_id:int}/export.xlsx", opt=_opt("conference_id"))
async def api_export_xlsx(actor: Actor, conference_id: int, form_id: int) -> Response:
    body = await exports.xlsx_export(actor, conference_id=conference_id, form_id=form_id)
    return Response(content=body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="danh-gia-{form_id}.xlsx"'})


@patch("/api/v1/evaluation/conferences/{conference_id:int}/texts/{text_id:str}", opt=_opt("conference_id"))
async def api_update_text(actor: Actor, conference_id: int, text_id: str, data: TextChange) -> dict:
    """Tag a written answer, mark it ``answered`` or ``passed_up``, note the reply."""
    return await services.update_text(actor, conference_id=conference_id, text_id=text_id, **msgspec.structs.asdict(data))


@get("/api/v1/evaluation/units/{unit_id:int}/recommendations", opt=_opt("unit_id"))
async def api_recommendations(actor: Actor, unit_id: int, topic: str | None = None, status: str | None = None) -> dict:
    """Kiến nghị across the subtree's conferences, by topic and status."""
    return await services.recommendations(actor, unit_id=unit_id, topic=topic, status=status)


@get("/api/v1/evaluation/units/{unit_id:int}/speakers", opt=_opt("unit_id"))
async def api_speakers(actor: Actor, unit_id: int) -> list[dict]:
    """Per-speaker ratings from the per-session forms of the subtree."""
    return await services.speaker_ratings(actor, unit_id=unit_id)


@get("/api/v1/evaluation/units/{unit_id:int}/series/{series_id:int}/trend", opt=_opt("unit_id"))
async def api_trend(actor: Actor, unit_id: int, series_id: int) -> dict:
    """Month by month across a series."""
    return await services.series_trend(actor, unit_id=unit_id, series_id=series_id)


# -- JSON API: the attendee -----------------------------------------------------------------------

@get("/api/v1/evaluation/me/forms", opt=_opt("attendee_session"))
async def api_my_forms(request: Request) -> list[dict]:
    person_id = _person(request)
    return await services.forms_for_person(person_id, conference_ids=await _my_conferences(request, person_id))


@get("/api/v1/evaluation/me/forms/{form_id:int}", opt=_opt("attendee_session"))
async def api_my_form(request: Request, form_id: int) -> dict:
    person_id = _person(request)
    return await services.form_for_person(person_id, form_id=form_id, conference_ids=await _my_conferences(request, person_id))


@post("/api/v1/evaluation/me/forms/{form_id:int}/responses", opt=_opt("attendee_session"), status_code=200)
async def api_submit(request: Request, form_id: int, data: ResponseIn) -> dict:
    """Answer a form: {"answers": {question key: value}}; an anonymous one returns its edit key once."""
    person_id = _person(request)
    return await services.submit_response(person_id, form_id=form_id, answers=data.answers, edit_key=data.edit_key,
                                          conference_ids=await _my_conferences(request, person_id))


# -- staff pages ----------------------------------------------------------------------------------

@get("/evaluation/units/{unit_id:int}", opt=_opt("unit_id", **STAFF_PAGE), include_in_schema=False)
async def page_unit(actor: Actor, unit_id: int) -> Template:
    templates = await services.list_templates(actor, unit_id=unit_id)
    detailed = [await services.get_template(actor, unit_id=unit_id, template_id=t["id"]) for t in templates]
    return Template("evaluation/unit.html", context={"unit_id": unit_id, "templates": detailed, "types": q.TYPES,
                                                      "title": _("Phiếu đánh giá")})


@get("/evaluation/conferences/{conference_id:int}", opt=_opt("conference_id", **STAFF_PAGE), include_in_schema=False)
async def page_conference(actor: Actor, conference_id: int, flash: str | None = None) -> Template:
    from core.services.conferences import get_conference

    conference = await get_conference(actor, conference_id)
    forms = await services.list_forms(actor, conference_id=conference_id)
    templates = await services.list_templates(actor, unit_id=conference["unit"])
    return Template("evaluation/conference.html", context={
        "conference": conference, "forms": forms, "templates": templates, "audiences": services.AUDIENCES,
        "title": _("Phiếu đánh giá"), "flash": flash})


@post("/evaluation/conferences/{conference_id:int}/forms", opt=_opt("conference_id", **STAFF_PAGE), include_in_schema=False)
async def page_attach(request: Request, actor: Actor, conference_id: int) -> Redirect:
    fields = await _fields(request)
    try:
        template_id = int(fields.get("template_id") or 0)
        days = int(fields["close_after_days"]) if fields.get("close_after_days") else None
    except ValueError:
        raise ValidationError("Mẫu phiếu và số ngày phải là số.", field="template_id") from None
    await services.attach_form(actor, conference_id=conference_id, template_id=template_id, per_session=fields.get("per_session") == "1",
                               anonymous=fields.get("anonymous") == "1", audience=fields.get("audience") or None, close_after_days=days)
    return Redirect(f"/evaluation/conferences/{conference_id}", status_code=303)


@post("/evaluation/conferences/{conference_id:int}/forms/{form_id:int}/{action:str}", opt=_opt("conference_id", **STAFF_PAGE),
      include_in_schema=False)
async def page_open_close(request: Request, actor: Actor, conference_id: int, form_id: int, action: str) -> Redirect:
    if action == "open":
        await services.open_form(actor, request.app.state.plugin_host, conference_id=conference_id, form_id=form_id)
    elif action == "close":
        await services.close_form(actor, conference_id=conference_id, form_id=form_id)
    else:
        raise NotFound("Không tìm thấy trang này.")
    return Redirect(f"/evaluation/conferences/{conference_id}", status_code=303)


@get("/evaluation/conferences/{conference_id:int}/forms/{form_id:int}", opt=_opt("conference_id", **STAFF_PAGE), include_in_schema=False)
async def page_results(actor: Actor, conference_id: int, form_id: int) -> Template:
    result = _with_charts(await services.results(actor, conference_id=conference_id, form_id=form_id, by_unit=True))
    return Template("evaluation/results.html", context={"result": result, "statuses": services.TEXT_STATUSES, "print": False,
                                                         "title": result["title"]})


@get("/evaluation/conferences/{conference_id:int}/forms/{form_id:int}/print", opt=_opt("conference_id", **STAFF_PAGE),
     include_in_schema=False)
async def page_print(actor: Actor, conference_id: int, form_id: int) -> Template:
    """The printable summary (print it to PDF from the browser)."""
    result = _with_charts(await services.results(actor, conference_id=conference_id, form_id=form_id, by_unit=True))
    return Template("evaluation/results.html", context={"result": result, "statuses": services.TEXT_STATUSES, "print": True,
                                                         "title": result["title"]})


@post("/evaluation/conferences/{conference_id:int}/texts/{text_id:str}", opt=_opt("conference_id", **STAFF_PAGE), include_in_schema=False)
async def page_update_text(request: Request, actor: Actor, conference_id: int, text_id: str) -> Redirect:
    fields = await _fields(request)
    tags = [tag.strip() for tag in str(fields.get("tags") or "").split(",") if tag.strip()]
    await services.update_text(actor, conference_id=conference_id, text_id=text_id, tags=tags, status=fields.get("status") or None,
                               reply=fields.get("reply") if "reply" in fields else None)
    back = str(fields.get("back") or "")
    target = back if back.startswith("/evaluation/") and "//" not in back else f"/evaluation/conferences/{conference_id}"
    return Redirect(target, status_code=303)


@get("/evaluation/units/{unit_id:int}/recommendations", opt=_opt("unit_id", **STAFF_PAGE), include_in_schema=False)
async def page_recommendations(actor: Actor, unit_id: int, topic: str | None = None, status: str | None = None) -> Template:
    found = await services.recommendations(actor, unit_id=unit_id, topic=topic, status=status)
    return Template("evaluation/recommendations.html", context={"unit_id": unit_id, "found": found, "topic": topic, "status": status,
                                                                 "statuses": services.TEXT_STATUSES, "title": _("Kiến nghị")})


@get("/evaluation/units/{unit_id:int}/speakers", opt=_opt("unit_id", **STAFF_PAGE), include_in_schema=False)
async def page_speakers(actor: Actor, unit_id: int) -> Template:
    rows = await services.speaker_ratings(actor, unit_id=unit_id)
    chart = charts.bars([{"label": row["name"], "count": row["mean"] or 0, "share": (row["mean"] or 0) / 5} for row in rows],
                        title=_("Điểm trung bình theo báo cáo viên")) if rows else None
    return Template("evaluation/speakers.html", context={"unit_id": unit_id, "rows": rows, "chart": chart,
                                                          "title": _("Đánh giá báo cáo viên")})


@get("/evaluation/units/{unit_id:int}/series/{series_id:int}", opt=_opt("unit_id", **STAFF_PAGE), include_in_schema=False)
async def page_trend(actor: Actor, unit_id: int, series_id: int) -> Template:
    trend = await services.series_trend(actor, unit_id=unit_id, series_id=series_id)
    chart = charts.trend_line([(row["label"], row["mean"]) for row in trend["months"]], title=trend["series"]["title"])
    return Template("evaluation/trend.html", context={"trend": trend, "chart": chart, "title": trend["series"]["title"]})


# -- the attendee's pages -------------------------------------------------------------------------

@get("/me/evaluation/conferences/{conference_id:int}", opt=_opt("attendee_session", **ATTENDEE_PAGE), include_in_schema=False)
async def page_my_conference(request: Request, conference_id: int) -> Template | Redirect:
    """Where the venue screen's QR leads: the person's open forms of that conference."""
    person_id = _person(request)
    conference_ids = await _my_conferences(request, person_id)
    if conference_id not in conference_ids:
        raise NotFound("Không tìm thấy trang này.")  # not one of the person's conferences (or the plugin is off there)
    forms = await services.forms_for_person(person_id, conference_ids=conference_ids, conference_id=conference_id)
    pending = [form for form in forms if not form["answered"]]
    if len(pending) == 1 and len(forms) == 1:
        return Redirect(f"/me/evaluation/forms/{pending[0]['id']}", status_code=303)
    return Template("evaluation/my_forms.html", context={"forms": forms, "title": _("Phiếu đánh giá")})


def _form_page(form: dict, *, errors: dict | None = None, values: dict | None = None, edit_key: str | None = None,
               status_code: int = 200, message: str | None = None) -> Template:
    return Template("evaluation/form.html", status_code=status_code, context={
        "form": form, "errors": errors or {}, "values": values if values is not None else form.get("answers", {}), "edit_key": edit_key,
        "message": message, "title": form["title"]})


@get("/me/evaluation/forms/{form_id:int}", opt=_opt("attendee_session", **ATTENDEE_PAGE), include_in_schema=False)
async def page_my_form(request: Request, form_id: int) -> Template:
    person_id = _person(request)
    form = await services.form_for_person(person_id, form_id=form_id, conference_ids=await _my_conferences(request, person_id))
    return _form_page(form)


@post("/me/evaluation/forms/{form_id:int}", opt=_opt("attendee_session", **ATTENDEE_PAGE), include_in_schema=False)
async def page_submit(request: Request, form_id: int) -> Template:
    person_id = _person(request)
    conference_ids = await _my_conferences(request, person_id)
    form = await services.form_for_person(person_id, form_id=form_id, conference_ids=conference_ids)
    fields = await _fields(request)
    answers = q.form_answers(q.questions_of(form["content"]), fields)
    edit_key = str(fields.get("edit_key") or "") or None
    try:
        saved = await services.submit_response(person_id, form_id=form_id, answers=answers, edit_key=edit_key,
                                               conference_ids=conference_ids)
    except (ValidationError, Conflict) as refused:
        shown = {key: value for key, value in answers.items()}
        message, errors = refused.translated(_, pgettext)
        return _form_page(form, errors=errors, values=shown, edit_key=edit_key, status_code=refused.status, message=message)
    return Template("evaluation/thanks.html", context={"form": form, "saved": saved, "title": _("Cảm ơn đồng chí")})


@post("/me/evaluation/forms/{form_id:int}/edit", opt=_opt("attendee_session", **ATTENDEE_PAGE), include_in_schema=False)
async def page_edit_with_key(request: Request, form_id: int) -> Template:
    """An anonymous response shown again for editing, found by its edit key (sent in the body, never in a URL)."""
    person_id = _person(request)
    conference_ids = await _my_conferences(request, person_id)
    fields = await _fields(request)
    key = str(fields.get("edit_key") or "").strip()
    try:
        form = await services.answers_for_edit_key(form_id=form_id, edit_key=key, conference_ids=conference_ids, person_id=person_id)
    except ValidationError as refused:
        form = await services.form_for_person(person_id, form_id=form_id, conference_ids=conference_ids)
        message, errors = refused.translated(_, pgettext)
        return _form_page(form, errors=errors, status_code=422, message=message)
    return _form_page(form, edit_key=key)


ROUTES = [
    api_list_templates, api_create_template, api_get_template, api_update_template, api_list_forms, api_attach_form, api_get_form,
    api_open_form, api_close_form, api_results, api_export_csv, api_export_xlsx, api_update_text, api_recommendations, api_speakers,
    api_trend, api_my_forms, api_my_form, api_submit,
    page_unit, page_conference, page_attach, page_open_close, page_results, page_print, page_update_text, page_recommendations,
    page_speakers, page_trend, page_my_conference, page_my_form, page_submit, page_edit_with_key,
]
