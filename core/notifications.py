"""The notification service: kinds, templates, recipients, quiet hours, opt-out, quotas,
channel choice and the delivery log. Channels (SMS, email, ...) come from plugins through the
``notification_channels`` hook; the core brings a ``console`` channel for development, tests
and the demo.

Sending: rows are queued (one per recipient and idempotency key), then a job marks each
``sending`` and commits *before* the channel is called outside any transaction; a crash leaves
``sending``, which :func:`reconcile_stale` turns into ``unknown`` — never a blind resend.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import inspect
import json
import logging
import os
import secrets
import string
import time
import zoneinfo
from typing import Any, Protocol

from core import clock
from core.access import Actor, conference_scope, require
from core.config import get_settings
from core.db import bulk_insert, transaction
from core.errors import Conflict, Forbidden, Label, NotFound, ValidationError
from core.services import audit
from core.services.units import ancestors, get_unit
from core.tables import Attendance, Conference, Invitation, Message, MessageTemplate, NotificationOptOut, Person, UnitSetting, Venue

log = logging.getLogger("hoinghi.notifications")

CORE_KINDS: dict[str, dict] = {
    "invitation": {"label": "Giấy mời", "subject": "Giấy mời: {title}",
                   "body": "Kính mời đồng chí {name} dự {title} lúc {start} tại {venue}. Xác nhận tham dự: {link}"},
    "nudge": {"label": "Nhắc trả lời", "subject": "Đề nghị xác nhận tham dự: {title}",
              "body": "Đồng chí {name} chưa xác nhận tham dự {title} ({start}). Vui lòng trả lời: {link}"},
    "reminder": {"label": "Nhắc lịch", "subject": "Nhắc lịch: {title}",
                 "body": "Nhắc đồng chí {name}: {title} bắt đầu lúc {start} tại {venue}."},
    "change_notice": {"label": "Thông báo thay đổi", "subject": "Thay đổi: {title}",
                      "body": "{title} có thay đổi: {start} tại {venue}. Chi tiết: {link}"},
    "cancellation": {"label": "Thông báo huỷ", "subject": "Huỷ: {title}",
                     "body": "{title} dự kiến lúc {start} đã được huỷ. {reason}"},
    "withdrawal": {"label": "Thông báo rút lời mời", "subject": "Rút lời mời: {title}",
                   "body": "Đồng chí {name} không còn trong danh sách mời dự {title} ({start})."},
    "absentee_follow_up": {"label": "Nhắc người vắng", "subject": "Tài liệu {title}",
                           "body": "Đồng chí {name} vắng mặt tại {title}. Tài liệu hội nghị: {link}"},
    "one_time_code": {"label": "Mã xác nhận", "subject": "Mã xác nhận", "body": "Mã xác nhận của đồng chí: {code}"},
    "free_message": {"label": "Tin nhắn tự do", "subject": "{title}", "body": "{text}"},
}
VARIABLES = {
    "name": "Họ tên người nhận", "title": "Tên hội nghị", "start": "Giờ bắt đầu (dd/mm/yyyy HH:MM)", "venue": "Địa điểm",
    "link": "Đường dẫn trang cá nhân", "reason": "Lý do", "code": "Mã xác nhận", "text": "Nội dung tự do", "unit": "Đơn vị",
}
# who a conference message goes to, by the invitation's answer
AUDIENCES = {
    "all": None,
    "not_answered": ["pending"],
    "accepted": ["accepted"],
    "attending": ["accepted", "pending"],  # reminders: not to those who declined or are excused
    "not_declined": ["pending", "accepted", "excused", "delegated"],  # cancellations and change notices
    "absent": None,  # recorded absent by the roll-call (absentee follow-up)
    "present": None,  # recorded present or late by the roll-call (evaluation forms)
}
DEFAULT_QUIET_HOURS = (21, 7)
STALE_SENDING = dt.timedelta(minutes=10)


class SendError(Exception):
    """Raised by a channel's ``send``: the provider refused the message for good; it fails with
    this reason (any other exception counts the same)."""


class TransientSendError(SendError):
    """Nothing reached the provider (refused connection, throttled, busy) and the channel's own
    retries ran out: the message is queued again ``retry_after`` seconds later, until it is
    older than ``TRANSIENT_GIVE_UP``."""

    def __init__(self, reason: str, *, retry_after: float = 300.0):
        super().__init__(reason)
        self.retry_after = retry_after


class UncertainSendError(SendError):
    """The provider may have taken the message (the answer never came): it becomes ``unknown``,
    which a delivery receipt may still settle; never resent blindly."""


TRANSIENT_GIVE_UP = dt.timedelta(hours=12)


class Channel(Protocol):
    name: str
    label: str
    capabilities: frozenset[str]  # "attachments", "one_time_codes", "delivery_receipts"
    cost_per_message: float
    plugin: str | None

    def address_for(self, person: dict) -> str | None: ...

    async def send(self, message: dict, attachments: list[dict]) -> str | None: ...


@dataclasses.dataclass
class ConsoleChannel:
    """Writes messages to the log and to var/console-messages.log. Declares every capability."""

    name: str = "console"
    label: str = Label("Bảng điều khiển (thử nghiệm)")
    capabilities: frozenset[str] = frozenset({"attachments", "one_time_codes", "delivery_receipts"})
    cost_per_message: float = 0.0
    plugin: str | None = None

    def address_for(self, person: dict) -> str | None:
        return person.get("phone") or person.get("email") or f"person:{person['id']}"

    async def send(self, message: dict, attachments: list[dict]) -> str | None:
        line = json.dumps({"to": message["address"], "kind": message["kind"], "subject": message["subject"], "body": message["body"],
                           "attachments": [a.get("filename") for a in attachments]}, ensure_ascii=False)
        path = get_settings().var_dir / "console-messages.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        log.info("console message: %s", line)
        return f"console-{message['id']}"


def console_enabled() -> bool:
    return os.environ.get("HOINGHI_CONSOLE_CHANNEL", "0") == "1"


def channels(host) -> dict[str, Channel]:
    """Every channel: plugins' ones, plus the console when enabled for this deployment."""
    found: dict[str, Channel] = {}
    for contributed in host.pm.hook.notification_channels():
        for channel in contributed or []:
            found[channel.name] = channel
    if console_enabled():
        found["console"] = ConsoleChannel()
    return found


