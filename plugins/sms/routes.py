"""The delivery-receipt callback: the gateway calls the URL we gave with each message.

Authenticated by the secret in the URL (per unit; see ``channel.receipt_secret``), so it takes
no session and is exempt from CSRF; the access log redacts the secret. GET (query string) and
POST (form or JSON body) are both accepted, as gateways differ.
"""

from __future__ import annotations

from litestar import Request, route

from core.errors import ValidationError
from plugins.sms import services


async def _fields(request: Request) -> dict:
    fields = dict(request.query_params)
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        if "json" in content_type:
            try:
                body = await request.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                fields.update({key: value for key, value in body.items() if not isinstance(value, (dict, list))})
        else:
            fields.update(dict(await request.form()))
    return fields


@route("/api/v1/sms/units/{unit_id:int}/receipts/{secret:str}", http_method=["GET", "POST"], status_code=200,
       opt={"plugin": "sms", "unit_from": "unit_id", "exclude_from_csrf": True}, name="sms_delivery_receipt")
async def delivery_receipt(request: Request, unit_id: int, secret: str) -> dict:
    """Báo cáo gửi tin từ cổng SMS (delivered / failed)."""
    if request.cookies:
        # a gateway sends no cookie: a request with one comes from a browser, which a page could
        # make post here without a CSRF token; the URL's secret alone authenticates this route
        raise ValidationError("Đường dẫn này chỉ dành cho cổng SMS, không dùng kèm phiên đăng nhập.")
    return await services.record_receipt(unit_id=unit_id, secret=secret, fields=await _fields(request))
