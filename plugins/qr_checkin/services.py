"""Business rules of the ``qr_checkin`` plugin: signing keys, credentials, scans, roster.

Attendance is recorded only through the core roll-call service (``rollcall.record_scan``, its
hot path for scanners, and ``record_attendance``): earliest scan wins, the event fires once. Scanner devices are the core's ``scanner_device`` tokens, issued
for a conference or one venue; a venue's device scans only its venue.

The scan's lookup is one raw SQL join (credential -> invitation -> person, unit, conference,
roll-call record) and its log row one raw INSERT: the documented hot path of this plugin;
everything else goes through Piccolo.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import msgspec

from core import clock
from core.access import Actor, Grant, conference_scope
from core.db import FixedStatement, bulk_insert, current_engine, is_postgres, one_write, transaction
from core.errors import Conflict, NotFound, ValidationError
from core.services import audit, rollcall, tokens
from core.tables import Conference, Invitation, StaffUser, Venue
from plugins.qr_checkin import credentials as creds
from plugins.qr_checkin.tables import QrCredential, QrScan, QrSigningKey

STATUSES = {
    "checked_in": "Đã điểm danh",
    "already_checked_in": "Đã điểm danh trước đó",
    "not_invited": "Không có trong danh sách mời",
    "wrong_conference": "Mã của hội nghị khác",
    "wrong_venue": "Không thuộc điểm cầu này",
    "revoked": "Mã đã bị thu hồi",
    "forged": "Mã không hợp lệ (giả mạo)",
    "expired": "Mã đã hết hạn (hội nghị đã kết thúc hoặc đã huỷ)",
}
BATCH_LIMIT = 500
NONCE_MAX = 100
# a queued scan may carry a time this far back (a long offline stretch), never in the future
QUEUED_SCAN_MAX_AGE = dt.timedelta(days=2)
KEY_CACHE_SECONDS = 60.0


# -- signing keys ---------------------------------------------------------------------------------

_keys: dict[int, object] = {}  # key id -> Ed25519PublicKey
_keys_loaded_at = 0.0


async def _load_keys() -> None:
    global _keys, _keys_loaded_at
    rows = await QrSigningKey.select(QrSigningKey.id, QrSigningKey.public_key)
    _keys = {row["id"]: creds.load_public(row["public_key"]) for row in rows}
    _keys_loaded_at = time.monotonic()


async def public_key(key_id: int):
    """The public key with this id, or None (a process learns new keys on a miss)."""
    if key_id not in _keys or time.monotonic() - _keys_loaded_at > KEY_CACHE_SECONDS:
        await _load_keys()
    return _keys.get(key_id)


async def _active_signer() -> tuple[int, object]:
    query = QrSigningKey.select(QrSigningKey.id, QrSigningKey.private_key).where(
        QrSigningKey.retired_at.is_null()).order_by(QrSigningKey.id, ascending=False)
    row = await query.first()
    if row is None:
        async with transaction():
            row = await query.first()
            if row is None:
                return await _create_key()
    return row["id"], _unwrap(row["id"], row["private_key"])


_unwrapped: dict[str, object] = {}  # sealed text -> private key (a key id alone could name another database's key)


def _unwrap(key_id: int, sealed: str):
    if sealed not in _unwrapped:
        _unwrapped[sealed] = creds.unwrap(sealed, str(key_id))
    return _unwrapped[sealed]


def forget_key_caches() -> None:
    """Drop the cached public keys (tests switching databases; a purge in another process)."""
    global _keys_loaded_at
    _keys.clear()
    _keys_loaded_at = 0.0


async def _create_key() -> tuple[int, object]:
    """Inside the caller's transaction: a new active key (the private part wrapped with its id)."""
    private, public = creds.new_key_pair()
    key_id = (await QrSigningKey.insert(QrSigningKey(public_key=public, private_key="", created_at=clock.now()))
              .returning(QrSigningKey.id))[0]["id"]
    if key_id > 0xFFFF:
        raise Conflict("Đã dùng hết số hiệu khoá ký.")
    await QrSigningKey.update({QrSigningKey.private_key: creds.wrap(private, str(key_id))}).where(QrSigningKey.id == key_id)
    return key_id, private


