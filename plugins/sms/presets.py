"""Presets for common REST SMS API shapes: they fill the ``http`` backend's settings a deployment
leaves unset (an explicit setting in plugins.toml always wins).

* ``esms_json``: the JSON gateway of eSMS (rest.esms.vn), the common shape of Vietnamese
  brandname gateways: credentials in the JSON body, a result code in the answer (100 = accepted),
  the message id in ``SMSID``, receipts as an HTTP GET to the ``CallbackUrl`` given per message.
* ``twilio_form``: a Twilio-style form POST with HTTP Basic credentials: HTTP 2xx = accepted,
  the id in ``sid``, errors as ``{"code", "message"}``, receipts as a form POST to the
  ``StatusCallback`` given per message.

Error codes marked permanent are taken from the providers' published tables; check them against
the contract before production (any code may be added in plugins.toml).
"""

from __future__ import annotations

PRESETS: dict[str, dict] = {
    "esms_json": {
        "url": "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/",
        "method": "POST",
        "body_format": "json",
        "body_template": (
            '{"ApiKey": "{{api_key}}", "SecretKey": "{{api_secret}}", "Phone": "{{to_national}}", "Content": "{{text}}", '
            '"Brandname": "{{sender}}", "SmsType": "2", "IsUnicode": "{{unicode}}", "RequestId": "{{reference}}", '
            '"CallbackUrl": "{{callback_url}}"}'
        ),
        "success_path": "CodeResult",
        "success_values": ["100"],
        "id_path": "SMSID",
        "error_code_path": "CodeResult",
        "error_message_path": "ErrorMessage",
        # blocked number, credentials, price list, balance, brandname, number format, duplicate
        # request id (an earlier attempt reached them), IP not allowed, template, network, type
        "permanent_codes": ["99", "101", "102", "103", "104", "108", "124", "140", "146", "177", "300"],
        "receipt_id_field": "SMSID",
        "receipt_delivered_when": ["SendSuccess=1"],
        "receipt_failed_when": ["SendFailed=1", "SendStatus=4"],
        "receipt_reason_field": "SendStatus",
    },
    "twilio_form": {
        "url": "https://api.twilio.com/2010-04-01/Accounts/{{account}}/Messages.json",
        "method": "POST",
        "headers": ["Authorization: Basic {{basic_auth}}"],
        "body_format": "form",
        "body_template": "To={{to}}&From={{sender}}&Body={{text}}&StatusCallback={{callback_url}}",
        "success_path": "",
        "id_path": "sid",
        "error_code_path": "code",
        "error_message_path": "message",
        # authentication, invalid or unreachable number, region not enabled, unsubscribed
        # recipient, not a mobile number, invalid sender
        "permanent_codes": ["20003", "21211", "21214", "21408", "21606", "21610", "21612", "21614"],
        "receipt_id_field": "MessageSid",
        "receipt_delivered_when": ["MessageStatus=delivered"],
        "receipt_failed_when": ["MessageStatus=undelivered", "MessageStatus=failed"],
        "receipt_reason_field": "ErrorCode",
    },
}


def apply_preset(values: dict, defaults: dict) -> dict:
    """``values`` with the preset's entries wherever a value was left at its default."""
    preset = PRESETS.get(values.get("preset") or "")
    if preset is None:
        return dict(values)
    return {key: preset[key] if key in preset and values.get(key) == defaults.get(key) else value
            for key, value in values.items()} | {key: value for key, value in preset.items() if key not in values}
