"""Conferences: schedule, venues (connection points), agenda, speakers, lifecycle.

Every change is recorded in ``conference_change``. A change of time, venue, online link or a
cancellation is a *significant revision*: ``conference.revision`` rises (and with it each
active invitation's sequence, and the series' revision for an occurrence) — the one number
calendar SEQUENCE and change notices use.

Invitees are told of a cancellation (``notify``, on by default) and, when the organiser chooses,
of a significant revision: the change schedules a notice job in its own transaction (see
``core.notifications.schedule_notice``). A draft was never announced, so it tells nobody.
Returned rows carry ``notice_recipients``: how many invitees the notice goes to (0: none).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core import clock, events
from core.access import Actor, conference_scope, require
from core.db import transaction
from core.errors import Conflict, Label, NotFound, ValidationError
from core.limits import fit
from core.services import audit
from core.services.units import check_timezone, get_unit
from core.tables import (
    AgendaSession, Audience, Conference, ConferenceAudience, ConferenceChange, Person, Series, SessionSpeaker, Speaker, Venue,
)
from core.text import clean

KINDS = {
    "periodic_briefing": "Hội nghị báo cáo viên định kỳ",
    "extraordinary": "Hội nghị đột xuất",
    "all_member": "Hội nghị toàn thể cán bộ, đảng viên",
    "study": "Hội nghị học tập, quán triệt",
    "review": "Hội nghị giao ban, sơ kết, tổng kết",
    "other": "Khác",
}
FORMATS = {"in_person": "Trực tiếp", "online": "Trực tuyến", "hybrid": "Trực tiếp và trực tuyến"}
STATUSES = {"draft": Label("Bản nháp"), "published": Label("Đã công bố"), "ended": Label("Đã kết thúc"), "cancelled": Label("Đã huỷ")}
SIGNIFICANT_FIELDS = {"starts_at", "ends_at", "timezone", "format"}
SESSION_FIELDS = {"title", "topic", "starts_at", "ends_at"}
EDITABLE_FIELDS = {"title", "description", "kind", "format", "starts_at", "ends_at", "timezone", "is_public"}


def _aware(value: Any, field: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError("Thời gian không hợp lệ: {value!r}.", field=field, value=value) from None
    if not isinstance(value, dt.datetime):
        raise ValidationError("Cần ngày giờ đầy đủ.", field=field)
    if value.tzinfo is None:
        raise ValidationError("Thời gian phải kèm múi giờ (ví dụ 2026-03-10T08:00:00+07:00).", field=field)
    return value.astimezone(dt.timezone.utc)


def _check_fields(values: dict) -> None:
    if "title" in values and not values["title"]:
        raise ValidationError("Tên hội nghị không được để trống.", field="title")
    fit(values.get("title"), Conference.title, field="title")
    if "kind" in values and values["kind"] not in KINDS:
        raise ValidationError("Loại hội nghị không hợp lệ. Chọn: {choices}.", field="kind", choices=KINDS)
    if "format" in values and values["format"] not in FORMATS:
        raise ValidationError("Hình thức không hợp lệ. Chọn: {choices}.", field="format", choices=FORMATS)
    if values["ends_at"] <= values["starts_at"]:
        raise ValidationError("Giờ kết thúc phải sau giờ bắt đầu.", field="ends_at")


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _clean_venue(venue: dict) -> dict:
    name = clean(venue.get("name"))
    if not name:
        raise ValidationError("Tên điểm cầu không được để trống.", field="venues")
    fit(name, Venue.name, field="venues")
    url = fit(clean(venue.get("online_url")) or None, Venue.online_url, field="online_url")
    if url and not url.startswith(("https://", "http://")):
        raise ValidationError("Đường dẫn trực tuyến phải bắt đầu bằng https://", field="online_url")
    return {"name": name, "address": clean(venue.get("address")), "host_unit": venue.get("host_unit_id"), "online_url": url}


async def _conference(conference_id: int) -> dict:
    row = await Conference.select().where(Conference.id == conference_id).first()
    if row is None:
        raise NotFound("Không tìm thấy hội nghị.")
    return row


async def _managed(actor: Actor, conference_id: int) -> dict:
    scope = await conference_scope(actor, conference_id, "manage")
    if not scope.whole:
        from core.errors import Forbidden

        raise Forbidden("Chỉ đơn vị tổ chức mới sửa được hội nghị này.")
    return scope.conference


async def _record_change(actor: Actor, conference: dict, changes: dict, *, significant: bool, cancelling: bool = False,
                         notify: bool = False) -> int:
    """Write the change row (and bump revisions when significant); returns how many invitees the
    change notice goes to (``notify`` and a significant revision of a published conference).

    ``conference`` is the row as it was before the change. A cancellation is significant (the
    sequences rise, as RFC 5546 wants for CANCEL) but announces itself with its own event and
    notice.
    """
    revision = conference["revision"] + (1 if significant else 0)
    await Conference.update({
        Conference.version: Conference.version + 1, Conference.revision: revision, Conference.updated_at: clock.now(),
    }).where(Conference.id == conference["id"])
    await ConferenceChange.insert(ConferenceChange(
        conference=conference["id"], actor_id=actor.user_id, changed_at=clock.now(),
        changes={key: [_json(old), _json(new)] for key, (old, new) in changes.items()}, significant=significant, revision=revision,
    ))
    await audit.record(actor, "conference.update", object_type="conference", object_id=conference["id"], unit_id=conference["unit"],
                       fields=sorted(changes), significant=significant)
    if significant:
        if conference["status"] == "published":
            from core.services.invitations import bump_sequences

            await bump_sequences(conference["id"])
        if conference["series"] is not None:
            await Series.update({Series.revision: Series.revision + 1}).where(Series.id == conference["series"])
            await Conference.update({Conference.is_exception: True}).where(Conference.id == conference["id"])
        if conference["status"] == "published" and not cancelling:
            from core.notifications import schedule_reminders

            await schedule_reminders(conference["id"])  # reminders move with the conference
            await events.emit("conference_revised", unit_id=conference["unit"], conference_id=conference["id"], revision=revision,
                              fields=sorted(changes))
            if notify:
                return await _schedule_notice(conference, "change_notice", revision)
    return 0


async def _schedule_notice(conference: dict, kind: str, revision: int) -> int:
    from core.notifications import notice_recipients, schedule_notice

    await schedule_notice(conference_id=conference["id"], unit_id=conference["unit"], kind=kind, revision=revision)
    return await notice_recipients(conference["id"], kind)


async def create_conference(
    actor: Actor, *, unit_id: int, title: str, kind: str, format: str, starts_at, ends_at, timezone: str | None = None,
    description: str = "", is_public: bool = False, venues: list[dict] = (), audience_ids: list[int] = (),
    series_id: int | None = None, occurrence_key: str | None = None,
) -> dict:
    unit = await get_unit(unit_id)
    require(actor, "manage", unit["path"], what=Label("đơn vị"))
    values = {"title": clean(title), "kind": kind, "format": format,
              "starts_at": _aware(starts_at, "starts_at"), "ends_at": _aware(ends_at, "ends_at")}
    _check_fields(values)
    tz = check_timezone(timezone or unit["timezone"])
    cleaned_venues = [_clean_venue(v) for v in venues]
    if format in ("online", "hybrid") and cleaned_venues and not any(v["online_url"] for v in cleaned_venues):
        raise ValidationError("Hội nghị trực tuyến cần đường dẫn trực tuyến ở ít nhất một điểm cầu.", field="venues")
    for venue in cleaned_venues:
        if venue["host_unit"] is not None:
            host = await get_unit(venue["host_unit"])
            require(actor, "read", host["path"], what=Label("đơn vị chủ trì điểm cầu"))
    for audience_id in audience_ids:
        audience = await Audience.select(Audience.unit.path.as_alias("path")).where(Audience.id == audience_id).first()
        if audience is None:
            raise ValidationError("Không tìm thấy đối tượng #{audience_id}.", field="audience_ids", audience_id=audience_id)
        require(actor, "read", audience["path"], what=Label("đối tượng"))
    now = clock.now()
    async with transaction():
        row = (await Conference.insert(Conference(
            unit=unit_id, description=clean(description), timezone=tz, is_public=is_public, series=series_id,
            occurrence_key=occurrence_key, created_at=now, updated_at=now, **values,
        )).returning(Conference.id))[0]
        if cleaned_venues:
            await Venue.insert(*[Venue(conference=row["id"], **v) for v in cleaned_venues])
        if audience_ids:
            await ConferenceAudience.insert(*[ConferenceAudience(conference=row["id"], audience=a) for a in sorted(set(audience_ids))])
        await ConferenceChange.insert(ConferenceChange(conference=row["id"], actor_id=actor.user_id, changed_at=now,
                                                       changes={"created": [None, values["title"]]}))
        await audit.record(actor, "conference.create", object_type="conference", object_id=row["id"], unit_id=unit_id,
                           title=values["title"])
        await events.emit("conference_created", unit_id=unit_id, conference_id=row["id"])
    return await get_conference(actor, row["id"])


async def update_conference(actor: Actor, conference_id: int, *, expected_version: int | None = None, notify: bool = False,
                            **fields) -> dict:
    """Edit fields; a change of time, zone or format is a significant revision, of which the
    invitees of a published conference get a change notice when ``notify``."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError("Không sửa được trường: {unknown}.", unknown=sorted(unknown))
    conference = await _managed(actor, conference_id)
    if conference["status"] in ("ended", "cancelled"):
        raise Conflict("Hội nghị đã kết thúc hoặc đã huỷ; không sửa được nữa.")
    if expected_version is not None and expected_version != conference["version"]:
        raise Conflict("Hội nghị vừa được người khác sửa; hãy tải lại trước khi lưu.", field="version")
    new = dict(fields)
    for key in ("starts_at", "ends_at"):
        if key in new:
            new[key] = _aware(new[key], key)
    if "title" in new:
        new["title"] = clean(new["title"])
    if "description" in new:
        new["description"] = clean(new["description"])
    if "timezone" in new:
        check_timezone(new["timezone"])
    merged = {**conference, **new}
    _check_fields(merged)
    changes = {key: (conference[key], value) for key, value in new.items() if conference[key] != value}
    if not changes:
        return {**await get_conference(actor, conference_id), "notice_recipients": 0}
    async with transaction():
        await Conference.update({getattr(Conference, key): value for key, (_, value) in changes.items()}).where(
            Conference.id == conference_id)
        told = await _record_change(actor, conference, changes, significant=bool(SIGNIFICANT_FIELDS & set(changes)), notify=notify)
        if conference["status"] == "published":
            await events.emit("conference_updated", unit_id=conference["unit"], conference_id=conference_id, fields=sorted(changes))
    return {**await get_conference(actor, conference_id), "notice_recipients": told}


