"""Hook implementations of the ``evaluation`` plugin: each a few lines calling the services.

``attendee_panels`` and ``report_sections`` read the database, so they return a coroutine that
the caller awaits (see their specs in core/hookspecs.py).
"""

from __future__ import annotations

from pathlib import Path

from core.hookspecs import hookimpl
from plugins.evaluation import LABEL, REQUIRES  # noqa: F401  (metadata read by the plugin host)
from plugins.evaluation import tables  # noqa: F401  (imported before the engine is bound)
from plugins.evaluation.settings import N_, PLUGIN


@hookimpl
def piccolo_apps():
    return ["plugins.evaluation.piccolo_app"]


@hookimpl
def settings_schema():
    from plugins.evaluation.settings import SCHEMA

    return SCHEMA


@hookimpl
def register_routes():
    from plugins.evaluation.routes import ROUTES

    return ROUTES


@hookimpl
def template_folders():
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def static_folders():
    return {PLUGIN: str(Path(__file__).parent / "static")}


@hookimpl
def cli_commands(subparsers):
    from plugins.evaluation.demo import register

    register(subparsers)


@hookimpl
def demo_data(progress):
    """``hoinghi demo``: the demo template, the plugin on at the root, a form with sample answers."""
    from plugins.evaluation.demo import load

    return load(progress=progress)


@hookimpl
def message_kinds():
    from plugins.evaluation.services import KIND_OPEN

    return [{"kind": KIND_OPEN, "label": N_("Mời đánh giá hội nghị"), "subject": "Phiếu đánh giá: {title}",
             "default_template": "Kính mời đồng chí {name} cho ý kiến đánh giá {title}. Mở phiếu trên trang cá nhân: {link}"}]


@hookimpl
def job_handlers():
    from plugins.evaluation.services import JOB_CLOSE, close_due

    return {JOB_CLOSE: close_due}


@hookimpl
async def conference_ended(conference, event):
    from plugins.evaluation.services import open_on_conference_end

    await open_on_conference_end(conference["id"])


@hookimpl
def attendee_panels(person, conference):
    from plugins.evaluation.panels import attendee_panels as panels

    return panels(person, conference)


@hookimpl
def venue_screen_panels(conference, venue):
    from plugins.evaluation.panels import venue_screen_panels as panels

    return panels(conference, venue)


@hookimpl
def report_sections(unit, start, end):
    from plugins.evaluation.services import period_sections

    return period_sections(unit, start, end)


@hookimpl
def conference_deleted(conference_id):
    from plugins.evaluation.services import forget_conference

    return forget_conference(conference_id)


@hookimpl
def unit_deleted(unit_id):
    from plugins.evaluation.services import forget_unit

    return forget_unit(unit_id)


@hookimpl
def menu_items(unit):
    from plugins.evaluation.i18n import _

    return [{"label": _("Phiếu đánh giá"), "url": f"/evaluation/units/{unit['id']}", "icon": "clipboard"}]


@hookimpl
def conference_panels(conference):
    from markupsafe import escape

    from plugins.evaluation.i18n import _

    url = f"/evaluation/conferences/{int(conference['id'])}"
    return [{"title": _("Phiếu đánh giá"), "html": f'<p><a href="{url}">{escape(_("Phiếu đánh giá và kết quả"))}</a></p>'}]
