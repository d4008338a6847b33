"""The ``http`` backend: one templated request per message to a REST SMS gateway.

The request (URL, method, headers, body) is a template with ``{{variable}}`` placeholders, each
value escaped for where it lands (URL, form body, JSON string, header). The answer is read
through dotted JSON paths (``result.code``, ``messages.0.id``): the success code, the provider's
message id, the error code and message. How a failure is classified decides what the core does
with the message (see ``core.notifications``):

* nothing reached the provider: refused connection, HTTP 429/502/503, or an error code not listed
  as permanent -> retried here with backoff, then :class:`TransientSendError` (queued again);
* the provider may hold the message: the answer timed out, the connection broke after the request
  was written, HTTP 500/504 -> :class:`UncertainSendError` (``unknown``; a receipt may settle it);
* anything else the gateway refused (a permanent error code, another 4xx) -> :class:`SendError`.

Each gateway paces its requests to ``rate_per_second`` (per process, ``core.pacing``: never a
burst above the rate, no catch-up after a stall). Credentials never appear in
an error message or a log line: both are scrubbed of every secret value.

The client is aiohttp's (a pool of keep-alive connections per event loop): a request costs the
worker about a seventh of httpx's CPU (0.15 against 1.0 ms on the benchmark machine), and at a
gateway's contracted 200 messages a second that is the difference between keeping the rate and
not. aiohttp's one automatic resend (an idempotent method on a reused connection that broke) is
switched off: a GET gateway must not get a message twice.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import re
import weakref
from typing import Any
from urllib.parse import quote, quote_plus

import aiohttp

from core.notifications import SendError, TransientSendError, UncertainSendError
from core.pacing import Pacer

log = logging.getLogger("hoinghi.sms")

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
VARIABLES = frozenset({
    "to", "to_digits", "to_national", "text", "sender", "unicode", "reference", "callback_url",
    "api_key", "api_secret", "account", "basic_auth",
})
TRANSIENT_STATUSES = frozenset({408, 429, 502, 503})
UNCERTAIN_STATUSES = frozenset({500, 504})
MAX_BACKOFF_SECONDS = 30.0


class GatewayConfigError(ValueError):
    """The deployment's gateway settings cannot work; the message names the setting."""


def render(template: str, values: dict[str, str], escape) -> str:
    def substitute(match: re.Match) -> str:
        return escape(str(values.get(match.group(1), "")))

    return PLACEHOLDER.sub(substitute, template)