async def add_venue(actor: Actor, conference_id: int, *, notify: bool = False, **venue) -> dict:
    conference = await _managed(actor, conference_id)
    cleaned = _clean_venue(venue)
    if cleaned["host_unit"] is not None:
        require(actor, "read", (await get_unit(cleaned["host_unit"]))["path"], what=Label("đơn vị chủ trì điểm cầu"))
    async with transaction():
        row = (await Venue.insert(Venue(conference=conference_id, **cleaned)).returning(Venue.id))[0]
        told = await _record_change(actor, conference, {"venue_added": (None, cleaned["name"])},
                                    significant=conference["status"] != "draft", notify=notify)
    return {**await Venue.select().where(Venue.id == row["id"]).first(), "notice_recipients": told}


async def update_venue(actor: Actor, venue_id: int, *, notify: bool = False, **changes) -> dict:
    venue = await Venue.select().where(Venue.id == venue_id).first()
    if venue is None:
        raise NotFound("Không tìm thấy điểm cầu.")
    conference = await _managed(actor, venue["conference"])
    merged = _clean_venue({"name": venue["name"], "address": venue["address"], "host_unit_id": venue["host_unit"],
                           "online_url": venue["online_url"], **changes})
    diff = {f"venue.{key}": (venue[key], value) for key, value in merged.items() if venue[key] != value}
    if not diff:
        return {**venue, "notice_recipients": 0}
    async with transaction():
        await Venue.update({getattr(Venue, key): value for key, value in merged.items()}).where(Venue.id == venue_id)
        # a different place or link is a significant revision; a renamed hall is not
        significant = any(key in diff for key in ("venue.address", "venue.online_url", "venue.host_unit"))
        told = await _record_change(actor, conference, diff, significant=significant, notify=notify)
    return {**await Venue.select().where(Venue.id == venue_id).first(), "notice_recipients": told}


