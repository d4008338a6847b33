"""Reads for the organiser's pages: the dashboard's "what needs action", the month calendar, the
reach of a choice of audiences. Plain reads over the other services' tables; every function
checks the actor's reach into the unit first and sees only the unit's subtree.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from core import clock
from core.access import Actor, require
from core.errors import Label, NotFound, ValidationError
from core.services.units import get_unit
from core.tables import Audience, Conference, DomainEvent, EventDelivery, Invitation, Job, Material, Unit, Venue

# a quota counts as nearly used up when this share of it, or less, is left
QUOTA_WARNING_SHARE = 0.1
WEEK = dt.timedelta(days=7)


async def _reachable_unit(actor: Actor, unit_id: int) -> dict:
    unit = await get_unit(unit_id)
    require(actor, "read", unit["path"], what=Label("đơn vị"))
    return unit


def _in_subtree(path: str):
    """Conferences of the unit's subtree, or hosted at a venue of one of its units."""
    pattern = f"{path}%"
    hosted = Conference.id.is_in(Venue.select(Venue.conference).where(Venue.host_unit.path.like(pattern)))
    return Conference.unit.path.like(pattern) | hosted


_COLUMNS = (Conference.id, Conference.title, Conference.kind, Conference.format, Conference.status, Conference.starts_at,
            Conference.ends_at, Conference.timezone, Conference.series, Conference.unit)


async def upcoming_conferences(actor: Actor, *, unit_id: int, limit: int = 10) -> list[dict]:
    """Conferences of the subtree not yet over and not cancelled, soonest first."""
    unit = await _reachable_unit(actor, unit_id)
    return await Conference.select(*_COLUMNS, Conference.unit.name.as_alias("unit_name")).where(
        _in_subtree(unit["path"]) & (Conference.ends_at >= clock.now()) & Conference.status.is_in(["draft", "published"])
    ).order_by(Conference.starts_at).limit(max(1, min(limit, 100)))


async def needs_action(actor: Actor, *, unit_id: int, host=None, limit: int = 10) -> dict:
    """What an organiser of the unit should look at now.

    ``drafts``: future conferences of the unit's own subtree still in draft; ``without_materials``:
    conferences starting within seven days that have no material; ``unanswered``: published
    upcoming conferences with invitations nobody answered (count per conference, and the total);
    ``dead_letters``: event deliveries and jobs of the subtree that failed for good; ``quotas``:
    notification channels of the unit whose monthly quota is nearly used up (with ``host`` only).
    """
    from core.notifications import channels, quota_usage

    unit = await _reachable_unit(actor, unit_id)
    now = clock.now()
    own = Conference.unit.path.like(f"{unit['path']}%")
    drafts_query = own & (Conference.status == "draft") & (Conference.starts_at >= now)
    drafts = await Conference.select(*_COLUMNS).where(drafts_query).order_by(Conference.starts_at).limit(limit)
    drafts_total = await Conference.count().where(drafts_query)
    without_materials = await Conference.select(*_COLUMNS).where(
        own & Conference.status.is_in(["draft", "published"]) & (Conference.starts_at >= now) & (Conference.starts_at < now + WEEK)
        & Conference.id.not_in(Material.select(Material.conference))
    ).order_by(Conference.starts_at).limit(limit)
    upcoming_published = Conference.select(Conference.id).where(own & (Conference.status == "published") & (Conference.ends_at >= now))
    pending_rows = await Invitation.select(Invitation.conference).where(
        Invitation.conference.is_in(upcoming_published) & (Invitation.status == "active") & (Invitation.rsvp == "pending"))
    pending: dict[int, int] = {}
    for row in pending_rows:
        pending[row["conference"]] = pending.get(row["conference"], 0) + 1
    unanswered = []
    if pending:
        rows = await Conference.select(*_COLUMNS).where(Conference.id.is_in(sorted(pending))).order_by(Conference.starts_at).limit(limit)
        unanswered = [{**row, "pending": pending[row["id"]]} for row in rows]
    subtree_ids = Unit.select(Unit.id).where(Unit.path.like(f"{unit['path']}%"))
    dead_deliveries = await EventDelivery.count().where(
        (EventDelivery.status == "dead") & EventDelivery.event.is_in(DomainEvent.select(DomainEvent.id).where(
            DomainEvent.unit_id.is_in(subtree_ids))))
    dead_jobs = await Job.count().where((Job.status == "dead") & Job.unit_id.is_in(subtree_ids))
    quotas = []
    if host is not None:
        for name, channel in sorted(channels(host).items()):
            usage = await quota_usage(unit_id, unit["path"], name)
            if usage is not None and usage["left"] <= usage["limit"] * QUOTA_WARNING_SHARE:
                quotas.append({"channel": name, "label": getattr(channel, "label", name), **usage})
    return {"drafts": drafts, "drafts_total": drafts_total, "without_materials": without_materials, "unanswered": unanswered,
            "unanswered_total": sum(pending.values()), "dead_letters": dead_deliveries + dead_jobs, "quotas": quotas}


def month_bounds(month: str | None, timezone: str) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """The first day of ``month`` ("YYYY-MM"; the current month when None) and its bounds in
    the zone, as aware datetimes."""
    zone = zoneinfo.ZoneInfo(timezone)
    if month:
        try:
            first = dt.datetime.strptime(month, "%Y-%m").date()
        except ValueError:
            raise ValidationError("Tháng không hợp lệ: {month!r} (dạng yyyy-mm).", field="month", month=month) from None
        if not 1900 <= first.year <= 2999:
            raise ValidationError("Tháng không hợp lệ: {month!r} (dạng yyyy-mm).", field="month", month=month)
    else:
        first = clock.now().astimezone(zone).date().replace(day=1)
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, dt.datetime.combine(first, dt.time(), zone), dt.datetime.combine(following, dt.time(), zone)


