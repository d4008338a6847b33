"""The plugin's settings: deployment ones from plugins.toml (``[plugins.qr_checkin.settings]``),
unit ones in the database (inherited down the unit tree)."""

from __future__ import annotations

import tomllib

from core.config import get_settings


def N_(message: str) -> str:
    """Marks a label for the catalogs (web/locale/en/LC_MESSAGES/qr-checkin.po); pages translate it when shown."""
    return message


PLUGIN = "qr_checkin"

SCHEMA: dict[str, dict] = {
    "staff_scans_only": {"scope": "unit", "type": "bool", "default": False,
                         "label": N_("Chỉ cán bộ quét mã (tắt tự điểm danh tại màn hình điểm cầu)")},
    "scans_per_second": {"scope": "deployment", "type": "int", "default": 30,
                         "label": N_("Số lượt quét tối đa mỗi giây của một máy quét")},
}


def deployment_setting(key: str):
    path = get_settings().plugins_toml
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError:
        return SCHEMA[key]["default"]
    return (((data.get("plugins") or {}).get(PLUGIN) or {}).get("settings") or {}).get(key, SCHEMA[key]["default"])