async def rotate_key(actor: Actor) -> dict:
    """A new signing key for new credentials; the old ones stay valid (their public keys are
    kept until their conferences end). Deployment-wide: the CLI's system actor only."""
    if not actor.system:
        raise ValidationError("Chỉ quản trị hệ thống (dòng lệnh) được đổi khoá ký.")
    async with transaction():
        await QrSigningKey.update({QrSigningKey.retired_at: clock.now()}).where(QrSigningKey.retired_at.is_null())
        key_id, _ = await _create_key()
        await audit.record(actor, "qr_checkin.key_rotate", object_type="qr_signing_key", object_id=key_id, unit_id=None)
    await _load_keys()
    return {"key_id": key_id}


async def purge_retired_keys() -> list[int]:
    """Delete retired keys no open conference's credential still needs; returns their ids."""
    retired = await QrSigningKey.select(QrSigningKey.id).where(QrSigningKey.retired_at.is_not_null())
    purged = []
    for row in retired:
        still_needed = await QrCredential.raw(
            "SELECT 1 FROM qr_checkin_credential c JOIN conference f ON f.id = c.conference "
            "WHERE c.key_id = {} AND f.status IN ('draft', 'published') LIMIT 1", row["id"])
        if not still_needed:
            await QrSigningKey.delete().where(QrSigningKey.id == row["id"])
            purged.append(row["id"])
    if purged:
        await _load_keys()
    return purged


async def public_keys() -> list[dict]:
    rows = await QrSigningKey.select(QrSigningKey.id, QrSigningKey.public_key, QrSigningKey.retired_at).order_by(QrSigningKey.id)
    return [{"id": row["id"], "public_key": row["public_key"], "retired": row["retired_at"] is not None} for row in rows]


# -- credentials --------------------------------------------------------------------------------

async def _private_for(key_id: int):
    """The private key that signed a credential (to re-display it after a rotation)."""
    row = await QrSigningKey.select(QrSigningKey.private_key).where(QrSigningKey.id == key_id).first()
    return _unwrap(key_id, row["private_key"]) if row else None


async def _render(row: dict, keys: dict | None = None) -> dict:
    """The credential's text and short code; ``keys`` caches private keys across many rows."""
    if keys is None:
        private = await _private_for(row["key_id"])
    else:
        if row["key_id"] not in keys:
            keys[row["key_id"]] = await _private_for(row["key_id"])
        private = keys[row["key_id"]]
    text = None
    if private is not None:
        text = creds.sign(private, creds.Payload(row["conference"], row["invitation"], row["generation"], row["key_id"]))
    return {"invitation_id": row["invitation"], "conference_id": row["conference"], "person_id": row["person"],
            "credential": text, "short_code": creds.short_code(row["invitation"], row["generation"]),
            "revoked": row["revoked_at"] is not None}


