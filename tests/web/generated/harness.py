"""One seeded database per test module, the real app in-process over it, every request rolled back.

``module_app`` clones the migrated template once (a file copy on SQLite, ``CREATE DATABASE ...
TEMPLATE`` on PostgreSQL), seeds it through the services (``tests/web/generated/seed.py``), builds
the real app with ``web.app.create_app`` and drives it with Litestar's test client. Each HTTP
request runs inside one database transaction that is rolled back when the response is sent, so a
case that publishes, deletes or cancels leaves the seeded state as it was for the next case —
without cloning a database per case.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import DATABASE_URL, _admin_async, _counter, _with_database

CSRF_COOKIE = "hoinghi_csrf"
CSRF_HEADER = "x-csrftoken"
SESSION_COOKIE = "hoinghi_session"


class RollbackEveryRequest:
    """ASGI wrapper: the whole request in one transaction of the app's engine, then rolled back.

    Services open their transactions nested inside it (Piccolo reuses the outer one), and every
    query of the request runs on its connection, so the request sees its own writes and the next
    request sees none of them.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from core.db import current_engine

        transaction = current_engine().transaction()
        async with transaction:
            try:
                await self.app(scope, receive, send)
            finally:
                await transaction.rollback()


@dataclasses.dataclass
class ModuleApp:
    client: Any  # litestar.testing.TestClient
    seed: Any  # tests.web.generated.seed.Seed
    env: dict[str, str]
    app: Any
    jars: dict[str, httpx.Cookies] = dataclasses.field(default_factory=dict)

    def use(self, who: str | None) -> Any:
        """The test client carrying ``who``'s cookies (``None``: anonymous, with a CSRF cookie)."""
        self.client.cookies.clear()
        if who is not None:
            self.client.cookies.update(self.jars[who])
        elif "anonymous" in self.jars:
            self.client.cookies.update(self.jars["anonymous"])
        return self.client

    def caller(self, who: str | None, *, fresh: bool = False) -> Any:
        """The client as ``who``; with ``fresh``, in a new session of theirs (for a call that
        ends or replaces the session, which the database rollback does not undo)."""
        if not fresh:
            return self.use(who)
        self.client.cookies.clear()
        self.client.cookies.update(new_session(self, None if who == "anonymous" else who))
        return self.client

    def csrf_headers(self) -> dict[str, str]:
        token = self.client.cookies.get(CSRF_COOKIE)
        return {CSRF_HEADER: token} if token else {}


@contextlib.contextmanager
def _module_database(tmp: Path):
    if DATABASE_URL and DATABASE_URL.startswith("postgres"):
        name = f"hoinghi_gen_{os.getpid()}_{next(_counter)}"
        yield {"DATABASE_URL": _with_database(DATABASE_URL, name), "HOINGHI_VAR_DIR": str(tmp / "var")}, name
        asyncio.run(_admin_async(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        yield {"DATABASE_URL": "", "HOINGHI_VAR_DIR": str(tmp / "var")}, None


@contextlib.contextmanager
def module_app(template_database: dict, tmp: Path, extra_env: dict[str, str] | None = None):
    """Yields a :class:`ModuleApp` over a seeded clone of the template (see module docstring)."""
    from litestar.testing import TestClient

    from core.config import reset_settings
    from tests.web.generated import seed as seeding

    with _module_database(tmp) as (env, name), _environment({**env, "HOINGHI_NO_WORKER": "1", "HOINGHI_CONSOLE_CHANNEL": "1", **(extra_env or {})}):
        if name:
            asyncio.run(_admin_async(f'CREATE DATABASE "{name}" TEMPLATE "{template_database["name"]}"'))
        else:
            Path(env["HOINGHI_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template_database["path"], Path(env["HOINGHI_VAR_DIR"]) / "hoinghi.sqlite")
        reset_settings()
        _point_piccolo_at_this_database()
        from core import clock

        clock.set_now(seeding.NOW)
        seeded = asyncio.run(_seed(seeding))
        from web.app import create_app

        app = create_app()
        app.asgi_handler = RollbackEveryRequest(app.asgi_handler)
        with TestClient(app, base_url="http://testserver.local", raise_server_exceptions=False, timeout=30) as client:
            module = ModuleApp(client=client, seed=seeded, env=env, app=app)
            module.jars = _sign_in_everyone(module)
            try:
                yield module
            finally:
                clock.set_now(None)
        reset_settings()


def _point_piccolo_at_this_database() -> None:
    """Piccolo's configuration module made its engine at import, for the settings of then; the
    app's ``process_engine()`` returns that one, so it must be this module's database."""
    import importlib

    from core.config import get_settings
    from core.db import make_engine

    importlib.import_module("core.piccolo_conf").DB = make_engine(get_settings())


async def _seed(seeding):
    from core.db import bind_engine, close_engine, open_engine, process_engine

    from core.services import users

    engine = process_engine()
    await open_engine(engine)
    bind_engine(engine)
    # every seeded user has the same password: hash it with argon2 once, not once per user
    hash_password, digest = users.hash_password, users.hash_password(seeding.PASSWORD)
    users.hash_password = lambda password: digest if password == seeding.PASSWORD else hash_password(password)
    try:
        return await seeding.seed()
    finally:
        users.hash_password = hash_password
        await close_engine(engine)


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def new_session(module: "ModuleApp", who: str | None) -> httpx.Cookies:
    """A fresh session for ``who`` (a role, "attendee", or None: anonymous), with a CSRF cookie.

    Staff sessions are written straight into the app's session store, holding what a sign-in
    holds (the user id and their session generation): the sign-in route itself, with its argon2
    check, is exercised by the matrix test, and ten argon2 checks per module would cost seconds.
    The attendee enters through their personal link, as in life.
    """
    import secrets

    from web.auth import SessionBackend, session_config

    client, seed = module.client, module.seed
    client.cookies.clear()
    assert client.get("/healthz").status_code == 200 and client.cookies.get(CSRF_COOKIE)
    if who == "attendee":
        entered = client.get(seed.login_path, follow_redirects=False)
        assert entered.status_code == 303, entered.text
    elif who is not None:
        session_id = secrets.token_hex(32)
        data = {"user_id": seed.user_ids[who], "generation": 0}
        payload = SessionBackend(config=session_config()).serialize_data(data)
        client.blocking_portal.call(module.app.stores.get("sessions").set, session_id, payload, 3600)
        csrf = client.cookies.jar
        domain = next(cookie.domain for cookie in csrf if cookie.name == CSRF_COOKIE)
        client.cookies.set(SESSION_COOKIE, session_id, domain=domain)
    jar = httpx.Cookies(client.cookies)
    client.cookies.clear()
    return jar


def _sign_in_everyone(module: "ModuleApp") -> dict[str, httpx.Cookies]:
    """A cookie jar per role (a staff session), one for the attendee (through /i/<token>) and
    one anonymous jar holding only a CSRF cookie, like a page just loaded."""
    return {who or "anonymous": new_session(module, who) for who in (None, "attendee", *module.seed.usernames)}
