"""Throw-away databases for benchmarks: a migrated SQLite file, and PostgreSQL when reachable."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parent.parent


def postgres_reachable() -> bool:
    parts = urlsplit(PG_ADMIN_URL)
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((parts.hostname or "127.0.0.1", parts.port or 5432)) == 0


def _migrate(env: dict) -> None:
    subprocess.run([sys.executable, "-m", "core.cli", "migrate"], env={**os.environ, **env}, cwd=ROOT, check=True, capture_output=True)


@contextlib.asynccontextmanager
async def bench_database(kind: str):
    """Yields a bound engine on a freshly migrated database of ``kind`` ('sqlite' or 'postgres')."""
    import core.tables  # noqa: F401
    from core.db import EmbeddedSQLiteEngine, RequestPooledPostgresEngine, bind_engine, close_engine

    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hoinghi-bench-", ignore_cleanup_errors=True) as var_dir:  # a stopping server may still write
            _migrate({"HOINGHI_VAR_DIR": var_dir, "DATABASE_URL": ""})
            engine = EmbeddedSQLiteEngine(path=str(Path(var_dir) / "hoinghi.sqlite"))
            bind_engine(engine)
            try:
                yield engine
            finally:
                await close_engine(engine)
        return

    import asyncpg

    name = f"hoinghi_bench_{os.getpid()}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    parts = urlsplit(PG_ADMIN_URL)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    await asyncio.to_thread(_migrate, {"DATABASE_URL": url})
    engine = RequestPooledPostgresEngine(config={"dsn": url})
    await engine.start_connection_pool(min_size=1, max_size=4)
    bind_engine(engine)
    try:
        yield engine
    finally:
        await close_engine(engine)
        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