async def ensure_credentials(conference_id: int, *, venue_id: int | None = None) -> list[dict]:
    """Credential rows for every active invitation of a conference (of one venue), creating the
    missing ones in one bulk insert. Returns the rows (not yet rendered)."""
    query = Invitation.select(Invitation.id, Invitation.person, Invitation.venue).where(
        (Invitation.conference == conference_id) & (Invitation.status == "active"))
    if venue_id is not None:
        query = query.where(Invitation.venue == venue_id)
    invitations = await query
    existing = {row["invitation"]: row for row in await QrCredential.select().where(QrCredential.conference == conference_id)}
    missing = [inv for inv in invitations if inv["id"] not in existing]
    if missing:
        key_id, _ = await _active_signer()
        now = clock.now()
        rows = []
        for inv in missing:
            generation = 0
            rows.append((inv["id"], conference_id, inv["person"], key_id, generation,
                         creds.short_hash(conference_id, creds.short_code(inv["id"], generation)), None, now))
        try:
            async with transaction():
                await bulk_insert(QrCredential, ["invitation", "conference", "person", "key_id", "generation", "short_hash",
                                                 "revoked_at", "issued_at"], rows)
        except Exception:
            # a concurrent issuance, or a short-code collision: one by one, each settling its own
            for inv in missing:
                await _issue_one(conference_id, inv["id"], inv["person"])
        existing = {row["invitation"]: row for row in await QrCredential.select().where(QrCredential.conference == conference_id)}
    return [existing[inv["id"]] for inv in invitations if inv["id"] in existing]


async def _issue_one(conference_id: int, invitation_id: int, person_id: int) -> dict:
    row = await QrCredential.select().where(QrCredential.invitation == invitation_id).first()
    if row is not None:
        return row
    key_id, _ = await _active_signer()
    for generation in range(0, 50):  # a short-code collision in the conference moves to the next generation
        code = creds.short_code(invitation_id, generation)
        async with transaction():
            if await QrCredential.exists().where(QrCredential.short_hash == creds.short_hash(conference_id, code)):
                continue
            await QrCredential.insert(QrCredential(
                invitation=invitation_id, conference=conference_id, person=person_id, key_id=key_id, generation=generation,
                short_hash=creds.short_hash(conference_id, code), issued_at=clock.now())).on_conflict(action="DO NOTHING")
        return await QrCredential.select().where(QrCredential.invitation == invitation_id).first()
    raise Conflict("Không tạo được mã ngắn duy nhất.")


async def credentials_for(conference_id: int, *, venue_id: int | None = None) -> list[dict]:
    """Rendered credentials (text and short code) of a conference's active invitations."""
    keys: dict = {}
    return [await _render(row, keys) for row in await ensure_credentials(conference_id, venue_id=venue_id)]


async def credential_for_person(conference_id: int, person_id: int) -> dict | None:
    """The credential of a person's active invitation, or None when they are not invited."""
    invitation = await Invitation.select(Invitation.id).where(
        (Invitation.conference == conference_id) & (Invitation.person == person_id) & (Invitation.status == "active")).first()
    if invitation is None:
        return None
    return await _render(await _issue_one(conference_id, invitation["id"], person_id))


async def _credential_in_scope(actor: Actor, conference_id: int, invitation_id: int) -> dict:
    scope = await conference_scope(actor, conference_id, "checkin")
    invitation = await Invitation.select(Invitation.id, Invitation.person, Invitation.venue).where(
        (Invitation.id == invitation_id) & (Invitation.conference == conference_id)).first()
    if invitation is None or not (scope.whole or scope.covers_venue(invitation["venue"])):
        raise NotFound("Không tìm thấy giấy mời.")
    return await _issue_one(conference_id, invitation_id, invitation["person"])


async def revoke_credential(actor: Actor, *, conference_id: int, invitation_id: int) -> dict:
    """The badge stops working at once (offline scanners learn it at their next sync)."""
    row = await _credential_in_scope(actor, conference_id, invitation_id)
    async with transaction():
        await QrCredential.update({QrCredential.revoked_at: clock.now()}).where(QrCredential.id == row["id"])
        await audit.record(actor, "qr_checkin.credential_revoke", object_type="invitation", object_id=invitation_id,
                           unit_id=None, conference_id=conference_id)
    return await _render(await QrCredential.select().where(QrCredential.id == row["id"]).first())


