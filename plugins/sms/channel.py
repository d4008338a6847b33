"""The SMS channel the core's notification service sends through.

The core owns the message (recipients, templates, quiet hours, quotas, idempotency, states);
the channel turns one message into one gateway request: the unit's sender id, the text folded
without diacritics where the unit asked for it, a receipt callback URL naming the unit and the
message. Settings of a unit are cached for a short while (a campaign reads them once, not once
per recipient).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import base64
import time

from core.config import get_settings
from core.errors import Label
from plugins.sms import encoding
from plugins.sms.http_gateway import GatewayConfig, HttpGateway
from plugins.sms.presets import apply_preset
from plugins.sms.settings import PLUGIN, SCHEMA, UnitOptions, deployment_values, unit_options

UNIT_OPTIONS_SECONDS = 30.0
_unit_cache: dict[int, tuple[float, str, UnitOptions]] = {}


def settings_values(overrides: dict | None = None) -> dict:
    """Deployment settings with the preset filled in (plugins.toml, then the environment)."""
    defaults = {key: spec.get("default") for key, spec in SCHEMA.items() if spec["scope"] == "deployment"}
    return apply_preset(deployment_values(SCHEMA, PLUGIN, overrides), defaults)


_http_gateways: dict[GatewayConfig, HttpGateway] = {}


def gateway_for(values: dict) -> HttpGateway:
    """The HTTP backend of these settings: one per configuration and process, so its pacing is
    shared by every send."""
    config = GatewayConfig.from_settings(values)
    gateway = _http_gateways.get(config)
    if gateway is None:
        gateway = _http_gateways[config] = HttpGateway(config)
    return gateway


_smpp_backends: dict = {}


def smpp_for(values: dict):
    """The SMPP backend of these settings: one per configuration and process, so its bound
    session, window and pacing are shared by every send."""
    from plugins.sms import services
    from plugins.sms.smpp import SmppBackend, SmppConfig

    config = SmppConfig.from_settings(values)
    backend = _smpp_backends.get(config)
    if backend is None:
        backend = _smpp_backends[config] = SmppBackend(config, on_receipt=services.record_smpp_receipt)
    return backend


async def close_backends() -> None:
    """Unbind every SMPP session and close every HTTP connection pool of the running event loop
    (worker shutdown, tests)."""
    for backend in list(_smpp_backends.values()):
        await backend.aclose()
    for gateway in list(_http_gateways.values()):
        await gateway.aclose()


def configured(values: dict) -> bool:
    """The deployment names a backend it can reach (else the plugin offers no channel)."""
    if values.get("backend") == "smpp":
        return bool(values.get("smpp_host") and values.get("smpp_system_id"))
    return values.get("backend") == "http" and bool(values.get("url"))


def receipt_secret(unit_id: int, generation: int = 0) -> str:
    """The secret in a unit's receipt URL: an HMAC of the deployment key, the unit and a
    generation (``receipt_generation`` in plugins.toml; raising it changes every URL)."""
    digest = hmac.new(get_settings().secret_key, f"sms_receipt:unit:{unit_id}:{generation}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def receipt_path(unit_id: int, generation: int = 0) -> str:
    return f"/api/v1/sms/units/{unit_id}/receipts/{receipt_secret(unit_id, generation)}"


def receipt_url(values: dict, unit_id: int | None, message_id: int | None = None) -> str:
    """Where the gateway reports delivery; empty without a public URL (no receipts then)."""
    public = (values.get("public_url") or "").rstrip("/")
    if not public or unit_id is None:
        return ""
    url = public + receipt_path(unit_id, int(values.get("receipt_generation") or 0))
    return f"{url}?ref={message_id}" if message_id is not None else url


async def options_for_unit(unit_id: int | None, default_sender: str) -> UnitOptions:
    from core.services.units import get_unit

    if unit_id is None:
        return UnitOptions(sender_id=default_sender, without_diacritics=False)
    cached = _unit_cache.get(unit_id)
    if cached is not None and cached[0] > time.monotonic() and cached[1] == default_sender:
        return cached[2]
    options = await unit_options((await get_unit(unit_id))["path"], default_sender)
    _unit_cache[unit_id] = (time.monotonic() + UNIT_OPTIONS_SECONDS, default_sender, options)
    return options


def forget_unit_options() -> None:
    """Drop cached unit settings (a setting just changed; tests)."""
    _unit_cache.clear()


def outgoing_text(body: str, options: UnitOptions) -> str:
    return encoding.fold_vietnamese(body) if options.without_diacritics else body


@dataclasses.dataclass
class SmsChannel:
    """Channel ``sms``: phone numbers, one-time codes, delivery receipts."""

    values: dict
    name: str = "sms"
    label: str = Label("Tin nhắn SMS")
    capabilities: frozenset[str] = frozenset({"one_time_codes", "delivery_receipts"})
    plugin: str | None = PLUGIN

    @property
    def concurrency(self) -> int:
        """Messages the core may send at once through this channel: the HTTP backend's
        ``concurrency``; over SMPP the window and ``smpp_prepare_ahead`` more. The session's own
        window still bounds the submit_sm in flight; the others are messages whose statements
        run around it (claim and pending rows before the submit, the resp and "sent" after),
        which would otherwise hold a window slot idle: on a loaded machine a PostgreSQL round
        trip waits for a core, and a window of messages all in their statements leaves the pacer
        nobody to start. Pacing still holds the rate."""
        if self.values.get("backend") == "smpp":
            return max(int(self.values.get("smpp_window") or 1), 1) + max(int(self.values.get("smpp_prepare_ahead") or 0), 0)
        return max(int(self.values.get("concurrency") or 1), 1)

    @functools.cached_property
    def gateway(self) -> HttpGateway:
        """The HTTP backend of these settings (read once per channel, not once per message)."""
        return gateway_for(self.values)

    @functools.cached_property
    def smpp(self):
        """The SMPP backend of these settings (likewise)."""
        return smpp_for(self.values)

    @property
    def cost_per_message(self) -> float:
        return float(self.values.get("cost_per_segment") or 0)

    def address_for(self, person: dict) -> str | None:
        return person.get("phone") or None

    async def send(self, message: dict, attachments: list[dict]) -> str | None:
        options = await options_for_unit(message.get("unit_id"), self.values.get("sender_id") or "")
        text = outgoing_text(message["body"], options)
        if self.values.get("backend") == "smpp":
            from plugins.sms.services import submit_message_smpp

            return await submit_message_smpp(self.smpp, message_id=message["id"], to=message["address"], text=text,
                                              sender=options.sender_id)
        return await self.gateway.submit(
            to=message["address"], text=text, sender=options.sender_id, unicode=encoding.encoding_of(text) == "ucs2",
            reference=f"hoinghi-{message['id']}", callback_url=receipt_url(self.values, message.get("unit_id"), message["id"]))

    async def preview_figures(self, *, body: str, recipients: int, unit_path: str) -> dict:
        # the channel_preview hook (plugins/sms/hooks.py) hands the campaign preview to this
        """Segments and cost of ``body`` sent to ``recipients``, and what dropping diacritics saves."""
        options = await unit_options(unit_path, self.values.get("sender_id") or "")
        return encoding.campaign_preview(body, recipients=recipients, cost_per_segment=self.cost_per_message,
                                         fold=options.without_diacritics)
