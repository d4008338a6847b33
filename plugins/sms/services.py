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
        raise ValidationError("Báo cáo gửi thiếu mã tin nhắn ({id_field}).", field=id_field, id_field=id_field)
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
    from plugins.sms.tables import SmsSegment

    counts = {"applied": 0, "pending": 0, "dropped": 0}
    smpp = settings_values().get("backend") == "smpp"
    for row in await SmsReceipt.select().order_by(SmsReceipt.id):
        receipt = Receipt(provider_id=row["provider_id"], delivered=row["delivered"], reason=row["reason"],
                          message_id=row["message_id"])
        if smpp or await SmsSegment.exists().where(SmsSegment.provider_id == receipt.provider_id):
            # a part's receipt: never settles the whole message by itself
            outcome = "applied" if await _settle_segment(receipt.provider_id, bool(receipt.delivered), receipt.reason) else "pending"
        else:
            outcome = await _settle(receipt)
        if outcome in ("applied", "duplicate"):
            counts["applied"] += 1
        elif clock.now() - row["received_at"] > KEEP_UNMATCHED:
            counts["dropped"] += 1
        else:
            counts["pending"] += 1
            continue
        await SmsReceipt.delete().where(SmsReceipt.id == row["id"])
    # messages whose last receipt overtook the end of their send
    for row in await SmsSegment.select(SmsSegment.message_id).where(
            (SmsSegment.settled == False) & SmsSegment.status.is_in(["delivered", "failed"])).distinct():  # noqa: E712
        if await settle_message(row["message_id"]) == "waiting":
            counts["pending"] += 1
    if counts["pending"]:
        await jobs.schedule(MATCH_JOB, run_at=clock.now() + MATCH_DELAY, dedupe_key=f"sms:{MATCH_JOB}", plugin="sms")
    return counts


# -- SMPP: one row per part, written before its submit_sm --------------------------------------

# The statements every SMPP message makes around its submit_sm, written out (as the core does
# for its claim and its "sent"): Piccolo's query builder costs more CPU than these statements
# themselves, and at 200 messages a second the worker's event loop is the shared resource the
# window's slots wait on.
_SEGMENTS = "SELECT id, part, provider_id FROM sms_segment WHERE message_id = {}"
_ADD_SEGMENT_VALUES = "({}, {}, {}, 'pending', '', {}, {})"
_ADD_SEGMENTS = ("INSERT INTO sms_segment (message_id, part, parts, status, error, settled, created_at) VALUES {} "
                 "RETURNING id, part, provider_id")
_RECORD_SUBMITTED = "UPDATE sms_segment SET provider_id = {}, status = 'submitted' WHERE id = {} AND status = 'pending'"
_KEPT_RECEIPTS = "SELECT id, delivered, reason FROM sms_receipt WHERE provider_id = {} AND message_id IS NULL"


async def submit_message_smpp(backend, *, message_id: int, to: str, text: str, sender: str) -> str:
    """Send one message over SMPP, part by part; returns the first part's SMSC id (the message's
    provider id). Parts already submitted by an earlier attempt (a transient failure midway) are
    not submitted again. Each part's row is committed ``pending`` before its submit_sm, so a
    receipt that comes before the submit_sm_resp is matched as soon as the id is known."""
    from plugins.sms.smpp import encode_parts
    from plugins.sms.tables import SmsSegment

    config = backend.config
    parts = encode_parts(text, gsm_coding=config.data_coding, ucs2_coding=config.ucs2_data_coding, reference=message_id)
    rows = {row["part"]: row for row in await SmsSegment.raw(_SEGMENTS, message_id)}
    missing = [part for part in parts if part.number not in rows]
    if missing:
        now = clock.now()
        values = ", ".join([_ADD_SEGMENT_VALUES] * len(missing))
        arguments = [value for part in missing for value in (message_id, part.number, part.total, False, now)]
        rows.update({row["part"]: row for row in await SmsSegment.raw(_ADD_SEGMENTS.format(values), *arguments)})
    first_id = rows[1]["provider_id"] if 1 in rows else None
    for part in parts:
        row = rows[part.number]
        if row["provider_id"]:
            continue
        provider_id = await backend.submit_part(part, to=to, sender=sender)
        await SmsSegment.raw(_RECORD_SUBMITTED, provider_id, row["id"])
        if part.number == 1:
            first_id = provider_id
        await _apply_kept_receipts(provider_id)
    return first_id


