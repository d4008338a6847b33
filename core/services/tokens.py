"""Tokens: every secret that reaches a person or a device, with a purpose.

Shown-once secrets (login links, API and device tokens) are 256 random bits; only their
SHA-256 is stored. Re-displayable secrets (a calendar feed URL, a badge's short code) are an
HMAC of the deployment key, the purpose, the subject and a stored generation; rotating bumps
the generation. A token of one purpose is never accepted for another.

An API token's subject is one of its owner's ``role_assignment`` rows: the key acts as that
user restricted to that one role on that one unit, and dies with the row or the user's
deactivation. A scanner device token's subject is a conference or one of its venues.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
import time

from core import clock
from core.access import ROLE_LABELS, ROLES, Actor, Grant, conference_scope, require
from core.config import get_settings
from core.db import FixedStatement, transaction
from core.errors import Forbidden, Label, NotFound, ValidationError
from core.services import audit
from core.tables import Conference, Invitation, Person, RoleAssignment, Token, Unit, Venue
from core.text import clean

SHOWN_ONCE = {"login_link": "Đường dẫn đăng nhập", "api": "Khoá API", "scanner_device": "Thiết bị quét mã"}
DERIVED = {"calendar_feed": "Lịch cá nhân", "checkin_credential": "Mã điểm danh", "evaluation": "Phiếu đánh giá"}
PURPOSES = {**SHOWN_ONCE, **DERIVED}
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: typed by staff from a paper badge
MANAGED = ("api", "scanner_device")  # the tokens staff issue, list and revoke themselves
API_LABEL_SUFFIX = " (khoá API)"
DEFAULT_TTL_DAYS = {"api": 90, "scanner_device": 30}
MAX_TTL_DAYS = 366  # every key expires: a forgotten key must not live for ever
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)  # at most one write per key and minute, not one per request


# every request of a scanner or an API client reads its token row: a fixed statement, not one
# Piccolo builds anew each time (a third of a millisecond of CPU)
_TOKEN_BY_HASH = FixedStatement(
    "SELECT id, purpose, secret_hash, subject_type, subject_id, generation, label, created_by, created_at, "
    "expires_at, revoked_at, last_used_at FROM token WHERE secret_hash = {}")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_purpose(purpose: str, allowed: dict) -> None:
    if purpose not in allowed:
        raise ValidationError("Mục đích không hợp lệ: {purpose!r}.", field="purpose", purpose=purpose)


async def issue_secret_token(
    actor: Actor, *, purpose: str, subject_type: str, subject_id: int, ttl: dt.timedelta | None = None, label: str = "",
    unit_id: int | None = None,
) -> tuple[dict, str]:
    """A new shown-once secret: returns (row, plaintext). Only the hash is kept; ``unit_id``
    files the audit entry under the unit the secret gives access to."""
    _check_purpose(purpose, SHOWN_ONCE)
    plaintext = secrets.token_urlsafe(32)
    now = clock.now()
    async with transaction():
        row = (await Token.insert(Token(
            purpose=purpose, secret_hash=_digest(plaintext), subject_type=subject_type, subject_id=subject_id, label=label,
            created_by=actor.user_id, created_at=now, expires_at=now + ttl if ttl else None,
        )).returning(*Token.all_columns()))[0]
        await audit.record(actor, "token.issue", object_type="token", object_id=row["id"], unit_id=unit_id, purpose=purpose,
                           subject=f"{subject_type}:{subject_id}")
    return row, plaintext


async def verify_secret_token(plaintext: str, purpose: str) -> dict:
    """The live token row for ``plaintext`` of this purpose; NotFound otherwise (one answer for
    unknown, wrong purpose, expired and revoked)."""
    rows = await _TOKEN_BY_HASH.fetch(_digest(plaintext or ""))
    row = rows[0] if rows else None
    now = clock.now()
    if (row is None or not hmac.compare_digest(row["purpose"], purpose) or row["revoked_at"] is not None
            or (row["expires_at"] is not None and row["expires_at"] <= now)):
        raise NotFound("Mã không hợp lệ hoặc đã hết hạn.")
    if row["last_used_at"] is None or row["last_used_at"] <= now - LAST_USED_RESOLUTION:
        await Token.update({Token.last_used_at: now}).where(Token.id == row["id"])
    return row


# -- scanner devices --------------------------------------------------------------------------------

# Where a device's subject lies (a venue's conference, the conference's unit) is cached per process
# this long: a venue never changes conference, a unit moved in the tree is seen this late. The
# token row's liveness (revoked) is read on every request, so a revoked key stops at once: by the
# token read, or, on a route that opts in, by a column of the route's own statement.
DEVICE_SCOPE_SECONDS = 30.0
KNOWN_DEVICES_KEPT = 4096  # devices one process remembers between two full reads of their key
# where the plugin-route guard leaves the device it authenticated (``scope["state"]``), so that
# the route does not authenticate it again
AUTHENTICATED_DEVICE = "hoinghi.scanner_device"
# a route's ``opt`` key: its service reads the key's liveness in its own first statement
# (:func:`device_live_sql`), so the guard may identify the device from the process's memory
DEVICE_LIVENESS_IN_ROUTE = "device_liveness_in_route"


@dataclasses.dataclass(frozen=True)
class ScannerDevice:
    """A scanner device token and what it reaches. ``liveness_pending``: identified from memory,
    not yet read live (revoked?) in this request: the caller must, :func:`confirm_device_live`."""

    token_id: int
    label: str
    issued_by: int | None
    conference_id: int
    venue_id: int | None
    unit_id: int
    unit_path: str
    liveness_pending: bool = False


_device_scopes: dict[tuple[str, int], tuple[float, tuple[int, int | None, int, str] | None]] = {}
# key digest -> (read at, expires at, the device): what a key identifies never changes (its
# subject, issuer, label and expiry are written once); only its revocation must be read each time
_known_devices: dict[str, tuple[float, dt.datetime | None, ScannerDevice]] = {}


async def _device_scope(subject_type: str, subject_id: int) -> tuple[int, int | None, int, str] | None:
    """(conference, venue, unit, unit path) of a device's subject, or None when it leads nowhere."""
    cached = _device_scopes.get((subject_type, subject_id))
    if cached is not None and time.monotonic() - cached[0] < DEVICE_SCOPE_SECONDS:
        return cached[1]
    scope = None
    if subject_type == "venue":
        row = await Venue.select(Venue.conference, Venue.conference.unit.as_alias("unit"),
                                 Venue.conference.unit.path.as_alias("path")).where(Venue.id == subject_id).first()
        if row is not None:
            scope = (row["conference"], subject_id, row["unit"], row["path"])
    elif subject_type == "conference":
        row = await Conference.select(Conference.unit, Conference.unit.path.as_alias("path")).where(Conference.id == subject_id).first()
        if row is not None:
            scope = (subject_id, None, row["unit"], row["path"])
    _device_scopes[(subject_type, subject_id)] = (time.monotonic(), scope)
    return scope