def kinds(host=None) -> dict[str, dict]:
    found = dict(CORE_KINDS)
    if host is not None:
        for contributed in host.pm.hook.message_kinds():
            for kind in contributed or []:
                found[kind["kind"]] = {"label": kind.get("label", kind["kind"]), "subject": kind.get("subject", ""),
                                       "body": kind.get("default_template", kind.get("body", ""))}
    return found


def check_template(text: str, field: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:  # Python's own words ("expected '}' before end of string") are English and technical
        raise ValidationError("Mẫu không hợp lệ: dấu ngoặc nhọn { } chưa khớp; dùng {ten_bien} cho biến.", field=field) from None
    unknown = sorted(names - set(VARIABLES))
    if unknown:
        raise ValidationError("Biến không có: {unknown}. Dùng được: {variables}.", field=field, unknown=unknown,
                              variables=sorted(VARIABLES))


async def save_template(actor: Actor, *, unit_id: int, kind: str, channel: str, body: str, subject: str = "", host=None) -> dict:
    unit = await get_unit(unit_id)
    require(actor, "manage", unit["path"], what=Label("đơn vị"))
    if kind not in kinds(host):
        raise ValidationError("Loại tin nhắn không có: {kind!r}.", field="kind", kind=kind)
    if not body.strip():
        raise ValidationError("Nội dung mẫu không được để trống.", field="body")
    check_template(body, "body")
    check_template(subject, "subject")
    async with transaction():
        await MessageTemplate.delete().where((MessageTemplate.unit == unit_id) & (MessageTemplate.kind == kind)
                                             & (MessageTemplate.channel == channel))
        await MessageTemplate.insert(MessageTemplate(unit=unit_id, kind=kind, channel=channel, subject=subject, body=body))
        await audit.record(actor, "template.save", object_type="unit", object_id=unit_id, unit_id=unit_id, kind=kind, channel=channel)
    return {"kind": kind, "channel": channel, "subject": subject, "body": body}


async def template_for(unit_path: str, kind: str, channel: str, host=None) -> dict:
    """The nearest unit's template (the unit, then its ancestors), else the core default."""
    chain = await ancestors(unit_path)
    ids = [unit["id"] for unit in chain]
    rows = await MessageTemplate.select().where(MessageTemplate.unit.is_in(ids) & (MessageTemplate.kind == kind)
                                                & (MessageTemplate.channel == channel)) if ids else []
    by_unit = {row["unit"]: row for row in rows}
    for unit_id in reversed(ids):
        if unit_id in by_unit:
            return {"subject": by_unit[unit_id]["subject"], "body": by_unit[unit_id]["body"]}
    default = kinds(host).get(kind)
    if default is None:
        raise ValidationError("Loại tin nhắn không có: {kind!r}.", field="kind", kind=kind)
    return {"subject": default["subject"], "body": default["body"]}


def render(template: dict, context: dict) -> tuple[str, str]:
    values = {name: context.get(name, "") for name in VARIABLES}
    return template["subject"].format_map(values), template["body"].format_map(values)


async def unit_setting(unit_path: str, key: str, default: Any = None) -> Any:
    """A unit's setting, inherited from the nearest ancestor that sets it."""
    ids = [int(part) for part in unit_path.strip("/").split("/") if part]
    rows = await UnitSetting.select(UnitSetting.unit, UnitSetting.value).where(
        UnitSetting.unit.is_in(ids) & (UnitSetting.key == key)) if ids else []
    # SQLite's JSON columns have numeric affinity: '2' comes back as the number 2
    by_unit = {row["unit"]: json.loads(row["value"]) if isinstance(row["value"], str) else row["value"] for row in rows}
    for unit_id in reversed(ids):
        if unit_id in by_unit:
            return by_unit[unit_id]
    return default


async def set_unit_setting(actor: Actor, unit_id: int, key: str, value: Any) -> None:
    unit = await get_unit(unit_id)
    require(actor, "admin", unit["path"], what=Label("đơn vị"))
    async with transaction():
        await UnitSetting.delete().where((UnitSetting.unit == unit_id) & (UnitSetting.key == key))
        # stored as JSON text ourselves: a bare number would come back as a number from SQLite
        await UnitSetting.insert(UnitSetting(unit=unit_id, key=key, value=json.dumps(value, ensure_ascii=False)))
        await audit.record(actor, "setting.set", object_type="unit", object_id=unit_id, unit_id=unit_id, key=key)


def next_allowed(now: dt.datetime, timezone: str, quiet: tuple[int, int]) -> dt.datetime:
    """``now``, or the end of the quiet hours (in the unit's zone) when now is inside them."""
    start_hour, end_hour = quiet
    local = now.astimezone(zoneinfo.ZoneInfo(timezone))
    inside = local.hour >= start_hour or local.hour < end_hour if start_hour > end_hour else start_hour <= local.hour < end_hour
    if not inside:
        return now
    day = local.date() if local.hour < end_hour else local.date() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, end_hour, tzinfo=local.tzinfo).astimezone(dt.timezone.utc)


async def _enabled_channels(host, unit_path: str) -> list[Channel]:
    available = channels(host)
    # a unit may restrict itself to some channels; the demo data set allows only the console,
    # since its phone numbers look real
    allowed = await unit_setting(unit_path, "notifications.channels_allowed", None)
    if allowed is not None:
        if "console" in allowed:
            available.setdefault("console", ConsoleChannel())
        available = {name: channel for name, channel in available.items() if name in allowed}
    enabled_plugins = await host.enabled_for_path(unit_path)
    usable = {name: channel for name, channel in available.items() if channel.plugin is None or channel.plugin in enabled_plugins}
    order = await unit_setting(unit_path, "notifications.channel_order", None) or sorted(usable)
    return [usable[name] for name in order if name in usable] + [c for n, c in sorted(usable.items()) if n not in order]


