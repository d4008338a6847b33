"""Mounting the routes plugins contribute, behind one guard: 404 where the plugin is off.

Every plugin route declares, in its ``opt``, its plugin and how its unit is found:
``{"plugin": "ical", "unit_from": "unit_id" | "conference_id"}`` (a path parameter). A route
without that declaration stops start-up.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.router import Router

from core.plugins import PluginConfigError, PluginHost

UNIT_RESOLVERS = ("unit_id", "conference_id")


async def _unit_path(source: str, value: int) -> str | None:
    from core.tables import Conference, Unit

    if source == "unit_id":
        row = await Unit.select(Unit.path).where(Unit.id == value).first()
        return row["path"] if row else None
    row = await Conference.select(Conference.unit.path.as_alias("path")).where(Conference.id == value).first()
    return row["path"] if row else None


async def plugin_enabled_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Answer 404, as if the route did not exist, where the handler's plugin is off."""
    plugin, source = handler.opt["plugin"], handler.opt["unit_from"]
    host: PluginHost = connection.app.state.plugin_host
    try:
        value = int(connection.path_params[source])
    except (KeyError, TypeError, ValueError):
        raise NotFoundException("Không tìm thấy trang này.") from None
    path = await _unit_path(source, value)
    if path is None or plugin not in await host.enabled_for_path(path):
        raise NotFoundException("Không tìm thấy trang này.")


def _handlers_of(item: Any) -> list[BaseRouteHandler]:
    if isinstance(item, Router):
        return [handler for route in item.routes for handler in getattr(route, "route_handlers", [])]
    return [item]


def plugin_route_handlers(host: PluginHost) -> list[Any]:
    """Every plugin's routes with the guard attached; refuses routes that do not declare themselves."""
    mounted: list[Any] = []
    for plugin in sorted(host.infos):
        contributed = host.pm.subset_hook_caller("register_routes", [host.pm.get_plugin(o) for o in host.infos if o != plugin])()
        for item in [route for result in contributed for route in (result or [])]:
            for handler in _handlers_of(item):
                declared = handler.opt.get("plugin")
                if declared != plugin or handler.opt.get("unit_from") not in UNIT_RESOLVERS:
                    raise PluginConfigError(
                        f"plugin {plugin}: route {getattr(handler, 'paths', handler)} phải khai báo "
                        f"opt={{'plugin': '{plugin}', 'unit_from': one of {UNIT_RESOLVERS}}}")
                handler.guards = [*(handler.guards or []), plugin_enabled_guard]
            mounted.append(item)
    return mounted
