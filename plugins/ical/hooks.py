"""Hook implementations of the ``ical`` plugin: each a few lines calling the services.

``message_attachments`` and ``attendee_panels`` read the database, so they return a coroutine
that the caller awaits (see their specs in core/hookspecs.py).
"""

from __future__ import annotations

from pathlib import Path

from core.hookspecs import hookimpl
from plugins.ical import LABEL, REQUIRES  # noqa: F401  (metadata read by the plugin host)
from plugins.ical import tables  # noqa: F401  (imported before the engine is bound)


@hookimpl
def piccolo_apps():
    return ["plugins.ical.piccolo_app"]


@hookimpl
def settings_schema():
    from plugins.ical.settings import SCHEMA

    return SCHEMA


@hookimpl
def register_routes():
    from plugins.ical.routes import ROUTES

    return ROUTES


@hookimpl
def template_folders():
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def message_attachments(message):
    from plugins.ical.services import attachments_for_message

    return attachments_for_message(message)


@hookimpl
def attendee_panels(person, conference):
    from plugins.ical.panel import attendee_panels as panels

    return panels(person, conference)


@hookimpl
def conference_deleted(conference_id):
    from plugins.ical.services import forget

    return forget(conference_id)


@hookimpl
def job_handlers():
    from plugins.ical.mailbox import POLL_JOB, poll_job

    return {POLL_JOB: poll_job}


@hookimpl
def invitations_issued(conference, event):
    """Invitations went out: when answers come by mail, make sure the organiser mailbox is read."""
    from plugins.ical.mailbox import ensure_polling

    return ensure_polling()


@hookimpl
def demo_data(progress):
    """``hoinghi demo``: the plugin on at the root unit, so the demo shows it everywhere."""
    from core.demo import switch_on_at_root

    progress("Plugin ical: bật cho toàn bộ đơn vị mẫu…")
    return switch_on_at_root("ical")