async def _quota_left(unit_id: int, unit_path: str, channel: str) -> int | None:
    quota = await unit_setting(unit_path, f"notifications.quota.{channel}", None)
    if quota is None:
        return None
    now = clock.now()
    month_start = dt.datetime(now.year, now.month, 1, tzinfo=dt.timezone.utc)
    used = await Message.count().where((Message.unit_id == unit_id) & (Message.channel == channel) & (Message.created_at >= month_start)
                                       & (Message.kind != "one_time_code") & (Message.status != "failed"))
    return max(int(quota) - used, 0)


async def quota_usage(unit_id: int, unit_path: str, channel: str) -> dict | None:
    """This month's quota of a channel for a unit, {"limit", "left"}; None when it has none (dashboard)."""
    quota = await unit_setting(unit_path, f"notifications.quota.{channel}", None)
    if quota is None:
        return None
    return {"limit": int(quota), "left": await _quota_left(unit_id, unit_path, channel)}


def _local_start(conference: dict) -> str:
    return conference["starts_at"].astimezone(zoneinfo.ZoneInfo(conference["timezone"])).strftime("%d/%m/%Y %H:%M")


_MESSAGE_COLUMNS = ["kind", "unit_id", "conference_id", "person", "channel", "address", "subject", "body", "urgent", "status",
                    "idempotency_key", "send_after", "error", "created_at"]
RECIPIENT_CHUNK = 5000


async def _conference_context(conference: dict) -> dict:
    """Template variables every recipient of a conference message shares."""
    venue = await Venue.select(Venue.name, Venue.address).where(Venue.conference == conference["id"]).first()
    return {"title": conference["title"], "start": _local_start(conference), "reason": conference.get("cancel_reason", ""),
            "venue": (venue["address"] or venue["name"]) if venue else "",
            # the attendee's page; a login token never goes into a stored message body
            "link": f"{get_settings().public_url}/me"}


async def queue_conference_messages(
    actor: Actor, host, *, kind: str, conference_id: int, audience: str = "all", urgent: bool = False, text: str = "",
    campaign: str = "", withdrawn_since: dt.datetime | None = None,
) -> dict[str, int]:
    """Queue one message per recipient; returns counts (queued, duplicates, no_channel, opted_out, over_quota).

    Recipients are the active invitees in ``audience``; with ``withdrawn_since``, instead, the
    people withdrawn from the conference at or after that moment (a withdrawal notice).
    Recipients are read in chunks and written through the driver, so 100,000 of them neither
    fill the memory nor take minutes. The idempotency key holds the conference's revision and
    the invitation's sequence: a message already queued under it is not queued again, while a
    person withdrawn and invited again (a higher sequence) is written to afresh.
    """
    scope = await conference_scope(actor, conference_id, "manage")
    if not scope.whole:  # a venue grant reaches that venue's roll-call, not every invitee's phone
        raise Forbidden("Chỉ đơn vị tổ chức hội nghị mới gửi tin cho người được mời.")
    conference = scope.conference
    if audience not in AUDIENCES:
        raise ValidationError("Nhóm người nhận không hợp lệ. Chọn: {choices}.", field="audience", choices=AUDIENCES)
    if kind not in kinds(host):
        raise ValidationError("Loại tin nhắn không có: {kind!r}.", field="kind", kind=kind)
    unit_path = scope.unit_path
    usable = await _enabled_channels(host, unit_path)
    if not usable:
        raise Conflict("Đơn vị chưa bật kênh gửi tin nào (SMS, email...).")
    status = "withdrawn" if withdrawn_since is not None else "active"
    invited = Invitation.select(Invitation.person).where((Invitation.conference == conference_id) & (Invitation.status == status))
    opt_outs = {(row["person"], row["channel"]) for row in await NotificationOptOut.select(
        NotificationOptOut.person, NotificationOptOut.channel).where(NotificationOptOut.person.is_in(invited))}
    suffix = f":{campaign}" if campaign else ""
    prefix = f"{kind}:{conference_id}:"
    already = {row["idempotency_key"] for row in await Message.select(Message.idempotency_key).where(
        (Message.conference_id == conference_id) & (Message.kind == kind))}
    quiet = tuple(await unit_setting(unit_path, "notifications.quiet_hours", list(DEFAULT_QUIET_HOURS)))
    now = clock.now()
    send_after = now if urgent else next_allowed(now, conference["timezone"], quiet)
    counts = {"queued": 0, "duplicates": 0, "no_channel": 0, "opted_out": 0, "over_quota": 0}
    quota_left = {channel.name: await _quota_left(conference["unit"], unit_path, channel.name) for channel in usable}
    if all(left == 0 for left in quota_left.values()):
        raise Conflict("Đơn vị đã dùng hết hạn mức tin nhắn tháng này ({channels}): không tin nào được xếp hàng. Nâng hạn "
                       "mức trong Thiết lập thông báo hoặc chờ sang tháng sau.", channels=[Label(c.label) for c in usable])
    templates = {channel.name: await template_for(unit_path, kind, channel.name, host) for channel in usable}
    shared = {**await _conference_context(conference), "text": text}
    last_person = 0
    async with transaction():
        while True:
            query = Invitation.select(Invitation.person, Invitation.sequence, Invitation.person.full_name.as_alias("full_name"),
                                      Invitation.person.phone.as_alias("phone"), Invitation.person.email.as_alias("email")).where(
                (Invitation.conference == conference_id) & (Invitation.status == status) & (Invitation.person > last_person))
            if withdrawn_since is not None:
                query = query.where(Invitation.updated_at >= withdrawn_since)
            if AUDIENCES[audience] is not None:
                query = query.where(Invitation.rsvp.is_in(AUDIENCES[audience]))
            if audience == "absent":
                query = query.where(Invitation.person.is_in(Attendance.select(Attendance.person).where(
                    (Attendance.conference == conference_id) & (Attendance.status == "absent"))))
            if audience == "present":
                query = query.where(Invitation.person.is_in(Attendance.select(Attendance.person).where(
                    (Attendance.conference == conference_id) & Attendance.status.is_in(["present", "late"]))))
            chunk = await query.order_by(Invitation.person).limit(RECIPIENT_CHUNK)
            if not chunk:
                break
            last_person = chunk[-1]["person"]
            rows = []
            for recipient in chunk:
                person = {"id": recipient["person"], "phone": recipient["phone"], "email": recipient["email"]}
                key = f"{prefix}{person['id']}:{conference['revision']}.{recipient['sequence']}{suffix}"
                if key in already:
                    counts["duplicates"] += 1
                    continue
                chosen, opted = None, False
                for channel in usable:
                    if (person["id"], channel.name) in opt_outs:
                        opted = True
                        continue
                    address = channel.address_for(person)
                    if address:
                        chosen = (channel, address)
                        break
                if chosen is None:
                    counts["opted_out" if opted else "no_channel"] += 1
                    continue
                channel, address = chosen
                if quota_left[channel.name] is not None:
                    if quota_left[channel.name] <= 0:
                        counts["over_quota"] += 1
                        continue
                    quota_left[channel.name] -= 1
                subject, body = render(templates[channel.name], {**shared, "name": recipient["full_name"]})
                rows.append((kind, conference["unit"], conference_id, person["id"], channel.name, address, subject, body, urgent,
                             "queued", key, send_after, "", now))
            await bulk_insert(Message, _MESSAGE_COLUMNS, rows)
            counts["queued"] += len(rows)
        await audit.record(actor, "messages.queue", object_type="conference", object_id=conference_id, unit_id=conference["unit"],
                           kind=kind, **counts)
        from core import jobs

        await jobs.schedule("send_messages", run_at=send_after, dedupe_key=f"core:send_messages:{send_after.isoformat()}")
    return counts


