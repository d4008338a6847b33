"""Tokens: every secret that reaches a person or a device, with a purpose.

Shown-once secrets (login links, API and device tokens) are 256 random bits; only their
SHA-256 is stored. Re-displayable secrets (a calendar feed URL, a badge's short code) are an
HMAC of the deployment key, the purpose, the subject and a stored generation; rotating bumps
the generation. A token of one purpose is never accepted for another.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from core import clock
from core.access import Actor
from core.config import get_settings
from core.db import transaction
from core.errors import NotFound, ValidationError
from core.services import audit
from core.tables import Token

SHOWN_ONCE = {"login_link": "Đường dẫn đăng nhập", "api": "Khoá API", "scanner_device": "Thiết bị quét mã"}
DERIVED = {"calendar_feed": "Lịch cá nhân", "checkin_credential": "Mã điểm danh", "evaluation": "Phiếu đánh giá"}
PURPOSES = {**SHOWN_ONCE, **DERIVED}
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: typed by staff from a paper badge


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_purpose(purpose: str, allowed: dict) -> None:
    if purpose not in allowed:
        raise ValidationError(f"Mục đích không hợp lệ: {purpose!r}.", field="purpose")


async def issue_secret_token(
    actor: Actor, *, purpose: str, subject_type: str, subject_id: int, ttl: dt.timedelta | None = None, label: str = "",
) -> tuple[dict, str]:
    """A new shown-once secret: returns (row, plaintext). Only the hash is kept."""
    _check_purpose(purpose, SHOWN_ONCE)
    plaintext = secrets.token_urlsafe(32)
    now = clock.now()
    async with transaction():
        row = (await Token.insert(Token(
            purpose=purpose, secret_hash=_digest(plaintext), subject_type=subject_type, subject_id=subject_id, label=label,
            created_by=actor.user_id, created_at=now, expires_at=now + ttl if ttl else None,
        )).returning(*Token.all_columns()))[0]
        await audit.record(actor, "token.issue", object_type="token", object_id=row["id"], unit_id=None, purpose=purpose,
                           subject=f"{subject_type}:{subject_id}")
    return row, plaintext


async def verify_secret_token(plaintext: str, purpose: str) -> dict:
    """The live token row for ``plaintext`` of this purpose; NotFound otherwise (one answer for
    unknown, wrong purpose, expired and revoked)."""
    row = await Token.select().where(Token.secret_hash == _digest(plaintext or "")).first()
    now = clock.now()
    if (row is None or not hmac.compare_digest(row["purpose"], purpose) or row["revoked_at"] is not None
            or (row["expires_at"] is not None and row["expires_at"] <= now)):
        raise NotFound("Mã không hợp lệ hoặc đã hết hạn.")
    await Token.update({Token.last_used_at: now}).where(Token.id == row["id"])
    return row


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


async def revoke_token(actor: Actor, token_id: int) -> None:
    row = await Token.select().where(Token.id == token_id).first()
    if row is None:
        raise NotFound("Không tìm thấy mã.")
    async with transaction():
        await Token.update({Token.revoked_at: clock.now()}).where(Token.id == token_id)
        await audit.record(actor, "token.revoke", object_type="token", object_id=token_id, unit_id=None, purpose=row["purpose"])


async def list_tokens(subject_type: str, subject_id: int) -> list[dict]:
    """Tokens of a subject, without any secret material."""
    return await Token.select(
        Token.id, Token.purpose, Token.label, Token.generation, Token.created_at, Token.expires_at, Token.revoked_at, Token.last_used_at,
    ).where((Token.subject_type == subject_type) & (Token.subject_id == subject_id)).order_by(Token.id)
