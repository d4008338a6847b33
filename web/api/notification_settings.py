"""/api/v1/units/{unit_id}/notification-settings: how a unit reaches people — reminder offsets,
quiet hours, channel order, the channels it allows and monthly quotas per channel.

The values are the unit settings core/notifications.py reads (``notifications.*``), inherited
from the nearest ancestor that sets them; here they are checked before they are stored, so a
wrong value is refused with a Vietnamese message instead of breaking a campaign later.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, patch

from core import notifications
from core.access import Actor
from core.errors import ValidationError
from core.services import units
from web.api.docs import answers, given_fields

MAX_REMINDERS = 6
MAX_REMINDER_HOURS = 30 * 24
MAX_QUOTA = 10_000_000
KEYS = ("quiet_hours", "reminder_offsets_hours", "channel_order", "channels_allowed")


def known_channels(host) -> list[str]:
    """Channels this deployment can send through (plugins' ones, and the console)."""
    return sorted({*notifications.channels(host), "console"})


def _channel_list(value: Any, field: str, known: list[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Cần một danh sách tên kênh, ví dụ [\"sms\", \"email\"].", field=field)
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValidationError("Kênh không có: {unknown}. Các kênh hiện có: {known}.", field=field, unknown=unknown, known=known)
    if len(set(value)) != len(value):
        raise ValidationError("Mỗi kênh chỉ ghi một lần.", field=field)
    return value


def _whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_setting(name: str, value: Any, known: list[str]) -> Any:
    """The value to store for ``notifications.<name>``, or a ValidationError on the field ``name``."""
    if name == "quiet_hours":
        if not (isinstance(value, list) and len(value) == 2 and all(_whole_number(h) and 0 <= h <= 23 for h in value)):
            # said so that it reads on the settings page (two boxes) as well as in the API (a list)
            raise ValidationError("Giờ yên lặng là hai số giờ từ 0 đến 23, bắt đầu và kết thúc: ví dụ 21 và 7 "
                                  "(không gửi tin từ 21 giờ đến 7 giờ sáng); 0 và 0 là không có giờ yên lặng.", field=name)
        return value
    if name == "reminder_offsets_hours":
        if not isinstance(value, list) or not all(_whole_number(h) and 1 <= h <= MAX_REMINDER_HOURS for h in value):
            raise ValidationError("Mốc nhắc lịch là số giờ trước giờ bắt đầu, mỗi mốc từ 1 đến {max_reminder_hours} "
                                  "(30 ngày), ví dụ 24, 2.", field=name, max_reminder_hours=MAX_REMINDER_HOURS)
        if len(value) > MAX_REMINDERS or len(set(value)) != len(value):
            raise ValidationError("Tối đa {max_reminders} mốc nhắc lịch, không trùng nhau.", field=name,
                                  max_reminders=MAX_REMINDERS)
        return sorted(value, reverse=True)
    if name == "channel_order":
        return _channel_list(value, name, known)
    if name == "channels_allowed":
        return None if value is None else _channel_list(value, name, known)
    if name.startswith("quota."):
        channel = name.removeprefix("quota.")
        if channel not in known:
            raise ValidationError("Kênh không có: {channel}. Các kênh hiện có: {known}.", field=name, channel=channel,
                                  known=known)
        if value is not None and not (_whole_number(value) and 0 <= value <= MAX_QUOTA):
            raise ValidationError("Hạn mức tháng là số tin từ 0 đến {max_quota}; để trống (null) là không giới hạn.", field=name,
                                  max_quota=f"{MAX_QUOTA:,}".replace(",", "."))
        return value
    raise ValidationError("Thiết lập không có: notifications.{name}. Dùng được: {known}.", field="key", name=name,
                          known=[f'notifications.{key}' for key in (*KEYS, 'quota.<kênh>')])


class NotificationSettingsChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Only the fields sent change. ``quotas`` maps a channel to its monthly limit (null: none)."""

    quiet_hours: list[int] | msgspec.UnsetType = msgspec.UNSET
    reminder_offsets_hours: list[int] | msgspec.UnsetType = msgspec.UNSET
    channel_order: list[str] | msgspec.UnsetType = msgspec.UNSET
    channels_allowed: list[str] | None | msgspec.UnsetType = msgspec.UNSET
    quotas: dict[str, int | None] | msgspec.UnsetType = msgspec.UNSET


class NotificationSettings(msgspec.Struct):
    """The unit's values in force (its own or inherited). ``channels_allowed`` null: every
    channel; ``quotas`` null: no monthly limit. ``channels``: what the deployment offers."""

    unit_id: int
    quiet_hours: list[int]
    reminder_offsets_hours: list[int]
    channel_order: list[str]
    channels_allowed: list[str] | None
    quotas: dict[str, int | None]
    channels: list[str]


SETTINGS_EXAMPLE = {"unit_id": 3, "quiet_hours": [21, 7], "reminder_offsets_hours": [24, 2], "channel_order": ["sms", "email"],
                    "channels_allowed": None, "quotas": {"sms": 5000, "email": None, "console": None},
                    "channels": ["console", "email", "sms"]}


async def settings_in_force(host, unit: dict) -> NotificationSettings:
    known = known_channels(host)
    path = unit["path"]
    return NotificationSettings(
        unit_id=unit["id"],
        quiet_hours=list(await notifications.unit_setting(path, "notifications.quiet_hours", list(notifications.DEFAULT_QUIET_HOURS))),
        reminder_offsets_hours=list(await notifications.unit_setting(path, "notifications.reminder_offsets_hours",
                                                                     notifications.DEFAULT_REMINDER_OFFSETS_HOURS)),
        channel_order=list(await notifications.unit_setting(path, "notifications.channel_order", None) or []),
        channels_allowed=await notifications.unit_setting(path, "notifications.channels_allowed", None),
        quotas={name: await notifications.unit_setting(path, f"notifications.quota.{name}", None) for name in known},
        channels=known,
    )


class NotificationSettingsController(Controller):
    path = "/api/v1/units/{unit_id:int}/notification-settings"
    opt = {"access": "staff"}

    @get("/", responses=answers(200, NotificationSettings, SETTINGS_EXAMPLE, errors=(404,)))
    async def show(self, request: Request, actor: Actor, unit_id: int) -> NotificationSettings:
        """The notification settings in force for the unit."""
        return await settings_in_force(request.app.state.plugin_host, await units.view_unit(actor, unit_id))

    @patch("/", responses=answers(200, NotificationSettings, SETTINGS_EXAMPLE, errors=(400, 403, 404, 422)))
    async def change(self, request: Request, actor: Actor, unit_id: int, data: NotificationSettingsChange) -> NotificationSettings:
        """Set some of the unit's notification settings (unit admins); every value is checked
        before any is stored."""
        host = request.app.state.plugin_host
        unit = await units.view_unit(actor, unit_id)
        known = known_channels(host)
        sent = given_fields(data)
        quotas = sent.pop("quotas", {})
        checked = {f"notifications.{name}": check_setting(name, value, known) for name, value in sent.items()}
        checked |= {f"notifications.quota.{channel}": check_setting(f"quota.{channel}", value, known)
                    for channel, value in quotas.items()}
        for key, value in checked.items():
            await notifications.set_unit_setting(actor, unit_id, key, value)
        return await settings_in_force(host, unit)
