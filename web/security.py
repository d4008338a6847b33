"""Defences every response and request goes through: CSRF, security headers, access-log redaction.

CSRF: every unsafe request that a session cookie can authenticate must carry the token from the
``hoinghi_csrf`` cookie, in the ``X-CSRFToken`` header (htmx, uploads: the body is never parsed
first) or a ``_csrf_token`` form field. Two kinds of request are exempt, because a cross-site
page can forge neither:

* routes marked ``opt={"exclude_from_csrf": True}``: authenticated only by a device, callback
  or feed token, and they ignore session cookies entirely;
* requests carrying an ``Authorization`` header (API tokens): browsers never add one to a
  cross-site form (and a cross-site script may not without a CORS preflight we never grant).

Both kinds are also *unable* to use a session: :class:`IgnoreSessionCookie`, ahead of the
session middleware, removes the session cookie from such requests, so a handler cannot be
tricked into acting for whoever's browser sent them.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import secrets

from litestar.config.csrf import CSRFConfig
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.base import DefineMiddleware
from litestar.template.base import csrf_token as litestar_csrf_token

from core.config import get_settings

CSRF_COOKIE = "hoinghi_csrf"
CSRF_HEADER = "x-csrftoken"
CSRF_FAILED = "CSRF token verification failed"  # Litestar's detail; re-worded in web/errors.py


def csrf_config() -> CSRFConfig:
    settings = get_settings()
    return CSRFConfig(secret=settings.secret_key.decode(), cookie_name=CSRF_COOKIE, header_name=CSRF_HEADER,
                      cookie_httponly=True, cookie_samesite="lax", cookie_secure=settings.secure_cookies)


MASKED_PREFIX = "m."


def mask_csrf_token(token: str) -> str:
    """The token as a page carries it: XORed with a fresh random pad, so that no two answers hold
    the same bytes. A compressed page that also reflects what an attacker typed would otherwise
    leak the token a few characters at a time through its compressed size (BREACH)."""
    if not token:
        return token
    plain = token.encode()
    pad = secrets.token_bytes(len(plain))
    return MASKED_PREFIX + base64.urlsafe_b64encode(pad + bytes(a ^ b for a, b in zip(pad, plain))).decode()


def unmask_csrf_token(value: str) -> str:
    """The token behind a masked one; a plain token (the cookie's value, as scripts and the load
    generator send it) unchanged; "" for anything malformed (it then fails the comparison)."""
    if not value.startswith(MASKED_PREFIX):
        return value
    try:
        raw = base64.urlsafe_b64decode(value[len(MASKED_PREFIX):].encode())
    except (ValueError, binascii.Error):
        return ""
    half = len(raw) // 2
    if not half or len(raw) != 2 * half:
        return ""
    try:
        return bytes(a ^ b for a, b in zip(raw[:half], raw[half:])).decode("ascii")
    except UnicodeDecodeError:
        return ""


def masked_csrf_token(context) -> str:
    """The ``csrf_token()`` of the templates: Litestar's token, masked anew on each call. On an
    unsafe request Litestar hands back the token the request carried, masked already."""
    return mask_csrf_token(unmask_csrf_token(litestar_csrf_token(context)))


class CSRFUnlessTokenAuthenticated(CSRFMiddleware):
    """Litestar's CSRF middleware, skipped for requests that authenticate with an Authorization
    header, and taking the token masked (as pages carry it) or plain."""

    def _csrf_tokens_match(self, request_csrf_token, cookie_csrf_token: str) -> bool:
        # a file sent as the token field, or non-ASCII text (compare_digest raises on it): refused, not a 500
        if not isinstance(request_csrf_token, str) or not request_csrf_token.isascii() or not cookie_csrf_token.isascii():
            return False
        return super()._csrf_tokens_match(unmask_csrf_token(request_csrf_token), cookie_csrf_token)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and any(name == b"authorization" for name, _ in scope["headers"]):
            # no session can be read on this request (IgnoreSessionCookie), so no CSRF to guard
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def token_authenticated(scope) -> bool:
    """A request authenticated by a token, never by a session: it carries an Authorization
    header, or its route is marked ``exclude_from_csrf``."""
    handler = scope.get("route_handler")
    if handler is not None and (handler.opt or {}).get("exclude_from_csrf"):
        return True
    return any(name == b"authorization" for name, _ in scope["headers"])


class IgnoreSessionCookie:
    """Drops the session cookie from token-authenticated requests before sessions are loaded."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and token_authenticated(scope):
            scope["headers"] = [(name, _without_session_cookie(value) if name == b"cookie" else value)
                                for name, value in scope["headers"]]
        await self.app(scope, receive, send)


def _without_session_cookie(header: bytes) -> bytes:
    from web.auth import SESSION_COOKIE

    kept = [part for part in header.split(b";") if part.strip().split(b"=", 1)[0] != SESSION_COOKIE.encode()]
    return b";".join(kept)


def ignore_session_cookie_middleware() -> DefineMiddleware:
    return DefineMiddleware(IgnoreSessionCookie)


def csrf_middleware() -> DefineMiddleware:
    return DefineMiddleware(CSRFUnlessTokenAuthenticated, config=csrf_config())


# No inline script anywhere (htmx and our JS are files under /static); inline style attributes
# are allowed for server-rendered SVG charts and progress bars.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}


_ENCODED_HEADERS = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items()]
# served over https: browsers never fall back to http
_STRICT_TRANSPORT = (b"strict-transport-security", b"max-age=31536000")


async def add_security_headers(message, scope) -> None:
    """A ``before_send`` hook: it sees every response, error pages and unknown paths included.
    Works on the message's raw header pairs (a scanner's answers come a thousand a second)."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers") or ())
    present = {name.lower() for name, _ in headers}
    # a route may tighten its own (materials add a sandbox)
    headers.extend(pair for pair in _ENCODED_HEADERS if pair[0] not in present)
    if get_settings().public_url.startswith("https://") and _STRICT_TRANSPORT[0] not in present:
        headers.append(_STRICT_TRANSPORT)
    message["headers"] = headers

# Secrets that live in a URL by design (personal links before their redirect, calendar feeds,
# delivery-receipt callbacks) never reach the access log.
_SECRET_IN_PATH = re.compile(r"(/(?:i|ical|callbacks?|receipts?)/)[^\s\"?]+|(/api/v1/[a-z_]+/(?:callbacks?|receipts?)/)[^\s\"?]+")


def redact(text: str) -> str:
    return _SECRET_IN_PATH.sub(lambda match: (match.group(1) or match.group(2)) + "[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites uvicorn's access-log record (its args hold the request line) without the secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_access_log_redaction() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, RedactSecretsFilter) for existing in logger.filters):
        logger.addFilter(RedactSecretsFilter())