async def send_one_time_code(host, *, person_id: int, code: str, purpose: str) -> dict:
    """Send a one-time code now (quiet hours and quotas do not apply) on a capable channel."""
    person = await Person.select(Person.id, Person.phone, Person.email, Person.unit, Person.unit.path.as_alias("path")).where(
        Person.id == person_id).first()
    if person is None:
        raise NotFound("Không tìm thấy người này.")
    capable = [c for c in await _enabled_channels(host, person["path"]) if "one_time_codes" in c.capabilities]
    for channel in capable:
        address = channel.address_for(person)
        if address:
            subject, body = render(await template_for(person["path"], "one_time_code", channel.name, host), {"code": code})
            async with transaction():
                message = (await Message.insert(Message(
                    kind="one_time_code", unit_id=person["unit"], person=person_id, channel=channel.name, address=address,
                    subject=subject, body=body, urgent=True, idempotency_key=f"one_time_code:{purpose}:{person_id}:{secrets.token_hex(8)}",
                    send_after=clock.now(), created_at=clock.now())).returning(*Message.all_columns()))[0]
            return await _send(host, message, channel)
    raise Conflict("Không gửi được mã: đơn vị chưa bật kênh nào gửi được mã xác nhận (SMS) hoặc người này không có số điện thoại.")


# The two statements every message of a campaign makes, written out: Piccolo's query builder
# costs more CPU than the statement itself (0.13 against 0.06 ms on SQLite, 0.33 against 0.23
# on PostgreSQL), and at 200 messages a second that is a tenth of a core.
_CLAIM = ("UPDATE message SET status = 'sending', sending_at = {} WHERE id = {} AND status = 'queued' "
          "RETURNING id")
_RECORD_SENT = "UPDATE message SET status = 'sent', sent_at = {}, provider_id = {} WHERE id = {}"


async def _send(host, message: dict, channel: Channel, *, reread: bool = True) -> dict | None:
    """queued -> sending (committed) -> channel call outside any transaction -> sent | failed.
    Returns the message as recorded (``reread``; a campaign does not need it: one query less)."""
    claimed = await Message.raw(_CLAIM, clock.now(), message["id"])
    if not claimed:
        return await Message.select().where(Message.id == message["id"]).first() if reread else None
    attachments = []
    if "attachments" in channel.capabilities and message.get("unit_id"):
        unit = await get_unit(message["unit_id"])
        hooks = await host.hooks_for_path(unit["path"])
        for result in hooks.message_attachments(message=message):
            if inspect.isawaitable(result):  # a plugin that reads the database returns a coroutine
                result = await result
            attachments.extend(result or [])
    from core.jobs import _fault

    # crash-test points (HOINGHI_FAULT="message_claimed:sms@3"): inside the send window before
    # and after the call, and outside it once the result is recorded
    _fault("message_claimed", channel.name)
    try:
        provider_id = await channel.send(message, attachments)
        _fault("message_unrecorded", channel.name)
    except TransientSendError as error:
        await _requeue(message, error)
    except UncertainSendError as error:
        await Message.update({Message.status: "unknown", Message.error: str(error)[:1000]}).where(Message.id == message["id"])
    except Exception as error:  # the provider refused: the reason is kept on the message
        reason = str(error) if isinstance(error, SendError) else repr(error)
        await Message.update({Message.status: "failed", Message.error: reason[:1000]}).where(Message.id == message["id"])
    else:
        await Message.raw(_RECORD_SENT, clock.now(), provider_id, message["id"])
        _fault("message_recorded", channel.name)
    return await Message.select().where(Message.id == message["id"]).first() if reread else None


async def _requeue(message: dict, error: TransientSendError) -> None:
    """Queue a message again after a transient failure, with a job to send it; give up when old."""
    from core import jobs

    now = clock.now()
    if now - message["created_at"] > TRANSIENT_GIVE_UP:
        await Message.update({Message.status: "failed", Message.error: f"{error} (đã thử lại quá lâu, dừng gửi)"[:1000]}).where(
            Message.id == message["id"])
        return
    retry_at = now + dt.timedelta(seconds=error.retry_after)
    await Message.update({Message.status: "queued", Message.send_after: retry_at, Message.error: str(error)[:1000]}).where(
        Message.id == message["id"])
    await jobs.schedule("send_messages", run_at=retry_at, dedupe_key=f"core:send_messages:{retry_at.isoformat()}")


