"""Series: an RFC 5545 recurrence in local wall-clock time plus a timezone id.

"Monthly on the second Tuesday, 08:00-11:00 Asia/Ho_Chi_Minh" stays 08:00 local whatever the
UTC offset does. Occurrences are materialised as draft conferences up to a horizon; each has an
``occurrence_key`` (its original local start), so regeneration never duplicates and a moved,
edited or skipped occurrence (``is_exception``) survives it. "This and following" splits: the
old series gets an UNTIL, a new one continues.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from dateutil import rrule as rrulelib

from core import clock, events
from core.access import Actor, require
from core.config import get_settings
from core.db import transaction
from core.errors import Conflict, Label, NotFound, ValidationError
from core.limits import fit
from core.services import audit
from core.services.conferences import FORMATS, KINDS, _managed, cancel_conference, create_conference
from core.services.units import check_timezone, get_unit
from core.tables import Conference, Series
from core.text import clean


def _local(value) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError("Thời điểm bắt đầu không hợp lệ: {value!r}.", field="local_start", value=value) from None
    if not isinstance(value, dt.datetime):
        raise ValidationError("Cần ngày giờ bắt đầu.", field="local_start")
    if value.tzinfo is not None:
        raise ValidationError("Giờ của chuỗi là giờ địa phương, không kèm múi giờ (múi giờ ghi riêng).", field="local_start")
    return value.replace(second=0, microsecond=0)


def _rule(text: str, start: dt.datetime, until: dt.datetime | None = None):
    text = clean(text).upper().removeprefix("RRULE:")
    if "FREQ=" not in text:
        raise ValidationError("Quy tắc lặp phải có FREQ (ví dụ FREQ=MONTHLY;BYDAY=2TU).", field="rrule")
    try:
        rule = rrulelib.rrulestr(text, dtstart=start)
    except (ValueError, TypeError) as error:
        raise ValidationError("Quy tắc lặp không hợp lệ: {error}.", field="rrule", error=error) from None
    if until is not None:
        rule = rule.replace(until=until)
    return text, rule


def occurrences(series: dict, *, until_local: dt.datetime) -> list[dt.datetime]:
    """Local wall-clock starts of the series up to ``until_local`` (naive)."""
    start = _local(series["local_start"])
    limit = _local(series["until_local"]) if series.get("until_local") else None
    _, rule = _rule(series["rrule"], start, limit)
    return list(rule.between(start - dt.timedelta(seconds=1), until_local, inc=True))


def to_utc(local_start: dt.datetime, timezone: str) -> dt.datetime:
    """Wall-clock time in a zone -> aware UTC (a gap in DST moves forward, as calendars do)."""
    zone = zoneinfo.ZoneInfo(timezone)
    aware = local_start.replace(tzinfo=zone)
    roundtrip = aware.astimezone(dt.timezone.utc).astimezone(zone)
    if roundtrip.replace(tzinfo=None) != local_start:  # non-existent local time
        aware = (local_start + dt.timedelta(hours=1)).replace(tzinfo=zone)
    return aware.astimezone(dt.timezone.utc)


async def _series(series_id: int) -> dict:
    row = await Series.select(Series.all_columns(), Series.unit.path.as_alias("unit_path")).where(Series.id == series_id).output(
        load_json=True).first()
    if row is None:
        raise NotFound("Không tìm thấy chuỗi hội nghị.")
    return row


async def get_series(actor: Actor, series_id: int) -> dict:
    series = await _series(series_id)
    require(actor, "read", series["unit_path"], what=Label("chuỗi hội nghị"))
    series["occurrences"] = await Conference.select(
        Conference.id, Conference.title, Conference.starts_at, Conference.status, Conference.occurrence_key, Conference.is_exception,
        Conference.skipped,
    ).where(Conference.series == series_id).order_by(Conference.occurrence_key)
    return series


async def create_series(
    actor: Actor, *, unit_id: int, title: str, kind: str, format: str, rrule: str, local_start, duration_minutes: int,
    timezone: str | None = None, template: dict | None = None, materialise: bool = True,
) -> dict:
    unit = await get_unit(unit_id)
    require(actor, "manage", unit["path"], what=Label("đơn vị"))
    title = clean(title)
    if not title:
        raise ValidationError("Tên chuỗi hội nghị không được để trống.", field="title")
    fit(title, Series.title, field="title")
    if kind not in KINDS:
        raise ValidationError("Loại hội nghị không hợp lệ. Chọn: {choices}.", field="kind", choices=KINDS)
    if format not in FORMATS:
        raise ValidationError("Hình thức không hợp lệ. Chọn: {choices}.", field="format", choices=FORMATS)
    if not isinstance(duration_minutes, int) or not 5 <= duration_minutes <= 24 * 60:
        raise ValidationError("Thời lượng phải từ 5 phút đến 24 giờ.", field="duration_minutes")
    start = _local(local_start)
    rule_text, _ = _rule(rrule, start)
    tz = check_timezone(timezone or unit["timezone"])
    async with transaction():  # a template its occurrences refuse (a venue, an audience) leaves no series behind
        row = (await Series.insert(Series(
            unit=unit_id, title=title, kind=kind, format=format, rrule=rule_text, local_start=start.isoformat(),
            duration_minutes=duration_minutes, timezone=tz, template=template or {}, created_at=clock.now(),
        )).returning(Series.id))[0]
        await audit.record(actor, "series.create", object_type="series", object_id=row["id"], unit_id=unit_id, rrule=rule_text)
        await events.emit("series_created", unit_id=unit_id, series_id=row["id"])
        if materialise:
            await materialise_series(row["id"], actor=actor)
    return await get_series(actor, row["id"])


async def materialise_series(series_id: int, *, horizon_months: int | None = None, actor: Actor | None = None) -> int:
    """Create the missing occurrences up to the horizon; returns how many were created."""
    actor = actor or Actor.system_actor("series job")
    series = await _series(series_id)
    months = horizon_months or get_settings().series_horizon_months
    zone = zoneinfo.ZoneInfo(series["timezone"])
    horizon_local = (clock.now() + dt.timedelta(days=31 * months)).astimezone(zone).replace(tzinfo=None)
    existing = {row["occurrence_key"] for row in await Conference.select(Conference.occurrence_key).where(Conference.series == series_id)}
    template = series["template"] or {}
    created = 0
    for local_start in occurrences(series, until_local=horizon_local):
        key = local_start.isoformat()
        if key in existing:
            continue  # already there, possibly moved or skipped: exceptions survive
        starts_at = to_utc(local_start, series["timezone"])
        await create_conference(
            actor, unit_id=series["unit"], title=series["title"], kind=series["kind"], format=series["format"],
            starts_at=starts_at, ends_at=starts_at + dt.timedelta(minutes=series["duration_minutes"]), timezone=series["timezone"],
            description=template.get("description", ""), venues=template.get("venues", []),
            audience_ids=template.get("audience_ids", []), series_id=series_id, occurrence_key=key,
        )
        created += 1
    await Series.update({Series.materialised_until: to_utc(horizon_local, series["timezone"])}).where(Series.id == series_id)
    return created


async def materialise_all_series() -> int:
    """The job: every open series, up to the horizon."""
    total = 0
    for row in await Series.select(Series.id):
        total += await materialise_series(row["id"])
    return total


async def skip_occurrence(actor: Actor, conference_id: int, *, reason: str = "") -> dict:
    """Skip one occurrence (kept as an exception so regeneration does not bring it back)."""
    conference = await _managed(actor, conference_id)
    if conference["series"] is None:
        raise Conflict("Hội nghị này không thuộc chuỗi nào.")
    async with transaction():
        await Conference.update({Conference.skipped: True, Conference.is_exception: True}).where(Conference.id == conference_id)
        if conference["status"] == "draft":
            await Conference.update({Conference.status: "cancelled", Conference.cancelled_at: clock.now(),
                                     Conference.cancel_reason: clean(reason)}).where(Conference.id == conference_id)
        await Series.update({Series.revision: Series.revision + 1}).where(Series.id == conference["series"])
        await events.emit("occurrence_skipped", unit_id=conference["unit"], conference_id=conference_id, series_id=conference["series"])
    if conference["status"] == "published":
        await cancel_conference(actor, conference_id, reason=reason or "Bỏ kỳ này của chuỗi")
    return await Conference.select().where(Conference.id == conference_id).first()


async def split_series(
    actor: Actor, series_id: int, *, from_occurrence_key: str, rrule: str | None = None, local_start=None,
    duration_minutes: int | None = None, title: str | None = None,
) -> dict:
    """"This and following": the old series ends before ``from_occurrence_key``; a new one
    (``split_from`` the old) starts there with the changes. Future draft occurrences of the old
    series are replaced; published ones move to the new series unchanged (their invitations
    and sequences stay valid) unless the new rule no longer produces them, then they are cancelled.
    """
    old = await _series(series_id)
    require(actor, "manage", old["unit_path"], what=Label("chuỗi hội nghị"))
    split_at = _local(from_occurrence_key)
    if split_at <= _local(old["local_start"]):
        raise ValidationError("Không thể tách từ kỳ đầu tiên; hãy sửa cả chuỗi.", field="from_occurrence_key")
    new_start = _local(local_start) if local_start is not None else split_at
    new_rule = rrule or old["rrule"]
    _rule(new_rule, new_start)
    future = await Conference.select().where((Conference.series == series_id) & (Conference.occurrence_key >= split_at.isoformat()))
    async with transaction():
        await Series.update({Series.until_local: (split_at - dt.timedelta(minutes=1)).isoformat(),
                             Series.revision: Series.revision + 1}).where(Series.id == series_id)
        new_id = (await Series.insert(Series(
            unit=old["unit"], title=fit(clean(title), Series.title, field="title") or old["title"], kind=old["kind"], format=old["format"], rrule=new_rule,
            local_start=new_start.isoformat(), duration_minutes=duration_minutes or old["duration_minutes"], timezone=old["timezone"],
            template=old["template"], split_from=series_id, created_at=clock.now(),
        )).returning(Series.id))[0]["id"]
        drafts = [c["id"] for c in future if c["status"] == "draft" and not c["is_exception"]]
        if drafts:
            await Conference.delete().where(Conference.id.is_in(drafts))
        await audit.record(actor, "series.split", object_type="series", object_id=series_id, unit_id=old["unit"], new_series=new_id)
        await events.emit("series_split", unit_id=old["unit"], series_id=series_id, new_series_id=new_id)
    new_series = await _series(new_id)
    horizon = (clock.now() + dt.timedelta(days=31 * get_settings().series_horizon_months)).astimezone(
        zoneinfo.ZoneInfo(old["timezone"])).replace(tzinfo=None)
    wanted_keys = {start.isoformat() for start in occurrences(new_series, until_local=horizon)}
    for conference in future:
        if conference["id"] in drafts:
            continue
        if conference["occurrence_key"] in wanted_keys:
            await Conference.update({Conference.series: new_id}).where(Conference.id == conference["id"])
        elif conference["status"] == "published":
            await cancel_conference(actor, conference["id"], reason="Lịch của chuỗi đã thay đổi")
    await materialise_series(new_id, actor=actor)
    return await get_series(actor, new_id)


