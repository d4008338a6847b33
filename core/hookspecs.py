"""THE plugin contract: every hook a plugin may implement, documented.

Two groups:

* **App-scoped hooks** are called once at start-up on every installed plugin, whatever units
  enable it (schema, routes and templates exist for all; enabling is data). They are
  synchronous contributions.
* **Unit-scoped hooks** are called through the caller of one unit, which reaches only the
  plugins that unit enables (``core.plugins.PluginHost.for_unit``). Lifecycle hooks (past
  tense) receive domain objects, never an HTTP request, so the worker, the CLI and the web call
  them alike; they may return an awaitable, which the core awaits per plugin so that one
  plugin's failure never hides another's work. Contribution and ``firstresult`` hooks must be
  synchronous: an ``async def`` implementation of them is refused at start-up.

Events reach lifecycle hooks through the outbox (core/events.py): a hook runs after the change
committed, at least once, in order per conference, never inside the change's transaction.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "hoinghi"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# Hooks a plugin may implement as ``async def`` (the core awaits them one plugin at a time).
LIFECYCLE_HOOKS = frozenset(
    {
        "conference_published", "conference_revised", "conference_cancelled", "conference_ended", "conference_created",
        "invitations_issued", "invitations_withdrawn", "rsvp_changed", "attendance_recorded", "material_added",
        "unit_deleted", "conference_deleted",
    }
)


class AppSpecs:
    """App-scoped hooks: called once at start-up on every installed plugin."""

    @hookspec
    def piccolo_apps(self) -> list[str]:
        """Scope: app. Called when Piccolo's app registry is built (migrations, tables).

        Return dotted paths of the plugin's ``piccolo_app`` modules, e.g.
        ``["plugins.qr_checkin.piccolo_app"]``. Tables are prefixed with the plugin name.
        """

    @hookspec
    def register_routes(self) -> list[Any]:
        """Scope: app. Called once by the web app factory.

        Return Litestar route handlers or routers. Each handler declares its plugin and how
        its unit is found (``opt={"plugin": name, "unit_from": ...}``); the core's guard answers
        404 where the plugin is off for that unit.
        """

    @hookspec
    def template_folders(self) -> list[str]:
        """Scope: app. Called once by the web app factory. Return folders of Jinja2 templates,
        namespaced ``templates/<plugin>/``."""

    @hookspec
    def static_folders(self) -> dict[str, str]:
        """Scope: app. Called once by the web app factory. Return {url prefix: folder} of
        vendored static files (pinned versions, no CDN)."""

    @hookspec
    def cli_commands(self, subparsers: Any) -> None:
        """Scope: app. Called when the ``hoinghi`` parser is built: add subcommands to
        ``subparsers`` (an argparse sub-parsers object)."""

    @hookspec
    def settings_schema(self) -> dict[str, dict]:
        """Scope: app. Called at start-up when plugins.toml is validated.

        Return {key: {"scope": "deployment" | "unit", "type": "str" | "int" | "bool" | "list",
        "default": ..., "secret": bool, "label": "Vietnamese label"}}. Deployment keys come
        from plugins.toml; unit keys live in the database per unit.
        """

    @hookspec
    def message_kinds(self) -> list[dict]:
        """Scope: app. Called when the notification service starts. Return message kinds the
        plugin adds: [{"kind": "evaluation_open", "label": "...", "default_template": "..."}]."""

    @hookspec
    def notification_channels(self) -> list[Any]:
        """Scope: app. Called when the notification service starts. Return channel objects
        (name, capabilities, ``send``); which units use them is per-unit enablement."""

    @hookspec
    def job_handlers(self) -> dict[str, Any]:
        """Scope: app. Called when the worker starts. Return {job kind: async function(job)}
        for jobs the plugin schedules with ``core.jobs.schedule(plugin=...)``. A handler must be
        idempotent: a job interrupted by a crash runs again after its lease expires."""

    @hookspec
    def demo_data(self, progress: Any) -> Any:
        """Scope: app. Called by ``hoinghi demo`` on every installed plugin, once the core's demo
        data set is loaded: add the plugin's own demo data (and switch the plugin on where the
        demo should show it). ``progress(text)`` reports a step. May return an awaitable; must be
        idempotent. One plugin's failure is reported and does not stop the others."""

    @hookspec
    def unit_deleted(self, unit_id: int) -> Any:
        """Scope: app (clean-up runs even where the plugin is off). Called after a unit is
        deleted: remove the plugin's rows about it. May return an awaitable."""

    @hookspec
    def conference_deleted(self, conference_id: int) -> Any:
        """Scope: app (clean-up runs even where the plugin is off). Called after a conference
        is deleted. May return an awaitable."""


