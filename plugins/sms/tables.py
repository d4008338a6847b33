"""The sms plugin's own table: receipts that arrived before their message could take them."""

from piccolo.columns import Boolean, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class SmsReceipt(Table, tablename="sms_receipt"):
    """A delivery receipt not yet matched: the gateway answered the callback before the core
    recorded the provider id (the message was still ``sending``). A job retries the match, and
    drops the row once matched or a day old."""

    id: Serial
    provider_id = Varchar(length=255, index=True)
    message_id = Integer(null=True, default=None)  # our reference, when the callback URL carried it
    delivered = Boolean(default=False)
    reason = Text(default="")
    received_at = Timestamptz(default=TimestamptzNow())


class SmsSegment(Table, tablename="sms_segment"):
    """One part of a message sent over SMPP: written ``pending`` before its submit_sm, so that a
    delivery receipt overtaking the submit_sm_resp finds it; ``submitted`` with the SMSC's id once
    the resp came; ``delivered`` or ``failed`` from its own receipt (one receipt per part). The
    message is settled when every part is; ``settled`` marks parts whose message was."""

    id: Serial
    message_id = Integer(index=True)
    part = Integer(default=1)
    parts = Integer(default=1)
    provider_id = Varchar(length=255, null=True, default=None, index=True)
    status = Varchar(length=16, default="pending")
    error = Text(default="")
    settled = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