SEND_CHUNK = 500
# one round of the send_messages job: 10 s at 200 messages/s; a larger campaign goes on in
# further rounds. A slow channel (a few messages a second) would need longer than the job's
# lease for that many, so a round also stops starting messages after half the lease
# (``jobs.SEND_ROUND_SECONDS``): another worker never takes the job over while it still sends.
SEND_PER_JOB = 2000
ROUND_CLOCK = time.monotonic  # the clock of a round's time budget (a test paces on virtual time)


async def send_due(host, *, limit: int = 500, deadline: float | None = None) -> int:
    """Send queued messages whose time came, at most ``limit``, none started at or after
    ``deadline`` (on ``ROUND_CLOCK``; the rest stay queued for the next round); returns how many
    were attempted.

    Due messages are read a chunk at a time; the next chunk is read while the previous one is
    still being sent, so a channel's window never runs dry between chunks (at most two chunks
    in memory). Each message is still claimed on its own just before its call (see ``_send``)."""
    available = channels(host)
    enabled: dict[int, set[str]] = {}
    gates: dict[str, asyncio.Semaphore] = {}
    attempted = 0
    after = 0
    previous: list[asyncio.Future] = []

    def out_of_time() -> bool:
        return deadline is not None and ROUND_CLOCK() >= deadline

    async def send_in_gate(message: dict, channel: Channel) -> None:
        nonlocal attempted
        async with gates[channel.name]:
            if out_of_time():  # not claimed: it stays queued, untouched
                attempted -= 1
                return
            await _send(host, message, channel, reread=False)

    while attempted < limit and not out_of_time():
        due = await Message.select().where(
            (Message.status == "queued") & (Message.send_after <= clock.now()) & (Message.id > after)).order_by(
            Message.id).limit(min(SEND_CHUNK, limit - attempted))
        if not due:
            break
        attempted += len(due)
        after = due[-1]["id"]
        current = []
        for message in due:
            channel = available.get(message["channel"])
            if channel is None and message["channel"] == "console":
                channel = ConsoleChannel()  # queued for a unit restricted to the console (the demo)
            if channel is not None and channel.plugin is not None and message["unit_id"] is not None:
                # the unit may have switched the channel's plugin off since the message was queued
                if message["unit_id"] not in enabled:
                    enabled[message["unit_id"]] = await host.enabled_for_path((await get_unit(message["unit_id"]))["path"])
                if channel.plugin not in enabled[message["unit_id"]]:
                    channel = None
            if channel is None:
                await Message.update({Message.status: "failed", Message.error: "kênh không còn được bật"}).where(
                    Message.id == message["id"])
                continue
            # a channel may take several messages at once (``concurrency``: an SMPP window, a pool
            # of HTTP connections); its own pacing keeps the rate
            if channel.name not in gates:
                gates[channel.name] = asyncio.Semaphore(max(int(getattr(channel, "concurrency", 1) or 1), 1))
            current.append(asyncio.ensure_future(send_in_gate(message, channel)))
        if previous:
            await asyncio.gather(*previous)
        previous = current
    if previous:
        await asyncio.gather(*previous)
    return attempted


async def reconcile_stale(*, older_than: dt.timedelta = STALE_SENDING) -> int:
    """A message left ``sending`` by a crash becomes ``unknown`` (a receipt may still settle it)."""
    stale = await Message.update({Message.status: "unknown"}).where(
        (Message.status == "sending") & (Message.sending_at < clock.now() - older_than)).returning(Message.id)
    return len(stale)


async def opt_out(person_id: int, channel: str) -> None:
    await NotificationOptOut.insert(NotificationOptOut(person=person_id, channel=channel, created_at=clock.now())).on_conflict(
        action="DO NOTHING")


async def message_log(actor: Actor, conference_id: int, *, limit: int = 200) -> list[dict]:
    scope = await conference_scope(actor, conference_id, "read")
    query = Message.select(Message.id, Message.kind, Message.person, Message.channel, Message.status, Message.error,
                           Message.created_at, Message.sent_at).where(Message.conference_id == conference_id)
    if not scope.whole:  # a venue grant: the messages of that venue's invitees only
        query = query.where(Message.person.is_in(Invitation.select(Invitation.person).where(
            (Invitation.conference == conference_id) & Invitation.venue.is_in(sorted(scope.venue_ids)))))
    return await query.order_by(Message.id).limit(limit)




LOG_STATUSES = ("queued", "sending", "sent", "delivered", "failed", "unknown")


async def unit_message_log(
    actor: Actor, *, unit_id: int, status: str | None = None, channel: str | None = None, kind: str | None = None,
    conference_id: int | None = None, limit: int = 100, offset: int = 0,
) -> dict:
    """Messages of a unit's subtree, newest first, with the recipient's name and the conference
    title; filters by delivery status, channel, kind and conference. ``counts`` per status for
    the same filters. Needs 'read' on the unit."""
    from piccolo.query.methods.select import Count

    from core.tables import Unit

    unit = await get_unit(unit_id)
    require(actor, "read", unit["path"], what=Label("đơn vị"))
    if status and status not in LOG_STATUSES:
        raise ValidationError("Trạng thái không hợp lệ. Chọn: {choices}.", field="status", choices=LOG_STATUSES)
    units = Unit.select(Unit.id).where(Unit.path.like(f"{unit['path']}%"))

    def filtered(query, with_status: bool = True):
        query = query.where(Message.unit_id.is_in(units))
        if with_status and status:
            query = query.where(Message.status == status)
        if channel:
            query = query.where(Message.channel == channel)
        if kind:
            query = query.where(Message.kind == kind)
        if conference_id is not None:
            query = query.where(Message.conference_id == conference_id)
        return query

    rows = await filtered(Message.select(
        Message.id, Message.kind, Message.conference_id, Message.person, Message.person.full_name.as_alias("full_name"),
        Message.channel, Message.address, Message.subject, Message.body, Message.status, Message.error, Message.created_at,
        Message.send_after, Message.sent_at, Message.delivered_at,
    )).order_by(Message.id, ascending=False).limit(max(1, min(limit, 500))).offset(max(0, offset))
    titles = {}
    ids = sorted({row["conference_id"] for row in rows if row["conference_id"]})
    if ids:
        titles = {row["id"]: row["title"] for row in await Conference.select(Conference.id, Conference.title).where(Conference.id.is_in(ids))}
    for row in rows:
        row["conference_title"] = titles.get(row["conference_id"], "")
    counts = {name: 0 for name in LOG_STATUSES}
    for row in await filtered(Message.select(Message.status, Count(alias="n")), with_status=False).group_by(Message.status):
        counts[row["status"]] = row["n"]
    return {"items": rows, "counts": counts, "total": sum(counts.values()) if not status else counts.get(status, 0)}