async def reissue_credential(actor: Actor, *, conference_id: int, invitation_id: int) -> dict:
    """A new badge (next generation, signed by the active key); the old one answers ``revoked``."""
    row = await _credential_in_scope(actor, conference_id, invitation_id)
    key_id, _ = await _active_signer()
    generation = row["generation"]
    for _ in range(50):
        generation += 1
        digest = creds.short_hash(conference_id, creds.short_code(invitation_id, generation))
        if not await QrCredential.exists().where(QrCredential.short_hash == digest):
            break
    async with transaction():
        await QrCredential.update({QrCredential.generation: generation, QrCredential.key_id: key_id, QrCredential.short_hash: digest,
                                   QrCredential.revoked_at: None, QrCredential.issued_at: clock.now()}).where(QrCredential.id == row["id"])
        await audit.record(actor, "qr_checkin.credential_reissue", object_type="invitation", object_id=invitation_id,
                           unit_id=None, conference_id=conference_id)
    return await _render(await QrCredential.select().where(QrCredential.id == row["id"]).first())


# -- scanner devices ------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Device:
    token_id: int
    label: str
    conference_id: int
    venue_id: int | None
    unit_id: int
    unit_path: str
    issued_by: int | None
    liveness_pending: bool = False  # the scan reads whether the key is revoked (tokens.device_live_sql)

    def actor(self) -> Actor:
        """The device as the roll-call service sees it: check-in rights on the conference's unit,
        recorded under the staff user who issued the device key. Venue limits are enforced here."""
        return Actor(user_id=self.issued_by, label=self.label, grants=(Grant("checkin_staff", self.unit_id, self.unit_path),))


async def device_for_token(plaintext: str, conference_id: int | None = None, *,
                           authenticated: tokens.ScannerDevice | None = None, liveness_in_scan: bool = False) -> Device:
    """The live device of an ``X-Device-Token`` (``authenticated``: the one the route guard has
    already verified for this request); NotFound for any other (or for another conference).
    ``liveness_in_scan``: the caller passes the device only to :func:`scan`, which reads whether
    its key is revoked in its lookup; any other caller gets a device read live here."""
    scanner = authenticated or await tokens.verify_device_token(plaintext, liveness_in_route=liveness_in_scan)
    if conference_id is not None and scanner.conference_id != conference_id:
        raise NotFound("Không tìm thấy hội nghị.")
    pending = scanner.liveness_pending
    if pending and not liveness_in_scan:
        await tokens.confirm_device_live(scanner.token_id)
        pending = False
    return Device(token_id=scanner.token_id, label=scanner.label, conference_id=scanner.conference_id, venue_id=scanner.venue_id,
                  unit_id=scanner.unit_id, unit_path=scanner.unit_path, issued_by=scanner.issued_by, liveness_pending=pending)


async def device_overview(device: Device) -> dict:
    """What the scanner page shows about itself: its conference, its venue, the server's time."""
    conference = await Conference.select(Conference.id, Conference.title, Conference.starts_at, Conference.ends_at,
                                         Conference.timezone, Conference.status).where(Conference.id == device.conference_id).first()
    venue = None
    if device.venue_id is not None:
        venue = await Venue.select(Venue.id, Venue.name).where(Venue.id == device.venue_id).first()
    venues = await Venue.select(Venue.id, Venue.name).where(Venue.conference == device.conference_id).order_by(Venue.id)
    return {"device": {"id": device.token_id, "label": device.label}, "conference": conference, "venue": venue,
            "venues": venues if venue is None else [venue], "server_time": clock.now()}


# -- scanning -------------------------------------------------------------------------------------

