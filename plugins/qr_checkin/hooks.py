"""Hook implementations of the ``qr_checkin`` plugin: each a few lines calling the services.

``attendee_panels`` and ``resolve_checkin_code`` read the database, so they return a coroutine
that the caller awaits (see ``attendee_panels`` in core/hookspecs.py).
"""

from __future__ import annotations

from pathlib import Path

from core.hookspecs import hookimpl
from plugins.qr_checkin import LABEL, REQUIRES  # noqa: F401  (metadata read by the plugin host)
from plugins.qr_checkin import tables  # noqa: F401  (imported before the engine is bound)

HERE = Path(__file__).parent


@hookimpl
def piccolo_apps():
    return ["plugins.qr_checkin.piccolo_app"]


@hookimpl
def settings_schema():
    from plugins.qr_checkin.settings import SCHEMA

    return SCHEMA


@hookimpl
def register_routes():
    from plugins.qr_checkin.api import build_routes
    from plugins.qr_checkin.routes import all_routes

    return [*build_routes(), *all_routes()]


@hookimpl
def template_folders():
    return [str(HERE / "templates")]


@hookimpl
def static_folders():
    return {"qr_checkin": str(HERE / "static")}


@hookimpl
def job_handlers():
    from plugins.qr_checkin.badges import JOB_KIND, build_sheet_job

    return {JOB_KIND: build_sheet_job}


@hookimpl
def cli_commands(subparsers):
    from plugins.qr_checkin.cli import add_commands

    add_commands(subparsers)


@hookimpl
def attendee_panels(person, conference):
    from plugins.qr_checkin.badges import attendee_panels as panels

    return panels(person, conference)


@hookimpl
def conference_panels(conference):
    from plugins.qr_checkin.badges import conference_panel

    return conference_panel(conference)


@hookimpl
def resolve_checkin_code(conference, code):
    from plugins.qr_checkin.services import resolve_code

    return resolve_code(conference, code)


@hookimpl
def conference_deleted(conference_id):
    from plugins.qr_checkin.services import forget

    return forget(conference_id)


@hookimpl
def demo_data(progress):
    """``hoinghi demo``: the plugin on at the root unit, so the demo shows it everywhere."""
    from core.demo import switch_on_at_root

    progress("Plugin qr_checkin: bật cho toàn bộ đơn vị mẫu…")
    return switch_on_at_root("qr_checkin")
