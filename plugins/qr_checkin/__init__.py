"""Built-in plugin ``qr_checkin``: signed check-in credentials and badges, a staff scanner for
phones (camera, keyboard wedge, typed short codes) authenticated by scanner device tokens, and a
scan API with an idempotent batch endpoint for offline queues. Attendance is recorded only
through the core roll-call service. See README.md in this folder."""

from core.errors import Label

LABEL = Label("Điểm danh bằng mã QR")
REQUIRES: tuple[str, ...] = ()