def _json_escape(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _header_escape(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ")


def json_path(data: Any, path: str) -> Any:
    """``data`` at a dotted path (``a.b.0.c``); None when any step is missing."""
    for step in path.split("."):
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        else:
            return None
    return data


@dataclasses.dataclass(frozen=True)
class GatewayConfig:
    url: str
    method: str = "POST"
    headers: tuple[str, ...] = ()
    body_format: str = "json"
    body_template: str = ""
    success_path: str = ""
    success_values: tuple[str, ...] = ()
    id_path: str = ""
    error_code_path: str = ""
    error_message_path: str = ""
    permanent_codes: frozenset[str] = frozenset()
    account: str = ""
    api_key: str = ""
    api_secret: str = ""
    rate_per_second: int = 20
    retry_attempts: int = 3
    retry_base_ms: int = 500
    requeue_seconds: int = 300
    timeout_seconds: int = 15

    @classmethod
    def from_settings(cls, values: dict) -> "GatewayConfig":
        """Build from the sms plugin's deployment settings (preset applied); refuses settings
        that cannot work, naming the key."""
        if not values.get("url"):
            raise GatewayConfigError("Chưa khai báo địa chỉ cổng SMS (plugins.sms.settings.url hoặc preset).")
        if values.get("body_format", "json") not in ("json", "form"):
            raise GatewayConfigError("plugins.sms.settings.body_format phải là \"json\" hoặc \"form\".")
        for key in ("url", "body_template"):
            unknown = sorted(set(PLACEHOLDER.findall(values.get(key) or "")) - VARIABLES)
            if unknown:
                raise GatewayConfigError(f"plugins.sms.settings.{key}: biến không có: {', '.join(unknown)}. "
                                         f"Dùng được: {', '.join(sorted(VARIABLES))}.")
        for header in values.get("headers") or []:
            if ":" not in header:
                raise GatewayConfigError(f"plugins.sms.settings.headers: {header!r} phải có dạng \"Tên: giá trị\".")
        for key in ("rate_per_second", "retry_attempts", "timeout_seconds"):
            if int(values.get(key) or 0) < 1:
                raise GatewayConfigError(f"plugins.sms.settings.{key} phải lớn hơn 0.")
        fields = {field.name for field in dataclasses.fields(cls)}
        chosen = {key: value for key, value in values.items() if key in fields}
        for key in ("headers", "success_values"):
            chosen[key] = tuple(str(item) for item in chosen.get(key) or ())
        chosen["permanent_codes"] = frozenset(str(code) for code in chosen.get("permanent_codes") or ())
        chosen["method"] = str(chosen.get("method") or "POST").upper()
        return cls(**chosen)

    @property
    def basic_auth(self) -> str:
        """HTTP Basic credentials: the account (or the key) as user name, the secret as password."""
        user = self.account or self.api_key
        return base64.b64encode(f"{user}:{self.api_secret}".encode()).decode() if user else ""

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(secret for secret in (self.api_key, self.api_secret, self.basic_auth) if secret and len(secret) >= 4)


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


class _RedactSecrets(logging.Filter):
    """A log line may quote a request URL (an HTTP client's debug output, an error's repr); a
    gateway may carry its key in the query string."""

    secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            cleaned = redact(message, tuple(self.secrets))
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


_REDACTOR = _RedactSecrets()
# a logger's filters do not apply to its children's records: each logger that may quote a URL
for _name in ("aiohttp", "hoinghi", log.name):
    logging.getLogger(_name).addFilter(_REDACTOR)


def national(number: str) -> str:
    """+84912345678 -> 0912345678 (Vietnamese gateways want the national form)."""
    digits = number.lstrip("+")
    return "0" + digits[2:] if digits.startswith("84") else digits


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.wait = wait


class HttpGateway:
    """One configured gateway: its pacing, and an HTTP client (connection pool) per event loop."""

    def __init__(self, config: GatewayConfig):
        self.config = config
        self.pacer = Pacer(config.rate_per_second)
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        _REDACTOR.secrets.update(config.secrets)

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.closed:
            # connecting gets half the time, so that a gateway that never answers the connect is a
            # connection timeout (nothing left: retried), not the total timeout (the message may have left: unknown)
            timeout = aiohttp.ClientTimeout(total=self.config.timeout_seconds, sock_connect=self.config.timeout_seconds / 2)
            # no pool limit of its own: the core's gate (``concurrency``) bounds the requests in flight,
            # and a wait for a pooled connection must never count as a request that was sent
            client = aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(),
                                           connector=aiohttp.TCPConnector(limit=0))
            # no resend behind our back (see the module's docstring); aiohttp has no public switch
            client._retry_connection = False
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()

    def build_request(self, *, to: str, text: str, sender: str, unicode: bool, reference: str, callback_url: str) -> dict:
        config = self.config
        values = {"to": to, "to_digits": to.lstrip("+"), "to_national": national(to), "text": text, "sender": sender,
                  "unicode": "1" if unicode else "0", "reference": reference, "callback_url": callback_url,
                  "api_key": config.api_key, "api_secret": config.api_secret, "account": config.account,
                  "basic_auth": config.basic_auth}
        headers = {}
        for line in config.headers:
            name, _, value = line.partition(":")
            headers[name.strip()] = render(value.strip(), values, _header_escape)
        request = {"method": config.method, "url": render(config.url, values, lambda v: quote(v, safe="")), "headers": headers}
        if config.body_template and config.method not in ("GET", "HEAD"):
            if config.body_format == "json":
                request["content"] = render(config.body_template, values, _json_escape).encode()
                headers.setdefault("Content-Type", "application/json; charset=utf-8")
            else:
                request["content"] = render(config.body_template, values, quote_plus).encode()
                headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return request

    async def submit(self, *, to: str, text: str, sender: str, unicode: bool, reference: str, callback_url: str = "") -> str | None:
        """Send one message; returns the provider's message id (None when it gives none)."""
        request = self.build_request(to=to, text=text, sender=sender, unicode=unicode, reference=reference, callback_url=callback_url)
        config = self.config
        reason = ""
        for attempt in range(1, config.retry_attempts + 1):
            await self.pacer.wait()
            try:
                return await self._attempt(request)
            except _Retry as retry:
                reason = redact(str(retry), config.secrets)
                if attempt == config.retry_attempts:
                    break
                backoff = config.retry_base_ms / 1000 * 2 ** (attempt - 1)
                await asyncio.sleep(min(max(backoff, retry.wait or 0), MAX_BACKOFF_SECONDS))
        raise TransientSendError(f"{reason} (đã thử {config.retry_attempts} lần, sẽ gửi lại sau)", retry_after=config.requeue_seconds)

    async def _exchange(self, request: dict) -> tuple[int, dict, bytes]:
        """The gateway's answer: status, headers, body. Nothing sent yet (no connection, none
        free) -> _Retry; anything later that breaks -> UncertainSendError."""
        try:
            async with self._client().request(request["method"], request["url"], headers=request["headers"],
                                              data=request.get("content"), allow_redirects=False) as response:
                body = await response.read()
                log.debug("SMS gateway request %s %s: HTTP %s", request["method"], request["url"], response.status)
                return response.status, dict(response.headers), body
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
            raise _Retry("Không kết nối được cổng SMS") from None
        except (asyncio.TimeoutError, aiohttp.ClientError, OSError):
            raise UncertainSendError("Cổng SMS không trả lời sau khi nhận yêu cầu: chưa rõ tin đã được gửi hay chưa") from None

    async def _attempt(self, request: dict) -> str | None:
        config = self.config
        status, headers, body = await self._exchange(request)
        if status in TRANSIENT_STATUSES:
            raise _Retry(f"Cổng SMS tạm thời không nhận tin (HTTP {status})", _retry_after(headers))
        if status in UNCERTAIN_STATUSES:
            raise UncertainSendError(f"Cổng SMS báo lỗi nội bộ (HTTP {status}): chưa rõ tin đã được gửi hay chưa")
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if config.success_path:
            succeeded = str(json_path(answer, config.success_path)) in config.success_values
        else:
            succeeded = 200 <= status < 300
        if succeeded:
            provider_id = json_path(answer, config.id_path) if config.id_path else None
            return str(provider_id) if provider_id not in (None, "") else None
        code = json_path(answer, config.error_code_path) if config.error_code_path else None
        code = str(code) if code not in (None, "") else f"HTTP {status}"
        detail = json_path(answer, config.error_message_path) if config.error_message_path else None
        reason = f"Cổng SMS từ chối tin (mã {code})" + (f": {str(detail)[:200]}" if detail else "")
        reason = redact(reason, config.secrets)
        # a listed code, or a 4xx (the same request would be refused again): give up on it;
        # an unlisted code in a 2xx answer: the gateway could not take it now, try again
        if code in config.permanent_codes or 400 <= status < 500:
            raise SendError(reason)
        raise _Retry(reason)


def _retry_after(headers: dict) -> float | None:
    raw = next((value for name, value in headers.items() if name.lower() == "retry-after"), "")
    return float(raw) if raw.replace(".", "", 1).isdigit() else None
