"""Staff routes of the plugin (session or API key; CSRF applies to the session): revoke and
re-issue a badge. Pages live in pages.py."""

from __future__ import annotations

from litestar import post

from core.access import Actor
from plugins.qr_checkin import services
from plugins.qr_checkin.settings import PLUGIN

STAFF = {"plugin": PLUGIN, "unit_from": "conference_id"}


@post("/api/v1/qr_checkin/conferences/{conference_id:int}/credentials/{invitation_id:int}/revoke", opt=STAFF, status_code=200)
async def revoke(actor: Actor, conference_id: int, invitation_id: int) -> dict:
    """Thu hồi thẻ điểm danh của một giấy mời (máy quét ngoại tuyến áp dụng ở lần đồng bộ sau)."""
    return await services.revoke_credential(actor, conference_id=conference_id, invitation_id=invitation_id)


@post("/api/v1/qr_checkin/conferences/{conference_id:int}/credentials/{invitation_id:int}/reissue", opt=STAFF, status_code=200)
async def reissue(actor: Actor, conference_id: int, invitation_id: int) -> dict:
    """Cấp lại thẻ: thẻ cũ báo "đã thu hồi"."""
    return await services.reissue_credential(actor, conference_id=conference_id, invitation_id=invitation_id)


def all_routes() -> list:
    from plugins.qr_checkin.pages import PAGES

    return [revoke, reissue, *PAGES]
