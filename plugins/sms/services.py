"""Delivery receipts: reading what a gateway reports, and settling the message it is about.

A receipt names the provider's message id (and, when the callback URL we gave carried it, our
message id as ``ref``). It settles the message through ``core.notifications.apply_receipt``.
Two cases need more:

* the receipt came before the core recorded the provider id (the message is still ``sending``):
  it is kept in ``sms_receipt`` and a job matches it a little later;
* the worker died after the gateway took the message, so the core marked it ``unknown`` without
  a provider id: ``ref`` names the message, which adopts the provider id, then settles.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac

from core import clock, jobs
from core.errors import NotFound, ValidationError
from core.notifications import apply_receipt
from core.tables import Message
from plugins.sms.channel import receipt_secret, settings_values
from plugins.sms.tables import SmsReceipt

CHANNEL = "sms"
MATCH_JOB = "sms_match_receipts"
MATCH_DELAY = dt.timedelta(seconds=30)
KEEP_UNMATCHED = dt.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class Receipt:
    provider_id: str
    delivered: bool | None  # None: an intermediate state (accepted, sent to the network)
    reason: str
    message_id: int | None


def _matches(fields: dict, conditions: list[str]) -> str | None:
    """The first "Field=value" condition the receipt meets."""
    for condition in conditions:
        name, _, value = condition.partition("=")
        if str(fields.get(name.strip(), "")).strip() == value.strip():
            return condition
    return None


def parse_receipt(values: dict, fields: dict) -> Receipt:
    """What a callback says, read with the deployment's receipt settings (or its preset's)."""
    id_field = values.get("receipt_id_field") or "id"
    provider_id = str(fields.get(id_field) or "").strip()
    if not provider_id:
        raise ValidationError(f"Báo cáo gửi thiếu mã tin nhắn ({id_field}).", field=id_field)
    delivered: bool | None = None
    reason = ""
    if _matches(fields, values.get("receipt_delivered_when") or []):
        delivered = True
    else:
        failed = _matches(fields, values.get("receipt_failed_when") or [])
        if failed:
            delivered = False
            reason_field = values.get("receipt_reason_field") or ""
            detail = str(fields.get(reason_field) or "")[:200]
            shown = [failed] + ([f"{reason_field}={detail}"] if detail and f"{reason_field}={detail}" != failed else [])
            reason = f"Nhà mạng báo không gửi được ({', '.join(shown)})"
    ref = str(fields.get("ref") or "")
    return Receipt(provider_id=provider_id[:255], delivered=delivered, reason=reason,
                   message_id=int(ref) if ref.isdigit() else None)


def check_receipt_secret(unit_id: int, secret: str, values: dict) -> None:
    """404, as for any unknown address, when the URL's secret is not this unit's."""
    expected = receipt_secret(unit_id, int(values.get("receipt_generation") or 0))
    if not hmac.compare_digest(expected.encode(), (secret or "").encode()):
        raise NotFound("Không tìm thấy trang này.")


async def _settle(receipt: Receipt) -> str:
    """``applied``, ``pending`` (the message cannot take it yet) or ``duplicate``."""
    if receipt.message_id is not None:
        message = await Message.select(Message.status, Message.provider_id, Message.channel).where(
            Message.id == receipt.message_id).first()
        if message is not None and message["channel"] == CHANNEL:
            if message["status"] == "sending":
                return "pending"
            if message["status"] == "unknown" and message["provider_id"] is None:
                # the worker died after the gateway took it: the receipt tells us its id
                await Message.update({Message.provider_id: receipt.provider_id}).where(
                    (Message.id == receipt.message_id) & Message.provider_id.is_null())
    if await apply_receipt(channel=CHANNEL, provider_id=receipt.provider_id, delivered=bool(receipt.delivered), reason=receipt.reason):
        return "applied"
    if await Message.exists().where((Message.channel == CHANNEL) & (Message.provider_id == receipt.provider_id)):
        return "duplicate"  # already settled (gateways repeat their callbacks)
    return "pending"


async def record_receipt(*, unit_id: int, secret: str, fields: dict, values: dict | None = None) -> dict:
    """Handle one callback from the gateway. Returns {"status": applied | pending | ignored | duplicate}."""
    values = values if values is not None else settings_values()
    check_receipt_secret(unit_id, secret, values)
    receipt = parse_receipt(values, fields)
    if receipt.delivered is None:
        return {"status": "ignored"}
    outcome = await _settle(receipt)
    if outcome == "pending":
        await SmsReceipt.insert(SmsReceipt(provider_id=receipt.provider_id, message_id=receipt.message_id,
                                           delivered=receipt.delivered, reason=receipt.reason, received_at=clock.now()))
        await jobs.schedule(MATCH_JOB, run_at=clock.now() + MATCH_DELAY, dedupe_key=f"sms:{MATCH_JOB}", plugin="sms")
    return {"status": outcome}


async def match_pending_receipts(job: dict | None = None) -> dict[str, int]:
    """The job: settle kept receipts whose message can now take them; drop the old ones."""
    counts = {"applied": 0, "pending": 0, "dropped": 0}
    for row in await SmsReceipt.select().order_by(SmsReceipt.id):
        receipt = Receipt(provider_id=row["provider_id"], delivered=row["delivered"], reason=row["reason"],
                          message_id=row["message_id"])
        outcome = await _settle(receipt)
        if outcome in ("applied", "duplicate"):
            counts["applied"] += 1
        elif clock.now() - row["received_at"] > KEEP_UNMATCHED:
            counts["dropped"] += 1
        else:
            counts["pending"] += 1
            continue
        await SmsReceipt.delete().where(SmsReceipt.id == row["id"])
    if counts["pending"]:
        await jobs.schedule(MATCH_JOB, run_at=clock.now() + MATCH_DELAY, dedupe_key=f"sms:{MATCH_JOB}", plugin="sms")
    return counts
