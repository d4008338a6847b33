"""The Litestar application factory (the web issue fills it with the interface)."""

from __future__ import annotations

from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.openapi import OpenAPIConfig

from core.db import bind_engine, close_engine, current_engine, open_engine, process_engine


@get("/healthz", opt={"access": "public"}, include_in_schema=True)
async def healthz() -> dict[str, str]:
    """Liveness and database reachability."""
    from core.tables import Unit

    await Unit.count()
    return {"status": "ok", "database": current_engine().engine_type}


@asynccontextmanager
async def database_lifespan(app: Litestar):
    import core.tables  # noqa: F401

    engine = process_engine()
    await open_engine(engine)
    bind_engine(engine)
    try:
        yield
    finally:
        # a worker hangs on shutdown unless its connections are closed
        await close_engine(engine)


def create_app() -> Litestar:
    return Litestar(
        route_handlers=[healthz],
        lifespan=[database_lifespan],
        openapi_config=OpenAPIConfig(title="hoinghi", version="0.1.0", path="/schema"),
    )