async def remove_venue(actor: Actor, venue_id: int, *, notify: bool = False) -> dict:
    """Remove a venue (a significant revision); returns ``notice_recipients``."""
    venue = await Venue.select().where(Venue.id == venue_id).first()
    if venue is None:
        raise NotFound("Không tìm thấy điểm cầu.")
    conference = await _managed(actor, venue["conference"])
    async with transaction():
        await Venue.delete().where(Venue.id == venue_id)
        told = await _record_change(actor, conference, {"venue_removed": (venue["name"], None)}, significant=True, notify=notify)
    return {"notice_recipients": told}


def _clean_session(conference: dict, *, title: str, topic: str, starts_at, ends_at) -> dict:
    title = clean(title)
    if not title:
        raise ValidationError("Tên phiên không được để trống.", field="title")
    fit(title, AgendaSession.title, field="title")
    fit(clean(topic), AgendaSession.topic, field="topic")
    start = _aware(starts_at, "starts_at") if starts_at is not None else None
    end = _aware(ends_at, "ends_at") if ends_at is not None else None
    for value, field in ((start, "starts_at"), (end, "ends_at")):
        if value is not None and not conference["starts_at"] <= value <= conference["ends_at"]:
            raise ValidationError("Thời gian của phiên phải nằm trong thời gian hội nghị.", field=field)
    if start and end and end <= start:
        raise ValidationError("Giờ kết thúc phiên phải sau giờ bắt đầu.", field="ends_at")
    return {"title": title, "topic": clean(topic), "starts_at": start, "ends_at": end}