class UnitSpecs:
    """Unit-scoped hooks: called through a unit's caller, reaching only its enabled plugins."""

    # -- lifecycle: past tense, results ignored, called by the outbox worker ------------------

    @hookspec
    def conference_created(self, conference: dict, event: dict) -> Any:
        """Scope: unit of the conference. Called by the worker after a conference is created."""

    @hookspec
    def conference_published(self, conference: dict, event: dict) -> Any:
        """Scope: unit of the conference. Called by the worker after a conference is published
        (its invitations exist: ``invitations_issued`` follows for the batch)."""

    @hookspec
    def conference_revised(self, conference: dict, event: dict) -> Any:
        """Scope: unit of the conference. Called by the worker after a significant revision
        (time, venue, link); ``conference["revision"]`` is the new number."""

    @hookspec
    def conference_cancelled(self, conference: dict, event: dict) -> Any:
        """Scope: unit of the conference. Called by the worker after a cancellation."""

    @hookspec
    def conference_ended(self, conference: dict, event: dict) -> Any:
        """Scope: unit of the conference. Called by the worker after the conference ended
        (roll-call closed, absences derived)."""

    @hookspec
    def invitations_issued(self, conference: dict, event: dict) -> Any:
        """Scope: unit of the conference. Called once per batch of new invitations;
        ``event["payload"]["person_ids"]`` lists them when at most 1,000, else None (read the
        invitations)."""

    @hookspec
    def invitations_withdrawn(self, conference: dict, event: dict) -> Any:
        """Scope: unit of the conference. Called once per batch of withdrawn invitations."""

    @hookspec
    def rsvp_changed(self, conference: dict, event: dict) -> Any:
        """Scope: unit of the conference. Called after an invitee answered."""

    @hookspec
    def attendance_recorded(self, conference: dict, event: dict) -> Any:
        """Scope: unit of the conference. Called once per person and conference, for the first
        record (a later, earlier-timed scan changes the time but fires nothing)."""

    @hookspec
    def material_added(self, conference: dict, event: dict) -> Any:
        """Scope: unit of the conference. Called after a material was added."""

    # -- contributions: plural nouns, synchronous -------------------------------------------

    @hookspec
    def menu_items(self, unit: dict) -> list[dict]:
        """Scope: unit. Called when a staff page is rendered. Return [{"label", "url", "icon"}]."""

    @hookspec
    def conference_panels(self, conference: dict) -> list[dict]:
        """Scope: unit of the conference. Called by the conference page. Return
        [{"title", "html"}] (escaped by the plugin)."""

    @hookspec
    def attendee_panels(self, person: dict, conference: dict) -> list[dict]:
        """Scope: unit of the conference. Called by the attendee's page (badge, calendar link,
        evaluation form). Return [{"title", "html"}] (escaped by the plugin), or an awaitable
        resolving to that list, as for ``message_attachments``: the caller awaits it."""

    @hookspec
    def venue_screen_panels(self, conference: dict, venue: dict) -> list[dict]:
        """Scope: unit of the conference. Called by the venue screen. Return [{"title", "html"}]."""

    @hookspec
    def message_attachments(self, message: dict) -> list[dict]:
        """Scope: unit of the message. Called by the notification service (``_send``) for channels
        that carry attachments, just before the channel is called. Return [{"filename",
        "content_type", "data": bytes}], or an awaitable resolving to that list: a plugin that must
        read the database implements this as a plain function returning a coroutine, which the
        notification service awaits (an ``async def`` implementation is still refused)."""

    @hookspec
    def channel_preview(self, channel: str, message: dict, recipients: int) -> dict | None:
        """Scope: unit of the campaign. Called by ``core.notifications.preview`` (the campaign
        preview of the notification pages) once the message is rendered for the first recipient.

        ``message`` is {"unit_path", "unit_id", "kind", "subject", "body"}; ``recipients`` how many
        would receive it. The plugin contributing ``channel`` returns figures the page shows
        under the preview, else None: {"recipients", "cost" (estimated, in the deployment's
        currency), ...channel-specific keys} — the sms plugin adds segments per message, total
        segments, the encoding, and what sending without diacritics would save (see
        plugins/sms/README.md). ``cost`` replaces the core's per-message estimate. May return an
        awaitable resolving to that dict (a plugin that reads unit settings), which the caller
        awaits, as for ``message_attachments``.
        """

    @hookspec
    def report_sections(self, unit: dict, start: Any, end: Any) -> list[dict]:
        """Scope: unit of the report. Called by core/services/reports.py (``plugin_sections``)
        for the attendance report of ``unit``'s subtree over [start, end), after the caller's
        access to the unit was checked. Return [{"title", "rows": [...]}] (a section may add
        "columns": [{"key", "label"}] and a "total"), or an awaitable resolving to that list,
        as for ``attendee_panels``: the caller awaits it."""

    @hookspec
    def notification_preview_parts(self, unit: dict, channel: str, subject: str, body: str, recipients: int) -> list[dict]:
        """Scope: unit. Called by the notification pages when a template or a campaign is
        previewed, for the channel it would go out on (``channel`` is its name; a plugin answers
        only for its own channels, else ``[]``). ``body`` is the message as its first recipient
        reads it; ``recipients`` how many receive it (1 for a template). Return figures shown
        beside the preview, [{"label": "Số tin (160 ký tự)", "value": "2"}] (plain text, escaped
        by the page), or an awaitable resolving to that list, as for ``message_attachments``."""

    @hookspec
    def channel_settings_panels(self, unit: dict) -> list[dict]:
        """Scope: unit. Called by the notification settings page of a unit. Return a channel's
        own backend settings as [{"title", "html"}] (escaped by the plugin; forms post to the
        plugin's own routes), or an awaitable resolving to that list."""

    # -- one provider ------------------------------------------------------------------------

    @hookspec(firstresult=True)
    def resolve_checkin_code(self, conference: dict, code: str) -> dict | None:
        """Scope: unit of the conference; first non-None wins. Called when staff type a code:
        return the invitation it identifies, or None."""

    # -- validation: raise core.errors.ValidationError to refuse --------------------------------

    @hookspec
    def validate_conference(self, conference: dict) -> None:
        """Scope: unit of the conference. Called before publishing; raise ValidationError with
        a Vietnamese message to refuse."""
