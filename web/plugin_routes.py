"""Mounting the routes plugins contribute, behind one guard: 404 where the plugin is off (the
app's access guard, ``web.auth.access_guard``, runs it for every route that names a plugin).

Every plugin route declares, in its ``opt``, its plugin and how its unit is found:
``{"plugin": "ical", "unit_from": ...}`` with one of

* ``unit_id``, ``conference_id``, ``venue_id``: a path parameter;
* ``feed_token``: a path parameter holding a calendar-feed token (the person's unit);
* ``device_token``: the ``X-Device-Token`` header of a scanner device (its conference's unit);
  a route whose service reads the key's liveness itself (``core.services.tokens.device_live_sql``)
  adds ``"device_liveness_in_route": True`` and spares the guard's read of the key;
* ``attendee_session``: the attendee signed in through their personal link (``/me/<plugin>/…``):
  the route is reachable when the plugin is on for at least one of the person's conferences,
  and filters its content per conference with ``core.plugins.conferences_with_plugin``.

A route without that declaration stops start-up.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.router import Router

from core.plugins import PluginConfigError, PluginHost
from core.services import tokens

UNIT_RESOLVERS = ("unit_id", "conference_id", "venue_id", "feed_token", "device_token", "attendee_session")
SESSION_PERSON_KEY = "person_id"  # set in the session by the attendee entry /i/<token>
DEVICE_HEADER = "x-device-token"
# A scanner sends up to a thousand requests a second: its routes read the plugin switches' change
# counter at most once a second per process, so a plugin switched off stops the scanners within it
DEVICE_SWITCH_SECONDS = 1.0


async def unit_path_from(source: str, value: str, state: dict | None = None, *, device_liveness_in_route: bool = False) -> str | None:
    """The materialised path of the unit ``value`` leads to, or None when it leads nowhere. A
    scanner device it authenticates is left in ``state`` (the request's) for the route; with
    ``device_liveness_in_route`` (the route's opt) the route reads whether its key is revoked."""
    from core.errors import NotFound
    from core.tables import Conference, Person, Unit, Venue

    try:
        if source == "unit_id":
            row = await Unit.select(Unit.path).where(Unit.id == int(value)).first()
        elif source == "conference_id":
            row = await Conference.select(Conference.unit.path.as_alias("path")).where(Conference.id == int(value)).first()
        elif source == "venue_id":
            row = await Venue.select(Venue.conference.unit.path.as_alias("path")).where(Venue.id == int(value)).first()
        elif source == "feed_token":
            # the feed's address is /ical/<token>.ics
            subject_type, subject_id = await tokens.verify_derived(value.removesuffix(".ics"), "calendar_feed")
            row = await Person.select(Person.unit.path.as_alias("path")).where(Person.id == subject_id).first()
        else:  # device_token
            device = await tokens.verify_device_token(value, liveness_in_route=device_liveness_in_route)
            if state is not None:
                state[tokens.AUTHENTICATED_DEVICE] = device
            return device.unit_path
    except (ValueError, TypeError, NotFound):
        return None
    return row["path"] if row else None


async def plugin_enabled_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Answer 404, as if the route did not exist, where the handler's plugin is off."""
    plugin, source = handler.opt["plugin"], handler.opt["unit_from"]
    host: PluginHost = connection.app.state.plugin_host
    if source == "attendee_session":
        from core.plugins import conferences_with_plugin

        session = connection.scope.get("session") or {}
        person_id = session.get(SESSION_PERSON_KEY) if isinstance(session, dict) else None
        if person_id is None or not await conferences_with_plugin(host, person_id=int(person_id), plugin=plugin):
            raise NotFoundException("Không tìm thấy trang này.")
        return
    value = connection.headers.get(DEVICE_HEADER) if source == "device_token" else connection.path_params.get(source)
    state = connection.scope.setdefault("state", {})
    path = await unit_path_from(source, str(value), state, device_liveness_in_route=bool(
        handler.opt.get(tokens.DEVICE_LIVENESS_IN_ROUTE))) if value is not None else None
    fresh_within = DEVICE_SWITCH_SECONDS if source == "device_token" else 0.0
    if path is None or plugin not in await host.enabled_for_path(path, fresh_within=fresh_within):
        raise NotFoundException("Không tìm thấy trang này.")


def _handlers_of(item: Any) -> list[BaseRouteHandler]:
    if isinstance(item, Router):
        return [handler for route in item.routes for handler in getattr(route, "route_handlers", [])]
    return [item]


def plugin_route_handlers(host: PluginHost) -> list[Any]:
    """Every plugin's routes; refuses routes that do not declare themselves (the declaration is
    what the access guard checks the plugin switch by)."""
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
            mounted.append(item)
    return mounted