async def add_session(actor: Actor, conference_id: int, *, title: str, topic: str = "", starts_at=None, ends_at=None) -> dict:
    conference = await _managed(actor, conference_id)
    cleaned = _clean_session(conference, title=title, topic=topic, starts_at=starts_at, ends_at=ends_at)
    position = await AgendaSession.count().where(AgendaSession.conference == conference_id)
    async with transaction():
        row = (await AgendaSession.insert(AgendaSession(conference=conference_id, position=position, **cleaned))
               .returning(AgendaSession.id))[0]
        await _record_change(actor, conference, {"session_added": (None, cleaned["title"])}, significant=False)
    return await AgendaSession.select().where(AgendaSession.id == row["id"]).first()


async def _session(session_id: int) -> dict:
    session = await AgendaSession.select().where(AgendaSession.id == session_id).first()
    if session is None:
        raise NotFound("Không tìm thấy phiên.")
    return session


async def update_session(actor: Actor, session_id: int, **changes) -> dict:
    """Retitle or retime an item of the agenda (a change of the agenda is not a significant revision)."""
    session = await _session(session_id)
    conference = await _managed(actor, session["conference"])
    if set(changes) - SESSION_FIELDS:
        raise ValidationError("Chỉ sửa được tên, chủ đề và thời gian của phiên.")
    merged = _clean_session(conference, **{**{key: session[key] for key in SESSION_FIELDS}, **changes})
    diff = {f"session.{key}": (session[key], value) for key, value in merged.items() if session[key] != value}
    if diff:
        async with transaction():
            await AgendaSession.update({getattr(AgendaSession, key): value for key, value in merged.items()}) \
                .where(AgendaSession.id == session_id)
            await _record_change(actor, conference, diff, significant=False)
    return await AgendaSession.select().where(AgendaSession.id == session_id).first()


async def remove_session(actor: Actor, session_id: int) -> None:
    session = await _session(session_id)
    conference = await _managed(actor, session["conference"])
    async with transaction():
        await AgendaSession.delete().where(AgendaSession.id == session_id)
        await _record_change(actor, conference, {"session_removed": (session["title"], None)}, significant=False)


def _fit_speaker(values: dict) -> None:
    for key in ("name", "position_title", "organisation"):
        fit(values[key], getattr(Speaker, key), field=key)


