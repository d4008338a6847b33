"""Self check-in at a venue screen.

The screen shows a QR code of ``/qr_checkin/venues/<venue>/self/<window>.<mac>``: a code signed
(HMAC of the deployment key) for that venue and 30-second window. Opening it with a valid code
(the current or the previous window, so a slow network does not fail people) binds it to the
browser's session: the session gets a pass for that venue, valid a few minutes, used once; the
code itself is worthless a minute later, so a photo sent to someone at home no longer works.

The attendee is identified by the personal-link session (``person_id``), or by phone number and
a one-time code sent through the core's ``send_one_time_code`` — with the same answer whether or
not the number is invited, and caps per device (session) and per conference.

Self scans are recorded with method ``self_scan``; a device (session) checking in a second
person is flagged for staff. A conference may allow staff scans only.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets

from core import clock, notifications
from core.access import Actor, Grant, conference_scope
from core.config import get_settings
from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from core.services import rollcall
from core.services.people import parse_phone
from core.tables import Conference, Invitation, Person, Venue
from plugins.qr_checkin.tables import QrConferenceSetting, QrScan

log = logging.getLogger("hoinghi.qr_checkin")

WINDOW_SECONDS = 30
PASS_MINUTES = 5
OTP_MINUTES = 10
OTP_ATTEMPTS = 5
OTP_PER_DEVICE_PER_HOUR = 3
OTP_PER_CONFERENCE_PER_HOUR = 300
SESSION_PASS = "qr_checkin_pass"
SESSION_OTP = "qr_checkin_otp"
SESSION_DEVICE = "qr_checkin_device"

SELF_STATUSES = {
    "checked_in": "Đã điểm danh",
    "already_checked_in": "Đồng chí đã điểm danh trước đó",
    "not_invited": "Đồng chí không có trong danh sách mời của hội nghị này",
    "wrong_venue": "Đồng chí được mời dự ở điểm cầu khác",
    "expired": "Hội nghị đã kết thúc hoặc đã huỷ",
    "staff_only": "Hội nghị này chỉ điểm danh do cán bộ quét mã",
}


class TooMany(DomainError):
    status = 429


def window_of(now: dt.datetime) -> int:
    return int(now.timestamp()) // WINDOW_SECONDS


def _mac(venue_id: int, window: int) -> str:
    digest = hmac.new(get_settings().secret_key, f"qr_checkin:screen:{venue_id}:{window}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode()


def screen_code(venue_id: int, now: dt.datetime | None = None) -> str:
    window = window_of(now or clock.now())
    return f"{window}.{_mac(venue_id, window)}"


def check_screen_code(venue_id: int, code: str, now: dt.datetime | None = None) -> bool:
    """True for this venue's code of the current or the previous window."""
    window_text, _, mac = (code or "").partition(".")
    if not window_text.isdigit():
        return False
    window = int(window_text)
    current = window_of(now or clock.now())
    return window in (current, current - 1) and hmac.compare_digest(mac.upper(), _mac(venue_id, window))


async def venue_conference(venue_id: int) -> tuple[dict, dict]:
    venue = await Venue.select(Venue.id, Venue.name, Venue.conference).where(Venue.id == venue_id).first()
    if venue is None:
        raise NotFound("Không tìm thấy điểm cầu.")
    conference = await Conference.select(Conference.id, Conference.title, Conference.status, Conference.unit,
                                         Conference.unit.path.as_alias("unit_path")).where(Conference.id == venue["conference"]).first()
    return venue, conference


async def screen(actor: Actor, venue_id: int) -> tuple[dict, dict]:
    """The venue and conference for the venue screen (check-in rights on the venue)."""
    venue, conference = await venue_conference(venue_id)
    scope = await conference_scope(actor, conference["id"], "checkin")
    if not scope.covers_venue(venue_id):
        raise NotFound("Không tìm thấy điểm cầu.")
    return venue, conference