async def month_calendar(actor: Actor, *, unit_id: int, month: str | None = None) -> dict:
    """A month of the unit's conferences, by day in the unit's time zone: weeks (Monday first)
    of days, each with the conferences starting that day."""
    unit = await _reachable_unit(actor, unit_id)
    first, start, end = month_bounds(month, unit["timezone"])
    zone = zoneinfo.ZoneInfo(unit["timezone"])
    rows = await Conference.select(*_COLUMNS, Conference.unit.name.as_alias("unit_name")).where(
        _in_subtree(unit["path"]) & (Conference.starts_at >= start) & (Conference.starts_at < end)
    ).order_by(Conference.starts_at).limit(2000)
    by_day: dict[dt.date, list[dict]] = {}
    for row in rows:
        by_day.setdefault(row["starts_at"].astimezone(zone).date(), []).append(row)
    today = clock.now().astimezone(zone).date()
    day = first - dt.timedelta(days=first.weekday())
    last = end.date() - dt.timedelta(days=1)
    weeks = []
    while day <= last:
        week = []
        for _ in range(7):
            week.append({"date": day, "in_month": day.month == first.month, "today": day == today,
                         "conferences": by_day.get(day, [])})
            day += dt.timedelta(days=1)
        weeks.append(week)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    return {"unit": unit, "month": first, "weeks": weeks, "count": len(rows),
            "previous": previous.strftime("%Y-%m"), "next": end.date().strftime("%Y-%m")}


async def audience_reach(actor: Actor, *, audience_ids: list[int]) -> int:
    """How many distinct people a choice of audiences means now (the editor's live count)."""
    from core.services.audiences import resolve_audience_ids

    people: set[int] = set()
    for audience_id in sorted(set(audience_ids)):
        audience = await Audience.select(Audience.unit.path.as_alias("path")).where(Audience.id == audience_id).first()
        if audience is None:
            raise NotFound("Không tìm thấy đối tượng.")
        require(actor, "read", audience["path"], what=Label("đối tượng"))
        people |= await resolve_audience_ids(audience_id)
    return len(people)


async def managed_units(actor: Actor) -> list[dict]:
    """Units where the actor may organise conferences: their organiser/admin units and the
    units below them, in tree order (for the unit choice of the conference form)."""
    paths = actor.paths_with("manage")
    if actor.system or not paths:
        return []
    condition = None
    for path in paths:
        clause = Unit.path.like(f"{path}%")
        condition = clause if condition is None else condition | clause
    return await Unit.select(Unit.id, Unit.name, Unit.path, Unit.depth, Unit.timezone).where(condition).order_by(Unit.path).limit(500)


ROLL_CALL_STATUSES = ("present", "late", "substitute", "excused", "absent", "not_recorded")


async def roll_call_board(
    actor: Actor, conference_id: int, *, venue_id: int | None = None, status: str | None = None, query: str = "", limit: int = 300,
) -> dict:
    """One screen of the roll-call: the first ``limit`` invitees (Vietnamese order) matching a
    venue, a status and a name, with their records; and the totals of everyone in view, from two
    grouped queries, so that a conference of a hundred thousand invitees stays cheap to show.
    Staff reaching the conference through a venue grant see only their venues."""
    from core.access import conference_scope
    from core.services.rollcall import counts_by_venue
    from core.tables import Attendance
    from core.text import search_pattern

    scope = await conference_scope(actor, conference_id, "read")
    visible = None if scope.whole else scope.venue_ids
    if venue_id is not None and visible is not None and venue_id not in visible:
        raise NotFound("Không tìm thấy điểm cầu.")
    condition = (Invitation.conference == conference_id) & (Invitation.status == "active")
    if visible is not None:
        condition &= Invitation.venue.is_in(sorted(visible))
    if venue_id is not None:
        condition &= Invitation.venue == venue_id
    for pattern in search_pattern(query):
        condition &= Invitation.person.search_folded.like(pattern)
    recorded = Attendance.select(Attendance.person).where(Attendance.conference == conference_id)
    if status == "not_recorded":
        condition &= Invitation.person.not_in(recorded)
    elif status in ROLL_CALL_STATUSES:
        condition &= Invitation.person.is_in(recorded.where(Attendance.status == status))
    limit = max(1, min(limit, 2000))
    rows = await Invitation.select(
        Invitation.person, Invitation.venue, Invitation.rsvp, Invitation.person.full_name.as_alias("full_name"),
        Invitation.person.unit.name.as_alias("unit_name"),
    ).where(condition).order_by(Invitation.person.sort_key).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    records = {}
    if rows:
        records = {row["person"]: row for row in await Attendance.select().where(
            (Attendance.conference == conference_id) & Attendance.person.is_in([row["person"] for row in rows]))}
    by_venue = {venue: figures for venue, figures in (await counts_by_venue(conference_id)).items()
                if (visible is None or venue in visible) and (venue_id is None or venue == venue_id)}
    counts = {key: 0 for key in ("invited", *ROLL_CALL_STATUSES)}
    for figures in by_venue.values():
        for key in counts:
            counts[key] += figures.get(key, 0)
    return {"rows": [{**row, "record": records.get(row["person"])} for row in rows], "more": more, "counts": counts,
            "invited": counts["invited"], "by_venue": by_venue}
