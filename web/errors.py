"""One error shape for the API: {"error": message, "fields": {field: message}} (+ "preview").

Domain errors map to their status here and nowhere else, rendered in the request's language
(``DomainError.translated``); Litestar's own validation errors are re-worded in Vietnamese and
translated the same way. A 500 is a bug: it is logged and answered without details.
"""

from __future__ import annotations

import logging

from urllib.parse import urlencode

from litestar import Request, Response
from litestar.response import Redirect, Template
from litestar.exceptions import (HTTPException, NotAuthorizedException, NotFoundException, TooManyRequestsException,
                                 ValidationException)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from core.errors import DomainError, Label, NeedsConfirmation
from web.i18n import gettext as _, pgettext, speak_to
from web.security import CSRF_FAILED

log = logging.getLogger("hoinghi.web")


def _body(message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": message, "fields": fields or {}, **extra}


def wants_html(request: Request) -> bool:
    """Pages answer errors as pages; the API (and anything asked for as JSON) answers JSON."""
    handler = request.scope.get("route_handler")
    if handler is not None and "page" in (handler.opt or {}):
        return True
    if request.url.path.startswith("/api/") or handler is not None:
        return False
    return "text/html" in request.headers.get("accept", "")


def N_(message: str) -> str:
    """Marks a message for the catalog; translated where it is shown."""
    return message


HEADINGS = {400: N_("Dữ liệu không hợp lệ"), 401: N_("Cần đăng nhập"), 403: N_("Không có quyền"), 404: N_("Không tìm thấy"),
            409: N_("Xung đột dữ liệu"), 413: N_("Tệp quá lớn"), 422: N_("Dữ liệu không hợp lệ"), 429: N_("Thử lại sau"),
            500: N_("Có lỗi xảy ra")}


def _page(request: Request, status: int, message: str, fields: dict | None = None, headers: dict | None = None) -> Response:
    handler = request.scope.get("route_handler")
    if status == 401 and handler is not None and handler.opt.get("access") == "staff":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?{urlencode({'next': target})}", status_code=303)
    if status == 401:
        message = _("Hãy mở đường dẫn cá nhân trong tin nhắn mời để xem trang này.")
    heading = _(HEADINGS.get(status, HEADINGS[500]))
    return Template("error.html", status_code=status, headers=headers,
                    context={"status": status, "heading": heading, "message": message, "fields": fields or {}})


def _answer(request: Request, status: int, message: str, fields: dict | None = None, headers: dict | None = None, **extra) -> Response:
    if wants_html(request):
        return _page(request, status, message, fields, headers)
    return Response(_body(message, fields, **extra), status_code=status, headers=headers)


def domain_error(request: Request, error: DomainError) -> Response:
    speak_to(request)
    extra = {"preview": error.preview} if isinstance(error, NeedsConfirmation) else {}
    message, fields = error.translated(_, pgettext)
    return _answer(request, error.status, message, fields, **extra)


# a context: "ngày" alone is a word of other sentences too
_TYPES = {"int": Label("số nguyên", "type"), "float": Label("số", "type"), "str": Label("chuỗi ký tự", "type"),
          "bool": Label("true hoặc false", "type"), "object": Label("đối tượng JSON", "type"), "array": Label("danh sách", "type"),
          "datetime": Label("ngày giờ", "type"), "date": Label("ngày", "type"), "time": Label("giờ", "type"),
          "bytes": Label("dữ liệu nhị phân", "type")}
_COMPARISONS = {">=": N_("lớn hơn hoặc bằng"), "<=": N_("nhỏ hơn hoặc bằng"), ">": N_("lớn hơn"), "<": N_("nhỏ hơn")}


def _kind(name: str) -> str:
    return _TYPES[name].render(_, pgettext) if name in _TYPES else name


def _kinds(names: str) -> str:
    return _(" hoặc ").join(_kind(part.strip()) for part in names.split("|"))


# msgspec's and Litestar's validation messages, re-worded: (pattern, field from the match or None
# for the reported key, message in the request's language)
_VALIDATION_MESSAGES = [
    (r"Object missing required field `(?P<field>[^`]+)`", lambda m: _("Thiếu trường bắt buộc này.")),
    (r"Object contains unknown field `(?P<field>[^`]+)`", lambda m: _("Không có trường này; hãy bỏ nó đi.")),
    (r"Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`",
     lambda m: _("Phải là {want} (nhận được {got}).").format(want=_kinds(m["want"]), got=_kind(m["got"]))),
    (r"Expected `(?P<what>\w+)` of length (?P<op>[<>]=?) (?P<n>\d+)",
     lambda m: _("Độ dài phải {comparison} {n}.").format(comparison=_(_COMPARISONS[m["op"]]), n=m["n"])),
    (r"Expected `(?P<what>\w+)` (?P<op>[<>]=?) (?P<n>\S+)",
     lambda m: _("Phải {comparison} {n}.").format(comparison=_(_COMPARISONS[m["op"]]), n=m["n"])),
    (r"Invalid enum value (?P<value>.+)", lambda m: _("Giá trị {value} không nằm trong các giá trị cho phép.").format(value=m["value"])),
    (r"Invalid RFC3339 encoded datetime|Invalid ISO8601", lambda m: _("Ngày giờ không hợp lệ; dùng dạng 2030-03-12T08:00:00+07:00.")),
    (r"(Integer value out of range|Number out of range)", lambda m: _("Số quá lớn.")),
    (r"Missing required (?P<where>\w+) parameter '(?P<field>[^']+)'", lambda m: _("Thiếu tham số bắt buộc này.")),
    (r"JSON is malformed|malformed", lambda m: _("Nội dung JSON không đúng cú pháp.")),
]


def field_error(message: str, key: str | None) -> tuple[str, str]:
    """(field, message in the request's language) for one validation message of msgspec or Litestar."""
    import re

    for pattern, text in _VALIDATION_MESSAGES:
        match = re.search(pattern, message)
        if match:
            return match.groupdict().get("field") or key or "body", text(match)
    return key or "body", _("Giá trị không hợp lệ.")


def validation_error(request: Request, error: ValidationException) -> Response:
    speak_to(request)
    fields = {}
    items = [item for item in (error.extra or []) if isinstance(item, dict)]
    if any(item.get("source") == "path" for item in items):  # an id no object can have (-1, 2**70): nothing there
        return _answer(request, 404, _("Không tìm thấy trang này."), {})
    if not items and error.detail:  # e.g. "Missing required query parameter 'unit_id' for path …"
        items = [{"message": error.detail}]
    for item in items:
        key = item.get("key")
        field, message = field_error(str(item.get("message", "")), None if key in (None, "", "data") else str(key))
        fields.setdefault(field, message)
    return _answer(request, 400, _("Dữ liệu gửi lên không hợp lệ."), fields)


def _body_limit_mb(request: Request) -> int | None:
    """The body limit of the route that refused the request, in whole megabytes (None if unknown)."""
    handler = request.scope.get("route_handler")
    limit = handler.resolve_request_max_body_size() if handler is not None else None
    return limit // (1024 * 1024) if limit and limit >= 1024 * 1024 else None


def http_error(request: Request, error: HTTPException) -> Response:
    speak_to(request)
    messages = {401: N_("Vui lòng đăng nhập."), 403: N_("Bạn không có quyền làm việc này."), 404: N_("Không tìm thấy trang này."),
                405: N_("Phương thức không được hỗ trợ."), 413: N_("Dữ liệu gửi lên quá lớn."),
                429: N_("Quá nhiều yêu cầu; vui lòng thử lại sau.")}
    message = _(messages[error.status_code]) if error.status_code in messages else error.detail
    limit = _body_limit_mb(request) if error.status_code == 413 else None
    if limit:  # say how much is allowed: "too large" alone leaves the organiser guessing
        message = _("Tệp gửi lên vượt quá giới hạn %(limit)d MB.") % {"limit": limit}
    if isinstance(error, (NotFoundException, NotAuthorizedException, TooManyRequestsException)) and error.detail and (
            error.detail not in ("Not Found", "Unauthorized", "Too Many Requests")):
        message = _(error.detail)  # our own Vietnamese detail (web/auth.py, web/plugin_routes.py)
    if error.status_code == 403 and error.detail == CSRF_FAILED:
        message = _("Phiên làm việc của trang đã hết hạn hoặc yêu cầu không đến từ trang của hệ thống. Hãy tải lại trang và thử lại.")
    return _answer(request, error.status_code, message, headers=error.headers)


def out_of_range(request: Request, error: Exception) -> Response:
    """A number no column can hold (SQLite's OverflowError, asyncpg's DataError): bad input."""
    speak_to(request)
    text = str(error)
    if isinstance(error, OverflowError) or ("out of" in text and "range" in text):
        return _answer(request, 400, _("Dữ liệu gửi lên không hợp lệ: số quá lớn."))
    return unexpected_error(request, error)


def unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    speak_to(request)
    return _answer(request, HTTP_500_INTERNAL_SERVER_ERROR, _("Lỗi hệ thống; đã ghi nhận để khắc phục."))


EXCEPTION_HANDLERS = {
    DomainError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    OverflowError: out_of_range,
    Exception: unexpected_error,
}
try:
    from asyncpg.exceptions import DataError as _AsyncpgDataError

    EXCEPTION_HANDLERS[_AsyncpgDataError] = out_of_range
except ImportError:  # pragma: no cover - asyncpg is a dependency
    pass
