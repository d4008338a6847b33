"""The sms plugin's settings: the schema the core validates, and how the channel reads them.

Deployment settings (the gateway: endpoint, credentials, rate) live in plugins.toml under
``[plugins.sms.settings]``; each may instead come from the environment as ``HOINGHI_SMS_<KEY>``
(``HOINGHI_SMS_API_SECRET``), which wins, so secrets need not sit in a file. Unit settings
(sender id, sending without diacritics) live in the database per unit, inherited down the tree.

The channel is built by a hook that receives no plugin host, so it reads plugins.toml itself
(the host has already validated the file against this schema at start-up).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from typing import Any

from core.config import get_settings

def N_(message: str) -> str:
    """Marks a label for the catalogs (web/locale/en/LC_MESSAGES/sms-email.po); pages translate it when shown."""
    return message


PLUGIN = "sms"

SCHEMA: dict[str, dict] = {
    # -- deployment: which gateway, and how to talk to it ---------------------------------------
    "backend": {"scope": "deployment", "type": "str", "default": "http", "label": N_("Kiểu kết nối (http hoặc smpp)")},
    "preset": {"scope": "deployment", "type": "str", "default": "",
               "label": N_("Mẫu cổng SMS có sẵn (esms_json, twilio_form) hoặc để trống để tự khai báo")},
    "url": {"scope": "deployment", "type": "str", "default": "", "label": N_("Địa chỉ API gửi tin")},
    "method": {"scope": "deployment", "type": "str", "default": "POST", "label": N_("Phương thức HTTP")},
    "headers": {"scope": "deployment", "type": "list", "default": [], "label": N_("Tiêu đề HTTP (\"Tên: giá trị\")")},
    "body_format": {"scope": "deployment", "type": "str", "default": "json", "label": N_("Kiểu nội dung yêu cầu (json hoặc form)")},
    "body_template": {"scope": "deployment", "type": "str", "default": "", "label": N_("Mẫu nội dung yêu cầu, biến viết {{ten}}")},
    "success_path": {"scope": "deployment", "type": "str", "default": "",
                     "label": N_("Đường dẫn JSON của mã kết quả (để trống: mã HTTP 2xx là thành công)")},
    "success_values": {"scope": "deployment", "type": "list", "default": [], "label": N_("Giá trị mã kết quả nghĩa là thành công")},
    "id_path": {"scope": "deployment", "type": "str", "default": "", "label": N_("Đường dẫn JSON của mã tin nhắn phía nhà cung cấp")},
    "error_code_path": {"scope": "deployment", "type": "str", "default": "", "label": N_("Đường dẫn JSON của mã lỗi")},
    "error_message_path": {"scope": "deployment", "type": "str", "default": "", "label": N_("Đường dẫn JSON của mô tả lỗi")},
    "permanent_codes": {"scope": "deployment", "type": "list", "default": [],
                        "label": N_("Mã lỗi vĩnh viễn (không gửi lại); mã lỗi khác được thử lại")},
    "account": {"scope": "deployment", "type": "str", "default": "", "label": N_("Mã tài khoản")},
    "api_key": {"scope": "deployment", "type": "str", "default": "", "secret": True, "label": N_("Khoá API của nhà cung cấp")},
    "api_secret": {"scope": "deployment", "type": "str", "default": "", "secret": True, "label": N_("Mật khẩu API")},
    "sender_id": {"scope": "deployment", "type": "str", "default": "", "label": N_("Tên thương hiệu mặc định")},
    "rate_per_second": {"scope": "deployment", "type": "int", "default": 20, "label": N_("Số tin tối đa mỗi giây")},
    "concurrency": {"scope": "deployment", "type": "int", "default": 8,
                    "label": N_("Số yêu cầu gửi tin cùng lúc tới cổng HTTP (tốc độ vẫn giữ theo số tin mỗi giây)")},
    "retry_attempts": {"scope": "deployment", "type": "int", "default": 3, "label": N_("Số lần thử khi cổng tạm thời lỗi")},
    "retry_base_ms": {"scope": "deployment", "type": "int", "default": 500, "label": N_("Thời gian chờ thử lại đầu tiên (ms)")},
    "requeue_seconds": {"scope": "deployment", "type": "int", "default": 300,
                        "label": N_("Sau khi hết số lần thử: xếp hàng gửi lại sau (giây)")},
    "timeout_seconds": {"scope": "deployment", "type": "int", "default": 15, "label": N_("Thời gian chờ trả lời (giây)")},
    "cost_per_segment": {"scope": "deployment", "type": "int", "default": 800, "label": N_("Giá mỗi tin (đồng / 160 ký tự)")},
    "public_url": {"scope": "deployment", "type": "str", "default": "",
                   "label": N_("Địa chỉ công khai của hệ thống (để nhà cung cấp gọi báo cáo gửi)")},
    "receipt_generation": {"scope": "deployment", "type": "int", "default": 0,
                           "label": N_("Thế hệ khoá đường dẫn báo cáo (tăng lên để đổi)")},
    "receipt_id_field": {"scope": "deployment", "type": "str", "default": "", "label": N_("Trường mã tin trong báo cáo gửi")},
    "receipt_delivered_when": {"scope": "deployment", "type": "list", "default": [],
                               "label": N_("Báo cáo nghĩa là đã nhận khi có một trong các \"Trường=giá trị\"")},
    "receipt_failed_when": {"scope": "deployment", "type": "list", "default": [],
                            "label": N_("Báo cáo nghĩa là không gửi được khi có một trong các \"Trường=giá trị\"")},
    "receipt_reason_field": {"scope": "deployment", "type": "str", "default": "", "label": N_("Trường lý do lỗi trong báo cáo gửi")},
    # -- deployment: the smpp backend (a carrier's brandname connection) ----------------------
    "smpp_host": {"scope": "deployment", "type": "str", "default": "", "label": N_("Máy chủ SMSC (SMPP)")},
    "smpp_port": {"scope": "deployment", "type": "int", "default": 2775, "label": N_("Cổng SMPP")},
    "smpp_system_id": {"scope": "deployment", "type": "str", "default": "", "label": N_("Tài khoản SMPP (system_id)")},
    "smpp_password": {"scope": "deployment", "type": "str", "default": "", "secret": True, "label": N_("Mật khẩu SMPP")},
    "smpp_system_type": {"scope": "deployment", "type": "str", "default": "", "label": N_("Loại hệ thống SMPP (system_type)")},
    "smpp_window": {"scope": "deployment", "type": "int", "default": 10,
                    "label": N_("Cửa sổ SMPP: số tin tối đa đang chờ trả lời cùng lúc")},
    "smpp_prepare_ahead": {"scope": "deployment", "type": "int", "default": 10,
                           "label": N_("Số tin chuẩn bị trước trong khi cửa sổ SMPP đầy (0 = từng tin một theo cửa sổ)")},
    "smpp_data_coding": {"scope": "deployment", "type": "int", "default": 0,
                         "label": N_("data_coding cho tin không dấu (0 = mặc định SMSC, 1 = ASCII, 3 = Latin-1)")},
    "smpp_ucs2_data_coding": {"scope": "deployment", "type": "int", "default": 8, "label": N_("data_coding cho tin có dấu (UCS-2 = 8)")},
    "smpp_source_ton": {"scope": "deployment", "type": "int", "default": 5, "label": N_("TON của tên thương hiệu (5 = chữ)")},
    "smpp_source_npi": {"scope": "deployment", "type": "int", "default": 0, "label": N_("NPI của tên thương hiệu")},
    "smpp_dest_ton": {"scope": "deployment", "type": "int", "default": 1, "label": N_("TON của số nhận (1 = quốc tế)")},
    "smpp_dest_npi": {"scope": "deployment", "type": "int", "default": 1, "label": N_("NPI của số nhận (1 = E.164)")},
    "smpp_transient_statuses": {"scope": "deployment", "type": "list", "default": [],
                                "label": N_("Mã trạng thái SMPP tạm thời (thử lại), ví dụ 0x58; để trống: mặc định")},
    "smpp_reconnect_max_seconds": {"scope": "deployment", "type": "int", "default": 60,
                                   "label": N_("Thời gian chờ tối đa giữa hai lần kết nối lại SMSC (giây)")},
    "smpp_resubmit_unacknowledged": {"scope": "deployment", "type": "bool", "default": True,
                                     "label": N_("Gửi lại phần tin chưa được SMSC trả lời khi mất kết nối")},
    # -- unit: what the people of a unit receive ----------------------------------------------
    "unit_sender_id": {"scope": "unit", "type": "str", "default": "", "label": N_("Tên thương hiệu (brandname) của đơn vị")},
    "without_diacritics": {"scope": "unit", "type": "bool", "default": False,
                           "label": N_("Gửi không dấu (rẻ hơn: 160 thay vì 70 ký tự mỗi tin)")},
}
SECRET_KEYS = frozenset(key for key, spec in SCHEMA.items() if spec.get("secret"))
_CASTS = {"str": str, "int": int, "bool": lambda raw: raw.strip().lower() in {"1", "true", "yes"},
          "list": lambda raw: [item.strip() for item in raw.split(",") if item.strip()]}


def environment_name(key: str) -> str:
    return f"HOINGHI_{PLUGIN.upper()}_{key.upper()}"


def read_plugins_toml(plugin: str) -> dict[str, Any]:
    """``[plugins.<plugin>.settings]`` of this deployment's plugins.toml (empty when absent)."""
    path = get_settings().plugins_toml
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return dict(((data.get("plugins") or {}).get(plugin) or {}).get("settings") or {})


