"""Staff sign-in: server-side sessions (cookie holds only a random id, a new one at every sign-in;
stores in web/stores.py), API tokens, the acting user as a dependency, and the rule that every
route declares who may call it (``opt["access"]``), enforced by :func:`access_guard` before a
route reads its parameters.
"""

from __future__ import annotations

import copy

import msgspec
from litestar import Request, Router, post
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty

from core import clock
from core.access import Actor, load_staff_actor
from core.config import get_settings
from core.errors import NotFound
from core.services import tokens, users
from web.plugin_routes import plugin_enabled_guard
from web.stores import rate_limit_store, session_store  # noqa: F401  (the stores, re-exported where they were)
from web.throttle import LockedOut, begin_attempt

ACCESS_LEVELS = ("public", "staff", "attendee")
SESSION_COOKIE = "hoinghi_session"
SKIP_SESSION = "skip_session"


_ROTATE = "hoinghi.rotate_session"
_NEW_ID = "hoinghi.new_session_id"


def start_new_session(connection: ASGIConnection, data: dict) -> None:
    """Replace the caller's session by ``data`` under a NEW session id, the old one deleted: a
    session id planted before sign-in (session fixation) never becomes a signed-in session."""
    connection.scope.setdefault("state", {})[_ROTATE] = True
    connection.clear_session()
    connection.set_session(data)


class SessionBackend(ServerSideSessionBackend):
    """Litestar's server-side sessions, with three changes: :func:`start_new_session` issues a
    fresh id; an empty session is never written (an anonymous request leaves no file or Redis
    key behind, and gets no session cookie); and a session a request left unchanged is written
    back (its expiry and cookie renewed) only once every RENEW_AFTER_SECONDS, not on every
    response — a store write per request was most of a signed-in request's cost."""

    async def load_from_connection(self, connection: ASGIConnection) -> dict:
        data = await super().load_from_connection(connection)
        renewed_at = data.pop(_RENEWED_AT, None)  # the backend's own bookkeeping: handlers never see it
        connection.scope.setdefault("state", {})[_LOADED] = (copy.deepcopy(data), renewed_at)
        return data

    def get_session_id(self, connection: ASGIConnection) -> str:
        state = connection.scope.setdefault("state", {})
        if state.get(_ROTATE):
            if not state.get(_NEW_ID):
                state[_NEW_ID] = self.generate_session_id()
            return state[_NEW_ID]
        return super().get_session_id(connection)

    async def store_in_message(self, scope_session, message, connection: ASGIConnection) -> None:
        state = connection.scope.get("state", {})
        planted = connection.cookies.get(self.config.key)
        if state.get(_ROTATE) and planted and planted != "null":
            await self.delete(planted, store=self.config.get_store_from_app(connection.scope["app"]))
        elif scope_session is not Empty and not scope_session:
            if not planted or planted == "null":
                return  # nothing to keep, nothing to forget
            scope_session = Empty  # emptied: forget it and expire the cookie
        elif scope_session is not Empty and _unchanged_and_recent(scope_session, state.get(_LOADED)):
            return
        if scope_session is not Empty:
            scope_session = {**scope_session, _RENEWED_AT: int(clock.now().timestamp())}
        await super().store_in_message(scope_session, message, connection)


RENEW_AFTER_SECONDS = 300
_LOADED = "hoinghi.session_as_loaded"
_RENEWED_AT = "renewed_at"


def _unchanged_and_recent(session: dict, loaded: tuple[dict, int | None] | None) -> bool:
    """The request changed nothing in the session, and its store entry was renewed lately."""
    if loaded is None:
        return False
    data, renewed_at = loaded
    return renewed_at is not None and session == data and clock.now().timestamp() - renewed_at < RENEW_AFTER_SECONDS


class SessionConfig(ServerSideSessionConfig):
    _backend_class = SessionBackend


def session_config() -> ServerSideSessionConfig:
    # Lax, so a personal link opened from an SMS app keeps its session; CSRF tokens guard unsafe requests.
    # ``opt={"skip_session": True}``: a route no session can reach (check_csrf_declaration) loads none
    return SessionConfig(key=SESSION_COOKIE, store="sessions", samesite="lax", httponly=True,
                         secure=get_settings().secure_cookies, max_age=12 * 3600, exclude_opt_key=SKIP_SESSION)


