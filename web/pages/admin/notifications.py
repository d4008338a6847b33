"""/notifications: templates per kind × channel (checked as they are typed), composing a campaign
to a conference's invitees or to an audience with a preview of the message, recipient count and
cost, the message log with delivery status, and the unit's settings (reminder offsets, quiet
hours, quotas, channel order). Channel plugins add figures to previews and their own backend
settings through ``notification_preview_parts`` and ``channel_settings_panels``."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core import clock, notifications
from core.access import Actor, require
from core.errors import Conflict, Label, ValidationError
from core.services import audiences, conferences, units
from web.api.notification_settings import check_setting, known_channels, settings_in_force
from web.hook_parts import preview_parts, settings_panels
from web.i18n import error_messages
from web.pages import PAGE
from web.pages.admin.common import checked, fragment, optional_int, page, unit_choices, working_unit
from web.pages.common import form_fields, refusal

STAFF = {"access": "staff", **PAGE}
CAMPAIGN_KINDS = ("invitation", "nudge", "reminder", "change_notice", "absentee_follow_up", "free_message")
GROUPS = ("all", "not_answered", "accepted", "absent")


async def _templates_context(request: Request, actor: Actor, unit: dict) -> dict:
    host = request.app.state.plugin_host
    rows = await notifications.templates_in_force(actor, host, unit_id=unit["id"])
    return {"unit": unit, "rows": rows, "choices": await unit_choices(actor), "section": "templates",
            "variables": notifications.VARIABLES}


@get("/notifications", opt=STAFF, include_in_schema=False)
async def templates_page(request: Request, actor: Actor, unit: int | None = None, saved: str = "") -> Template:
    from web.i18n import gettext as _

    current = await working_unit(actor, unit)
    return await page(request, actor, "admin/notifications_templates.html", flash=_("Đã lưu mẫu.") if saved else "",
                      **await _templates_context(request, actor, current))


async def _template_form(request: Request, actor: Actor, unit: dict, *, kind: str, channel: str, subject: str, body: str,
                         error: str = "", errors: dict | None = None, status_code: int = 200) -> Template:
    host = request.app.state.plugin_host
    label = notifications.kinds(host).get(kind, {}).get("label", kind)
    return await page(request, actor, "admin/notification_template.html", status_code=status_code, unit=unit, kind=kind,
                      kind_label=label, channel=channel, subject=subject, body=body, error=error, errors=errors or {},
                      variables=notifications.VARIABLES, section="templates",
                      preview=await _template_preview(host, unit, channel, subject, body) if not errors else None)


async def _template_preview(host, unit: dict, channel: str, subject: str, body: str) -> dict:
    rendered = notifications.preview_template(subject=subject, body=body)
    rendered["parts"] = await preview_parts(host, unit, channel=channel, subject=rendered["subject"], body=rendered["body"],
                                            recipients=1)
    return rendered


@get("/notifications/templates/edit", opt=STAFF, include_in_schema=False)
async def edit_template(request: Request, actor: Actor, unit: int, kind: str, channel: str) -> Template:
    current = await working_unit(actor, unit)
    require(actor, "manage", current["path"], what=Label("đơn vị"))  # a form only those who may submit it see
    rows = await notifications.templates_in_force(actor, request.app.state.plugin_host, unit_id=current["id"])
    found = next((row for row in rows if row["kind"] == kind and row["channel"] == channel), None)
    if found is None:
        raise ValidationError("Không có loại tin nhắn hoặc kênh này.", field="kind")
    return await _template_form(request, actor, current, kind=kind, channel=channel, subject=found["subject"], body=found["body"])


@get("/notifications/templates/preview", opt=STAFF, include_in_schema=False)
async def template_preview(request: Request, actor: Actor, unit: int, channel: str) -> Template:
    """As the organiser types: the wording filled with sample values, or what is wrong with it."""
    current = await working_unit(actor, unit)
    body, subject = request.query_params.get("body", ""), request.query_params.get("subject", "")
    try:
        preview = await _template_preview(request.app.state.plugin_host, current, channel, subject, body)
    except ValidationError as refused:
        return fragment("admin/template_preview.html", status_code=422, **refusal(refused), preview=None)
    return fragment("admin/template_preview.html", error="", errors={}, preview=preview)


@post("/notifications/templates", opt=STAFF, include_in_schema=False)
async def save_template(request: Request, actor: Actor) -> Template | Redirect:
    fields = await form_fields(request)
    current = await working_unit(actor, optional_int(fields.get("unit_id")))
    values = {"kind": fields.get("kind", ""), "channel": fields.get("channel", ""), "subject": fields.get("subject", ""),
              "body": fields.get("body", "")}
    try:
        await notifications.save_template(actor, host=request.app.state.plugin_host, unit_id=current["id"], **values)
    except ValidationError as refused:
        return await _template_form(request, actor, current, **refusal(refused), status_code=422, **values)
    return Redirect(f"/notifications?unit={current['id']}&saved=1", status_code=303)


async def _targets(actor: Actor, unit: dict) -> tuple[list[dict], list[dict]]:
    since = clock.now() - dt.timedelta(days=90)
    rows = await conferences.list_conferences(actor, unit_id=unit["id"], start=since, limit=200)
    return [row for row in rows if row["status"] in ("published", "ended")], await audiences.list_audiences(actor, unit["id"])


def _target(values: dict) -> dict:
    """``target`` is "conference:<id>" or "audience:<id>"."""
    kind, _, raw = (values.get("target") or "").partition(":")
    number = optional_int(raw)
    group = values.get("group") if values.get("group") in GROUPS else "all"
    if kind == "conference" and number is not None:
        return {"conference_id": number, "audience": group, "kind": values.get("kind") or "free_message"}
    if kind == "audience" and number is not None:
        return {"audience_id": number, "kind": "free_message"}
    raise ValidationError("Chọn hội nghị hoặc đối tượng nhận tin.", field="target")


@get("/notifications/compose", opt=STAFF, include_in_schema=False)
async def compose_page(request: Request, actor: Actor, unit: int | None = None, target: str = "") -> Template:
    current = await working_unit(actor, unit)
    require(actor, "manage", current["path"], what=Label("đơn vị"))  # a form only those who may submit it see
    conference_rows, audience_rows = await _targets(actor, current)
    host = request.app.state.plugin_host
    kinds = {kind: spec["label"] for kind, spec in notifications.kinds(host).items() if kind in CAMPAIGN_KINDS}
    return await page(request, actor, "admin/notifications_compose.html", unit=current, choices=await unit_choices(actor),
                      conferences=conference_rows, audiences=audience_rows, kinds=kinds, groups=GROUPS, target=target,
                      campaign=secrets.token_hex(8), section="compose", result=None, error="", errors={}, values={})


@get("/notifications/compose/preview", opt=STAFF, include_in_schema=False)
async def compose_preview(request: Request, actor: Actor) -> Template:
    """Recipients, the message as the first of them reads it, the estimated cost and the channel
    plugin's own figures, for the compose form as it stands."""
    values = {key: request.query_params.get(key) for key in ("target", "group", "kind", "text")}
    host = request.app.state.plugin_host
    try:
        target = _target(values)
        result = await notifications.campaign_preview(actor, host, text=values.get("text") or "", **target)
    except ValidationError as refused:
        return fragment("admin/campaign_preview.html", status_code=422, error=error_messages(refused)[0], result=None, parts=[])
    unit = await units.get_unit(result["unit_id"])
    parts = await preview_parts(host, unit, channel=result["channel"], subject=result["subject"], body=result["body"],
                                recipients=result["recipients"])
    return fragment("admin/campaign_preview.html", error="", result=result, parts=parts)


