"""OpenAPI helpers for the JSON API: typed answers with a worked example, and the error shape.

``answers(201, VenueOut, {...})`` gives a handler's ``responses=`` so /schema shows the model
and an example of it; errors always come as :class:`ErrorBody`.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example


class ErrorBody(msgspec.Struct):
    """Every error: a Vietnamese message, per-field messages, and for a change that needs
    confirmation (409) the preview of its consequences."""

    error: str
    fields: dict[str, str] = {}
    preview: dict[str, Any] | None = None


ERROR_EXAMPLES = {
    400: {"error": "Dữ liệu gửi lên không hợp lệ.", "fields": {"unit_id": "Phải là số nguyên (nhận được chuỗi ký tự)."}},
    403: {"error": "Bạn không có quyền quản lý hội nghị này.", "fields": {}},
    404: {"error": "Không tìm thấy hội nghị.", "fields": {}},
    409: {"error": "Hội nghị đã kết thúc hoặc đã huỷ; không sửa được nữa.", "fields": {}},
    413: {"error": "Dữ liệu gửi lên quá lớn.", "fields": {}},
    422: {"error": "Tên điểm cầu không được để trống.", "fields": {"name": "Tên điểm cầu không được để trống."}},
}


def answers(status: int, model: Any, example: Any, *, description: str = "Kết quả", errors: tuple[int, ...] = (),
            error_examples: dict[int, Any] | None = None) -> dict[int, ResponseSpec]:
    """``responses=`` for a handler: the success model with ``example``, plus the listed errors."""
    examples = None if model is None else [Example(summary="Ví dụ", value=example)]
    specs = {status: ResponseSpec(data_container=model, generate_examples=False, description=description, examples=examples)}
    for code in errors:
        value = (error_examples or {}).get(code, ERROR_EXAMPLES.get(code, {"error": "…", "fields": {}}))
        specs[code] = ResponseSpec(data_container=ErrorBody, generate_examples=False, description="Lỗi",
                                   examples=[Example(summary="Ví dụ", value=value)])
    return specs


def given_fields(change: msgspec.Struct, *, leave_out: tuple[str, ...] = ()) -> dict:
    """The fields a partial update (PATCH) names: those not left ``msgspec.UNSET``."""
    return {key: value for key, value in msgspec.structs.asdict(change).items()
            if value is not msgspec.UNSET and key not in leave_out}


def convert(value: Any, model: Any) -> Any:
    """A service's dict (or list of dicts) as the typed answer; keys the model lacks are dropped."""
    return msgspec.convert(value, model, from_attributes=False, strict=False)


DOCUMENTED_ERRORS = (400, 401, 403, 404, 422)


def document_error_shape(app) -> None:
    """Every operation's error answers in /schema are :class:`ErrorBody`, as web/errors.py sends
    them (Litestar would otherwise document its own ``{status_code, detail}`` for 400)."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not getattr(handler, "include_in_schema", False) or not hasattr(handler, "responses"):
                continue
            specs = dict(handler.responses or {})
            for code in DOCUMENTED_ERRORS:
                if code not in specs:
                    specs[code] = ResponseSpec(data_container=ErrorBody, generate_examples=False, description="Lỗi",
                                               examples=[Example(summary="Ví dụ", value=ERROR_EXAMPLES.get(
                                                   code, {"error": "Vui lòng đăng nhập.", "fields": {}}))])
            handler.responses = specs
