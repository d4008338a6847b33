"""Audiences (đối tượng): rules over categories x unit subtrees x briefer levels, plus explicit
includes and excludes. Resolution is one SQL query, whatever the size."""

from __future__ import annotations

import json
from typing import Iterable

from core import clock
from core.access import Actor, require
from core.db import transaction
from core.errors import Conflict, Label, NotFound, ValidationError
from core.limits import fit
from core.services import audit
from core.services.people import check_categories, check_level
from core.services.units import get_unit
from core.tables import Audience, AudienceMember, ConferenceAudience, Person, PersonCategory, Unit
from core.text import clean


def _clean_rules(rules: dict | str | None) -> dict:
    if isinstance(rules, str):  # as stored (JSON text)
        rules = json.loads(rules)
    rules = dict(rules or {})
    unknown = set(rules) - {"categories", "unit_ids", "briefer_levels", "active_only"}
    if unknown:
        raise ValidationError("Quy tắc không hợp lệ: {unknown}.", field="rules", unknown=sorted(unknown))
    lists = {key: rules.get(key) or [] for key in ("categories", "unit_ids", "briefer_levels")}
    if not all(isinstance(value, list) for value in lists.values()):
        raise ValidationError("Quy tắc không hợp lệ: categories, unit_ids và briefer_levels là danh sách.", field="rules")
    try:
        unit_ids = sorted({int(unit_id) for unit_id in lists["unit_ids"]})
    except (TypeError, ValueError):
        raise ValidationError("Quy tắc không hợp lệ: unit_ids là danh sách số.", field="rules") from None
    return {
        "categories": check_categories(str(value) for value in lists["categories"]),
        "unit_ids": unit_ids,
        "briefer_levels": sorted({check_level(str(level)) for level in lists["briefer_levels"] if level}),
        "active_only": bool(rules.get("active_only", True)),
    }


async def _check_reach(actor: Actor, rules: dict, person_ids: Iterable[int]) -> None:
    """Every rule unit and listed person must be visible to the actor."""
    for unit_id in rules["unit_ids"]:
        try:
            unit = await get_unit(unit_id)
        except NotFound:
            raise ValidationError("Không tìm thấy đơn vị #{unit_id}.", field="rules", unit_id=unit_id) from None
        require(actor, "read", unit["path"], what=Label("đơn vị trong quy tắc"))
    ids = sorted(set(person_ids))
    if ids:
        rows = await Person.select(Person.id, Person.unit.path.as_alias("path")).where(Person.id.is_in(ids))
        if len(rows) != len(ids):
            missing = sorted(set(ids) - {row["id"] for row in rows})
            raise ValidationError("Không tìm thấy người: {missing}.", field="members", missing=missing)
        for row in rows:
            require(actor, "read", row["path"], what=Label("người trong danh sách"))


async def _unit_paths(unit_ids: list[int]) -> list[str]:
    if not unit_ids:
        return []
    return [row["path"] for row in await Unit.select(Unit.path).where(Unit.id.is_in(unit_ids))]


async def rules_query(rules: dict, *, owner_path: str):
    """A SELECT of person ids matching ``rules``; an empty unit list means the owner's subtree."""
    paths = await _unit_paths(rules["unit_ids"]) or [owner_path]
    query = Person.select(Person.id)
    condition = None
    for path in paths:
        clause = Person.unit.path.like(f"{path}%")
        condition = clause if condition is None else condition | clause
    query = query.where(condition).where(Person.erased_at.is_null())
    if rules["categories"]:
        query = query.where(
            Person.id.is_in(PersonCategory.select(PersonCategory.person).where(PersonCategory.category.is_in(rules["categories"])))
        )
    if rules["briefer_levels"]:
        query = query.where(Person.briefer_level.is_in(rules["briefer_levels"]))
    if rules["active_only"]:
        query = query.where(Person.active == True)  # noqa: E712
    return query


async def _get(audience_id: int) -> dict:
    row = await Audience.select(Audience.all_columns(), Audience.unit.path.as_alias("unit_path")).where(
        Audience.id == audience_id).output(load_json=True).first()
    if row is None:
        raise NotFound("Không tìm thấy đối tượng.")
    return row


async def _members(audience_id: int) -> tuple[list[int], list[int]]:
    rows = await AudienceMember.select(AudienceMember.person, AudienceMember.mode).where(AudienceMember.audience == audience_id)
    return sorted(r["person"] for r in rows if r["mode"] == "include"), sorted(r["person"] for r in rows if r["mode"] == "exclude")


