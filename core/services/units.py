"""Units: the tree of committees and organisations, held as a materialised path.

``path`` is "/<root id>/.../<own id>/": a subtree is one indexed ``LIKE 'prefix%'`` query, and
moving a unit rewrites its subtree's paths in one UPDATE.
"""

from __future__ import annotations

import re
import zoneinfo

from core import clock, events
from core.access import Actor, require
from core.db import transaction
from core.errors import Conflict, Label, NotFound, Phrase, ValidationError
from core.limits import fit
from core.reads import read_once
from core.services import audit
from core.tables import DEFAULT_TIMEZONE, Unit
from core.text import clean

UNIT_KINDS = {
    "central": "Trung ương",
    "province": "Tỉnh/Thành phố",
    "district": "Quận/Huyện",
    "commune": "Xã/Phường",
    "cell": "Chi bộ",
    "organisation": "Tổ chức",
}
_SHORT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError("Múi giờ không hợp lệ: {name!r} (ví dụ: Asia/Ho_Chi_Minh)", field="timezone", name=name) from None
    return name


async def get_unit(unit_id: int) -> dict:
    """A unit by id, without access checks (services check against its path)."""
    row = await read_once(("unit", unit_id), lambda: Unit.select().where(Unit.id == unit_id).first())
    if row is None:
        raise NotFound("Không tìm thấy đơn vị.")
    return row


async def view_unit(actor: Actor, unit_id: int) -> dict:
    unit = await get_unit(unit_id)
    require(actor, "read", unit["path"], what=Label("đơn vị"))
    return unit


def _validate(name: str, short_code: str, kind: str) -> tuple[str, str]:
    errors = {}
    name = clean(name)
    short_code = clean(short_code)
    if not name:
        errors["name"] = Phrase("Tên đơn vị không được để trống.")
    elif len(name) > Unit.name.length:
        errors["name"] = Phrase("Dài quá {limit} ký tự.", {"limit": Unit.name.length})
    if not _SHORT_CODE.match(short_code):
        errors["short_code"] = Phrase("Mã đơn vị chỉ gồm chữ không dấu, số, dấu chấm, gạch ngang (tối đa 64 ký tự).")
    if kind not in UNIT_KINDS:
        errors["kind"] = Phrase("Loại đơn vị không hợp lệ: {kind!r}. Chọn một trong: {choices}.", {"kind": kind, "choices": UNIT_KINDS})
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    return name, short_code


async def create_unit(
    actor: Actor,
    *,
    name: str,
    short_code: str,
    kind: str,
    parent_id: int | None,
    timezone: str | None = None,
) -> dict:
    """Create a unit under ``parent_id`` (admin of the parent), or a root (system only)."""
    name, short_code = _validate(name, short_code, kind)
    parent = None
    if parent_id is None:
        if not actor.system:
            raise ValidationError("Đơn vị phải thuộc một đơn vị cấp trên.", field="parent_id")
    else:
        parent = await get_unit(parent_id)
        require(actor, "admin", parent["path"], what=Label("đơn vị cấp trên"))
    tz = check_timezone(timezone or (parent["timezone"] if parent else DEFAULT_TIMEZONE))
    async with transaction():
        if await Unit.exists().where(Unit.short_code == short_code):
            raise Conflict("Mã đơn vị {short_code!r} đã được dùng.", field="short_code", short_code=short_code)
        row = (
            await Unit.insert(
                Unit(
                    name=name,
                    short_code=short_code,
                    kind=kind,
                    parent=parent_id,
                    path="",
                    depth=(parent["depth"] + 1) if parent else 0,
                    timezone=tz,
                    created_at=clock.now(),
                )
            ).returning(Unit.id)
        )[0]
        path = f"{parent['path'] if parent else '/'}{row['id']}/"
        await Unit.update({Unit.path: path}).where(Unit.id == row["id"])
        await audit.record(actor, "unit.create", object_type="unit", object_id=row["id"], unit_id=row["id"], name=name)
        await events.emit("unit_created", unit_id=row["id"])
    return await get_unit(row["id"])


async def update_unit(actor: Actor, unit_id: int, *, name: str | None = None, timezone: str | None = None) -> dict:
    unit = await get_unit(unit_id)
    require(actor, "admin", unit["path"], what=Label("đơn vị"))
    values = {}
    if name is not None:
        if not clean(name):
            raise ValidationError("Tên đơn vị không được để trống.", field="name")
        values[Unit.name] = fit(clean(name), Unit.name, field="name")
    if timezone is not None:
        values[Unit.timezone] = check_timezone(timezone)
    if values:
        async with transaction():
            await Unit.update(values).where(Unit.id == unit_id)
            await audit.record(
                actor, "unit.update", object_type="unit", object_id=unit_id, unit_id=unit_id,
                changes={column._meta.name: value for column, value in values.items()},
            )
    return await get_unit(unit_id)