async def add_speaker(
    actor: Actor, conference_id: int, *, session_id: int, person_id: int | None = None, name: str = "",
    position_title: str = "", organisation: str = "",
) -> dict:
    """A speaker (a person of the system, or an external guest) on one session of the agenda."""
    conference = await _managed(actor, conference_id)
    if not await AgendaSession.exists().where((AgendaSession.id == session_id) & (AgendaSession.conference == conference_id)):
        raise NotFound("Không tìm thấy phiên này trong hội nghị.")  # the session is in the path: unknown ids are 404
    if person_id is not None:
        person = await Person.select(Person.full_name, Person.position).where(Person.id == person_id).first()
        if person is None:
            raise ValidationError("Không tìm thấy người này.", field="person_id")
        name = name or person["full_name"]
        position_title = position_title or (person["position"] or "")
    name = clean(name)
    if not name:
        raise ValidationError("Cần tên người trình bày.", field="name")
    _fit_speaker({"name": name, "position_title": clean(position_title), "organisation": clean(organisation)})
    async with transaction():
        speaker = (await Speaker.insert(Speaker(person=person_id, name=name, position_title=clean(position_title),
                                                organisation=clean(organisation), unit=conference["unit"])).returning(Speaker.id))[0]
        await SessionSpeaker.insert(SessionSpeaker(session=session_id, speaker=speaker["id"]))
        await _record_change(actor, conference, {"speaker_added": (None, name)}, significant=False)
    return await Speaker.select().where(Speaker.id == speaker["id"]).first()


async def _session_speaker(actor: Actor, conference_id: int, session_id: int, speaker_id: int) -> tuple[dict, dict]:
    """The conference (managed by the actor) and the speaker, who must be on that session of it."""
    conference = await _managed(actor, conference_id)
    link = await SessionSpeaker.select(SessionSpeaker.id).where(
        (SessionSpeaker.session == session_id) & (SessionSpeaker.speaker == speaker_id)
        & (SessionSpeaker.session.conference == conference_id)).first()
    if link is None:
        raise NotFound("Không tìm thấy người trình bày này trong phiên.")
    return conference, await Speaker.select().where(Speaker.id == speaker_id).first()


async def update_speaker(actor: Actor, conference_id: int, *, session_id: int, speaker_id: int, **changes) -> dict:
    """Correct a speaker's name, position or organisation (everywhere the speaker appears)."""
    conference, speaker = await _session_speaker(actor, conference_id, session_id, speaker_id)
    unknown = set(changes) - {"name", "position_title", "organisation"}
    if unknown:
        raise ValidationError("Chỉ sửa được họ tên, chức vụ và cơ quan của người trình bày.")
    merged = {key: clean(changes.get(key, speaker[key])) for key in ("name", "position_title", "organisation")}
    if not merged["name"]:
        raise ValidationError("Cần tên người trình bày.", field="name")
    _fit_speaker(merged)
    diff = {f"speaker.{key}": (speaker[key], value) for key, value in merged.items() if speaker[key] != value}
    if diff:
        async with transaction():
            await Speaker.update({getattr(Speaker, key): value for key, value in merged.items()}).where(Speaker.id == speaker_id)
            await _record_change(actor, conference, diff, significant=False)
    return await Speaker.select().where(Speaker.id == speaker_id).first()


async def remove_speaker(actor: Actor, conference_id: int, *, session_id: int, speaker_id: int) -> None:
    """Take a speaker off a session (the speaker's own row stays: other sessions and evaluation
    results may name them)."""
    conference, speaker = await _session_speaker(actor, conference_id, session_id, speaker_id)
    async with transaction():
        await SessionSpeaker.delete().where((SessionSpeaker.session == session_id) & (SessionSpeaker.speaker == speaker_id))
        await _record_change(actor, conference, {"speaker_removed": (speaker["name"], None)}, significant=False)


async def set_audiences(actor: Actor, conference_id: int, audience_ids: list[int]) -> None:
    """Choose the audiences; after publishing use invitations.re_resolve to apply them."""
    conference = await _managed(actor, conference_id)
    for audience_id in audience_ids:
        audience = await Audience.select(Audience.unit.path.as_alias("path")).where(Audience.id == audience_id).first()
        if audience is None:
            raise ValidationError("Không tìm thấy đối tượng #{audience_id}.", field="audience_ids", audience_id=audience_id)
        require(actor, "read", audience["path"], what=Label("đối tượng"))
    async with transaction():
        await ConferenceAudience.delete().where(ConferenceAudience.conference == conference_id)
        if audience_ids:
            await ConferenceAudience.insert(*[ConferenceAudience(conference=conference_id, audience=a) for a in sorted(set(audience_ids))])
        await _record_change(actor, conference, {"audiences": (None, sorted(set(audience_ids)))}, significant=False)


