"""One-click unsubscribe (RFC 8058): the mail client POSTs to the List-Unsubscribe link.

Authenticated by the HMAC in the URL (per person, see ``channel.unsubscribe_token``), so it
takes no session and is exempt from CSRF; a request carrying a session cookie is refused, so a
page can never make a signed-in browser post it. The opt-out goes to the core's notification
service (this person receives no more email; other channels are unchanged).
"""

from __future__ import annotations

import hmac

from litestar import Request, post

from core import notifications
from core.errors import NotFound, ValidationError
from core.services.units import get_unit
from core.tables import Person
from plugins.email.channel import unsubscribe_token


@post("/api/v1/email/units/{unit_id:int}/unsubscribe/{person_id:int}/{token:str}", status_code=200,
      opt={"plugin": "email", "unit_from": "unit_id", "exclude_from_csrf": True}, name="email_unsubscribe")
async def unsubscribe(request: Request, unit_id: int, person_id: int, token: str) -> dict:
    """Thôi nhận thư điện tử (một lần bấm, RFC 8058)."""
    # an address that leads nowhere answers 404 first, whatever the request carries
    if not hmac.compare_digest(unsubscribe_token(person_id).encode(), token.encode()):
        raise NotFound("Không tìm thấy trang này.")
    unit = await get_unit(unit_id)
    if not await Person.exists().where((Person.id == person_id) & Person.unit.path.like(f"{unit['path']}%")):
        raise NotFound("Không tìm thấy trang này.")
    if request.cookies:
        raise ValidationError("Đường dẫn này chỉ dành cho chương trình đọc thư, không dùng kèm phiên đăng nhập.")
    await notifications.opt_out(person_id, "email")
    return {"status": "unsubscribed"}