@post("/notifications/compose", opt=STAFF, include_in_schema=False)
async def send_campaign(request: Request, actor: Actor) -> Template:
    fields = await form_fields(request)
    current = await working_unit(actor, optional_int(fields.get("unit_id")))
    host = request.app.state.plugin_host
    campaign = fields.get("campaign") or secrets.token_hex(8)
    error, errors, result = "", {}, None
    try:
        target = _target(fields)
        if "conference_id" in target:
            result = await notifications.queue_conference_messages(
                actor, host, kind=target["kind"], conference_id=target["conference_id"], audience=target["audience"],
                text=fields.get("text", ""), urgent=checked(fields, "urgent"), campaign=campaign)
        else:
            result = await notifications.queue_audience_messages(actor, host, audience_id=target["audience_id"],
                                                                 text=fields.get("text", ""), subject=fields.get("subject", ""),
                                                                 urgent=checked(fields, "urgent"), campaign=campaign)
    except (ValidationError, Conflict) as refused:
        error, errors = error_messages(refused)
    conference_rows, audience_rows = await _targets(actor, current)
    kinds = {kind: spec["label"] for kind, spec in notifications.kinds(host).items() if kind in CAMPAIGN_KINDS}
    return await page(request, actor, "admin/notifications_compose.html", status_code=422 if error else 200, unit=current,
                      choices=await unit_choices(actor), conferences=conference_rows, audiences=audience_rows, kinds=kinds,
                      groups=GROUPS, target=fields.get("target", ""), campaign=campaign if error else secrets.token_hex(8),
                      section="compose", result=result, error=error, errors=errors, values=fields)