async def publish_conference(actor: Actor, conference_id: int) -> dict:
    """draft -> published; snapshots the audiences into invitations in the same transaction."""
    from core.notifications import schedule_reminders
    from core.services.invitations import snapshot_on_publish

    conference = await _managed(actor, conference_id)
    if conference["status"] != "draft":
        raise Conflict("Chỉ công bố được bản nháp (hiện: {status}).", status=STATUSES[conference['status']])
    if not await Venue.exists().where(Venue.conference == conference_id):
        raise ValidationError("Cần ít nhất một điểm cầu trước khi công bố.", field="venues")
    async with transaction():
        await Conference.update({Conference.status: "published", Conference.published_at: clock.now(),
                                 Conference.version: Conference.version + 1}).where(Conference.id == conference_id)
        await ConferenceChange.insert(ConferenceChange(conference=conference_id, actor_id=actor.user_id, changed_at=clock.now(),
                                                       changes={"status": ["draft", "published"]}, revision=conference["revision"]))
        await snapshot_on_publish(actor, conference_id)
        await schedule_reminders(conference_id)
        await audit.record(actor, "conference.publish", object_type="conference", object_id=conference_id, unit_id=conference["unit"])
        await events.emit("conference_published", unit_id=conference["unit"], conference_id=conference_id)
    return await get_conference(actor, conference_id)


async def cancel_conference(actor: Actor, conference_id: int, *, reason: str = "", notify: bool = True) -> dict:
    """Cancel; the reminders go, and with ``notify`` the invitees of a published conference who
    have not declined get the cancellation (with the reason; a calendar CANCEL where the ical
    plugin is on)."""
    conference = await _managed(actor, conference_id)
    if conference["status"] in ("ended", "cancelled"):
        raise Conflict("Hội nghị đã kết thúc hoặc đã huỷ.")
    told = 0
    async with transaction():
        await Conference.update({Conference.status: "cancelled", Conference.cancelled_at: clock.now(),
                                 Conference.cancel_reason: clean(reason)}).where(Conference.id == conference_id)
        await _record_change(actor, conference, {"status": (conference["status"], "cancelled")}, significant=True, cancelling=True)
        from core.notifications import cancel_reminders

        await cancel_reminders(conference_id)
        if conference["status"] == "published":
            await events.emit("conference_cancelled", unit_id=conference["unit"], conference_id=conference_id, reason=clean(reason))
            if notify:
                told = await _schedule_notice(conference, "cancellation", conference["revision"] + 1)
    return {**await get_conference(actor, conference_id), "notice_recipients": told}


async def end_conference(actor: Actor, conference_id: int) -> dict:
    """published -> ended: roll-call closes, people with no record become absent."""
    conference = await _managed(actor, conference_id)
    await _end(actor, conference)
    return await get_conference(actor, conference_id)


async def _end(actor: Actor, conference: dict) -> None:
    from core.services.rollcall import derive_absent

    if conference["status"] != "published":
        raise Conflict("Chỉ kết thúc được hội nghị đã công bố (hiện: {status}).", status=STATUSES[conference['status']])
    async with transaction():
        updated = await Conference.update({Conference.status: "ended", Conference.ended_at: clock.now(),
                                           Conference.version: Conference.version + 1}).where(
            (Conference.id == conference["id"]) & (Conference.status == "published")).returning(Conference.id)
        if not updated:
            return  # ended meanwhile by another process
        absent = await derive_absent(conference["id"])
        await audit.record(actor, "conference.end", object_type="conference", object_id=conference["id"], unit_id=conference["unit"],
                           absent=absent)
        await events.emit("conference_ended", unit_id=conference["unit"], conference_id=conference["id"])


