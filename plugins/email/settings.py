"""The email plugin's settings: the SMTP server per deployment (plugins.toml, or the environment
as ``HOINGHI_EMAIL_<KEY>``, which wins, so the password need not sit in a file), the sender per
unit (inherited down the tree)."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from typing import Any

from core.config import get_settings

def N_(message: str) -> str:
    """Marks a label for the catalogs (web/locale/en/LC_MESSAGES/sms-email.po); pages translate it when shown."""
    return message


PLUGIN = "email"

SCHEMA: dict[str, dict] = {
    "smtp_host": {"scope": "deployment", "type": "str", "default": "", "label": N_("Máy chủ SMTP")},
    "smtp_port": {"scope": "deployment", "type": "int", "default": 587, "label": N_("Cổng SMTP")},
    "smtp_security": {"scope": "deployment", "type": "str", "default": "starttls",
                      "label": N_("Mã hoá: starttls (cổng 587), tls (cổng 465) hoặc none (chỉ máy nội bộ)")},
    "smtp_username": {"scope": "deployment", "type": "str", "default": "", "label": N_("Tài khoản SMTP")},
    "smtp_password": {"scope": "deployment", "type": "str", "default": "", "secret": True, "label": N_("Mật khẩu SMTP")},
    "smtp_validate_certs": {"scope": "deployment", "type": "bool", "default": True, "label": N_("Kiểm tra chứng chỉ TLS của máy chủ")},
    "timeout_seconds": {"scope": "deployment", "type": "int", "default": 30, "label": N_("Thời gian chờ máy chủ SMTP (giây)")},
    "from_address": {"scope": "deployment", "type": "str", "default": "", "label": N_("Địa chỉ gửi mặc định")},
    "from_name": {"scope": "deployment", "type": "str", "default": "Hội nghị báo cáo viên", "label": N_("Tên người gửi mặc định")},
    "message_id_domain": {"scope": "deployment", "type": "str", "default": "",
                          "label": N_("Tên miền trong Message-ID (để trống: tên miền của địa chỉ gửi)")},
    "unsubscribe_mailto": {"scope": "deployment", "type": "str", "default": "",
                           "label": N_("Hộp thư nhận yêu cầu thôi nhận thư (List-Unsubscribe)")},
    "rate_per_second": {"scope": "deployment", "type": "int", "default": 10, "label": N_("Số thư tối đa mỗi giây")},
    "retry_attempts": {"scope": "deployment", "type": "int", "default": 3, "label": N_("Số lần thử khi máy chủ tạm thời lỗi")},
    "retry_base_ms": {"scope": "deployment", "type": "int", "default": 1000, "label": N_("Thời gian chờ thử lại đầu tiên (ms)")},
    "requeue_seconds": {"scope": "deployment", "type": "int", "default": 600,
                        "label": N_("Sau khi hết số lần thử: xếp hàng gửi lại sau (giây)")},
    "unit_from_address": {"scope": "unit", "type": "str", "default": "", "label": N_("Địa chỉ gửi thư của đơn vị")},
    "unit_from_name": {"scope": "unit", "type": "str", "default": "", "label": N_("Tên người gửi của đơn vị")},
    "unit_reply_to": {"scope": "unit", "type": "str", "default": "", "label": N_("Địa chỉ nhận thư trả lời")},
}
_CASTS = {"str": str, "int": int, "bool": lambda raw: raw.strip().lower() in {"1", "true", "yes"},
          "list": lambda raw: [item.strip() for item in raw.split(",") if item.strip()]}


def deployment_values(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Schema defaults, then ``[plugins.email.settings]`` of plugins.toml, then the environment."""
    if overrides is None:
        path = get_settings().plugins_toml
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        overrides = dict(((data.get("plugins") or {}).get(PLUGIN) or {}).get("settings") or {})
    values = {}
    for key, spec in SCHEMA.items():
        if spec["scope"] != "deployment":
            continue
        value = overrides.get(key, spec.get("default"))
        raw = os.environ.get(f"HOINGHI_EMAIL_{key.upper()}")
        if raw is not None:
            value = _CASTS[spec.get("type", "str")](raw)
        values[key] = value
    return values


@dataclasses.dataclass(frozen=True)
class Sender:
    address: str
    name: str
    reply_to: str


async def sender_for(unit_path: str | None, values: dict) -> Sender:
    """The unit's sender (nearest ancestor that sets one), else the deployment's."""
    from core.notifications import unit_setting

    if not unit_path:
        return Sender(values.get("from_address") or "", values.get("from_name") or "", "")
    address = await unit_setting(unit_path, f"plugin.{PLUGIN}.unit_from_address", "")
    name = await unit_setting(unit_path, f"plugin.{PLUGIN}.unit_from_name", "")
    reply_to = await unit_setting(unit_path, f"plugin.{PLUGIN}.unit_reply_to", "")
    return Sender(address or values.get("from_address") or "", name or values.get("from_name") or "", reply_to or "")