# credential -> invitation -> person, unit, conference, the person's roll-call record, the first
# scanner that checked them in (looked for only when there is a record) and the answer already
# given to this scan's nonce (a replay): one indexed read answers every status of a scan
_LOOKUP = (
    "SELECT c.invitation, c.conference, c.generation, c.revoked_at, i.status AS invitation_status, i.venue, i.person, "
    "p.full_name, u.name AS unit_name, f.status AS conference_status, a.status AS record_status, a.method AS record_method, "
    "a.recorded_at, a.recorded_by, CASE WHEN a.id IS NOT NULL THEN (SELECT s.answer FROM qr_checkin_scan s "
    "WHERE s.conference = c.conference AND s.person = i.person AND s.status = 'checked_in' ORDER BY s.scanned_at LIMIT 1) "
    "END AS first_answer, (SELECT r.answer FROM qr_checkin_scan r WHERE r.nonce_key = {}) AS replay, "
    + tokens.device_live_sql() + " AS device_live "
    "FROM qr_checkin_credential c JOIN invitation i ON i.id = c.invitation JOIN person p ON p.id = i.person "
    "JOIN unit u ON u.id = p.unit JOIN conference f ON f.id = c.conference "
    "LEFT JOIN attendance a ON a.conference = c.conference AND a.person = i.person WHERE "
)
_LOOKUP_BY_INVITATION = FixedStatement(_LOOKUP + "c.invitation = {}")
_LOOKUP_BY_SHORT_CODE = FixedStatement(_LOOKUP + "c.short_hash = {}")

# the scan log row, the other half of the hot path (Piccolo would build this insert anew per scan)
_LOG_COLUMNS = ("conference, device_token, nonce_key, invitation, person, venue, status, method, scanned_at, received_at, "
                "device_time, offset_ms, queued, flagged, answer")
_LOG_SCAN = FixedStatement(
    "INSERT INTO qr_checkin_scan (" + _LOG_COLUMNS + ") VALUES ({}, {}, {}, {}, {}, {}, {}, 'staff_scan', {}, {}, {}, {}, {}, "
    "FALSE, {}) ON CONFLICT DO NOTHING RETURNING id")
# the same row written by the roll-call service's arrival statement on PostgreSQL, for the scan
# that records it (rollcall.WithArrival): the first scan's two writes in one commit
_LOG_WITH_ARRIVAL = (
    "INSERT INTO qr_checkin_scan (" + _LOG_COLUMNS + ") SELECT CAST({} AS INTEGER), CAST({} AS INTEGER), CAST({} AS VARCHAR), "
    "CAST({} AS INTEGER), arrival.person, CAST({} AS INTEGER), 'checked_in', 'staff_scan', CAST({} AS TIMESTAMPTZ), "
    "CAST({} AS TIMESTAMPTZ), CAST({} AS TIMESTAMPTZ), CAST({} AS INTEGER), CAST({} AS BOOLEAN), FALSE, CAST({} AS JSON) "
    "FROM arrival ON CONFLICT DO NOTHING RETURNING 1")


def _scan_time(now: dt.datetime, device_time: dt.datetime | None, offset_ms: int | None) -> dt.datetime:
    """A queued scan's time on the server clock: the device time plus the measured offset,
    never later than now nor older than ``QUEUED_SCAN_MAX_AGE``."""
    if device_time is None:
        return now
    if device_time.tzinfo is None:
        raise ValidationError("Thời điểm quét phải có múi giờ.", field="device_time")
    at = device_time.astimezone(dt.timezone.utc) + dt.timedelta(milliseconds=offset_ms or 0)
    return max(min(at, now), now - QUEUED_SCAN_MAX_AGE)


