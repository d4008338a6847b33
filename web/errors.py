"""One error shape for the API: {"error": message, "fields": {field: message}} (+ "preview").

Domain errors map to their status here and nowhere else; Litestar's own validation errors are
re-worded in Vietnamese. A 500 is a bug: it is logged and answered without details.
"""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from core.errors import DomainError, NeedsConfirmation

log = logging.getLogger("hoinghi.web")


def _body(message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": message, "fields": fields or {}, **extra}


def domain_error(request: Request, error: DomainError) -> Response:
    extra = {"preview": error.preview} if isinstance(error, NeedsConfirmation) else {}
    return Response(_body(error.message, error.fields, **extra), status_code=error.status)


def validation_error(request: Request, error: ValidationException) -> Response:
    fields = {}
    for item in error.extra or []:
        if isinstance(item, dict):
            fields[str(item.get("key") or "body")] = f"Giá trị không hợp lệ: {item.get('message', '')}".strip()
    return Response(_body("Dữ liệu gửi lên không hợp lệ.", fields), status_code=400)


def http_error(request: Request, error: HTTPException) -> Response:
    messages = {401: "Vui lòng đăng nhập.", 403: "Bạn không có quyền làm việc này.", 404: "Không tìm thấy trang này.",
                405: "Phương thức không được hỗ trợ.", 413: "Dữ liệu gửi lên quá lớn.", 429: "Quá nhiều yêu cầu; vui lòng thử lại sau."}
    message = messages.get(error.status_code, error.detail)
    if isinstance(error, (NotFoundException, NotAuthorizedException)) and error.detail and error.detail not in (
            "Not Found", "Unauthorized"):
        message = error.detail
    return Response(_body(message), status_code=error.status_code, headers=error.headers)


def unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return Response(_body("Lỗi hệ thống; đã ghi nhận để khắc phục."), status_code=HTTP_500_INTERNAL_SERVER_ERROR)


EXCEPTION_HANDLERS = {
    DomainError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