def deployment_values(schema: dict[str, dict], plugin: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Schema defaults, then plugins.toml, then ``HOINGHI_<PLUGIN>_<KEY>`` from the environment."""
    from_file = read_plugins_toml(plugin) if overrides is None else overrides
    values = {}
    for key, spec in schema.items():
        if spec["scope"] != "deployment":
            continue
        value = from_file.get(key, spec.get("default"))
        raw = os.environ.get(f"HOINGHI_{plugin.upper()}_{key.upper()}")
        if raw is not None:
            try:
                value = _CASTS[spec.get("type", "str")](raw)
            except ValueError:
                raise ValueError(f"Biến môi trường HOINGHI_{plugin.upper()}_{key.upper()} phải có kiểu {spec.get('type')}") from None
        values[key] = value
    return values


@dataclasses.dataclass(frozen=True)
class UnitOptions:
    sender_id: str
    without_diacritics: bool


async def unit_options(unit_path: str, default_sender: str) -> UnitOptions:
    """The unit's sender id and diacritics choice, inherited from the nearest ancestor."""
    from core.notifications import unit_setting

    sender = await unit_setting(unit_path, f"plugin.{PLUGIN}.unit_sender_id", "")
    fold = await unit_setting(unit_path, f"plugin.{PLUGIN}.without_diacritics", False)
    return UnitOptions(sender_id=sender or default_sender, without_diacritics=bool(fold))