async def move_unit(actor: Actor, unit_id: int, *, new_parent_id: int) -> dict:
    """Move a unit and its subtree under another parent; refuses cycles. Needs admin on both sides."""
    unit = await get_unit(unit_id)
    new_parent = await get_unit(new_parent_id)
    require(actor, "admin", unit["path"], what=Label("đơn vị"))
    require(actor, "admin", new_parent["path"], what=Label("đơn vị cấp trên mới"))
    if unit["parent"] is None:
        raise Conflict("Không thể chuyển đơn vị gốc.")
    if new_parent["path"].startswith(unit["path"]):
        raise Conflict("Không thể chuyển một đơn vị vào chính nó hoặc đơn vị cấp dưới của nó.", field="parent_id")
    old_prefix = unit["path"]
    new_prefix = f"{new_parent['path']}{unit_id}/"
    depth_delta = new_parent["depth"] + 1 - unit["depth"]
    async with transaction():
        # One statement rewrites the whole subtree: replace the old prefix with the new one.
        await Unit.raw(
            "UPDATE unit SET path = {} || substr(path, {}), depth = depth + {} WHERE path LIKE {}",
            new_prefix,
            len(old_prefix) + 1,
            depth_delta,
            f"{old_prefix}%",
        )
        await Unit.update({Unit.parent: new_parent_id}).where(Unit.id == unit_id)
        await audit.record(
            actor, "unit.move", object_type="unit", object_id=unit_id, unit_id=unit_id,
            old_parent=unit["parent"], new_parent=new_parent_id,
        )
        await events.emit("unit_moved", unit_id=unit_id, old_path=old_prefix, new_path=new_prefix)
    return await get_unit(unit_id)


async def subtree(actor: Actor, unit_id: int) -> list[dict]:
    """The unit and every unit below it, in tree order (one indexed query)."""
    unit = await view_unit(actor, unit_id)
    return await subtree_rows(unit["path"])


async def subtree_rows(path: str) -> list[dict]:
    return await Unit.select().where(Unit.path.like(f"{path}%")).order_by(Unit.path)


async def subtree_ids(path: str) -> list[int]:
    rows = await Unit.select(Unit.id).where(Unit.path.like(f"{path}%"))
    return [row["id"] for row in rows]


async def visible_roots(actor: Actor) -> list[dict]:
    """The topmost units the actor can see (their role units, minus ones inside another)."""
    paths = actor.paths_with("read")
    tops = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    if not tops:
        return []
    return await Unit.select().where(Unit.path.is_in(tops)).order_by(Unit.path)


async def ancestors(unit_path: str) -> list[dict]:
    """The chain from the root down to the unit itself."""
    ids = [int(part) for part in unit_path.strip("/").split("/") if part]
    rows = await Unit.select().where(Unit.id.is_in(ids)) if ids else []
    return sorted(rows, key=lambda row: row["depth"])


async def delete_unit(actor: Actor, unit_id: int, *, host) -> dict[str, str]:
    """Delete an empty leaf unit (no sub-units, people, conferences or audiences); every
    installed plugin cleans up (``unit_deleted``). Returns plugins that failed."""
    from core.plugins import call_each
    from core.tables import Audience, Conference, Person

    unit = await get_unit(unit_id)
    require(actor, "admin", unit["path"], what=Label("đơn vị"))
    if unit["parent"] is None:
        raise Conflict("Không thể xoá đơn vị gốc.")
    for table, what in ((Unit, Label("đơn vị cấp dưới", "contents")), (Person, Label("người", "contents")),
                        (Conference, Label("hội nghị", "contents")), (Audience, Label("đối tượng", "contents"))):
        column = table.parent if table is Unit else table.unit
        if await table.exists().where(column == unit_id):
            raise Conflict("Đơn vị còn {what}; hãy chuyển hoặc xoá trước.", what=what)
    async with transaction():
        await Unit.delete().where(Unit.id == unit_id)
        await audit.record(actor, "unit.delete", object_type="unit", object_id=unit_id, unit_id=unit["parent"], name=unit["name"])
    return await call_each(host, "unit_deleted", unit_id=unit_id)
