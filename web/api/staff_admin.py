"""/api/v1 pieces the administration pages need: staff users (list, detail, log out everywhere,
venue grants), notification templates (in force per kind × channel, preview with validation),
the message log of a unit, campaigns to a saved audience and the campaign preview of a
conference, the live preview of an audience being built, and plugin settings per unit.
Thin handlers over the services; errors in the one shape (web/errors.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, get, post, put

from core import notifications
from core.access import Actor
from core.plugins import plugin_settings_form, set_plugin_setting
from core.services import audiences, units, users
from web.api.docs import answers, convert
from web.hook_parts import preview_parts


class RoleOut(msgspec.Struct):
    unit_id: int
    unit_name: str
    role: str


class StaffUserOut(msgspec.Struct):
    id: int
    username: str
    full_name: str
    active: bool
    roles: list[RoleOut]


class VenueGrantOut(msgspec.Struct):
    """A venue hosted by a unit where the user holds ``roles``, in a conference of another unit."""

    id: int
    name: str
    host_unit_id: int
    host_unit_name: str
    conference_id: int
    conference_title: str
    conference_unit_name: str
    conference_status: str
    starts_at: dt.datetime
    roles: list[str]


class TemplateOut(msgspec.Struct):
    """``source``: own (this unit), inherited (``source_unit``), or default (the core's wording)."""

    kind: str
    label: str
    channel: str
    subject: str
    body: str
    source: Literal["own", "inherited", "default"]
    source_unit: str | None


class TemplatePreviewIn(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: int
    channel: str
    body: str
    subject: str = ""


class PreviewPart(msgspec.Struct):
    label: str
    value: str
    plugin: str


class TemplatePreview(msgspec.Struct):
    """The wording filled with sample values, and what the channel's plugin says of it."""

    subject: str
    body: str
    parts: list[PreviewPart] = []


class MessageOut(msgspec.Struct):
    id: int
    kind: str
    conference_id: int | None
    conference_title: str
    person: int | None
    full_name: str | None
    channel: str
    address: str
    subject: str
    status: str
    error: str
    created_at: dt.datetime
    send_after: dt.datetime | None
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None


class MessageLog(msgspec.Struct):
    """``counts``: messages per status under the same filters (the status filter aside)."""

    total: int
    counts: dict[str, int]
    items: list[MessageOut]


class CampaignPreview(msgspec.Struct):
    recipients: int
    channel: str | None
    channel_label: str
    subject: str
    body: str
    estimated_cost: float
    quota: dict[str, int] | None = None
    channel_figures: dict[str, Any] | None = None
    parts: list[PreviewPart] = []


class AudienceCampaignIn(msgspec.Struct, forbid_unknown_fields=True):
    """A free message to an audience; ``campaign``: any key of yours, so a retried request is not
    sent twice."""

    text: str
    subject: str = ""
    urgent: bool = False
    campaign: str = ""


class QueueCounts(msgspec.Struct):
    queued: int
    duplicates: int
    no_channel: int
    opted_out: int
    over_quota: int


class RulesPreviewIn(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: int
    rules: dict = {}
    include_ids: list[int] = []
    exclude_ids: list[int] = []


class PreviewPerson(msgspec.Struct):
    id: int
    full_name: str
    unit_name: str


class RulesPreview(msgspec.Struct):
    count: int
    first: list[PreviewPerson]


class PluginSettingOut(msgspec.Struct):
    """``scope`` unit: set per unit (``value`` in force, ``own`` when this unit sets it);
    deployment: from plugins.toml, read only (a secret's value is never shown)."""

    key: str
    label: str
    type: str
    scope: str
    value: Any
    own: bool
    secret: bool


class SettingValue(msgspec.Struct, forbid_unknown_fields=True):
    value: Any


USER_EXAMPLE = {"id": 2, "username": "tochuc.tiendu", "full_name": "Trần Văn Bình", "active": True,
                "roles": [{"unit_id": 3, "unit_name": "Huyện ủy Tiên Du", "role": "organiser"}]}
PREVIEW_EXAMPLE = {"recipients": 120, "channel": "sms", "channel_label": "Tin nhắn SMS", "subject": "Giấy mời: Hội nghị tháng 3",
                   "body": "Kính mời đồng chí Nguyễn Văn An dự Hội nghị tháng 3 lúc 15/03/2030 08:00 tại Hội trường.",
                   "estimated_cost": 96000.0, "quota": {"limit": 5000, "left": 4200}, "channel_figures": None, "parts": []}


async def _parts(host, unit_id: int, channel: str | None, subject: str, body: str, recipients: int) -> list[PreviewPart]:
    unit = await units.get_unit(unit_id)
    return convert(await preview_parts(host, unit, channel=channel, subject=subject, body=body, recipients=recipients),
                   list[PreviewPart])


class StaffAdminController(Controller):
    path = "/api/v1"
    opt = {"access": "staff"}

    @get("/users/{user_id:int}", responses=answers(200, StaffUserOut, USER_EXAMPLE, errors=(404,)))
    async def user(self, actor: Actor, user_id: int) -> StaffUserOut:
        return convert(await users.get_staff_user(actor, user_id), StaffUserOut)

    @post("/users/{user_id:int}/logout-everywhere", status_code=200, responses=answers(200, dict, {"ok": True}, errors=(403, 404)))
    async def logout_everywhere(self, actor: Actor, user_id: int) -> dict:
        """End every session of the user (yourself, or a user all of whose units you administer)."""
        await users.log_out_everywhere(actor, user_id=user_id)
        return {"ok": True}

    @get("/users/{user_id:int}/venue-grants", responses=answers(200, list[VenueGrantOut], [], errors=(404,)))
    async def venue_grants(self, actor: Actor, user_id: int) -> list[VenueGrantOut]:
        """Venues of other units' conferences the user reaches through a role on the hosting unit."""
        return convert(await users.venue_grants(actor, user_id=user_id), list[VenueGrantOut])

    @get("/units/{unit_id:int}/notifications/templates", responses=answers(200, list[TemplateOut], [], errors=(404,)))
    async def templates(self, request: Request, actor: Actor, unit_id: int) -> list[TemplateOut]:
        """The wording in force for every kind on every channel, and where it comes from."""
        return convert(await notifications.templates_in_force(actor, request.app.state.plugin_host, unit_id=unit_id),
                       list[TemplateOut])

    @post("/notifications/templates/preview", status_code=200, responses=answers(
        200, TemplatePreview, {"subject": "Giấy mời", "body": "Kính mời đồng chí Nguyễn Văn A", "parts": []}, errors=(404, 422)))
    async def preview_template(self, request: Request, actor: Actor, data: TemplatePreviewIn) -> TemplatePreview:
        """Check a wording (unknown variables, broken braces: 422 naming the field) and fill it
        with sample values."""
        await units.view_unit(actor, data.unit_id)
        rendered = notifications.preview_template(subject=data.subject, body=data.body)
        parts = await _parts(request.app.state.plugin_host, data.unit_id, data.channel, rendered["subject"], rendered["body"], 1)
        return TemplatePreview(subject=rendered["subject"], body=rendered["body"], parts=parts)

    @get("/units/{unit_id:int}/messages", responses=answers(200, MessageLog, {"total": 0, "counts": {}, "items": []},
                                                            errors=(404, 422)))
    async def messages(self, actor: Actor, unit_id: int, status: str | None = None, channel: str | None = None,
                       kind: str | None = None, conference_id: int | None = None, limit: int = 100, offset: int = 0) -> MessageLog:
        """The message log of the unit's subtree, newest first, with delivery status."""
        return convert(await notifications.unit_message_log(actor, unit_id=unit_id, status=status, channel=channel, kind=kind,
                                                            conference_id=conference_id, limit=limit, offset=offset), MessageLog)

    @get("/conferences/{conference_id:int}/messages/campaign-preview",
         responses=answers(200, CampaignPreview, PREVIEW_EXAMPLE, errors=(403, 404, 422)))
    async def conference_campaign_preview(self, request: Request, actor: Actor, conference_id: int, kind: str,
                                          audience: str = "all", text: str = "") -> CampaignPreview:
        """Recipients (all, not_answered, accepted, absent), the message as the first reads it, and the cost."""
        host = request.app.state.plugin_host
        result = await notifications.campaign_preview(actor, host, kind=kind, conference_id=conference_id, audience=audience,
                                                      text=text)
        parts = await _parts(host, result["unit_id"], result["channel"], result["subject"], result["body"], result["recipients"])
        return convert({**result, "parts": parts}, CampaignPreview)

    @get("/audiences/{audience_id:int}/messages/preview", responses=answers(200, CampaignPreview, PREVIEW_EXAMPLE, errors=(403, 404)))
    async def audience_campaign_preview(self, request: Request, actor: Actor, audience_id: int, text: str = "") -> CampaignPreview:
        host = request.app.state.plugin_host
        result = await notifications.campaign_preview(actor, host, kind="free_message", audience_id=audience_id, text=text)
        parts = await _parts(host, result["unit_id"], result["channel"], result["subject"], result["body"], result["recipients"])
        return convert({**result, "parts": parts}, CampaignPreview)

    @post("/audiences/{audience_id:int}/messages", responses=answers(201, QueueCounts, {
        "queued": 118, "duplicates": 0, "no_channel": 2, "opted_out": 0, "over_quota": 0}, errors=(403, 404, 409, 422)))
    async def audience_campaign(self, request: Request, actor: Actor, audience_id: int, data: AudienceCampaignIn) -> QueueCounts:
        """Queue a free message to the audience's people (quiet hours, quotas and opt-outs apply)."""
        return convert(await notifications.queue_audience_messages(actor, request.app.state.plugin_host, audience_id=audience_id,
                                                                   **msgspec.structs.asdict(data)), QueueCounts)

    @post("/audiences/preview", status_code=200, responses=answers(200, RulesPreview, {
        "count": 2, "first": [{"id": 7, "full_name": "Nguyễn Văn An", "unit_name": "Huyện ủy Tiên Du"}]}, errors=(404, 422)))
    async def rules_preview(self, actor: Actor, data: RulesPreviewIn) -> RulesPreview:
        """Count and first members of an audience being built, before it is saved."""
        return convert(await audiences.preview_rules(actor, unit_id=data.unit_id, rules=data.rules, include_ids=data.include_ids,
                                                     exclude_ids=data.exclude_ids), RulesPreview)

    @get("/units/{unit_id:int}/plugins/{plugin:str}/settings", responses=answers(200, list[PluginSettingOut], [], errors=(404, 422)))
    async def plugin_settings(self, request: Request, actor: Actor, unit_id: int, plugin: str) -> list[PluginSettingOut]:
        """A plugin's settings from its schema, with the values in force for the unit."""
        return convert(await plugin_settings_form(request.app.state.plugin_host, actor, unit_id=unit_id, plugin=plugin),
                       list[PluginSettingOut])

    @put("/units/{unit_id:int}/plugins/{plugin:str}/settings/{key:str}",
         responses=answers(200, list[PluginSettingOut], [], errors=(403, 404, 422)))
    async def set_plugin_setting(self, request: Request, actor: Actor, unit_id: int, plugin: str, key: str,
                                 data: SettingValue) -> list[PluginSettingOut]:
        """Set one unit-scope setting of a plugin (unit admins), checked against its schema."""
        host = request.app.state.plugin_host
        await set_plugin_setting(host, actor, unit_id=unit_id, plugin=plugin, key=key, value=data.value)
        return convert(await plugin_settings_form(host, actor, unit_id=unit_id, plugin=plugin), list[PluginSettingOut])
