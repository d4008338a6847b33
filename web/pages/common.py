"""What every staff page shares: the acting user's units and menu, form parsing, refusals shown
beside the fields, htmx detection."""

from __future__ import annotations

from typing import Any

from litestar import Request

from core.access import Actor
from core.errors import DomainError
from core.reads import read_once
from core.tables import Unit
from web.i18n import error_messages


def is_htmx(request: Request) -> bool:
    """An htmx request wants a fragment, not the whole page."""
    return request.headers.get("hx-request") == "true"


def refusal(error: DomainError) -> dict[str, Any]:
    """A form page's ``error`` and ``errors`` (per field) for a refused submission, in the request's
    language: ``render(..., **refusal(refused))``."""
    message, fields = error_messages(error)
    return {"error": message, "errors": fields}


async def form_fields(request: Request) -> dict[str, Any]:
    """The submitted form as a dict; repeated names become lists; the CSRF field is dropped."""
    submitted = (await request.form()).dict()
    return {key: values if len(values) > 1 else values[0] for key, values in submitted.items() if key != "_csrf_token"}


async def home_units(actor: Actor) -> list[dict]:
    """The top units the actor holds a role on (the roots of what they see), by path."""
    paths = sorted({grant.unit_path for grant in actor.grants})
    tops = [path for path in paths if not any(path != other and path.startswith(other) for other in paths)]
    if not tops:
        return []
    return await read_once(("home units", *tops), lambda: Unit.select(Unit.id, Unit.name, Unit.short_code, Unit.path, Unit.timezone).where(
        Unit.path.is_in(tops)).order_by(Unit.path))


async def staff_context(request: Request, actor: Actor, **context: Any) -> dict[str, Any]:
    """The layout's variables (units, plugin menu items) plus the page's own."""
    units = await home_units(actor)
    plugin_menu: list[dict] = []
    if units:
        hooks = await request.app.state.plugin_host.hooks_for_path(units[0]["path"])
        for contributed in hooks.menu_items(unit=units[0]):
            plugin_menu.extend(contributed or [])
    return {"actor": actor, "home_units": units, "plugin_menu": plugin_menu, **context}
