"""/plugins: per-unit switches (on / off / inherit; locks shown) and each plugin's settings form,
built from the plugin's settings schema."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core.access import Actor
from core.errors import Conflict, ValidationError
from core.plugins import plugin_settings_form, set_plugin_setting
from web.pages import PAGE
from web.pages.admin.common import page, unit_choices, working_unit
from web.pages.common import form_fields, refusal

STAFF = {"access": "staff", **PAGE}


async def _plugins_page(request: Request, actor: Actor, unit: dict, *, error: str = "", errors: dict | None = None,
                        failed_plugin: str = "", status_code: int = 200, flash: str = "") -> Template:
    host = request.app.state.plugin_host
    states = await host.states(actor, unit["id"])
    for state in states:
        state["settings"] = [field for field in await plugin_settings_form(host, actor, unit_id=unit["id"], plugin=state["plugin"])]
    return await page(request, actor, "admin/plugins.html", status_code=status_code, unit=unit, states=states,
                      choices=await unit_choices(actor), is_admin=actor.has("admin", unit["path"]), error=error,
                      errors=errors or {}, failed_plugin=failed_plugin, flash=flash)


@get("/plugins", opt=STAFF, include_in_schema=False)
async def plugins_page(request: Request, actor: Actor, unit: int | None = None, saved: str = "") -> Template:
    from web.i18n import gettext as _

    return await _plugins_page(request, actor, await working_unit(actor, unit), flash=_("Đã lưu.") if saved else "")


@post("/plugins/{plugin:str}/state", opt=STAFF, include_in_schema=False)
async def switch(request: Request, actor: Actor, plugin: str, unit: int) -> Template | Redirect:
    current = await working_unit(actor, unit)
    fields = await form_fields(request)
    try:
        await request.app.state.plugin_host.set_state(actor, current["id"], plugin, fields.get("state", ""))
    except (ValidationError, Conflict) as refused:
        return await _plugins_page(request, actor, current, **refusal(refused), failed_plugin=plugin,
                                   status_code=refused.status)
    return Redirect(f"/plugins?unit={current['id']}&saved=1", status_code=303)


def parse_value(kind: str, raw: Any) -> Any:
    """A form value as the schema's type: a whole number, a tick box, or a list (one item per
    line or comma; items that are whole numbers become numbers)."""
    text = (raw[-1] if isinstance(raw, list) else raw or "").strip()
    if kind == "bool":
        return text not in ("", "0", "false", "off")
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            return text  # refused by the schema check with the field's label
    if kind == "list":
        items = [item.strip() for item in re.split(r"[\n,]", text) if item.strip()]
        return [int(item) if re.fullmatch(r"-?\d+", item) else item for item in items]
    return text


@post("/plugins/{plugin:str}/settings", opt=STAFF, include_in_schema=False)
async def save_settings(request: Request, actor: Actor, plugin: str, unit: int) -> Template | Redirect:
    """Every unit-scope setting of the form, each checked against the schema before any is stored."""
    host = request.app.state.plugin_host
    current = await working_unit(actor, unit)
    fields = await form_fields(request)
    schema = await plugin_settings_form(host, actor, unit_id=current["id"], plugin=plugin)
    try:
        for field in schema:
            if field["scope"] != "unit" or (field["type"] != "bool" and field["key"] not in fields):
                continue
            await set_plugin_setting(host, actor, unit_id=current["id"], plugin=plugin, key=field["key"],
                                     value=parse_value(field["type"], fields.get(field["key"])))
    except ValidationError as refused:
        return await _plugins_page(request, actor, current, **refusal(refused), failed_plugin=plugin,
                                   status_code=422)
    return Redirect(f"/plugins?unit={current['id']}&saved=1", status_code=303)


PLUGIN_PAGES = [plugins_page, switch, save_settings]