async def staff_scans_only(conference_id: int) -> bool:
    row = await QrConferenceSetting.select(QrConferenceSetting.staff_scans_only).where(
        QrConferenceSetting.conference == conference_id).first()
    return bool(row and row["staff_scans_only"])


async def set_staff_scans_only(actor: Actor, conference_id: int, value: bool) -> dict:
    scope = await conference_scope(actor, conference_id, "manage")
    if not scope.whole:  # the setting is the whole conference's: a venue's host may not change it
        raise Forbidden("Chỉ đơn vị tổ chức hội nghị mới đổi được cách điểm danh của hội nghị.")
    updated = await QrConferenceSetting.update({QrConferenceSetting.staff_scans_only: value}).where(
        QrConferenceSetting.conference == conference_id).returning(QrConferenceSetting.id)
    if not updated:
        await QrConferenceSetting.insert(QrConferenceSetting(conference=conference_id, staff_scans_only=value))
    return {"conference_id": conference_id, "staff_scans_only": value}


# -- the pass a valid screen code leaves in the session ----------------------------------------------

def open_pass(session: dict, venue_id: int, code: str) -> dict:
    """Check the code and bind it to this session: returns the new session contents."""
    if not check_screen_code(venue_id, code):
        raise ValidationError("Mã trên màn hình đã đổi. Hãy quét lại mã đang hiện trên màn hình điểm cầu.", field="code")
    return {**session, SESSION_PASS: {"venue": venue_id, "until": (clock.now() + dt.timedelta(minutes=PASS_MINUTES)).isoformat()},
            SESSION_DEVICE: session.get(SESSION_DEVICE) or secrets.token_urlsafe(16)}


def pass_valid(session: dict, venue_id: int) -> bool:
    held = session.get(SESSION_PASS) or {}
    return held.get("venue") == venue_id and dt.datetime.fromisoformat(held.get("until", "1970-01-01T00:00:00+00:00")) > clock.now()


# -- one-time codes --------------------------------------------------------------------------------