async def get_audience(actor: Actor, audience_id: int) -> dict:
    audience = await _get(audience_id)
    require(actor, "read", audience["unit_path"], what=Label("đối tượng"))
    audience["include_ids"], audience["exclude_ids"] = await _members(audience_id)
    return audience


async def list_audiences(actor: Actor, unit_id: int) -> list[dict]:
    """Audiences owned by the unit and by its ancestors the actor can see."""
    unit = await get_unit(unit_id)
    require(actor, "read", unit["path"], what=Label("đơn vị"))
    return await Audience.select(Audience.id, Audience.name, Audience.unit, Audience.rules).where(
        Audience.unit.path.like(f"{unit['path']}%")
    ).order_by(Audience.name).output(load_json=True)


async def _write_members(audience_id: int, include_ids, exclude_ids) -> None:
    include, exclude = set(include_ids), set(exclude_ids)
    if include & exclude:
        raise ValidationError("Một người không thể vừa được thêm vừa bị loại.", field="members")
    await AudienceMember.delete().where(AudienceMember.audience == audience_id)
    rows = [AudienceMember(audience=audience_id, person=p, mode="include") for p in sorted(include)]
    rows += [AudienceMember(audience=audience_id, person=p, mode="exclude") for p in sorted(exclude)]
    if rows:
        await AudienceMember.insert(*rows)


async def _check_name_free(unit_id: int, name: str, *, audience_id: int | None = None) -> None:
    """Two audiences of one unit never share a name: the organiser ticks audiences by name on the
    conference page, where two "Báo cáo viên toàn tỉnh" could not be told apart."""
    query = Audience.select(Audience.name).where(Audience.unit == unit_id)
    if audience_id is not None:
        query = query.where(Audience.id != audience_id)
    if any(row["name"].casefold() == name.casefold() for row in await query):
        raise Conflict("Đơn vị đã có đối tượng tên \"{name}\"; đặt tên khác.", field="name", name=name)


async def create_audience(
    actor: Actor, *, unit_id: int, name: str, rules: dict | None = None, include_ids: Iterable[int] = (), exclude_ids: Iterable[int] = ()
) -> dict:
    unit = await get_unit(unit_id)
    require(actor, "manage", unit["path"], what=Label("đơn vị"))
    name = clean(name)
    if not name:
        raise ValidationError("Tên đối tượng không được để trống.", field="name")
    fit(name, Audience.name, field="name")
    rules = _clean_rules(rules)
    include_ids, exclude_ids = list(include_ids), list(exclude_ids)
    await _check_reach(actor, rules, [*include_ids, *exclude_ids])
    async with transaction():
        await _check_name_free(unit_id, name)
        row = (await Audience.insert(Audience(name=name, unit=unit_id, rules=rules, created_at=clock.now(), updated_at=clock.now()))
               .returning(Audience.id))[0]
        await _write_members(row["id"], include_ids, exclude_ids)
        await audit.record(actor, "audience.create", object_type="audience", object_id=row["id"], unit_id=unit_id, name=name)
    return await get_audience(actor, row["id"])


async def update_audience(
    actor: Actor, audience_id: int, *, name: str | None = None, rules: dict | None = None,
    include_ids: Iterable[int] | None = None, exclude_ids: Iterable[int] | None = None,
) -> dict:
    """Change an audience. Published conferences keep their snapshot until re-resolved."""
    audience = await _get(audience_id)
    require(actor, "manage", audience["unit_path"], what=Label("đối tượng"))
    values = {Audience.updated_at: clock.now()}
    if name is not None:
        if not clean(name):
            raise ValidationError("Tên đối tượng không được để trống.", field="name")
        values[Audience.name] = fit(clean(name), Audience.name, field="name")
    cleaned = _clean_rules(rules) if rules is not None else None
    if cleaned is not None:
        values[Audience.rules] = cleaned
    current_include, current_exclude = await _members(audience_id)
    include = list(include_ids) if include_ids is not None else current_include
    exclude = list(exclude_ids) if exclude_ids is not None else current_exclude
    await _check_reach(actor, cleaned or _clean_rules(audience["rules"]), [*include, *exclude])
    async with transaction():
        if name is not None:
            await _check_name_free(audience["unit"], values[Audience.name], audience_id=audience_id)
        await Audience.update(values).where(Audience.id == audience_id)
        await _write_members(audience_id, include, exclude)
        await audit.record(actor, "audience.update", object_type="audience", object_id=audience_id, unit_id=audience["unit"])
    return await get_audience(actor, audience_id)