async def current_actor(request: ASGIConnection) -> Actor:
    """The caller: an API token (``Authorization: Bearer``; then the session cookie is ignored), or
    the signed-in staff user, whose session from before "log out everywhere" is refused."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthorizedException("Khoá API phải được gửi dạng: Authorization: Bearer <khoá>.")
        try:
            return await tokens.actor_for_api_token(secret.strip())
        except NotFound:
            raise NotAuthorizedException("Khoá API không hợp lệ, đã hết hạn hoặc đã bị thu hồi.") from None
    user_id = request.session.get("user_id") if request.session else None
    if user_id is None:
        raise NotAuthorizedException("Vui lòng đăng nhập.")
    found = await load_staff_actor(user_id)
    if found is None or found[1] != request.session.get("generation"):
        request.clear_session()
        raise NotAuthorizedException("Phiên đăng nhập đã hết hiệu lực; vui lòng đăng nhập lại.")
    return found[0]


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: str


class LoginResponse(msgspec.Struct):
    user_id: int
    username: str
    full_name: str


async def sign_in(request: Request, username: str, password: str) -> dict:
    """Check the credentials under the throttle and start a fresh session; the user row."""
    client = request.client.host if request.client else "unknown"
    try:
        attempt = await begin_attempt(username, client)
    except LockedOut as locked:
        from web.i18n import gettext

        raise TooManyRequestsException(gettext(locked.message), headers={"Retry-After": str(locked.retry_after)}) from None
    user = await users.authenticate(username, password)
    if user is None:
        await attempt.failed()
        raise NotAuthorizedException("Tên đăng nhập hoặc mật khẩu không đúng.")
    await attempt.succeeded()
    start_new_session(request, {"user_id": user["id"], "generation": user["session_generation"]})
    return user


@post("/login", opt={"access": "public"}, status_code=200)
async def login(request: Request, data: LoginRequest) -> LoginResponse:
    """Sign in with a username and password; sets the session cookie (then send the CSRF cookie's
    value in ``X-CSRFToken`` with every unsafe request)."""
    user = await sign_in(request, data.username, data.password)
    return LoginResponse(user_id=user["id"], username=user["username"], full_name=user["full_name"])


@post("/logout", opt={"access": "staff"}, status_code=200)
async def logout(request: Request, actor: Actor) -> dict:
    request.clear_session()
    return {"ok": True}


auth_router = Router(path="/api/v1/auth", route_handlers=[login, logout])


_ACTOR = "hoinghi.actor"
ID_LIMIT = 2 ** 31  # ids are 32-bit serials on PostgreSQL (and never reach that on SQLite)


async def access_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Every route's declared access, checked before its parameters are even read: an anonymous
    caller learns 401, never what a valid request would look like. A plugin's route then answers
    404 where its plugin is off (one guard, not two: Litestar copies the handler for each)."""
    from web.i18n import choose_locale

    await choose_locale(connection)  # guards run before ``before_request``: a refusal is in the caller's language too
    for name, value in connection.path_params.items():
        if isinstance(value, int) and not -ID_LIMIT <= value < ID_LIMIT:
            raise NotFound("Không tìm thấy.")  # no row has such an id; the database would refuse even to look
    access = handler.opt.get("access")
    if access == "staff":
        connection.scope.setdefault("state", {})[_ACTOR] = await current_actor(connection)
    elif access == "attendee":
        from web.plugin_routes import SESSION_PERSON_KEY

        if not (connection.session or {}).get(SESSION_PERSON_KEY):
            raise NotAuthorizedException("Hãy mở đường dẫn cá nhân đã được gửi cho đồng chí.")
    if "plugin" in handler.opt:
        await plugin_enabled_guard(connection, handler)


async def request_actor(request: Request) -> Actor:
    """The ``actor`` dependency: the one :func:`access_guard` authenticated for this request."""
    cached = request.scope.get("state", {}).get(_ACTOR)
    return cached if cached is not None else await current_actor(request)


def check_access_declarations(app) -> None:
    """Refuse to start when a route does not say who may call it (the OpenAPI pages excepted)."""
    for route in app.routes:
        if route.path.startswith("/schema"):
            continue
        for handler in getattr(route, "route_handlers", []):
            if set(getattr(handler, "http_methods", ())) == {"OPTIONS"}:
                continue  # Litestar's automatic preflight answer
            declared = handler.opt.get("access") in ACCESS_LEVELS or "plugin" in handler.opt
            if not declared:
                raise RuntimeError(f"route {route.path} must declare opt['access'] in {ACCESS_LEVELS}")
            check_csrf_declaration(route.path, handler.opt)


def check_csrf_declaration(path: str, opt: dict) -> None:
    """``exclude_from_csrf`` is for routes no session can reach (their session cookie is dropped,
    see web/security.py); a scanner device's route (``X-Device-Token``) must carry it."""
    session_reached = opt.get("access") in ("staff", "attendee") or opt.get("unit_from") == "attendee_session"
    if opt.get("exclude_from_csrf") and session_reached:
        raise RuntimeError(f"route {path} is reached through a session, so it may not be marked exclude_from_csrf")
    if opt.get(SKIP_SESSION) and not opt.get("exclude_from_csrf"):
        raise RuntimeError(f"route {path} skips the session: only a route no session can reach (exclude_from_csrf) may")
    if opt.get("unit_from") == "device_token" and not opt.get("exclude_from_csrf"):
        raise RuntimeError(f"route {path} is authenticated by a device token: mark it opt['exclude_from_csrf'] = True")