async def templates_in_force(actor: Actor, host, *, unit_id: int) -> list[dict]:
    """Every message kind on every channel for a unit: the wording in force and where it comes
    from (``own``: this unit; ``inherited``: an ancestor, named; ``default``: the core's)."""
    unit = await get_unit(unit_id)
    require(actor, "read", unit["path"], what=Label("đơn vị"))
    chain = await ancestors(unit["path"])
    names = {row["id"]: row["name"] for row in chain}
    rows = await MessageTemplate.select().where(MessageTemplate.unit.is_in(list(names)))
    found = {(row["unit"], row["kind"], row["channel"]): row for row in rows}
    result = []
    for kind, spec in kinds(host).items():
        for channel in sorted({*channels(host), "console"}):
            item = {"kind": kind, "label": spec["label"], "channel": channel, "subject": spec["subject"], "body": spec["body"],
                    "source": "default", "source_unit": None}
            for ancestor in reversed(chain):
                row = found.get((ancestor["id"], kind, channel))
                if row is not None:
                    item.update(subject=row["subject"], body=row["body"], source="own" if ancestor["id"] == unit_id else "inherited",
                                source_unit=ancestor["name"])
                    break
            result.append(item)
    return result


SAMPLE_CONTEXT = {"name": "Nguyễn Văn A", "title": "Hội nghị báo cáo viên tháng", "start": "15/01/2030 08:00",
                  "venue": "Hội trường Tỉnh ủy", "link": "https://hoinghi.example/me", "reason": "thay đổi lịch công tác",
                  "code": "482913", "text": "Nội dung thông báo", "unit": "Đơn vị"}


def preview_template(*, subject: str, body: str) -> dict:
    """A template's wording checked (ValidationError naming ``subject`` or ``body``) and filled
    with sample values."""
    if not body.strip():
        raise ValidationError("Nội dung mẫu không được để trống.", field="body")
    errors: dict[str, str] = {}
    for field, text in (("subject", subject), ("body", body)):
        try:
            check_template(text, field)
        except ValidationError as error:
            errors[field] = error.message
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    rendered_subject, rendered_body = render({"subject": subject, "body": body}, SAMPLE_CONTEXT)
    return {"subject": rendered_subject, "body": rendered_body}


def _conference_recipients(conference_id: int, audience: str):
    query = Invitation.select(Invitation.person).where((Invitation.conference == conference_id) & (Invitation.status == "active"))
    if AUDIENCES[audience] is not None:
        query = query.where(Invitation.rsvp.is_in(AUDIENCES[audience]))
    if audience == "absent":
        query = query.where(Invitation.person.is_in(Attendance.select(Attendance.person).where(
            (Attendance.conference == conference_id) & (Attendance.status == "absent"))))
    return query


async def campaign_preview(
    actor: Actor, host, *, kind: str, conference_id: int | None = None, audience: str = "all", audience_id: int | None = None,
    text: str = "",
) -> dict:
    """Before a campaign is sent: how many it reaches, the message as the first of them (in
    Vietnamese order) reads it on the unit's first channel, and the estimated cost of every
    recipient on that channel. A conference's invitees (``audience``: all, not_answered,
    accepted, absent) or the people of a saved audience (``audience_id``)."""
    from core.services.audiences import first_in_order, get_audience, resolve_audience_ids

    if kind not in kinds(host):
        raise ValidationError("Loại tin nhắn không có: {kind!r}.", field="kind", kind=kind)
    if conference_id is not None:
        scope = await conference_scope(actor, conference_id, "manage")
        if not scope.whole:  # the recipients and their count span every venue, as in preview()
            raise Forbidden("Chỉ đơn vị tổ chức hội nghị mới soạn tin cho người được mời.")
        if audience not in AUDIENCES:
            raise ValidationError("Nhóm người nhận không hợp lệ. Chọn: {choices}.", field="audience", choices=AUDIENCES)
        ids = sorted(row["person"] for row in await _conference_recipients(conference_id, audience))
        unit_path, context = scope.unit_path, await _conference_context(scope.conference)
        unit_id = scope.conference["unit"]
    elif audience_id is not None:
        target = await get_audience(actor, audience_id)
        require(actor, "manage", target["unit_path"], what=Label("đối tượng"))
        ids = sorted(await resolve_audience_ids(audience_id))
        unit_path, unit_id = target["unit_path"], target["unit"]
        context = {"title": target["name"], "link": f"{get_settings().public_url}/me"}
    else:
        raise ValidationError("Chọn hội nghị hoặc đối tượng nhận tin.", field="conference_id")
    usable = await _enabled_channels(host, unit_path)
    channel = usable[0] if usable else None
    first = await first_in_order(ids, limit=1)
    subject, body = "", ""
    if channel is not None:
        subject, body = render(await template_for(unit_path, kind, channel.name, host),
                               {**context, "text": text, "name": first[0]["full_name"] if first else SAMPLE_CONTEXT["name"]})
    cost = round((getattr(channel, "cost_per_message", 0.0) or 0.0) * len(ids), 2)
    result = {"recipients": len(ids), "channel": channel.name if channel else None,
              "channel_label": getattr(channel, "label", "") if channel else "", "subject": subject, "body": body,
              "estimated_cost": cost, "unit_id": unit_id, "unit_path": unit_path,
              "quota": await quota_usage(unit_id, unit_path, channel.name) if channel else None}
    if channel is not None and hasattr(channel, "preview_figures"):
        result["channel_figures"] = await channel.preview_figures(body=body, recipients=len(ids), unit_path=unit_path)
        result["estimated_cost"] = result["channel_figures"].get("sent", {}).get("cost", cost)
    return result


