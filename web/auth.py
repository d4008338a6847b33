"""Staff sign-in: server-side sessions (cookie holds only a random id), the acting user as a
dependency, and the rule that every route declares who may call it (``opt["access"]``).
"""

from __future__ import annotations

import msgspec
from litestar import Request, Router, post
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.stores.file import FileStore

from core.access import Actor, load_actor
from core.config import get_settings
from core.errors import NotFound
from core.services import users
from core.tables import StaffUser

ACCESS_LEVELS = ("public", "staff", "attendee")
SESSION_COOKIE = "hoinghi_session"


def session_config() -> ServerSideSessionConfig:
    # Strict SameSite: the cookie never rides a cross-site request (our CSRF defence for the API).
    return ServerSideSessionConfig(key=SESSION_COOKIE, store="sessions", samesite="strict", httponly=True,
                                   secure=get_settings().secure_cookies, max_age=12 * 3600)


def session_store() -> FileStore:
    """Sessions in a store every worker process sees (files under var/; Redis when configured)."""
    return FileStore(get_settings().var_dir / "sessions")


async def current_actor(request: Request) -> Actor:
    """The signed-in staff user; a session from before "log out everywhere" is refused."""
    user_id = request.session.get("user_id") if request.session else None
    if user_id is None:
        raise NotAuthorizedException("Vui lòng đăng nhập.")
    row = await StaffUser.select(StaffUser.session_generation, StaffUser.active).where(StaffUser.id == user_id).first()
    if row is None or not row["active"] or row["session_generation"] != request.session.get("generation"):
        request.clear_session()
        raise NotAuthorizedException("Phiên đăng nhập đã hết hiệu lực; vui lòng đăng nhập lại.")
    try:
        return await load_actor(user_id)
    except NotFound:
        raise NotAuthorizedException("Vui lòng đăng nhập.") from None


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: str


class LoginResponse(msgspec.Struct):
    user_id: int
    username: str
    full_name: str


@post("/login", opt={"access": "public"}, status_code=200)
async def login(request: Request, data: LoginRequest) -> LoginResponse:
    """Sign in with a username and password; sets the session cookie."""
    user = await users.authenticate(data.username, data.password)
    if user is None:
        raise NotAuthorizedException("Tên đăng nhập hoặc mật khẩu không đúng.")
    request.clear_session()
    request.set_session({"user_id": user["id"], "generation": user["session_generation"]})
    return LoginResponse(user_id=user["id"], username=user["username"], full_name=user["full_name"])


@post("/logout", opt={"access": "staff"}, status_code=200)
async def logout(request: Request, actor: Actor) -> dict:
    request.clear_session()
    return {"ok": True}


auth_router = Router(path="/api/v1/auth", route_handlers=[login, logout])


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
