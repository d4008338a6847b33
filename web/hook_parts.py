"""What channel plugins add to the notification pages and previews, through the unit-scoped hooks
``notification_preview_parts`` and ``channel_settings_panels`` (core/hookspecs.py).

An implementation returns a list or an awaitable resolving to one (a plugin that reads the
database); each plugin's answer is checked for its shape, and one plugin's failure is logged
and leaves the others' parts in place.
"""

from __future__ import annotations

import inspect
import logging

log = logging.getLogger("hoinghi.web")


async def _collect(hooks, hook: str, keys: tuple[str, ...], **kwargs) -> list[dict]:
    parts: list[dict] = []
    caller = getattr(hooks, hook)
    for impl in caller.get_hookimpls():
        try:
            result = impl.function(*[kwargs[name] for name in impl.argnames])  # what it declares, as pluggy does
            if inspect.isawaitable(result):
                result = await result
        except Exception:  # isolated per plugin: the page still renders
            log.exception("plugin %s failed in %s", impl.plugin_name, hook)
            continue
        for part in result or []:
            if isinstance(part, dict) and all(key in part for key in keys):
                parts.append({**{key: str(part[key]) for key in keys}, "plugin": impl.plugin_name})
    return parts


async def preview_parts(host, unit: dict, *, channel: str | None, subject: str, body: str, recipients: int) -> list[dict]:
    """[{"label", "value", "plugin"}] from the plugins the unit enables, for ``channel``."""
    if not channel:
        return []
    hooks = await host.hooks_for_path(unit["path"])
    return await _collect(hooks, "notification_preview_parts", ("label", "value"), unit=unit, channel=channel, subject=subject,
                          body=body, recipients=recipients)


async def settings_panels(host, unit: dict) -> list[dict]:
    """[{"title", "html", "plugin"}] from the plugins the unit enables (HTML escaped by the plugin)."""
    hooks = await host.hooks_for_path(unit["path"])
    return await _collect(hooks, "channel_settings_panels", ("title", "html"), unit=unit)