async def queue_audience_messages(
    actor: Actor, host, *, audience_id: int, text: str, subject: str = "", urgent: bool = False, campaign: str = "",
) -> dict[str, int]:
    """A free message to the people of a saved audience, outside any conference: one message per
    person on the first channel of the audience's unit that reaches them, with its opt-outs,
    quotas and quiet hours. ``campaign`` (the compose form's own key) makes a second submission
    of the same form a no-op. Needs 'manage' on the audience's unit."""
    from core import jobs
    from core.services.audiences import get_audience, resolve_audience_ids

    target = await get_audience(actor, audience_id)
    require(actor, "manage", target["unit_path"], what=Label("đối tượng"))
    if not text.strip():
        raise ValidationError("Nội dung tin nhắn không được để trống.", field="text")
    unit_path, unit_id = target["unit_path"], target["unit"]
    usable = await _enabled_channels(host, unit_path)
    if not usable:
        raise Conflict("Đơn vị chưa bật kênh gửi tin nào (SMS, email...).")
    unit = await get_unit(unit_id)
    ids = sorted(await resolve_audience_ids(audience_id))
    campaign = campaign or secrets.token_hex(8)
    prefix = f"free_message:audience:{audience_id}:{campaign}:"
    already = {row["idempotency_key"] for row in await Message.select(Message.idempotency_key).where(
        Message.idempotency_key.like(f"{prefix}%"))}
    quiet = tuple(await unit_setting(unit_path, "notifications.quiet_hours", list(DEFAULT_QUIET_HOURS)))
    now = clock.now()
    send_after = now if urgent else next_allowed(now, unit["timezone"], quiet)
    counts = {"queued": 0, "duplicates": 0, "no_channel": 0, "opted_out": 0, "over_quota": 0}
    quota_left = {channel.name: await _quota_left(unit_id, unit_path, channel.name) for channel in usable}
    shared = {"title": subject or target["name"], "text": text, "unit": unit["name"], "link": f"{get_settings().public_url}/me"}
    templates = {channel.name: await template_for(unit_path, "free_message", channel.name, host) for channel in usable}
    async with transaction():
        for start in range(0, len(ids), RECIPIENT_CHUNK):
            chunk = ids[start:start + RECIPIENT_CHUNK]
            people = await Person.select(Person.id, Person.full_name, Person.phone, Person.email).where(Person.id.is_in(chunk))
            opt_outs = {(row["person"], row["channel"]) for row in await NotificationOptOut.select(
                NotificationOptOut.person, NotificationOptOut.channel).where(NotificationOptOut.person.is_in(chunk))}
            rows = []
            for person in people:
                key = f"{prefix}{person['id']}"
                if key in already:
                    counts["duplicates"] += 1
                    continue
                chosen, opted = None, False
                for channel in usable:
                    if (person["id"], channel.name) in opt_outs:
                        opted = True
                        continue
                    address = channel.address_for(person)
                    if address:
                        chosen = (channel, address)
                        break
                if chosen is None:
                    counts["opted_out" if opted else "no_channel"] += 1
                    continue
                channel, address = chosen
                if quota_left[channel.name] is not None:
                    if quota_left[channel.name] <= 0:
                        counts["over_quota"] += 1
                        continue
                    quota_left[channel.name] -= 1
                rendered_subject, body = render(templates[channel.name], {**shared, "name": person["full_name"]})
                rows.append(("free_message", unit_id, None, person["id"], channel.name, address, rendered_subject, body, urgent,
                             "queued", key, send_after, "", now))
            await bulk_insert(Message, _MESSAGE_COLUMNS, rows)
            counts["queued"] += len(rows)
        await audit.record(actor, "messages.queue", object_type="audience", object_id=audience_id, unit_id=unit_id,
                           kind="free_message", **counts)
        await jobs.schedule("send_messages", run_at=send_after, dedupe_key=f"core:send_messages:{send_after.isoformat()}")
    return counts


async def apply_receipt(*, channel: str, provider_id: str, delivered: bool, reason: str = "") -> bool:
    """A delivery receipt from a channel: sent/unknown -> delivered, or failed with the reason.
    Returns False when no message has that provider id (the receipt is kept by the channel)."""
    values = {Message.status: "delivered", Message.delivered_at: clock.now()} if delivered else {
        Message.status: "failed", Message.error: reason[:1000] or "nhà mạng báo không gửi được"}
    updated = await Message.update(values).where(
        (Message.channel == channel) & (Message.provider_id == provider_id) & Message.status.is_in(["sent", "unknown", "sending"])
    ).returning(Message.id)
    return bool(updated)


async def preview(actor: Actor, host, *, kind: str, conference_id: int, channel: str) -> dict:
    """The message as the first invitee (in Vietnamese order) would read it, with the count."""
    scope = await conference_scope(actor, conference_id, "manage")
    if not scope.whole:  # the first invitee and the count span every venue
        raise Forbidden("Chỉ đơn vị tổ chức hội nghị mới soạn tin cho người được mời.")
    conference = scope.conference
    first = await Invitation.select(Invitation.person.full_name.as_alias("full_name")).where(
        (Invitation.conference == conference_id) & (Invitation.status == "active")).order_by(Invitation.person.sort_key).first()
    count = await Invitation.count().where((Invitation.conference == conference_id) & (Invitation.status == "active"))
    subject, body = render(await template_for(scope.unit_path, kind, channel, host), {
        **await _conference_context(conference), "name": first["full_name"] if first else "Nguyễn Văn A"})
    found = channels(host).get(channel)
    cost = getattr(found, "cost_per_message", 0.0) or 0.0
    result = {"subject": subject, "body": body, "recipients": count, "estimated_cost": round(cost * count, 2)}
    # a channel may count better than per message (SMS: segments, and what dropping diacritics saves)
    hooks = await host.hooks_for_path(scope.unit_path)
    message = {"unit_path": scope.unit_path, "unit_id": conference["unit"], "kind": kind, "subject": subject, "body": body}
    for figures in hooks.channel_preview(channel=channel, message=message, recipients=count):
        if inspect.isawaitable(figures):
            figures = await figures
        if figures:
            result["channel_figures"] = figures
            result["estimated_cost"] = figures.get("cost", result["estimated_cost"])
            break
    return result


