"""Built-in plugin ``ical``: calendar invitations that update and cancel (RFC 5545 / RFC 5546),
personal and public subscription feeds, one-off downloads, and the attendee's "add to
calendar" panel. See README.md in this folder for what each calendar client needs."""

from core.errors import Label

LABEL = Label("Lịch (iCalendar)")
REQUIRES: tuple[str, ...] = ()