async def end_due_conferences(now: dt.datetime | None = None) -> list[int]:
    """The job: end every published conference whose end has passed. Idempotent."""
    now = now or clock.now()
    system = Actor.system_actor("ending job")
    due = await Conference.select().where((Conference.status == "published") & (Conference.ends_at <= now))
    for conference in due:
        await _end(system, conference)
    return [conference["id"] for conference in due]


async def get_conference(actor: Actor, conference_id: int) -> dict:
    """The conference with venues, agenda (and speakers), audiences and change history."""
    scope = await conference_scope(actor, conference_id, "read")
    conference = {key: value for key, value in scope.conference.items() if key != "unit_path"}  # the row the scope read
    conference["venues"] = await Venue.select().where(Venue.conference == conference_id).order_by(Venue.id)
    conference["visible_venue_ids"] = None if scope.whole else sorted(scope.venue_ids)
    sessions = await AgendaSession.select().where(AgendaSession.conference == conference_id).order_by(AgendaSession.position)
    links = await SessionSpeaker.select(SessionSpeaker.session, SessionSpeaker.speaker).where(
        SessionSpeaker.session.is_in([session["id"] for session in sessions])) if sessions else []
    # two plain statements: Piccolo builds a select of every joined speaker column slowly (2 ms)
    speakers = {row["id"]: row for row in await Speaker.select().where(Speaker.id.is_in(sorted({link["speaker"] for link in links})))} \
        if links else {}
    for session in sessions:
        session["speakers"] = [dict(speakers[link["speaker"]]) for link in links if link["session"] == session["id"]]
    conference["sessions"] = sessions
    from core.services.audiences import audiences_of_conference

    conference["audiences"] = await audiences_of_conference(conference_id)
    conference["changes"] = await ConferenceChange.select().where(
        ConferenceChange.conference == conference_id).order_by(ConferenceChange.id).output(load_json=True)
    return conference


async def list_conferences(
    actor: Actor, *, unit_id: int, include_subtree: bool = True, start: dt.datetime | None = None, end: dt.datetime | None = None,
    status: str | None = None, kind: str | None = None, limit: int = 100, offset: int = 0,
) -> list[dict]:
    """Conferences of a unit (subtree), plus those hosted at a venue of one of the actor's units."""
    unit = await get_unit(unit_id)
    require(actor, "read", unit["path"], what=Label("đơn vị"))
    pattern = f"{unit['path']}%" if include_subtree else unit["path"]
    own = Conference.unit.path.like(pattern) if include_subtree else Conference.unit.path == pattern
    hosted = Conference.id.is_in(Venue.select(Venue.conference).where(
        Venue.host_unit.path.like(pattern) if include_subtree else Venue.host_unit.path == pattern))
    query = Conference.select(Conference.all_columns(), Conference.unit.name.as_alias("unit_name")).where(own | hosted)
    if start is not None:
        query = query.where(Conference.ends_at >= _aware(start, "start"))
    if end is not None:
        query = query.where(Conference.starts_at < _aware(end, "end"))
    if status:
        query = query.where(Conference.status == status)
    if kind:
        query = query.where(Conference.kind == kind)
    return await query.order_by(Conference.starts_at).limit(max(1, min(limit, 1000))).offset(max(0, offset))




async def delete_conference(actor: Actor, conference_id: int, *, host) -> dict[str, str]:
    """Delete a draft or cancelled conference nobody attended; every installed plugin cleans up
    its own rows (``conference_deleted``), even where it is off. Returns plugins that failed."""
    from core.plugins import call_each
    from core.tables import Attendance

    conference = await _managed(actor, conference_id)
    if conference["status"] not in ("draft", "cancelled"):
        raise Conflict("Chỉ xoá được bản nháp hoặc hội nghị đã huỷ; hội nghị đã công bố hãy huỷ trước.")
    if await Attendance.exists().where((Attendance.conference == conference_id) & (Attendance.method != "derived")):
        raise Conflict("Hội nghị đã có điểm danh; không xoá được (giữ số liệu báo cáo).")
    async with transaction():
        await Conference.delete().where(Conference.id == conference_id)
        await audit.record(actor, "conference.delete", object_type="conference", object_id=conference_id, unit_id=conference["unit"],
                           title=conference["title"])
    return await call_each(host, "conference_deleted", conference_id=conference_id)
