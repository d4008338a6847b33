"""What the administration pages share: the unit being worked on, the unit picker, rendering with
the staff layout, and form values."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from core.access import Actor
from core.services import units
from web.pages.common import home_units, staff_context

from web.errors import N_

LABELS = {
    "rsvp": {"pending": N_("Chưa trả lời"), "accepted": N_("Tham dự"), "declined": N_("Từ chối"), "excused": N_("Xin vắng"),
             "delegated": N_("Cử người thay")},
    "attendance": {"present": N_("Có mặt"), "late": N_("Đến muộn"), "excused": N_("Vắng có phép"), "absent": N_("Vắng"),
                   "substitute": N_("Người thay")},
    "role": {"admin": N_("Quản trị"), "organiser": N_("Tổ chức"), "checkin_staff": N_("Cán bộ điểm danh"), "viewer": N_("Chỉ xem")},
    "state": {"on": N_("Bật"), "off": N_("Tắt"), "inherit": N_("Theo đơn vị cấp trên")},
    "status": {"queued": N_("Chờ gửi"), "sending": N_("Đang gửi"), "sent": N_("Đã gửi"), "delivered": N_("Đã nhận"),
               "failed": N_("Không gửi được"), "unknown": N_("Chưa rõ")},
    "audience": {"all": N_("Mọi người được mời"), "not_answered": N_("Người chưa trả lời"), "accepted": N_("Người nhận lời"),
                 "absent": N_("Người vắng mặt (theo điểm danh)")},
    "token": {"active": N_("Đang dùng"), "expired": N_("Hết hạn"), "revoked": N_("Đã thu hồi"), "dead": N_("Không còn hiệu lực")},
    "conference": {"draft": N_("Nháp"), "published": N_("Đã công bố"), "ended": N_("Đã kết thúc"), "cancelled": N_("Đã huỷ")},
}
PICKER_LIMIT = 500  # units listed in a picker; deeper trees are reached from a unit's own page


async def working_unit(actor: Actor, unit_id: int | None) -> dict:
    """The unit a page works on: the one asked for (NotFound when out of reach), else the
    actor's first home unit."""
    if unit_id is not None:
        return await units.view_unit(actor, unit_id)
    homes = await home_units(actor)
    if not homes:
        from core.errors import NotFound

        raise NotFound("Tài khoản chưa được giao vai trò ở đơn vị nào.")
    return await units.view_unit(actor, homes[0]["id"])


async def unit_choices(actor: Actor) -> list[dict]:
    """Every unit the actor sees, in tree order, with its depth below the actor's home unit."""
    choices: list[dict] = []
    for home in await home_units(actor):
        for row in await units.subtree_rows(home["path"]):
            choices.append({"id": row["id"], "name": row["name"], "short_code": row["short_code"], "path": row["path"],
                            "level": row["depth"] - home["path"].count("/") + 2, "timezone": row["timezone"]})
            if len(choices) >= PICKER_LIMIT:
                return choices
    return choices


async def page(request: Request, actor: Actor, template: str, *, status_code: int = 200, **context: Any) -> Template:
    """A whole page in the staff layout."""
    context.setdefault("labels", LABELS)
    return Template(template, context=await staff_context(request, actor, **context), status_code=status_code)


def fragment(template: str, *, status_code: int = 200, headers: dict | None = None, **context: Any) -> Template:
    """A piece of a page, for htmx."""
    context.setdefault("labels", LABELS)
    return Template(template, context=context, status_code=status_code, headers=headers)


def as_list(value: Any) -> list[str]:
    """A form field that may be absent, one value or several."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(item) for item in value if str(item) != ""]
    return [str(value)]


def int_list(value: Any) -> list[int]:
    result = []
    for item in as_list(value):
        try:
            result.append(int(item))
        except ValueError:
            continue
    return result


def checked(fields: dict, name: str) -> bool:
    return fields.get(name) not in (None, "", "0", "false", "off")


def optional_int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