@get("/notifications/log", opt=STAFF, include_in_schema=False)
async def log_page(request: Request, actor: Actor, unit: int | None = None, status: str = "", channel: str = "", kind: str = "",
                   conference: int | None = None, offset: int = 0) -> Template:
    current = await working_unit(actor, unit)
    host = request.app.state.plugin_host
    log = await notifications.unit_message_log(actor, unit_id=current["id"], status=status or None, channel=channel or None,
                                               kind=kind or None, conference_id=conference, limit=100, offset=max(0, offset))
    return await page(request, actor, "admin/notifications_log.html", unit=current, choices=await unit_choices(actor), log=log,
                      status=status, channel=channel, kind=kind, conference=conference, offset=max(0, offset), section="log",
                      channels=known_channels(host), kinds={key: spec["label"] for key, spec in notifications.kinds(host).items()},
                      statuses=notifications.LOG_STATUSES)


def _numbers(text: str) -> list[int] | str:
    parts = [part for part in re.split(r"[\s,;]+", text or "") if part]
    try:
        return [int(part) for part in parts]
    except ValueError:
        return text  # refused by the check with its message


async def _settings_page(request: Request, actor: Actor, unit: dict, *, error: str = "", errors: dict | None = None,
                         status_code: int = 200, flash: str = "", typed: dict | None = None) -> Template:
    """The settings in force; ``typed``: the refused form's values, shown again as they were typed."""
    host = request.app.state.plugin_host
    in_force = await settings_in_force(host, unit)
    usage = {name: await notifications.quota_usage(unit["id"], unit["path"], name) for name in in_force.channels}
    return await page(request, actor, "admin/notifications_settings.html", status_code=status_code, unit=unit,
                      choices=await unit_choices(actor), settings=in_force, usage=usage, panels=await settings_panels(host, unit),
                      is_admin=actor.has("admin", unit["path"]), error=error, errors=errors or {}, section="settings", flash=flash,
                      typed=typed or {})


@get("/notifications/settings", opt=STAFF, include_in_schema=False)
async def settings_page(request: Request, actor: Actor, unit: int | None = None, saved: str = "") -> Template:
    from web.i18n import gettext as _

    return await _settings_page(request, actor, await working_unit(actor, unit), flash=_("Đã lưu.") if saved else "")


@post("/notifications/settings", opt=STAFF, include_in_schema=False)
async def save_settings(request: Request, actor: Actor) -> Template | Redirect:
    """Every value checked before any is stored (the same checks as the API)."""
    fields = await form_fields(request)
    current = await working_unit(actor, optional_int(fields.get("unit_id")))
    require(actor, "admin", current["path"], what=Label("đơn vị"))  # refused before the values are checked, not after
    known = known_channels(request.app.state.plugin_host)
    try:
        quiet = [optional_int(fields.get("quiet_start")), optional_int(fields.get("quiet_end"))]
        order = [name for name in re.split(r"[\s,;]+", fields.get("channel_order", "")) if name]
        checked_values = {
            "notifications.quiet_hours": check_setting("quiet_hours", quiet if None not in quiet else fields.get("quiet_start"), known),
            "notifications.reminder_offsets_hours": check_setting("reminder_offsets_hours",
                                                                  _numbers(fields.get("reminder_offsets_hours", "")), known),
            "notifications.channel_order": check_setting("channel_order", order, known),
        }
        for name in known:
            raw = (fields.get(f"quota_{name}") or "").strip()
            value = None if raw == "" else (int(raw) if raw.isdigit() else raw)
            checked_values[f"notifications.quota.{name}"] = check_setting(f"quota.{name}", value, known)
        for key, value in checked_values.items():
            await notifications.set_unit_setting(actor, current["id"], key, value)
    except ValidationError as refused:
        return await _settings_page(request, actor, current, **refusal(refused), status_code=422,
                                    typed={key: value for key, value in fields.items() if isinstance(value, str)})
    return Redirect(f"/notifications/settings?unit={current['id']}&saved=1", status_code=303)


NOTIFICATION_PAGES = [templates_page, edit_template, template_preview, save_template, compose_page, compose_preview,
                      send_campaign, log_page, settings_page, save_settings]
