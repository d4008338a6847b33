"""The plugin's unit settings (inherited down the unit tree, set with the core's plugin settings)."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a label for the catalogs (web/locale/en/LC_MESSAGES/evaluation.po); pages translate it when shown."""
    return message


PLUGIN = "evaluation"

SCHEMA: dict[str, dict] = {
    "ask_all_invitees": {"scope": "unit", "type": "bool", "default": False,
                         "label": N_("Mời tất cả người được mời đánh giá (mặc định: chỉ người có mặt theo điểm danh)")},
    "close_after_days": {"scope": "unit", "type": "int", "default": 7, "label": N_("Số ngày phiếu mở sau khi hội nghị kết thúc")},
    "anonymous_editable": {"scope": "unit", "type": "bool", "default": True,
                           "label": N_("Phiếu ẩn danh: cho sửa bằng mã sửa phiếu (tắt: không sửa được sau khi gửi)")},
}


async def unit_value(unit_path: str, key: str):
    """The unit's value of ``key`` (nearest ancestor that sets it), else the default."""
    from core.notifications import unit_setting

    return await unit_setting(unit_path, f"plugin.{PLUGIN}.{key}", SCHEMA[key]["default"])
