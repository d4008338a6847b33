"""Staff routes of the plugin (session or API key; CSRF applies to the session): revoke and
re-issue a badge. Pages live in pages.py."""

from __future__ import annotations

import msgspec
from litestar import get, post, put

from core.access import Actor
from plugins.qr_checkin import selfcheck, services
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


class SettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    staff_scans_only: bool


@put("/api/v1/qr_checkin/conferences/{conference_id:int}/settings", opt=STAFF)
async def update_settings(actor: Actor, conference_id: int, data: SettingsIn) -> dict:
    """``staff_scans_only``: tắt tự điểm danh tại màn hình điểm cầu cho hội nghị này."""
    return await selfcheck.set_staff_scans_only(actor, conference_id, data.staff_scans_only)


@get("/api/v1/qr_checkin/conferences/{conference_id:int}/flags", opt=STAFF)
async def flags(actor: Actor, conference_id: int) -> list[dict]:
    """Lượt tự điểm danh từ một máy đã điểm danh cho người khác (cần cán bộ xem lại)."""
    return await selfcheck.flagged(actor, conference_id)


def all_routes() -> list:
    from plugins.qr_checkin.pages import PAGES
    from plugins.qr_checkin.self_pages import SELF_PAGES

    return [revoke, reissue, update_settings, flags, *PAGES, *SELF_PAGES]
