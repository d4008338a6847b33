"""The scan API, for scanner devices: ``X-Device-Token`` authenticates, session cookies are
ignored and CSRF does not apply (a cross-site page cannot set the header). Each route is rate
limited per device token (Litestar's rate limiting, counters in a store every process shares,
counted by leases, see rate_limit.py), never per client address: a whole hall shares one address."""

from __future__ import annotations

import datetime as dt
import hashlib

import msgspec
from litestar import Request, get, post
from litestar.middleware.rate_limit import RateLimitConfig

from core.services import tokens
from plugins.qr_checkin import services
from plugins.qr_checkin.rate_limit import device_rate_limit
from plugins.qr_checkin.settings import PLUGIN, deployment_setting

DEVICE_HEADER = "x-device-token"
RATE_LIMIT_STORE = "qr_checkin_rate_limit"
# no session can reach these routes (web/security.py drops the cookie), so none is loaded either
DEVICE_OPT = {"plugin": PLUGIN, "unit_from": "device_token", "exclude_from_csrf": True, "skip_session": True}
# a few hundred bytes of JSON: gzip would cost more CPU than it saves (the roster and a batch's
# answers are large, and stay compressed)
SMALL_ANSWER_OPT = {**DEVICE_OPT, "skip_compression": True}
# a scan's lookup reads whether the device key is revoked: the guard need not read the key first
SCAN_OPT = {**SMALL_ANSWER_OPT, tokens.DEVICE_LIVENESS_IN_ROUTE: True}


def device_identifier(request: Request) -> str:
    """The rate-limit key: a hash of the device token (never the token, never the address)."""
    token = request.headers.get(DEVICE_HEADER) or ""
    return "qr_checkin:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def rate_limit() -> RateLimitConfig:
    return device_rate_limit(int(deployment_setting("scans_per_second")), device_identifier, RATE_LIMIT_STORE)


async def _device(request: Request, conference_id: int | None = None, *, liveness_in_scan: bool = False) -> services.Device:
    # the plugin-route guard has verified the token for this request: not again
    authenticated = request.scope.get("state", {}).get(tokens.AUTHENTICATED_DEVICE)
    return await services.device_for_token(request.headers.get(DEVICE_HEADER) or "", conference_id, authenticated=authenticated,
                                           liveness_in_scan=liveness_in_scan)


class ScanIn(msgspec.Struct, forbid_unknown_fields=True):
    """One scan: ``credential`` (the QR text) or ``short_code`` (typed). ``nonce`` makes it
    idempotent; ``device_time`` (with offset) and ``offset_ms`` (server minus device clock, as
    measured) date a scan made offline."""

    credential: str | None = None
    short_code: str | None = None
    venue_id: int | None = None
    nonce: str | None = None
    device_time: dt.datetime | None = None
    offset_ms: int | None = None


class BatchIn(msgspec.Struct, forbid_unknown_fields=True):
    scans: list[ScanIn]


class PersonOut(msgspec.Struct):
    id: int
    full_name: str
    unit_name: str


class ScanOut(msgspec.Struct):
    status: str | None
    message: str | None = None
    person: PersonOut | None = None
    at: str | None = None
    venue_id: int | None = None
    by: str | None = None
    expected_venue: str | None = None
    nonce: str | None = None
    error: str | None = None


def _fields(item: ScanIn) -> dict:
    return {name: getattr(item, name) for name in item.__struct_fields__}


def _out(answer: dict) -> dict:
    keys = ScanOut.__struct_fields__
    return {key: answer.get(key) for key in keys}


def build_routes() -> list:
    limiter = rate_limit().middleware

    @get("/api/v1/qr_checkin/device", opt=SMALL_ANSWER_OPT, middleware=[limiter])
    async def device_info(request: Request) -> dict:
        """This scanner: its conference, venue and the server's clock (to measure the offset)."""
        return await services.device_overview(await _device(request))

    @post("/api/v1/qr_checkin/conferences/{conference_id:int}/scans", opt=SCAN_OPT, middleware=[limiter], status_code=200)
    async def scan(request: Request, conference_id: int, data: ScanIn) -> ScanOut:
        """Quét một mã: status là checked_in, already_checked_in, not_invited, wrong_conference,
        wrong_venue, revoked, forged hoặc expired. Gửi lại cùng nonce nhận lại đúng câu trả lời cũ."""
        device = await _device(request, conference_id, liveness_in_scan=True)
        return msgspec.convert(_out(await services.scan(device, conference_id=conference_id, **_fields(data))), ScanOut)

    @post("/api/v1/qr_checkin/conferences/{conference_id:int}/scans/batch", opt=DEVICE_OPT, middleware=[limiter], status_code=200)
    async def scan_batch(request: Request, conference_id: int, data: BatchIn) -> dict:
        """Hàng đợi quét khi mất mạng (tối đa 500 lượt), mỗi lượt có nonce: gửi lại không ghi trùng."""
        device = await _device(request, conference_id)
        answers = await services.scan_batch(device, conference_id=conference_id, scans=[_fields(item) for item in data.scans])
        return {"results": [_out(answer) for answer in answers]}

    @get("/api/v1/qr_checkin/conferences/{conference_id:int}/roster", opt=DEVICE_OPT, middleware=[limiter])
    async def roster(request: Request, conference_id: int) -> dict:
        """Danh sách cho quét ngoại tuyến: băm của mã, họ tên, đơn vị; khoá công khai."""
        return await services.roster(await _device(request, conference_id))

    @get("/api/v1/qr_checkin/conferences/{conference_id:int}/recent", opt=DEVICE_OPT, middleware=[limiter])
    async def recent(request: Request, conference_id: int) -> dict:
        """Các lượt quét gần nhất của máy này."""
        return {"results": [_out(a) for a in await services.recent_scans(await _device(request, conference_id))]}

    return [device_info, scan, scan_batch, roster, recent]
