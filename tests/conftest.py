"""Test databases: migrate a template once per session, clone it for every test.

pytest runs once per database: without ``DATABASE_URL`` on the embedded SQLite (a file copy per
test), with ``DATABASE_URL=postgres://...`` on PostgreSQL (``CREATE DATABASE ... TEMPLATE``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

# Nothing a test does may touch the developer's ./var.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="hoinghi-test-"))
os.environ["HOINGHI_VAR_DIR"] = str(_SESSION_DIR / "var")
os.environ.setdefault("HOINGHI_SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ["PICCOLO_CONF"] = "core.piccolo_conf"

DATABASE_URL = os.environ.get("DATABASE_URL") or None
ON_POSTGRES = bool(DATABASE_URL and DATABASE_URL.startswith("postgres"))
PROJECT_ROOT = Path(__file__).resolve().parent.parent
_counter = itertools.count()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def run_cli(*args: str, env: dict | None = None, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    """Run ``hoinghi`` in a subprocess with the test environment (plus ``env``)."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        env=full_env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        input=input,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"hoinghi {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def pytest_collection_modifyitems(config, items):
    for item in items:
        if ON_POSTGRES and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="SQLite-only behaviour; this run is on PostgreSQL"))
        if not ON_POSTGRES and item.get_closest_marker("postgres_only"):
            item.add_marker(pytest.mark.skip(reason="PostgreSQL-only behaviour; this run is on SQLite"))


@pytest.fixture(scope="session")
def template_database():
    """Migrate once per session; yields the database URL or SQLite path of the template."""
    if ON_POSTGRES:
        import asyncio

        name = f"hoinghi_tpl_{os.getpid()}"

        asyncio.run(_admin_async(f'DROP DATABASE IF EXISTS "{name}"'))
        asyncio.run(_admin_async(f'CREATE DATABASE "{name}"'))
        url = _with_database(DATABASE_URL, name)
        run_cli("migrate", env={"DATABASE_URL": url})
        yield {"kind": "postgres", "url": url, "name": name}
        asyncio.run(_admin_async(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        var_dir = _SESSION_DIR / "template"
        run_cli("migrate", env={"HOINGHI_VAR_DIR": str(var_dir), "DATABASE_URL": ""})
        yield {"kind": "sqlite", "path": var_dir / "hoinghi.sqlite"}
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


@pytest.fixture
async def db(template_database, tmp_path):
    """A fresh clone of the migrated template, bound to every table; yields the engine."""
    from core import clock
    from core.config import reset_settings
    from core.db import EmbeddedSQLiteEngine, RequestPooledPostgresEngine, bind_engine, close_engine

    reset_settings()
    if template_database["kind"] == "postgres":
        name = f"hoinghi_t_{os.getpid()}_{next(_counter)}"
        await _admin_async(f'CREATE DATABASE "{name}" TEMPLATE "{template_database["name"]}"')
        engine = RequestPooledPostgresEngine(config={"dsn": _with_database(DATABASE_URL, name)})
        await engine.start_connection_pool(min_size=1, max_size=4)
    else:
        path = tmp_path / "hoinghi.sqlite"
        shutil.copyfile(template_database["path"], path)
        engine = EmbeddedSQLiteEngine(path=str(path))
        name = None
    bind_engine(engine)
    try:
        yield engine
    finally:
        clock.set_now(None)
        await close_engine(engine)
        if name:
            await _admin_async(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin_async(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(DATABASE_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def server(template_database, tmp_path):
    """A served app over a fresh copy of the migrated template; yields its base URL."""
    from tests.servers import running_server

    if template_database["kind"] == "postgres":
        import asyncio

        name = f"hoinghi_srv_{os.getpid()}_{next(_counter)}"
        asyncio.run(_admin_async(f'CREATE DATABASE "{name}" TEMPLATE "{template_database["name"]}"'))
        env = {"DATABASE_URL": _with_database(DATABASE_URL, name)}
    else:
        var_dir = tmp_path / "server-var"
        var_dir.mkdir()
        shutil.copyfile(template_database["path"], var_dir / "hoinghi.sqlite")
        env = {"HOINGHI_VAR_DIR": str(var_dir), "DATABASE_URL": ""}
        name = None
    try:
        with running_server(env, cwd=str(PROJECT_ROOT)) as base_url:
            yield base_url
    finally:
        if name:
            import asyncio

            asyncio.run(_admin_async(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def empty_database(tmp_path):
    """Environment for a brand-new, empty database (never the shared template)."""
    if not ON_POSTGRES:
        yield {"HOINGHI_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": ""}
        return
    name = f"hoinghi_empty_{os.getpid()}_{next(_counter)}"  # unique: one may be open inside another
    asyncio.run(_admin_async(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin_async(f'CREATE DATABASE "{name}"'))
    try:
        yield {"DATABASE_URL": _with_database(DATABASE_URL, name)}
    finally:
        asyncio.run(_admin_async(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def browser():
    """A headless Debian Chromium for one test (see tests/browser.py). Not session-wide: Playwright's
    sync API holds an event loop on this thread while it runs, which later asyncio tests would trip over."""
    from tests.browser import chromium

    with chromium() as instance:
        yield instance
