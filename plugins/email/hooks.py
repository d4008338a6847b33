"""Hook implementations of the email plugin."""

from __future__ import annotations

from core.hookspecs import hookimpl
from plugins.email import LABEL, REQUIRES  # noqa: F401  (metadata read by the plugin host)


@hookimpl
def settings_schema():
    from plugins.email.settings import SCHEMA

    return SCHEMA


@hookimpl
def notification_channels():
    from plugins.email.channel import EmailChannel
    from plugins.email.settings import deployment_values

    values = deployment_values()
    if not values.get("smtp_host") or not values.get("from_address"):
        return []  # no SMTP server on this deployment: no channel to offer
    return [EmailChannel(values=values)]


@hookimpl
def register_routes():
    from plugins.email.routes import unsubscribe

    return [unsubscribe]