DEFAULT_REMINDER_OFFSETS_HOURS = [24, 2]


async def schedule_reminders(conference_id: int) -> int:
    """(Re)schedule the reminder jobs of a published conference at the unit's offsets before its
    start; a moved conference moves its reminders (same dedupe keys). Returns how many."""
    from core import jobs

    conference = await Conference.select(Conference.all_columns(), Conference.unit.path.as_alias("unit_path")).where(
        Conference.id == conference_id).first()
    if conference is None or conference["status"] != "published":
        return 0
    offsets = await unit_setting(conference["unit_path"], "notifications.reminder_offsets_hours", DEFAULT_REMINDER_OFFSETS_HOURS)
    scheduled = 0
    for hours in offsets:
        run_at = conference["starts_at"] - dt.timedelta(hours=hours)
        key = f"reminder:{conference_id}:{hours}h"
        if run_at <= clock.now():
            await jobs.cancel(dedupe_key=key)
            continue
        await jobs.schedule("conference_reminder", run_at=run_at, dedupe_key=key, unit_id=conference["unit"],
                            conference_id=conference_id, payload={"hours": hours})
        scheduled += 1
    return scheduled


async def cancel_reminders(conference_id: int) -> int:
    from core import jobs

    return await jobs.cancel(conference_id=conference_id, kind="conference_reminder")


async def send_reminder(host, job: dict) -> dict[str, int]:
    """The reminder job: accepted and not-yet-answered invitees, not those who declined."""
    return await queue_conference_messages(Actor.system_actor("reminder job"), host, kind="reminder",
                                           conference_id=job["conference_id"], audience="attending",
                                           campaign=f"{job['payload'].get('hours', 0)}h")


# -- notices: what invitees are told when the conference changes under them ---------------------

# kind -> the conference statuses in which it still holds (a change notice is stale once the
# conference is cancelled), and who hears it among the invitations
NOTICES = {
    "cancellation": {"statuses": ("cancelled",), "audience": "not_declined"},
    "change_notice": {"statuses": ("published",), "audience": "not_declined"},
    "withdrawal": {"statuses": ("published", "cancelled"), "audience": "all"},
}
NOTICE_JOB = "conference_notice"
# the least time between a notice and the start of its conference once the quiet hours are over
NOTICE_MARGIN = dt.timedelta(hours=3)


async def notice_recipients(conference_id: int, kind: str) -> int:
    """How many active invitees a cancellation or change notice goes to (the forms say it)."""
    return await Invitation.count().where((Invitation.conference == conference_id) & (Invitation.status == "active")
                                          & Invitation.rsvp.is_in(AUDIENCES[NOTICES[kind]["audience"]]))


def notice_recipients_among(active_by_rsvp: dict[str, int], kind: str) -> int:
    """:func:`notice_recipients` from counts of the active invitations by answer, for a page that
    has read them already."""
    return sum(active_by_rsvp.get(answer, 0) for answer in AUDIENCES[NOTICES[kind]["audience"]])


async def schedule_notice(*, conference_id: int, unit_id: int, kind: str, revision: int,
                          withdrawn_since: dt.datetime | None = None) -> None:
    """Call in the transaction of the change: a job of the worker (which has the channels) queues
    the notice through :func:`queue_conference_messages`, so quiet hours, opt-outs, quotas and
    idempotency keys apply, and a change that rolls back tells nobody. ``withdrawn_since``: a
    withdrawal notice to the people withdrawn from that moment on."""
    from core import jobs

    payload = {"kind": kind}
    if withdrawn_since is not None:
        payload["withdrawn_since"] = withdrawn_since.isoformat()
    # one job per revision of a cancellation or change; each withdrawal has its own
    dedupe_key = None if withdrawn_since is not None else f"notice:{kind}:{conference_id}:{revision}"
    await jobs.schedule(NOTICE_JOB, run_at=clock.now(), dedupe_key=dedupe_key, unit_id=unit_id, conference_id=conference_id,
                        payload=payload)


async def send_notice(host, job: dict) -> dict[str, int] | None:
    """The notice job: queue the notice unless it no longer holds (conference deleted, or a change
    notice overtaken by a cancellation); None when nothing was queued."""
    kind = job["payload"]["kind"]
    conference = await Conference.select(Conference.status, Conference.starts_at, Conference.timezone,
                                         Conference.unit.path.as_alias("unit_path")).where(Conference.id == job["conference_id"]).first()
    if conference is None or conference["status"] not in NOTICES[kind]["statuses"]:
        return None
    since = job["payload"].get("withdrawn_since")
    try:
        return await queue_conference_messages(Actor.system_actor("thông báo hội nghị"), host, kind=kind,
                                               conference_id=job["conference_id"], audience=NOTICES[kind]["audience"],
                                               urgent=await _too_late_after_quiet_hours(conference),
                                               withdrawn_since=dt.datetime.fromisoformat(since) if since else None)
    except Conflict as refused:
        # no channel on for the unit, or its quota spent: a retry would meet the same refusal
        log.warning("notice %s of conference %s not queued: %s", kind, job["conference_id"], refused.message)
        return None


async def _too_late_after_quiet_hours(conference: dict) -> bool:
    """A notice held back by the quiet hours must still arrive well before the conference starts
    (a cancellation at 22:00 of a 07:30 meeting cannot wait until 07:00): if not, it goes now."""
    quiet = tuple(await unit_setting(conference["unit_path"], "notifications.quiet_hours", list(DEFAULT_QUIET_HOURS)))
    return conference["starts_at"] - next_allowed(clock.now(), conference["timezone"], quiet) < NOTICE_MARGIN


async def drop_queued_withdrawals(conference_id: int, person_ids: list[int]) -> None:
    """People invited again: a withdrawal notice of theirs still waiting (quiet hours) would tell
    them the opposite of the truth, so it goes before it leaves."""
    for start in range(0, len(person_ids), RECIPIENT_CHUNK):
        await Message.delete().where((Message.conference_id == conference_id) & (Message.kind == "withdrawal")
                                     & (Message.status == "queued") & Message.person.is_in(person_ids[start : start + RECIPIENT_CHUNK]))
