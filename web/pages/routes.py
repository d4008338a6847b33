"""Every HTML page of the core, in one list the app factory mounts (page modules add theirs here)."""

from __future__ import annotations

from core.plugins import PluginHost
from web.pages import static_router


def page_route_handlers(host: PluginHost) -> list:
    from web.pages.admin import admin_page_handlers
    from web.pages.attendee import ATTENDEE_PAGES
    from web.pages.session import SESSION_PAGES
    from web.pages.conference_routes import CONFERENCE_AREA_PAGES

    plugin_static: dict[str, str] = {}
    for contributed in host.pm.hook.static_folders():
        plugin_static.update(contributed or {})
    return [*SESSION_PAGES, *CONFERENCE_AREA_PAGES, *ATTENDEE_PAGES, *admin_page_handlers(), *static_router(plugin_static)]


def plugin_template_folders(host: PluginHost) -> list[str]:
    return [folder for contributed in host.pm.hook.template_folders() for folder in (contributed or [])]