def _digest(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


async def _count(store, key: str, limit: int) -> None:
    raw = await store.get(key)
    used = int(raw or 0)
    if used >= limit:
        raise TooMany("Đã gửi mã quá nhiều lần. Vui lòng thử lại sau hoặc nhờ cán bộ điểm danh.")
    await store.set(key, str(used + 1), expires_in=3600)


async def request_code(host, store, session: dict, *, venue_id: int, phone: str) -> dict:
    """Send a one-time code to the invitee with this phone; the same answer either way. Returns
    the new session contents (the hash of the code, or of nothing, for :func:`verify_code`)."""
    if not pass_valid(session, venue_id):
        raise ValidationError("Hãy quét lại mã đang hiện trên màn hình điểm cầu.", field="code")
    number = parse_phone(phone)
    if not number:
        raise ValidationError("Số điện thoại không hợp lệ.", field="phone")
    venue, conference = await venue_conference(venue_id)
    device = session.get(SESSION_DEVICE) or secrets.token_urlsafe(16)
    await _count(store, f"otp:device:{hashlib.sha256(device.encode()).hexdigest()[:32]}", OTP_PER_DEVICE_PER_HOUR)
    await _count(store, f"otp:conference:{conference['id']}", OTP_PER_CONFERENCE_PER_HOUR)
    invited = await Invitation.select(Invitation.person).where(
        (Invitation.conference == conference["id"]) & (Invitation.status == "active")
        & Invitation.person.is_in(Person.select(Person.id).where(Person.phone == number))).first()
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(8)
    if invited is not None:
        try:
            await notifications.send_one_time_code(host, person_id=invited["person"], code=code, purpose="qr_checkin_self")
        except (Conflict, NotFound) as error:  # no capable channel: told to nobody, logged for staff
            log.warning("self check-in: one-time code not sent (conference %s): %s", conference["id"], error.message)
    return {**session, SESSION_DEVICE: device,
            SESSION_OTP: {"venue": venue_id, "person": invited["person"] if invited else None, "hash": _digest(code, salt),
                          "salt": salt, "attempts": 0,
                          "until": (clock.now() + dt.timedelta(minutes=OTP_MINUTES)).isoformat()}}


def verify_code(session: dict, *, venue_id: int, code: str) -> tuple[int | None, dict]:
    """(person id or None, new session): None for a wrong or expired code and for a number
    that is not invited alike; the session counts the attempt."""
    held = dict(session.get(SESSION_OTP) or {})
    if held.get("venue") != venue_id or dt.datetime.fromisoformat(held.get("until", "1970-01-01T00:00:00+00:00")) <= clock.now():
        return None, session
    if held["attempts"] >= OTP_ATTEMPTS:
        raise TooMany("Nhập sai quá nhiều lần. Hãy xin mã mới hoặc nhờ cán bộ điểm danh.")
    held["attempts"] += 1
    if held.get("person") is None or not hmac.compare_digest(held["hash"], _digest((code or "").strip(), held["salt"])):
        return None, {**session, SESSION_OTP: held}
    return held["person"], {key: value for key, value in session.items() if key != SESSION_OTP}


# -- recording ---------------------------------------------------------------------------------------

async def check_in(*, venue_id: int, person_id: int, device: str) -> dict:
    """Record a self check-in at a venue: {status, person, at, flagged}."""
    venue, conference = await venue_conference(venue_id)
    answer = {"status": None, "person": None, "at": None, "flagged": False, "venue": venue["name"]}
    row = await Invitation.select(Invitation.id, Invitation.venue, Invitation.person.full_name.as_alias("full_name"),
                                  Invitation.person.unit.name.as_alias("unit_name")).where(
        (Invitation.conference == conference["id"]) & (Invitation.person == person_id) & (Invitation.status == "active")).first()
    if await staff_scans_only(conference["id"]):
        answer["status"] = "staff_only"
    elif row is None:
        answer["status"] = "not_invited"
    elif conference["status"] != "published":
        answer["status"] = "expired"
    elif row["venue"] is not None and row["venue"] != venue_id:
        answer["status"] = "wrong_venue"
    if row is not None:
        answer["person"] = {"id": person_id, "full_name": row["full_name"], "unit_name": row["unit_name"]}
    device_key = hashlib.sha256(device.encode()).hexdigest()[:32]
    if answer["status"] is None:
        actor = Actor(user_id=None, label="Tự điểm danh", grants=(Grant("checkin_staff", conference["unit"], conference["unit_path"]),))
        result = await rollcall.record_attendance(actor, conference_id=conference["id"], person_id=person_id, method="self_scan",
                                                  venue_id=venue_id)
        answer["status"] = "checked_in" if result["created"] else "already_checked_in"
        answer["at"] = result["record"]["recorded_at"].isoformat()
        others = await QrScan.select(QrScan.person).where(
            (QrScan.conference == conference["id"]) & (QrScan.method == "self_scan") & (QrScan.client == device_key)
            & (QrScan.person != person_id) & (QrScan.status == "checked_in")).first()
        answer["flagged"] = others is not None
    answer["message"] = SELF_STATUSES[answer["status"]]
    await QrScan.insert(QrScan(conference=conference["id"], person=person_id if row else None, invitation=row["id"] if row else None,
                               venue=venue_id, status=answer["status"], method="self_scan", scanned_at=clock.now(),
                               received_at=clock.now(), client=device_key, flagged=answer["flagged"], answer=answer))
    return answer


async def flagged(actor: Actor, conference_id: int) -> list[dict]:
    """Self scans from a device that checked in more than one person, for staff to look at."""
    scope = await conference_scope(actor, conference_id, "checkin")
    rows = await QrScan.select(QrScan.person, QrScan.venue, QrScan.scanned_at, QrScan.client, QrScan.answer).where(
        (QrScan.conference == conference_id) & (QrScan.method == "self_scan") & (QrScan.flagged == True)  # noqa: E712
    ).order_by(QrScan.scanned_at)
    return [row for row in rows if scope.covers_venue(row["venue"])]
