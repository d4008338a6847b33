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
