"""What the organiser's pages share: a flash message kept in the session for the page after a
redirect, parsing of form values (dates, times, numbers) with Vietnamese per-field errors, and
the render helper that adds the layout's context and the labels."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from typing import Any

from typing import Annotated

from litestar import Request
from litestar.params import Parameter
from litestar.response import Template

from core.access import Actor
from core.errors import DomainError, ValidationError
from web.i18n import error_messages, gettext as _
from web.pages.common import staff_context
from web.pages.conference_labels import LABELS

log = logging.getLogger("hoinghi.web")
FLASH_KEY = "flash"
# ids are 32-bit serials on PostgreSQL: anything larger is refused as bad input, never sent to the database
MAX_ID = 2**31 - 1
Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Parameter(ge=1, le=MAX_ID)]
Offset = Annotated[int, Parameter(ge=0, le=1_000_000)]


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """Keep a message for the next page (after a 303)."""
    session = dict(request.session or {})
    session[FLASH_KEY] = [message, kind]
    request.set_session(session)


def take_flash(request: Request) -> tuple[str | None, str]:
    session = request.session or {}
    kept = session.get(FLASH_KEY)
    if not kept:
        return None, "ok"
    rest = {key: value for key, value in session.items() if key != FLASH_KEY}
    request.set_session(rest)
    return kept[0], kept[1]


async def render(request: Request, actor: Actor, template: str, *, status_code: int = 200, **context: Any) -> Template:
    message, kind = take_flash(request)
    context.setdefault("flash", message)
    context.setdefault("flash_kind", kind)
    full = await staff_context(request, actor, **{**LABELS, **context})
    return Template(template, context=full, status_code=status_code)


def text(fields: dict, name: str) -> str:
    value = fields.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip()


def as_list(fields: dict, name: str) -> list[str]:
    value = fields.get(name)
    if value is None:
        return []
    return [str(item) for item in (value if isinstance(value, list) else [value]) if str(item).strip()]


def integer(value: str | None, field: str, *, required: bool = True, low: int | None = -MAX_ID, high: int | None = MAX_ID) -> int | None:
    if value in (None, ""):
        if required:
            raise ValidationError("Cần nhập một số.", field=field)
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError("Cần nhập một số nguyên.", field=field) from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValidationError("Số nằm ngoài khoảng cho phép.", field=field)
    return number


def integers(values: list[str], field: str) -> list[int]:
    return [integer(value, field) for value in values]


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError("Múi giờ không hợp lệ (ví dụ: Asia/Ho_Chi_Minh).", field="timezone") from None


def parse_date(value: str, field: str) -> dt.date:
    """A date typed as dd/mm/yyyy or sent by a date input (yyyy-mm-dd)."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = dt.datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
        if not 1900 <= day.year <= 2999:
            raise ValidationError("Năm phải trong khoảng 1900–2999.", field=field)
        return day
    if not value.strip():
        raise ValidationError("Cần chọn ngày.", field=field)
    raise ValidationError("Ngày không hợp lệ (dạng dd/mm/yyyy).", field=field)


def parse_time(value: str, field: str) -> dt.time:
    try:
        return dt.datetime.strptime(value.strip(), "%H:%M").time()
    except ValueError:
        if not value.strip():
            raise ValidationError("Cần nhập giờ.", field=field) from None
        raise ValidationError("Giờ không hợp lệ (dạng HH:mm, 24 giờ).", field=field) from None


def local_moment(day: dt.date, time: dt.time, timezone: str) -> dt.datetime:
    return dt.datetime.combine(day, time, zone(timezone))


def local_parts(moment: dt.datetime | None, timezone: str) -> tuple[str, str]:
    """("yyyy-mm-dd", "HH:MM") of a moment in the zone, for date and time inputs."""
    if moment is None:
        return "", ""
    local = moment.astimezone(zone(timezone))
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M")


def field_errors(error: DomainError, mapping: dict[str, str] | None = None) -> dict[str, str]:
    """The error's messages under the form's own field names (a message without a field goes
    under "_form", shown at the top of the form)."""
    mapping = mapping or {}
    errors: dict[str, str] = {}
    message, fields = error_messages(error)
    for field, text in fields.items():
        errors.setdefault(mapping.get(field, field), text)
    if not errors:
        errors["_form"] = message
    return errors