async def delete_audience(actor: Actor, audience_id: int) -> None:
    audience = await _get(audience_id)
    require(actor, "manage", audience["unit_path"], what=Label("đối tượng"))
    used = await ConferenceAudience.count().where(
        (ConferenceAudience.audience == audience_id) & (ConferenceAudience.conference.status != "draft")
    )
    if used:
        raise Conflict("Đối tượng đang được dùng cho {used} hội nghị đã công bố; không thể xoá.", used=used)
    async with transaction():
        await ConferenceAudience.delete().where(ConferenceAudience.audience == audience_id)
        await Audience.delete().where(Audience.id == audience_id)
        await audit.record(actor, "audience.delete", object_type="audience", object_id=audience_id, unit_id=audience["unit"])


async def resolve_audience_ids(audience_id: int) -> set[int]:
    """The people the audience means now: rules, plus includes, minus excludes."""
    audience = await _get(audience_id)
    rules = _clean_rules(audience["rules"])
    matched = {row["id"] for row in await (await rules_query(rules, owner_path=audience["unit_path"]))}
    include, exclude = await _members(audience_id)
    if include:
        alive = await Person.select(Person.id).where(Person.id.is_in(include) & Person.erased_at.is_null() & (Person.active == True))  # noqa: E712
        matched |= {row["id"] for row in alive}
    return matched - set(exclude)


async def resolve_conference_audiences(conference_id: int) -> set[int]:
    rows = await ConferenceAudience.select(ConferenceAudience.audience).where(ConferenceAudience.conference == conference_id)
    people: set[int] = set()
    for row in rows:
        people |= await resolve_audience_ids(row["audience"])
    return people


async def preview_audience(actor: Actor, audience_id: int, *, limit: int = 20) -> dict:
    """How many people the audience means now, and the first of them in Vietnamese order."""
    await get_audience(actor, audience_id)
    ids = sorted(await resolve_audience_ids(audience_id))
    return {"count": len(ids), "first": await first_in_order(ids, limit=limit)}


async def preview_rules(
    actor: Actor, *, unit_id: int, rules: dict | None = None, include_ids: Iterable[int] = (), exclude_ids: Iterable[int] = (),
    limit: int = 10,
) -> dict:
    """What an audience being built would mean now, before it is saved (the builder's live
    preview): the count and the first people in Vietnamese order. Needs 'read' on the unit."""
    unit = await get_unit(unit_id)
    require(actor, "read", unit["path"], what=Label("đơn vị"))
    cleaned = _clean_rules(rules)
    include, exclude = set(include_ids), set(exclude_ids)
    await _check_reach(actor, cleaned, [*include, *exclude])
    matched = {row["id"] for row in await (await rules_query(cleaned, owner_path=unit["path"]))}
    if include:
        alive = await Person.select(Person.id).where(Person.id.is_in(sorted(include)) & Person.erased_at.is_null()
                                                     & (Person.active == True))  # noqa: E712
        matched |= {row["id"] for row in alive}
    ids = sorted(matched - exclude)
    return {"count": len(ids), "first": await first_in_order(ids, limit=limit)}


async def first_in_order(person_ids: list[int], *, limit: int = 20, chunk: int = 10_000) -> list[dict]:
    """The first ``limit`` of these people in Vietnamese order (chunked: SQLite caps parameters)."""
    candidates: list[dict] = []
    for start in range(0, len(person_ids), chunk):
        candidates += await Person.select(
            Person.id, Person.full_name, Person.sort_key, Person.unit.name.as_alias("unit_name")
        ).where(Person.id.is_in(person_ids[start : start + chunk])).order_by(Person.sort_key).limit(limit)
    candidates.sort(key=lambda row: row["sort_key"])
    for row in candidates:
        row.pop("sort_key")
    return candidates[:limit]


async def audiences_of_conference(conference_id: int) -> list[dict]:
    return await ConferenceAudience.select(
        ConferenceAudience.audience.id.as_alias("id"), ConferenceAudience.audience.name.as_alias("name")
    ).where(ConferenceAudience.conference == conference_id)


