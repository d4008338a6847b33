"""/api/v1 administration: plugins per unit, staff users and roles, audit log, notifications,
series. Thin handlers over the services."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post, put

from core import notifications
from core.access import Actor
from core.services import audit, series, units, users


class PluginSwitch(msgspec.Struct, forbid_unknown_fields=True):
    state: str


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: str
    full_name: str = ""
    email: str | None = None


class RoleChange(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: int
    role: str


class TemplateIn(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: int
    kind: str
    channel: str
    body: str
    subject: str = ""


class CampaignIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    audience: str = "all"
    text: str = ""
    urgent: bool = False
    campaign: str = ""


class SettingIn(msgspec.Struct, forbid_unknown_fields=True):
    value: Any


class SeriesCreate(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: int
    title: str
    kind: str
    format: str
    rrule: str
    local_start: str
    duration_minutes: int
    timezone: str | None = None
    template: dict = {}


class SeriesSplit(msgspec.Struct, forbid_unknown_fields=True):
    from_occurrence_key: str
    rrule: str | None = None
    local_start: str | None = None
    duration_minutes: int | None = None


class AdminController(Controller):
    path = "/api/v1"
    opt = {"access": "staff"}

    @get("/units/{unit_id:int}/plugins")
    async def plugins(self, request: Request, actor: Actor, unit_id: int) -> list[dict]:
        return await request.app.state.plugin_host.states(actor, unit_id)

    @put("/units/{unit_id:int}/plugins/{plugin:str}")
    async def switch_plugin(self, request: Request, actor: Actor, unit_id: int, plugin: str, data: PluginSwitch) -> list[dict]:
        host = request.app.state.plugin_host
        await host.set_state(actor, unit_id, plugin, data.state)
        return await host.states(actor, unit_id)

    @get("/users")
    async def list_users(self, actor: Actor, unit_id: int) -> list[dict]:
        """Staff users holding a role in the unit's subtree, with those roles (unit and role)."""
        from web.api.docs import convert
        from web.api.staff_admin import StaffUserOut

        return convert(await users.list_staff(actor, unit_id=unit_id), list[StaffUserOut])

    @post("/users")
    async def create_user(self, actor: Actor, data: UserCreate) -> dict:
        return await users.create_user(actor, **msgspec.structs.asdict(data))

    @post("/users/{user_id:int}/roles", status_code=200)
    async def grant(self, actor: Actor, user_id: int, data: RoleChange) -> dict:
        await users.grant_role(actor, user_id=user_id, unit_id=data.unit_id, role=data.role)
        return {"ok": True}

    @post("/users/{user_id:int}/roles/revoke", status_code=200)
    async def revoke(self, actor: Actor, user_id: int, data: RoleChange) -> dict:
        await users.revoke_role(actor, user_id=user_id, unit_id=data.unit_id, role=data.role)
        return {"ok": True}

    @get("/units/{unit_id:int}/audit")
    async def audit_log(self, actor: Actor, unit_id: int, object_type: str | None = None, limit: int = 100) -> list[dict]:
        unit = await units.view_unit(actor, unit_id)
        return await audit.list_entries(actor, unit_path=unit["path"], object_type=object_type, limit=limit)

    @put("/units/{unit_id:int}/settings/{key:str}")
    async def setting(self, request: Request, actor: Actor, unit_id: int, key: str, data: SettingIn) -> dict:
        """One notification setting of a unit: notifications.quiet_hours, .channel_order,
        .quota.<channel>, .reminder_offsets_hours, .channels_allowed (all of them at once:
        /units/{unit_id}/notification-settings)."""
        from core.errors import ValidationError
        from web.api.notification_settings import check_setting, known_channels

        if not key.startswith("notifications."):
            raise ValidationError("Chỉ đặt được thiết lập thông báo ở đây (notifications.*).", field="key")
        await units.view_unit(actor, unit_id)
        value = check_setting(key.removeprefix("notifications."), data.value, known_channels(request.app.state.plugin_host))
        await notifications.set_unit_setting(actor, unit_id, key, value)
        return {"key": key, "value": value}

    @put("/notifications/templates")
    async def template(self, request: Request, actor: Actor, data: TemplateIn) -> dict:
        return await notifications.save_template(actor, host=request.app.state.plugin_host, **msgspec.structs.asdict(data))

    @get("/conferences/{conference_id:int}/messages/preview")
    async def preview(self, request: Request, actor: Actor, conference_id: int, kind: str, channel: str) -> dict:
        return await notifications.preview(actor, request.app.state.plugin_host, kind=kind, conference_id=conference_id,
                                           channel=channel)

    @post("/conferences/{conference_id:int}/messages")
    async def campaign(self, request: Request, actor: Actor, conference_id: int, data: CampaignIn) -> dict:
        """Queue a message to the conference's invitees (all, not_answered, accepted, attending)."""
        return await notifications.queue_conference_messages(actor, request.app.state.plugin_host, conference_id=conference_id,
                                                             **msgspec.structs.asdict(data))

    @get("/conferences/{conference_id:int}/messages")
    async def message_log(self, actor: Actor, conference_id: int) -> list[dict]:
        return await notifications.message_log(actor, conference_id)

    @post("/series")
    async def create_series(self, actor: Actor, data: SeriesCreate) -> dict:
        return await series.create_series(actor, **msgspec.structs.asdict(data))

    @get("/series/{series_id:int}")
    async def get_series(self, actor: Actor, series_id: int) -> dict:
        return await series.get_series(actor, series_id)

    @post("/series/{series_id:int}/split")
    async def split(self, actor: Actor, series_id: int, data: SeriesSplit) -> dict:
        fields = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        return await series.split_series(actor, series_id, **fields)

    @post("/conferences/{conference_id:int}/skip", status_code=200)
    async def skip(self, actor: Actor, conference_id: int) -> dict:
        """Skip one occurrence of a series."""
        return await series.skip_occurrence(actor, conference_id)


