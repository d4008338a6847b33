"""People: briefers, propagandists, opinion collaborators, cadres, members, guests.

Names are stored NFC with two computed keys (core.text): ``search_folded`` for word-prefix
search without diacritics and ``sort_key`` for Vietnamese order. Phones are E.164.
"""

from __future__ import annotations

import functools

import re
from typing import Iterable

import phonenumbers

from core import clock, events
from core.access import Actor, require
from core.db import current_engine, is_postgres, transaction
from core.errors import Conflict, Label, NotFound, ValidationError
from core.limits import fit
from core.services import audit
from core.services.units import get_unit
from core.tables import Attendance, AuditEntry, Invitation, Person, PersonCategory, Unit
from core.text import clean, search_key, search_pattern, sort_key

CATEGORIES = {
    "briefer": "Báo cáo viên",
    "propagandist": "Tuyên truyền viên",
    "opinion_collaborator": "Cộng tác viên dư luận xã hội",
    "cadre": "Cán bộ",
    "member": "Đảng viên",
    "guest": "Khách mời",
}
BRIEFER_LEVELS = {"central": "Trung ương", "province": "Tỉnh", "district": "Huyện", "commune": "Xã"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EDITABLE = ("full_name", "phone", "email", "categories", "briefer_level", "position", "is_head", "unit_id")


def parse_phone(raw: str | None) -> str | None:
    """What people type ('0912 345 678', '+84 912-345-678', '84912345678') -> '+84912345678'."""
    text = clean(raw)
    if not text:
        return None
    digits = re.sub(r"[^\d+]", "", text)
    if digits.startswith("84") and len(digits) >= 11:
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, "VN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError("Số điện thoại không hợp lệ: {text!r}", field="phone", text=text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_email(raw: str | None) -> str | None:
    text = clean(raw)
    if not text:
        return None
    if not _EMAIL.match(text):
        raise ValidationError("Địa chỉ email không hợp lệ: {text!r}", field="email", text=text)
    return fit(text.lower(), Person.email, field="email")


def check_categories(values: Iterable[str]) -> list[str]:
    chosen = sorted({clean(value) for value in values if clean(value)})
    unknown = [value for value in chosen if value not in CATEGORIES]
    if unknown:
        raise ValidationError(
            "Thành phần không hợp lệ: {unknown}. Chọn trong: {choices}.", field="categories", unknown=unknown, choices=CATEGORIES
        )
    return chosen


def check_level(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in BRIEFER_LEVELS:
        raise ValidationError("Cấp báo cáo viên không hợp lệ: {value!r}. Chọn trong: {choices}.", field="briefer_level",
                              value=value, choices=BRIEFER_LEVELS)
    return value


def check_name(value: str) -> str:
    name = clean(value)
    if not name:
        raise ValidationError("Họ và tên không được để trống.", field="full_name")
    if len(name) > 255:
        raise ValidationError("Họ và tên dài quá 255 ký tự.", field="full_name")
    return name


async def phone_holder(phone: str, *, except_person_id: int | None = None) -> dict | None:
    """The active person who already has ``phone``, if any."""
    query = Person.select(Person.id, Person.full_name).where((Person.phone == phone) & (Person.active == True))  # noqa: E712
    if except_person_id is not None:
        query = query.where(Person.id != except_person_id)
    return await query.first()


async def _check_phone_free(phone: str | None, allow_shared: bool, except_person_id: int | None = None) -> None:
    if phone is None or allow_shared:
        return
    holder = await phone_holder(phone, except_person_id=except_person_id)
    if holder is not None:
        raise Conflict(
            "Số điện thoại {phone} đã thuộc về {holder} (#{holder_id}). Nếu hai người dùng chung số (điện thoại "
            "gia đình), hãy đánh dấu 'dùng chung số'.",
            field="phone", phone=phone, holder=holder['full_name'], holder_id=holder['id'],
        )


async def _person_row(person_id: int) -> dict:
    row = await Person.select(Person.all_columns(), Person.unit.path.as_alias("unit_path")).where(Person.id == person_id).first()
    if row is None:
        raise NotFound("Không tìm thấy người này.")
    return row


async def _categories_of(person_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {person_id: [] for person_id in person_ids}
    if person_ids:
        rows = await PersonCategory.select(PersonCategory.person, PersonCategory.category).where(PersonCategory.person.is_in(person_ids))
        for row in rows:
            found[row["person"]].append(row["category"])
    return {person_id: sorted(values) for person_id, values in found.items()}


async def get_person(actor: Actor, person_id: int) -> dict:
    row = await _person_row(person_id)
    require(actor, "read", row["unit_path"], what=Label("người này"))
    row["categories"] = (await _categories_of([person_id]))[person_id]
    return row


async def create_person(
    actor: Actor,
    *,
    unit_id: int,
    full_name: str,
    phone: str | None = None,
    email: str | None = None,
    categories: Iterable[str] = (),
    briefer_level: str | None = None,
    position: str | None = None,
    is_head: bool = False,
    allow_shared_phone: bool = False,
) -> dict:
    """Add a person to a unit ('manage' on the unit). Refuses a phone another active person has,
    unless ``allow_shared_phone`` (a family phone)."""
    unit = await get_unit(unit_id)
    require(actor, "manage", unit["path"], what=Label("đơn vị"))
    name = check_name(full_name)
    errors: dict[str, str] = {}
    values: dict = {}
    for field, check, raw in [
        ("phone", parse_phone, phone),
        ("email", check_email, email),
        ("categories", check_categories, categories),
        ("briefer_level", check_level, briefer_level),
    ]:
        try:
            values[field] = check(raw)
        except ValidationError as error:
            errors[field] = error.message
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    now = clock.now()
    async with transaction():
        await _check_phone_free(values["phone"], allow_shared_phone)
        row = (
            await Person.insert(
                Person(
                    full_name=name,
                    search_folded=search_key(name),
                    sort_key=sort_key(name),
                    phone=values["phone"],
                    phone_shared=bool(allow_shared_phone and values["phone"]),
                    email=values["email"],
                    unit=unit_id,
                    briefer_level=values["briefer_level"],
                    position=fit(clean(position) or None, Person.position, field="position"),
                    is_head=is_head,
                    created_at=now,
                    updated_at=now,
                )
            ).returning(Person.id)
        )[0]
        if values["categories"]:
            await PersonCategory.insert(*[PersonCategory(person=row["id"], category=c) for c in values["categories"]])
        await audit.record(actor, "person.create", object_type="person", object_id=row["id"], unit_id=unit_id)
        await events.emit("person_created", unit_id=unit_id, person_id=row["id"])
    return await get_person(actor, row["id"])


async def update_person(actor: Actor, person_id: int, *, allow_shared_phone: bool = False, **changes) -> dict:
    """Change some fields of a person; keys are recomputed, categories replaced when given."""
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise ValidationError("Không sửa được trường: {unknown}.", unknown=sorted(unknown))
    current = await _person_row(person_id)
    require(actor, "manage", current["unit_path"], what=Label("người này"))
    if current["erased_at"] is not None:
        raise Conflict("Người này đã bị xoá dữ liệu cá nhân.")
    values: dict = {}
    if "full_name" in changes:
        name = check_name(changes["full_name"])
        values.update({Person.full_name: name, Person.search_folded: search_key(name), Person.sort_key: sort_key(name)})
    if "phone" in changes:
        values[Person.phone] = parse_phone(changes["phone"])
        values[Person.phone_shared] = bool(allow_shared_phone and values[Person.phone])
    if "email" in changes:
        values[Person.email] = check_email(changes["email"])
    if "briefer_level" in changes:
        values[Person.briefer_level] = check_level(changes["briefer_level"])
    if "position" in changes:
        values[Person.position] = fit(clean(changes["position"]) or None, Person.position, field="position")
    if "is_head" in changes:
        values[Person.is_head] = bool(changes["is_head"])
    if "unit_id" in changes:
        target = await get_unit(changes["unit_id"])
        require(actor, "manage", target["path"], what=Label("đơn vị mới"))
        values[Person.unit] = target["id"]
    categories = check_categories(changes["categories"]) if "categories" in changes else None
    values[Person.updated_at] = clock.now()
    async with transaction():
        if Person.phone in values and current["active"]:
            await _check_phone_free(values[Person.phone], allow_shared_phone, except_person_id=person_id)
        await Person.update(values).where(Person.id == person_id)
        if categories is not None:
            await PersonCategory.delete().where(PersonCategory.person == person_id)
            if categories:
                await PersonCategory.insert(*[PersonCategory(person=person_id, category=c) for c in categories])
        await audit.record(
            actor, "person.update", object_type="person", object_id=person_id, unit_id=current["unit"], fields=sorted(changes)
        )
        await events.emit("person_updated", unit_id=current["unit"], person_id=person_id)
    return await get_person(actor, person_id)


async def set_active(actor: Actor, person_id: int, active: bool, *, allow_shared_phone: bool = False) -> dict:
    """Deactivate (keeps history and invitations) or reactivate (re-checks the phone)."""
    current = await _person_row(person_id)
    require(actor, "manage", current["unit_path"], what=Label("người này"))
    if current["erased_at"] is not None:
        raise Conflict("Người này đã bị xoá dữ liệu cá nhân.")
    async with transaction():
        if active and not current["active"]:
            await _check_phone_free(current["phone"], allow_shared_phone or current["phone_shared"], except_person_id=person_id)
        await Person.update({Person.active: active, Person.updated_at: clock.now()}).where(Person.id == person_id)
        await audit.record(
            actor, "person.activate" if active else "person.deactivate", object_type="person", object_id=person_id, unit_id=current["unit"]
        )
        await events.emit("person_updated" if active else "person_deactivated", unit_id=current["unit"], person_id=person_id)
    return await get_person(actor, person_id)


def _filtered(query, *, unit_path: str, include_subtree: bool, text: str, categories, active: bool | None):
    if include_subtree:
        query = query.where(Person.unit.path.like(f"{unit_path}%"))
    else:
        query = query.where(Person.unit.path == unit_path)
    for pattern in search_pattern(text):
        query = query.where(Person.search_folded.like(pattern))
    if categories:
        chosen = check_categories(categories)
        query = query.where(Person.id.is_in(PersonCategory.select(PersonCategory.person).where(PersonCategory.category.is_in(chosen))))
    if active is not None:
        query = query.where(Person.active == active)
    return query


async def search_people(
    actor: Actor,
    *,
    unit_id: int,
    query: str = "",
    categories: Iterable[str] | None = None,
    active: bool | None = True,
    include_subtree: bool = True,
    limit: int = 50,
    offset: int = 0,
    unit: dict | None = None,
) -> list[dict]:
    """People of a unit (and its subtree) matching every word prefix of ``query``, in Vietnamese order.
    ``unit`` is the unit's row when the caller has read it already."""
    unit = await _readable_unit(actor, unit_id, unit)
    select = Person.select(*_listed_columns())
    select = _filtered(select, unit_path=unit["path"], include_subtree=include_subtree, text=query, categories=categories, active=active)
    # the id breaks ties of one name, so that paging neither repeats nor skips a namesake
    rows = await select.order_by(Person.sort_key, Person.id).limit(max(1, min(limit, 500))).offset(max(0, offset))
    categories_by_person = await _categories_of([row["id"] for row in rows])
    for row in rows:
        row["categories"] = categories_by_person[row["id"]]
    return rows


MAX_OFFSET = 10_000  # a search pages this far at most (its scan reads the ids up to the page)
COUNT_AHEAD = 100  # a search's count reads this many matches past the page shown, and no further: an exact count of a
# common name reads every matching row of the subtree, which a search as you type cannot afford on every key


async def search_page(
    actor: Actor,
    *,
    unit_id: int,
    query: str = "",
    categories: Iterable[str] | None = None,
    active: bool | None = True,
    include_subtree: bool = True,
    limit: int = 50,
    offset: int = 0,
    unit: dict | None = None,
) -> dict:
    """One page of :func:`search_people` with the count a directory shows beside it:
    ``{"items", "total", "total_exact"}``, ``total`` counted up to :data:`COUNT_AHEAD` past the
    page. On SQLite one scan of the search order finds the page and counts ahead, then the
    page's people are read by id (a separate count chose a slower plan there: 9.9 ms of SQL for
    "tran thi" against 3.6). PostgreSQL finds the page on the search index alone (an index-only
    scan: 1.4 ms for "tran thi" on 100,000 people) and counts faster on its own (a sequential
    scan that stops at the count: 3.8 ms; one ordered scan for both took 6.5), so there the page
    and the count are two statements."""
    unit = await _readable_unit(actor, unit_id, unit)
    limit, offset = max(1, min(limit, 500)), max(0, offset)
    if offset > MAX_OFFSET:
        raise ValidationError("Chỉ xem được {limit} người đầu tiên của một lần tìm; hãy gõ thêm để thu hẹp.", field="offset",
                              limit=MAX_OFFSET)
    up_to = offset + limit + COUNT_AHEAD
    def matches():
        return _filtered(Person.select(Person.id), unit_path=unit["path"], include_subtree=include_subtree, text=query,
                         categories=categories, active=active)

    if is_postgres(current_engine()):
        shown = [row["id"] for row in await matches().order_by(Person.sort_key, Person.id).limit(limit).offset(offset)]
        total = len(await matches().limit(up_to))
    else:
        ids = [row["id"] for row in await matches().order_by(Person.sort_key, Person.id).limit(up_to)]
        shown, total = ids[offset:offset + limit], len(ids)
    found = {row["id"]: row for row in await Person.select(*_listed_columns()).where(Person.id.is_in(shown))} if shown else {}
    categories_by_person = await _categories_of(shown)
    items = []
    for person_id in shown:
        if person_id in found:  # a person erased between the two statements is left out
            items.append({**found[person_id], "categories": categories_by_person[person_id]})
    return {"items": items, "total": total, "total_exact": total < up_to}


@functools.cache
def _listed_columns() -> tuple:
    """A directory row's columns, the unit's name joined once per process (see core.access._conference_columns)."""
    return (Person.id, Person.full_name, Person.phone, Person.email, Person.unit, Person.unit.name.as_alias("unit_name"),
            Person.briefer_level, Person.position, Person.is_head, Person.active)


async def _readable_unit(actor: Actor, unit_id: int, unit: dict | None) -> dict:
    if unit is None or unit["id"] != unit_id:
        unit = await get_unit(unit_id)
    require(actor, "read", unit["path"], what=Label("đơn vị"))
    return unit


async def attendance_history(actor: Actor, person_id: int, *, limit: int = 100) -> list[dict]:
    """The person's conferences, newest first: the invitation's answer and the roll-call's record
    (None before the roll-call). Needs 'read' on the person's unit."""
    await get_person(actor, person_id)
    rows = await Invitation.select(
        Invitation.conference.as_alias("conference_id"), Invitation.conference.title.as_alias("title"),
        Invitation.conference.starts_at.as_alias("starts_at"), Invitation.conference.timezone.as_alias("timezone"),
        Invitation.conference.status.as_alias("conference_status"), Invitation.status, Invitation.rsvp,
    ).where(Invitation.person == person_id).order_by(Invitation.conference.starts_at, ascending=False).limit(max(1, min(limit, 1000)))
    records = {row["conference"]: row for row in await Attendance.select(
        Attendance.conference, Attendance.status, Attendance.recorded_at, Attendance.reason).where(Attendance.person == person_id)}
    for row in rows:
        record = records.get(row["conference_id"])
        row["attendance"] = record["status"] if record else None
        row["recorded_at"] = record["recorded_at"] if record else None
    return rows


async def issue_personal_link(actor: Actor, person_id: int, *, ttl_days: int = 60) -> dict:
    """A new personal link for an active person ('manage' on their unit): ``path`` (/i/<token>,
    shown this once, only its hash is kept) and ``expires_at``. Older links keep working until
    they expire."""
    import datetime as dt

    from core.services import tokens

    person = await get_person(actor, person_id)
    require(actor, "manage", person["unit_path"], what=Label("người này"))
    if person["erased_at"] is not None or not person["active"]:
        raise Conflict("Người này đã ngừng hoạt động; không gửi được đường dẫn cá nhân.")
    row, plaintext = await tokens.issue_secret_token(actor, purpose="login_link", subject_type="person", subject_id=person_id,
                                                     ttl=dt.timedelta(days=ttl_days), label=person["full_name"],
                                                     unit_id=person["unit"])
    return {"path": f"/i/{plaintext}", "expires_at": row["expires_at"]}


async def erase_person(actor: Actor, person_id: int) -> None:
    """Anonymise a person: identity gone, invitation and roll-call rows kept so counts stay true."""
    current = await _person_row(person_id)
    require(actor, "admin", current["unit_path"], what=Label("người này"))
    if current["erased_at"] is not None:
        return
    placeholder = f"Đã xoá #{person_id}"
    async with transaction():
        await Person.update(
            {
                Person.full_name: placeholder,
                Person.search_folded: " ",
                Person.sort_key: "~",
                Person.phone: None,
                Person.phone_shared: False,
                Person.email: None,
                Person.position: None,
                Person.active: False,
                Person.erased_at: clock.now(),
                Person.updated_at: clock.now(),
            }
        ).where(Person.id == person_id)
        await PersonCategory.delete().where(PersonCategory.person == person_id)
        await Invitation.update({Invitation.rsvp_reason: "", Invitation.substitute_name: None}).where(Invitation.person == person_id)
        await Attendance.update({Attendance.reason: "", Attendance.substitute_name: None}).where(Attendance.person == person_id)
        await audit.record(actor, "person.erase", object_type="person", object_id=person_id, unit_id=current["unit"])
        await events.emit("person_erased", unit_id=current["unit"], person_id=person_id)


async def export_person_data(actor: Actor, person_id: int) -> dict:
    """Everything held about one person (a data-subject request); the export itself is audited."""
    person = await get_person(actor, person_id)
    require(actor, "admin", person["unit_path"], what=Label("người này"))
    invitations = await Invitation.select(
        Invitation.all_columns(exclude=[Invitation.person]), Invitation.conference.title.as_alias("conference_title")
    ).where(Invitation.person == person_id)
    attendance = await Attendance.select(Attendance.all_columns(exclude=[Attendance.person])).where(Attendance.person == person_id)
    entries = await AuditEntry.select().where((AuditEntry.object_type == "person") & (AuditEntry.object_id == person_id))
    async with transaction():
        await audit.record(actor, "person.export", object_type="person", object_id=person_id, unit_id=person["unit"])
    person.pop("unit_path", None)
    unit = await Unit.select(Unit.name, Unit.short_code).where(Unit.id == person["unit"]).first()
    return {"person": person, "unit": unit, "invitations": invitations, "attendance": attendance, "audit": entries}