async def _identify(conference_id: int, credential: str | None, short_code: str | None,
                    nonce_key: str | None, device_id: int) -> tuple[str | None, dict | None]:
    """(refusal status or None, the credential's row) for what was scanned or typed. The
    signature is checked before the database is asked anything: a forged or foreign credential
    costs no read (a replay of one is answered by the scan log's unique nonce)."""
    if credential:
        try:
            payload, message, signature = creds.decode(credential)
        except creds.Malformed:
            return "forged", None
        key = await public_key(payload.key_id)
        if key is None or not creds.verify(key, message, signature):
            return "forged", None
        if payload.conference_id != conference_id:
            return "wrong_conference", None
        rows = await _LOOKUP_BY_INVITATION.fetch(nonce_key, device_id, payload.invitation_id)
        row = rows[0] if rows else None
        if row is None or row["conference"] != conference_id:
            return "not_invited", None
        if row["revoked_at"] is not None or (row["generation"] & 0xFFFF) != payload.generation:
            return "revoked", row
    else:
        code = creds.normalise_short_code(short_code or "")
        if not 6 <= len(code) <= 8:
            raise ValidationError("Mã ngắn gồm 6–8 ký tự.", field="short_code")
        rows = await _LOOKUP_BY_SHORT_CODE.fetch(nonce_key, device_id, creds.short_hash(conference_id, code))
        row = rows[0] if rows else None
        if row is None:
            return "not_invited", None
        if row["revoked_at"] is not None:
            return "revoked", row
    if row["invitation_status"] != "active":
        return "not_invited", row
    if row["conference_status"] in ("ended", "cancelled"):
        return "expired", row
    return None, row


def _existing_record(row: dict) -> dict | None:
    """The person's roll-call record as the lookup read it, or None."""
    if row["record_status"] is None:
        return None
    recorded_at = row["recorded_at"]
    if isinstance(recorded_at, str):
        recorded_at = dt.datetime.fromisoformat(recorded_at)
    if recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=dt.timezone.utc)
    return {"status": row["record_status"], "method": row["record_method"], "recorded_at": recorded_at,
            "recorded_by": row["recorded_by"]}


async def _who_recorded(first_answer, record: dict) -> str:
    """Who checked the person in: the first scanner's label, else the staff user, else the method."""
    device = _as_dict(first_answer).get("device") if first_answer else None
    if device:
        return device
    if record.get("recorded_by"):
        user = await StaffUser.select(StaffUser.full_name, StaffUser.username).where(StaffUser.id == record["recorded_by"]).first()
        if user:
            return user["full_name"] or user["username"]
    return rollcall.METHODS.get(record.get("method"), "")


