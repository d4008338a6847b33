"""Email channel: SMTP through aiosmtplib (STARTTLS or TLS, credentials), HTML and text bodies
from the notification templates, attachments from the ``message_attachments`` hook (the calendar
plugin's .ics), a sender per unit, Message-ID and List-Unsubscribe headers. Mail gives no
delivery receipt: ``sent`` is final."""

from core.errors import Label

LABEL = Label("Thư điện tử (email)")
REQUIRES: tuple[str, ...] = ()
