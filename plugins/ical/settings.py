"""The plugin's settings, typed: deployment ones from plugins.toml (``[plugins.ical.settings]``),
unit ones from the database (set with the core's plugin settings, inherited down the unit tree).

Read without the plugin host, because hooks such as ``message_attachments`` receive only domain
objects.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib

from core.config import get_settings
from core.tables import UnitSetting


def N_(message: str) -> str:
    """Marks a label for the catalogs (web/locale/en/LC_MESSAGES/ical.po); pages translate it when shown."""
    return message


PLUGIN = "ical"
DECLINED_CHOICES = ("cancelled", "hidden")

SCHEMA: dict[str, dict] = {
    # unit scope
    "organizer_email": {"scope": "unit", "type": "str", "default": "", "label": N_("Địa chỉ email người tổ chức (ORGANIZER)")},
    "organizer_name": {"scope": "unit", "type": "str", "default": "", "label": N_("Tên người tổ chức (mặc định: tên đơn vị)")},
    "alarm_minutes": {"scope": "unit", "type": "list", "default": [60], "label": N_("Nhắc trước (phút) trong lịch")},
    "declined_in_feed": {"scope": "unit", "type": "str", "default": "cancelled",
                         "label": N_("Hội nghị đã từ chối trong lịch cá nhân: \"cancelled\" (hiện là đã huỷ) hoặc \"hidden\" (ẩn)")},
    # deployment scope
    "default_organizer_email": {"scope": "deployment", "type": "str", "default": "",
                                "label": N_("Email người tổ chức khi đơn vị chưa đặt (mặc định: noreply@<tên miền>)")},
    "refresh_minutes": {"scope": "deployment", "type": "int", "default": 60, "label": N_("Gợi ý làm mới lịch đăng ký (phút)")},
    # the organiser mailbox: when imap_host is set, invitations ask for answers (RSVP=TRUE), name
    # this mailbox as ORGANIZER, and the worker polls it for iTIP REPLY messages
    "imap_host": {"scope": "deployment", "type": "str", "default": "", "label": N_("Máy chủ IMAP của hộp thư người tổ chức (để trống: tắt)")},
    "imap_port": {"scope": "deployment", "type": "int", "default": 993, "label": N_("Cổng IMAP")},
    "imap_ssl": {"scope": "deployment", "type": "bool", "default": True, "label": N_("IMAP qua TLS")},
    "imap_username": {"scope": "deployment", "type": "str", "default": "", "label": N_("Tên đăng nhập IMAP")},
    "imap_password": {"scope": "deployment", "type": "str", "default": "", "secret": True, "label": N_("Mật khẩu IMAP")},
    "imap_folder": {"scope": "deployment", "type": "str", "default": "INBOX", "label": N_("Thư mục IMAP chứa thư trả lời")},
    "organizer_mailbox": {"scope": "deployment", "type": "str", "default": "",
                          "label": N_("Địa chỉ email của hộp thư người tổ chức (mặc định: tên đăng nhập IMAP)")},
    "imap_poll_minutes": {"scope": "deployment", "type": "int", "default": 5, "label": N_("Chu kỳ đọc hộp thư (phút)")},
}
_deployment_cache: dict[tuple, dict] = {}


def deployment_setting(key: str):
    """A deployment setting from plugins.toml (validated by the core at start-up), else its default."""
    path = get_settings().plugins_toml
    try:
        marker = (str(path), path.stat().st_mtime_ns)
    except OSError:
        return SCHEMA[key]["default"]
    values = _deployment_cache.get(marker)
    if values is None:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        values = _deployment_cache[marker] = ((data.get("plugins") or {}).get(PLUGIN) or {}).get("settings") or {}
    return values.get(key, SCHEMA[key]["default"])


@dataclasses.dataclass(frozen=True)
class UnitCalendarSettings:
    organizer_email: str
    organizer_name: str
    alarm_minutes: tuple[int, ...]
    declined_in_feed: str


async def for_unit(unit: dict) -> UnitCalendarSettings:
    """The settings in force for ``unit`` ({"path", "name"}): the nearest unit up the tree that
    sets each key, else the default; one query."""
    ids = [int(part) for part in unit["path"].strip("/").split("/") if part]
    rows = await UnitSetting.select(UnitSetting.unit, UnitSetting.key, UnitSetting.value).where(
        UnitSetting.unit.is_in(ids) & UnitSetting.key.like(f"plugin.{PLUGIN}.%")) if ids else []
    depth = {unit_id: index for index, unit_id in enumerate(ids)}
    values: dict[str, tuple[int, object]] = {}
    for row in rows:
        key = row["key"].removeprefix(f"plugin.{PLUGIN}.")
        # stored as JSON text; SQLite's JSON affinity may hand back a number
        value = json.loads(row["value"]) if isinstance(row["value"], str) else row["value"]
        if key not in values or depth[row["unit"]] > values[key][0]:
            values[key] = (depth[row["unit"]], value)

    def get(key: str):
        return values[key][1] if key in values else SCHEMA[key]["default"]

    email = str(get("organizer_email") or "").strip() or str(deployment_setting("default_organizer_email") or "").strip()
    if not email:
        from plugins.ical.objects import uid_domain

        email = f"noreply@{uid_domain()}"
    alarms = tuple(sorted({int(m) for m in (get("alarm_minutes") or []) if isinstance(m, int) and not isinstance(m, bool) and m >= 0},
                          reverse=True))
    declined = get("declined_in_feed")
    return UnitCalendarSettings(organizer_email=email, organizer_name=str(get("organizer_name") or "").strip() or unit["name"],
                                alarm_minutes=alarms, declined_in_feed=declined if declined in DECLINED_CHOICES else "cancelled")


@dataclasses.dataclass(frozen=True)
class Mailbox:
    """The organiser mailbox the worker polls for answers (deployment settings)."""

    host: str
    port: int
    ssl: bool
    username: str
    password: str
    folder: str
    address: str
    poll_minutes: int


def mailbox() -> Mailbox | None:
    """The configured organiser mailbox, or None (then invitations say RSVP=FALSE)."""
    host = str(deployment_setting("imap_host") or "").strip()
    if not host:
        return None
    username = str(deployment_setting("imap_username") or "").strip()
    address = str(deployment_setting("organizer_mailbox") or "").strip() or (username if "@" in username else "")
    if not address:
        return None  # nobody to name as ORGANIZER: answers could not reach the mailbox
    return Mailbox(host=host, port=int(deployment_setting("imap_port")), ssl=bool(deployment_setting("imap_ssl")),
                   username=username, password=str(deployment_setting("imap_password") or ""),
                   folder=str(deployment_setting("imap_folder") or "INBOX"), address=address.lower(),
                   poll_minutes=max(int(deployment_setting("imap_poll_minutes") or 5), 1))


def refresh_minutes() -> int:
    return max(int(deployment_setting("refresh_minutes") or 60), 5)