async def scan(device: Device, *, conference_id: int, credential: str | None = None, short_code: str | None = None,
               venue_id: int | None = None, nonce: str | None = None, device_time: dt.datetime | None = None,
               offset_ms: int | None = None) -> dict:
    """One scan: {status, person, at, ...}. Idempotent by ``nonce`` (per device): a replay gets
    the first answer and records nothing again. A first scan is two statements on PostgreSQL (the
    lookup; the roll-call service's arrival carrying the scan log row), five on SQLite (the
    lookup; the arrival's three and the log row in one write); a re-scan or a refusal the lookup
    and the log row. A ``liveness_pending`` device's key is read by the lookup (or alone where
    there is none, as for a forged credential): revoked, it gets NotFound before any answer."""
    if device.conference_id != conference_id:
        raise NotFound("Không tìm thấy hội nghị.")
    if bool(credential) == bool(short_code):
        raise ValidationError("Gửi đúng một trong hai: mã QR (credential) hoặc mã ngắn (short_code).", field="credential")
    nonce_key = None
    if nonce:
        if len(nonce) > NONCE_MAX:
            raise ValidationError("Mã chống trùng (nonce) dài tối đa {nonce_max} ký tự.", field="nonce", nonce_max=NONCE_MAX)
        nonce_key = f"{device.token_id}:{nonce}"
    now = clock.now()
    at = _scan_time(now, device_time, offset_ms)
    if device.venue_id is not None:
        venue_id = device.venue_id
    elif venue_id is not None:
        if device.liveness_pending:  # a revoked key learns nothing of the conference's venues either
            await tokens.confirm_device_live(device.token_id)
            device = dataclasses.replace(device, liveness_pending=False)
        if not await Venue.exists().where((Venue.id == venue_id) & (Venue.conference == conference_id)):
            raise ValidationError("Điểm cầu không thuộc hội nghị này.", field="venue_id")
    status, row = await _identify(conference_id, credential, short_code, nonce_key, device.token_id)
    if device.liveness_pending:  # a revoked key stops here, before anything is answered or written
        await tokens.confirm_device_live(device.token_id, bool(row["device_live"]) if row is not None else None)
    if row is not None and row["replay"] is not None:
        return _as_dict(row["replay"])
    if status is None and venue_id is not None and row["venue"] is not None and row["venue"] != venue_id:
        status = "wrong_venue"
    answer = {"status": status, "message": None, "person": None, "at": None, "venue_id": venue_id, "by": None,
              "device": device.label}
    if row is not None and status != "wrong_conference":
        answer["person"] = {"id": row["person"], "full_name": row["full_name"], "unit_name": row["unit_name"]}
    if status == "wrong_venue":
        expected = await Venue.select(Venue.name).where(Venue.id == row["venue"]).first()
        answer["expected_venue"] = expected["name"] if expected else None
    existing = _existing_record(row) if status is None else None
    log = _LogRow(device, nonce_key, row, at, now, device_time, offset_ms)
    if status is None and not (existing is not None and rollcall.stands_against(existing, at)):
        # an arrival to record: it and its log row take SQLite's writer lock once
        async with one_write():
            predicted = _answer_of(answer, at, mine=True)  # the answer if this scan makes the record
            result = await rollcall.record_scan(device.actor(), conference_id=conference_id, person_id=row["person"],
                                                method="staff_scan", venue_id=venue_id or row["venue"], at=at,
                                                along=log.with_arrival(predicted) if is_postgres(current_engine()) else None)
            if result["written_along"]:
                return predicted
            record = result["record"]
            # a queued scan earlier than the stored record replaced it (earliest wins): it is this scan's record
            mine = result["created"] or (existing is not None and existing["recorded_at"] > at and record["recorded_at"] == at)
            return await _answered(answer, record, mine, log)
    if status is None:  # a re-scan: nothing to record
        return await _answered(answer, existing, False, log)
    answer["message"] = STATUSES[status]
    return await log.written(answer)


def _answer_of(answer: dict, at: dt.datetime, *, mine: bool) -> dict:
    status = "checked_in" if mine else "already_checked_in"
    return {**answer, "status": status, "message": STATUSES[status], "at": at.isoformat()}


async def _answered(answer: dict, record: dict, mine: bool, log: "_LogRow") -> dict:
    """A scan of an invited person: checked in by this scan (``mine``) or before, and by whom."""
    answer = _answer_of(answer, record["recorded_at"], mine=mine)
    if not mine:
        answer["by"] = await _who_recorded(log.row["first_answer"], record)
    return await log.written(answer)


@dataclasses.dataclass(frozen=True)
class _LogRow:
    """The scan log row of one scan (what it is, less the answer)."""

    device: Device
    nonce_key: str | None
    row: dict | None
    at: dt.datetime
    now: dt.datetime
    device_time: dt.datetime | None
    offset_ms: int | None

    def with_arrival(self, answer: dict) -> rollcall.WithArrival:
        """The row, written by the arrival statement that checks the person in (PostgreSQL)."""
        return rollcall.WithArrival(_LOG_WITH_ARRIVAL, (
            self.device.conference_id, self.device.token_id, self.nonce_key, self.row["invitation"], answer["venue_id"], self.at,
            self.now, self.device_time, self.offset_ms, self.device_time is not None, msgspec.json.encode(answer).decode()))

    async def written(self, answer: dict) -> dict:
        """The row of ``answer``; the first answer where the same nonce raced in from another request."""
        row = self.row
        inserted = await _LOG_SCAN.fetch(
            self.device.conference_id, self.device.token_id, self.nonce_key, row["invitation"] if row else None,
            row["person"] if row else None, answer["venue_id"], answer["status"], self.at, self.now, self.device_time,
            self.offset_ms, self.device_time is not None, msgspec.json.encode(answer).decode())
        if not inserted and self.nonce_key:
            replay = await QrScan.select(QrScan.answer).where(QrScan.nonce_key == self.nonce_key).first()
            if replay is not None:
                return _as_dict(replay["answer"])
        return answer