async def verify_device_token(plaintext: str, *, liveness_in_route: bool = False) -> ScannerDevice:
    """The live scanner device of ``plaintext``: one indexed read of the token row (a revoked or
    expired key is refused at once); NotFound otherwise, or when its venue or conference is gone.

    ``liveness_in_route``: a device this process read in the last ``DEVICE_SCOPE_SECONDS`` is
    identified without a read and comes back ``liveness_pending``; an unknown, expired or
    long-unseen key is read as above (and its "last used" written once a minute)."""
    digest = _digest(plaintext or "")
    if liveness_in_route:
        known = _known_devices.get(digest)
        if known is not None and time.monotonic() - known[0] < DEVICE_SCOPE_SECONDS and (
                known[1] is None or known[1] > clock.now()):
            return dataclasses.replace(known[2], liveness_pending=True)
    row = await verify_secret_token(plaintext, "scanner_device")
    scope = await _device_scope(row["subject_type"], row["subject_id"])
    if scope is None:
        raise NotFound("Mã không hợp lệ hoặc đã hết hạn.")
    conference_id, venue_id, unit_id, unit_path = scope
    device = ScannerDevice(token_id=row["id"], label=row["label"], issued_by=row["created_by"], conference_id=conference_id,
                           venue_id=venue_id, unit_id=unit_id, unit_path=unit_path)
    if len(_known_devices) >= KNOWN_DEVICES_KEPT:
        _known_devices.clear()
    _known_devices[digest] = (time.monotonic(), row["expires_at"], device)
    return device


