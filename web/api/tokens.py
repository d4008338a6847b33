"""/api/v1/tokens: API keys (one of my roles on one unit) and scanner device keys (a conference
or a venue), shown once, listed without secrets, revoked at once (core/services/tokens.py)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec
from litestar import Controller, get, post

from core.access import Actor
from core.errors import ValidationError
from core.services import tokens
from web.api.docs import answers, convert


class TokenIssue(msgspec.Struct, forbid_unknown_fields=True):
    """``purpose="api"``: ``unit_id`` and ``role`` name one of your own roles; the key acts as you
    with that role only. ``purpose="scanner_device"``: ``conference_id`` or ``venue_id`` where you
    may check people in. ``ttl_days``: 1–366 (default 90 for API keys, 30 for devices)."""

    purpose: Literal["api", "scanner_device"] = "api"
    label: str = ""
    ttl_days: int | None = None
    unit_id: int | None = None
    role: str | None = None
    conference_id: int | None = None
    venue_id: int | None = None


class TokenOut(msgspec.Struct):
    """A key without its secret. ``state``: active, expired, revoked, or dead (its role
    assignment, user, conference or venue is gone)."""

    id: int
    purpose: str
    label: str
    state: str
    subject_type: str
    subject_id: int
    created_by: int | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    unit_id: int | None
    unit_name: str | None
    role: str | None
    user_id: int | None
    username: str | None
    conference_id: int | None


class TokenIssued(msgspec.Struct):
    """``token`` is shown this once; only its hash is kept. Send it as ``Authorization: Bearer …``
    (API keys) or in the ``X-Device-Token`` header (scanner devices)."""

    token: str
    item: TokenOut


TOKEN_EXAMPLE = {"id": 14, "purpose": "api", "label": "Đồng bộ danh sách báo cáo viên", "state": "active",
                 "subject_type": "role_assignment", "subject_id": 6, "created_by": 2, "created_at": "2030-03-01T02:00:00Z",
                 "expires_at": "2030-05-30T02:00:00Z", "revoked_at": None, "last_used_at": None, "unit_id": 3,
                 "unit_name": "Huyện ủy Tiên Du", "role": "organiser", "user_id": 2, "username": "tochuc.tiendu", "conference_id": None}


def _missing(**values) -> None:
    for field, value in values.items():
        if value is None:
            raise ValidationError("Khoá API cần {name}.", field=field, name=field)


class TokensController(Controller):
    path = "/api/v1/tokens"
    opt = {"access": "staff"}

    @post("/", responses=answers(201, TokenIssued, {"token": "k3J9…(43 ký tự)", "item": TOKEN_EXAMPLE}, errors=(400, 403, 404, 422)))
    async def issue(self, actor: Actor, data: TokenIssue) -> TokenIssued:
        """Issue a key; its secret is in this answer only."""
        if data.purpose == "api":
            _missing(unit_id=data.unit_id, role=data.role)
            row, plaintext = await tokens.issue_api_token(actor, unit_id=data.unit_id, role=data.role, label=data.label,
                                                          ttl_days=data.ttl_days)
        else:
            row, plaintext = await tokens.issue_device_token(actor, conference_id=data.conference_id, venue_id=data.venue_id,
                                                             label=data.label, ttl_days=data.ttl_days)
        return TokenIssued(token=plaintext, item=convert(row, TokenOut))

    @get("/", responses=answers(200, list[TokenOut], [TOKEN_EXAMPLE], errors=(404, 422)))
    async def list_(self, actor: Actor, unit_id: int | None = None, purpose: str | None = None) -> list[TokenOut]:
        """Keys you may manage: your own, those you issued, and under units you administer."""
        return convert(await tokens.list_tokens(actor, unit_id=unit_id, purpose=purpose), list[TokenOut])

    @post("/{token_id:int}/revoke", status_code=200,
          responses=answers(200, TokenOut, {**TOKEN_EXAMPLE, "state": "revoked", "revoked_at": "2030-03-02T02:00:00Z"}, errors=(404,)))
    async def revoke(self, actor: Actor, token_id: int) -> TokenOut:
        """Revoke a key at once (idempotent)."""
        return convert(await tokens.revoke_token(actor, token_id), TokenOut)