def _as_dict(value) -> dict:
    if isinstance(value, str):
        import json

        return json.loads(value)
    return value


async def scan_batch(device: Device, *, conference_id: int, scans: list[dict]) -> list[dict]:
    """An offline queue, oldest first; each item answered as :func:`scan` would (a bad item gets
    ``{"error": ...}`` and does not stop the others)."""
    if len(scans) > BATCH_LIMIT:
        raise ValidationError("Mỗi lần gửi tối đa {batch_limit} lượt quét.", field="scans", batch_limit=BATCH_LIMIT)
    answers = []
    for item in sorted(scans, key=lambda s: (s.get("device_time") is None, s.get("device_time") or clock.now())):
        try:
            answers.append({"nonce": item.get("nonce"), **await scan(device, conference_id=conference_id, **item)})
        except ValidationError as error:
            answers.append({"nonce": item.get("nonce"), "status": None, "error": error.message, "fields": error.fields})
    return answers


async def roster(device: Device) -> dict:
    """What a scanner keeps for offline use: for its venue (or the whole conference) the hash of
    each live credential and of its short code, with the name and unit; the public keys; the
    conference's end, after which the page wipes it. Nothing else about anyone."""
    conference = await Conference.select(Conference.id, Conference.title, Conference.ends_at, Conference.status).where(
        Conference.id == device.conference_id).first()
    rows = await ensure_credentials(device.conference_id)
    live = {row["invitation"]: row for row in rows if row["revoked_at"] is None}
    query = Invitation.select(Invitation.id, Invitation.venue, Invitation.person.full_name.as_alias("full_name"),
                              Invitation.person.unit.name.as_alias("unit_name")).where(
        (Invitation.conference == device.conference_id) & (Invitation.status == "active"))
    entries = []
    keys: dict = {}
    for invitation in await query:
        row = live.get(invitation["id"])
        if row is None:
            continue
        if device.venue_id is not None and invitation["venue"] not in (None, device.venue_id):
            continue
        rendered = await _render(row, keys)
        entries.append({"h": creds.credential_hash(rendered["credential"]),
                        "s": creds.short_hash(device.conference_id, rendered["short_code"]),
                        "name": invitation["full_name"], "unit": invitation["unit_name"]})
    return {"conference": conference, "venue_id": device.venue_id, "keys": await public_keys(), "entries": entries,
            "generated_at": clock.now(), "wipe_after": conference["ends_at"] + dt.timedelta(hours=24)}


async def recent_scans(device: Device, *, limit: int = 20) -> list[dict]:
    rows = await QrScan.select(QrScan.answer, QrScan.scanned_at).where(QrScan.device_token == device.token_id).order_by(
        QrScan.id, ascending=False).limit(limit)
    return [_as_dict(row["answer"]) for row in rows]


async def resolve_code(conference: dict, code: str) -> dict | None:
    """The ``resolve_checkin_code`` hook: the active invitation a typed short code identifies."""
    normalised = creds.normalise_short_code(code)
    if not 6 <= len(normalised) <= 8:
        return None
    row = await QrCredential.select(QrCredential.invitation, QrCredential.revoked_at).where(
        QrCredential.short_hash == creds.short_hash(conference["id"], normalised)).first()
    if row is None or row["revoked_at"] is not None:
        return None
    return await Invitation.select().where((Invitation.id == row["invitation"]) & (Invitation.status == "active")).first()


async def forget(conference_id: int) -> None:
    """The ``conference_deleted`` clean-up."""
    await QrScan.delete().where(QrScan.conference == conference_id)
    await QrCredential.delete().where(QrCredential.conference == conference_id)