def device_live_sql(token_id_placeholder: str = "{}") -> str:
    """A select-list column, true while the device key ``token_id_placeholder`` is not revoked:
    a route's statement reads a pending device's liveness with it (no statement of its own)."""
    return f"EXISTS (SELECT 1 FROM token t WHERE t.id = {token_id_placeholder} AND t.revoked_at IS NULL)"


_DEVICE_LIVE = FixedStatement(f"SELECT {device_live_sql()} AS live")


async def confirm_device_live(token_id: int, live: bool | None = None) -> None:
    """NotFound (as for any dead key) unless the device key ``token_id`` is not revoked: ``live``
    as a route's statement read it (:func:`device_live_sql`), or read now when None."""
    if live is None:
        rows = await _DEVICE_LIVE.fetch(token_id)
        live = bool(rows and rows[0]["live"])
    if not live:
        for digest in [digest for digest, known in _known_devices.items() if known[2].token_id == token_id]:
            del _known_devices[digest]
        raise NotFound("Mã không hợp lệ hoặc đã hết hạn.")


def _derive(purpose: str, subject_type: str, subject_id: int, generation: int) -> bytes:
    message = f"{purpose}:{subject_type}:{subject_id}:{generation}".encode()
    return hmac.new(get_settings().secret_key, message, hashlib.sha256).digest()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _short(raw: bytes, length: int) -> str:
    number = int.from_bytes(raw, "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(SHORT_CODE_ALPHABET))
        chars.append(SHORT_CODE_ALPHABET[index])
    return "".join(chars)


async def _derived_row(purpose: str, subject_type: str, subject_id: int) -> dict:
    query = Token.select().where((Token.purpose == purpose) & (Token.subject_type == subject_type) & (Token.subject_id == subject_id))
    row = await query.first()
    if row is None:
        async with transaction():
            row = await query.first()
            if row is None:
                token = _encode(_derive(purpose, subject_type, subject_id, 0))
                await Token.insert(Token(purpose=purpose, subject_type=subject_type, subject_id=subject_id, generation=0,
                                         secret_hash=_digest(token), created_at=clock.now()))
                row = await query.first()
    return row


async def derived_token(purpose: str, subject_type: str, subject_id: int) -> str:
    """The re-displayable secret for a subject (the same on every visit until rotated)."""
    _check_purpose(purpose, DERIVED)
    row = await _derived_row(purpose, subject_type, subject_id)
    if row["revoked_at"] is not None:
        raise NotFound("Mã đã bị thu hồi.")
    return _encode(_derive(purpose, subject_type, subject_id, row["generation"]))


async def short_code(purpose: str, subject_type: str, subject_id: int, *, length: int = 7) -> str:
    """A code of ``length`` unambiguous characters, derived like the token (rotates with it)."""
    _check_purpose(purpose, DERIVED)
    row = await _derived_row(purpose, subject_type, subject_id)
    return _short(_derive(purpose + ":short", subject_type, subject_id, row["generation"]), length)


async def verify_derived(token: str, purpose: str) -> tuple[str, int]:
    """(subject_type, subject_id) for a live derived token of this purpose; one indexed lookup."""
    row = await Token.select().where(Token.secret_hash == _digest(token or "")).first()
    if row is None or row["purpose"] != purpose or row["revoked_at"] is not None:
        raise NotFound("Mã không hợp lệ hoặc đã hết hạn.")
    expected = _encode(_derive(purpose, row["subject_type"], row["subject_id"], row["generation"]))
    if not hmac.compare_digest(expected, token):
        raise NotFound("Mã không hợp lệ hoặc đã hết hạn.")
    return row["subject_type"], row["subject_id"]


async def rotate_derived(actor: Actor, *, purpose: str, subject_type: str, subject_id: int) -> str:
    """A new generation: the old URL or code stops working at once. Returns the new token."""
    _check_purpose(purpose, DERIVED)
    row = await _derived_row(purpose, subject_type, subject_id)
    generation = row["generation"] + 1
    token = _encode(_derive(purpose, subject_type, subject_id, generation))
    async with transaction():
        await Token.update({Token.generation: generation, Token.secret_hash: _digest(token), Token.revoked_at: None}).where(
            Token.id == row["id"])
        await audit.record(actor, "token.rotate", object_type="token", object_id=row["id"], unit_id=None, purpose=purpose,
                           subject=f"{subject_type}:{subject_id}")
    return token


async def tokens_of_subject(subject_type: str, subject_id: int) -> list[dict]:
    """Tokens of a subject, without any secret material."""
    return await Token.select(*_PUBLIC_COLUMNS).where(
        (Token.subject_type == subject_type) & (Token.subject_id == subject_id)).order_by(Token.id)


_PUBLIC_COLUMNS = (Token.id, Token.purpose, Token.label, Token.subject_type, Token.subject_id, Token.generation, Token.created_by,
                   Token.created_at, Token.expires_at, Token.revoked_at, Token.last_used_at)


def _ttl(purpose: str, ttl_days: int | None) -> dt.timedelta:
    days = DEFAULT_TTL_DAYS[purpose] if ttl_days is None else ttl_days
    if not 1 <= days <= MAX_TTL_DAYS:
        raise ValidationError("Thời hạn phải từ 1 đến {max_ttl_days} ngày.", field="ttl_days", max_ttl_days=MAX_TTL_DAYS)
    return dt.timedelta(days=days)


def _label(label: str, default: str) -> str:
    label = clean(label) or default
    if len(label) > 255:
        raise ValidationError("Tên gợi nhớ dài tối đa 255 ký tự.", field="label")
    return label


def _refuse_keys_minting_keys(actor: Actor) -> None:
    # a leaked key must not be able to outlive its own revocation by minting a successor
    if actor.label.endswith(API_LABEL_SUFFIX):
        raise Forbidden("Không dùng khoá API để tạo khoá mới; hãy đăng nhập.")


async def issue_api_token(actor: Actor, *, unit_id: int, role: str, label: str, ttl_days: int | None) -> tuple[dict, str]:
    """A key acting as the actor with one of the actor's own roles, (``role`` on ``unit_id``).

    Returns (public row, plaintext); the plaintext is shown once. NotFound when the unit is out
    of the actor's sight, Forbidden when the actor does not hold exactly that role there.
    """
    _refuse_keys_minting_keys(actor)
    if role not in ROLES:
        raise ValidationError("Vai trò không hợp lệ: {role!r}. Chọn một trong: {choices}.", field="role", role=role,
                              choices=ROLES)
    unit = await Unit.select(Unit.id, Unit.name, Unit.path).where(Unit.id == unit_id).first()
    if unit is None or not actor.sees(unit["path"]):
        raise NotFound("Không tìm thấy đơn vị.")
    assignment = None
    if actor.user_id is not None:
        assignment = await RoleAssignment.select(RoleAssignment.id).where(
            (RoleAssignment.user == actor.user_id) & (RoleAssignment.unit == unit_id) & (RoleAssignment.role == role)).first()
    if assignment is None:
        raise Forbidden("Đồng chí không giữ vai trò {role_label} tại {unit}; khoá API chỉ mang được một vai trò của chính "
                        "mình.", field="role", role_label=ROLE_LABELS[role], unit=unit['name'])
    row, plaintext = await issue_secret_token(
        actor, purpose="api", subject_type="role_assignment", subject_id=assignment["id"], ttl=_ttl("api", ttl_days),
        label=_label(label, f"Khoá API {ROLE_LABELS[role]} – {unit['name']}"), unit_id=unit_id)
    return (await _describe([row]))[0], plaintext


async def issue_device_token(
    actor: Actor, *, conference_id: int | None = None, venue_id: int | None = None, label: str = "", ttl_days: int | None = None,
) -> tuple[dict, str]:
    """A scanner device key for a whole conference or one venue; needs check-in rights on it."""
    _refuse_keys_minting_keys(actor)
    if (conference_id is None) == (venue_id is None):
        raise ValidationError("Chọn đúng một: hội nghị (conference_id) hoặc điểm cầu (venue_id).", field="conference_id")
    if venue_id is not None:
        venue = await Venue.select(Venue.id, Venue.name, Venue.conference).where(Venue.id == venue_id).first()
        if venue is None:
            raise NotFound("Không tìm thấy điểm cầu.")
        scope = await conference_scope(actor, venue["conference"], "checkin")
        if not scope.covers_venue(venue_id):
            raise Forbidden("Bạn không có quyền điểm danh tại điểm cầu này.")
        subject_type, subject_id, default_label = "venue", venue_id, f"Máy quét – {venue['name']}"
    else:
        scope = await conference_scope(actor, conference_id, "checkin")
        if not scope.whole:
            raise Forbidden("Bạn chỉ điểm danh được ở điểm cầu của đơn vị mình; hãy cấp mã cho điểm cầu đó.", field="venue_id")
        subject_type, subject_id, default_label = "conference", conference_id, f"Máy quét – {scope.conference['title']}"
    if scope.conference["status"] in ("ended", "cancelled"):
        raise ValidationError("Hội nghị đã kết thúc hoặc đã huỷ; không cấp mã máy quét nữa.", field="conference_id")
    row, plaintext = await issue_secret_token(
        actor, purpose="scanner_device", subject_type=subject_type, subject_id=subject_id, ttl=_ttl("scanner_device", ttl_days),
        label=_label(label, default_label), unit_id=scope.conference["unit"])
    return (await _describe([row]))[0], plaintext


async def _describe(rows: list[dict]) -> list[dict]:
    """Public views of token rows: no hash; the unit whose subtree the token reaches, its owner
    (API keys) and its state (active, expired, revoked, or dead when its subject is gone)."""
    by_type: dict[str, set[int]] = {}
    for row in rows:
        by_type.setdefault(row["subject_type"], set()).add(row["subject_id"])

    async def lookup(table, columns, ids):
        return {r["id"]: r for r in await table.select(table.id, *columns).where(table.id.is_in(sorted(ids)))} if ids else {}

    assignments = await lookup(RoleAssignment, (
        RoleAssignment.role, RoleAssignment.user.as_alias("user_id"), RoleAssignment.user.username.as_alias("username"),
        RoleAssignment.user.active.as_alias("user_active"), RoleAssignment.unit.as_alias("unit_id"),
        RoleAssignment.unit.path.as_alias("unit_path"), RoleAssignment.unit.name.as_alias("unit_name")), by_type.get("role_assignment"))
    conferences = await lookup(Conference, (Conference.unit.as_alias("unit_id"), Conference.unit.path.as_alias("unit_path"),
                                            Conference.unit.name.as_alias("unit_name")), by_type.get("conference"))
    venues = await lookup(Venue, (Venue.conference.as_alias("conference_id"), Venue.conference.unit.as_alias("unit_id"),
                                  Venue.conference.unit.path.as_alias("unit_path"),
                                  Venue.conference.unit.name.as_alias("unit_name")), by_type.get("venue"))
    people = await lookup(Person, (Person.unit.as_alias("unit_id"), Person.unit.path.as_alias("unit_path"),
                                   Person.unit.name.as_alias("unit_name")), by_type.get("person"))
    invitations = await lookup(Invitation, (Invitation.conference.unit.as_alias("unit_id"),
                                            Invitation.conference.unit.path.as_alias("unit_path"),
                                            Invitation.conference.unit.name.as_alias("unit_name")), by_type.get("invitation"))
    subjects = {"role_assignment": assignments, "conference": conferences, "venue": venues, "person": people,
                "invitation": invitations}
    now = clock.now()
    described = []
    for row in rows:
        subject = subjects.get(row["subject_type"], {}).get(row["subject_id"])
        alive = subject is not None and subject.get("user_active", True)
        state = ("revoked" if row["revoked_at"] is not None else "expired" if row["expires_at"] is not None and row["expires_at"] <= now
                 else "active" if alive else "dead")
        described.append({
            **{column._meta.name: row[column._meta.name] for column in _PUBLIC_COLUMNS},
            "state": state,
            "unit_id": subject["unit_id"] if subject else None,
            "unit_name": subject["unit_name"] if subject else None,
            "unit_path": subject["unit_path"] if subject else None,
            "role": subject.get("role") if subject else None,
            "user_id": subject.get("user_id") if subject else None,
            "username": subject.get("username") if subject else None,
            "conference_id": row["subject_id"] if row["subject_type"] == "conference" else (subject or {}).get("conference_id"),
        })
    return described


def _may_manage(actor: Actor, token: dict) -> bool:
    """Who may see and revoke a token: its owner or issuer, and the admins above its unit;
    device keys also those who may check in there, login links those who manage the person."""
    if actor.system:
        return True
    if actor.user_id is not None and actor.user_id in (token["user_id"], token["created_by"]):
        return True
    path = token["unit_path"]
    if path is None:
        return False
    needed = {"api": "admin", "scanner_device": "checkin"}.get(token["purpose"], "manage")
    return actor.has(needed, path)


async def list_tokens(actor: Actor, *, unit_id: int | None = None, purpose: str | None = None) -> list[dict]:
    """API and scanner device keys the actor may manage (never a hash), newest first; with
    ``unit_id``, only those reaching into that unit's subtree."""
    purposes = list(MANAGED)
    if purpose is not None:
        if purpose not in MANAGED:
            raise ValidationError("Chỉ liệt kê được: {choices}.", field="purpose", choices=MANAGED)
        purposes = [purpose]
    prefix = None
    if unit_id is not None:
        unit = await Unit.select(Unit.path).where(Unit.id == unit_id).first()
        if unit is None:
            raise NotFound("Không tìm thấy đơn vị.")
        require(actor, "read", unit["path"], what=Label("đơn vị"))
        prefix = unit["path"]
    rows = await Token.select().where(Token.purpose.is_in(purposes)).order_by(Token.id, ascending=False)
    visible = [token for token in await _describe(rows) if _may_manage(actor, token)]
    if prefix is not None:
        visible = [token for token in visible if token["unit_path"] and token["unit_path"].startswith(prefix)]
    return visible


async def revoke_token(actor: Actor, token_id: int) -> dict:
    """Revoke at once (idempotent); returns the token's public view. NotFound when the actor
    may not manage it (its existence is not revealed)."""
    row = await Token.select().where(Token.id == token_id).first()
    if row is None:
        raise NotFound("Không tìm thấy mã.")
    token = (await _describe([row]))[0]
    if not _may_manage(actor, token):
        raise NotFound("Không tìm thấy mã.")
    if row["revoked_at"] is None:
        async with transaction():
            await Token.update({Token.revoked_at: clock.now()}).where(Token.id == token_id)
            await audit.record(actor, "token.revoke", object_type="token", object_id=token_id, unit_id=token["unit_id"],
                               purpose=row["purpose"])
    return (await _describe([await Token.select().where(Token.id == token_id).first()]))[0]


async def actor_for_api_token(plaintext: str) -> Actor:
    """The actor an ``Authorization: Bearer`` API key stands for: its owner, restricted to the one
    role on the one unit of its role assignment. NotFound for an unknown, expired or revoked key,
    and for one whose role assignment was removed or whose owner was deactivated."""
    row = await verify_secret_token(plaintext, "api")
    if row["subject_type"] != "role_assignment":
        raise NotFound("Mã không hợp lệ hoặc đã hết hạn.")
    assignment = await RoleAssignment.select(
        RoleAssignment.role, RoleAssignment.unit.as_alias("unit_id"), RoleAssignment.unit.path.as_alias("unit_path"),
        RoleAssignment.user.as_alias("user_id"), RoleAssignment.user.username.as_alias("username"),
        RoleAssignment.user.active.as_alias("active"),
    ).where(RoleAssignment.id == row["subject_id"]).first()
    if assignment is None or not assignment["active"]:
        raise NotFound("Mã không hợp lệ hoặc đã hết hạn.")
    return Actor(user_id=assignment["user_id"], label=f"{assignment['username']}{API_LABEL_SUFFIX}",
                 grants=(Grant(assignment["role"], assignment["unit_id"], assignment["unit_path"]),))