async def _apply_kept_receipts(provider_id: str) -> None:
    """A receipt that came before the submit_sm_resp is waiting in ``sms_receipt``: apply it."""
    for kept in await SmsReceipt.raw(_KEPT_RECEIPTS, provider_id):
        if await _settle_segment(provider_id, bool(kept["delivered"]), kept["reason"]):
            await SmsReceipt.delete().where(SmsReceipt.id == kept["id"])


async def _settle_segment(provider_id: str, delivered: bool, reason: str) -> bool:
    """Record a part's receipt; settle its message when every part has one. False when no part
    has that id yet."""
    from plugins.sms.tables import SmsSegment

    for _ in range(2):  # once more when its submit_sm_resp was recorded between our two looks
        updated = await SmsSegment.update({SmsSegment.status: "delivered" if delivered else "failed", SmsSegment.error: reason[:1000]}).where(
            (SmsSegment.provider_id == provider_id) & SmsSegment.status.is_in(["pending", "submitted"])).returning(SmsSegment.message_id)
        if updated:
            await settle_message(updated[0]["message_id"])
            return True
        if await SmsSegment.exists().where((SmsSegment.provider_id == provider_id) & SmsSegment.status.is_in(["delivered", "failed"])):
            return True  # a repeated receipt: the SMSC sends again what it did not see acknowledged
    return False


async def settle_message(message_id: int) -> str:
    """A message whose parts all have their receipt becomes delivered (all delivered) or failed
    (the first failed part's reason). While the core has not yet recorded it as sent (its last
    part's receipt overtook the end of the send), the match job comes back to it."""
    from plugins.sms.tables import SmsSegment

    parts = await SmsSegment.select(SmsSegment.part, SmsSegment.status, SmsSegment.error).where(
        SmsSegment.message_id == message_id).order_by(SmsSegment.part)
    if not parts or any(part["status"] in ("pending", "submitted") for part in parts):
        return "incomplete"  # other parts' receipts are still to come
    failed = [part for part in parts if part["status"] == "failed"]
    if failed:
        reason = failed[0]["error"] + (f" (phần {failed[0]['part']}/{len(parts)})" if len(parts) > 1 else "")
        values = {Message.status: "failed", Message.error: reason[:1000]}
    else:
        values = {Message.status: "delivered", Message.delivered_at: clock.now()}
    settled = await Message.update(values).where((Message.id == message_id) & Message.status.is_in(["sent", "unknown"])).returning(Message.id)
    if not settled:
        # not sent yet, or the core recorded "sent" just after our update looked: either way the
        # match job comes back (marking the parts settled now would leave the message "sent")
        current = await Message.select(Message.status).where(Message.id == message_id).first()
        if current is not None and current["status"] in ("sending", "sent", "unknown"):
            await jobs.schedule(MATCH_JOB, run_at=clock.now() + MATCH_DELAY, dedupe_key=f"sms:{MATCH_JOB}", plugin="sms")
            return "waiting"
    await SmsSegment.update({SmsSegment.settled: True}).where(SmsSegment.message_id == message_id)
    return "settled"


async def record_smpp_receipt(receipt) -> str:
    """A deliver_sm receipt from the SMSC (one per part): ``applied``, ``pending`` (kept until its
    submit_sm_resp is recorded) or ``ignored`` (an intermediate state)."""
    if receipt.delivered is None:
        return "ignored"
    reason = "" if receipt.delivered else f"Nhà mạng báo không gửi được (stat={receipt.state}, err={receipt.error})"
    if await _settle_segment(receipt.provider_id, receipt.delivered, reason):
        return "applied"
    await SmsReceipt.insert(SmsReceipt(provider_id=receipt.provider_id, message_id=None, delivered=receipt.delivered, reason=reason,
                                       received_at=clock.now()))
    # the resp may have been recorded between our look and our insert: look once more
    if await _settle_segment(receipt.provider_id, receipt.delivered, reason):
        await SmsReceipt.delete().where((SmsReceipt.provider_id == receipt.provider_id) & SmsReceipt.message_id.is_null())
        return "applied"
    await jobs.schedule(MATCH_JOB, run_at=clock.now() + MATCH_DELAY, dedupe_key=f"sms:{MATCH_JOB}", plugin="sms")
    return "pending"
