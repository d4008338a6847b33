"""The Litestar application factory (the web issue fills it with the interface)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.openapi import OpenAPIConfig

from core.config import get_settings
from core.db import bind_engine, close_engine, current_engine, open_engine, process_engine


@get("/healthz", opt={"access": "public"})
async def healthz() -> dict:
    """Liveness, database reachability, the worker's heartbeat, queue lag and dead letters."""
    from core.commands.status import collect

    report = await collect()
    heartbeat = report["worker_heartbeat"]
    return {
        "status": "ok",
        "database": current_engine().engine_type,
        "worker_heartbeat": heartbeat.isoformat() if heartbeat else None,
        "queue_lag_seconds": report["queue_lag_seconds"],
        "dead_letters": report["dead_deliveries"] + report["dead_jobs"],
    }


@get("/healthz/live", opt={"access": "public"})
async def liveness() -> dict:
    """The process answers (no database call): a liveness probe, and the bare endpoint of benchmarks."""
    return {"status": "ok"}


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


@asynccontextmanager
async def worker_lifespan(app: Litestar):
    """Run the event worker inside the server: on SQLite only in the process holding the lock."""
    from core.plugins import build_plugin_host
    from core.worker import run_worker, worker_lock

    lock = worker_lock()
    runs = os.environ.get("HOINGHI_NO_WORKER") != "1" and (get_settings().is_postgres or lock.acquire())
    if not runs:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(build_plugin_host(), stop))
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(task, timeout=10)
        lock.release()


def create_app() -> Litestar:
    from litestar.di import Provide

    from core.errors import Phrase
    from core.plugins import build_plugin_host
    from web.api import api_route_handlers
    from web.api.admin import AdminController
    from web.api.conferences import AudiencesController, ConferencesController
    from web.api.materials import MaterialsController
    from web.attendee import MeController, issue_login_link, personal_link
    from web.api.people import PeopleController
    from web.compression import compression_config
    from web.api.units import UnitsController
    from web.auth import access_guard, auth_router, check_access_declarations, request_actor, session_config
    from web.errors import EXCEPTION_HANDLERS
    from web.live import LiveUpdates
    from web.i18n import choose_locale, gettext
    from web.pages import template_config
    from web.pages.routes import page_route_handlers, plugin_template_folders
    from web.read_reuse import reuse_reads_on_safe_requests
    from web.request_connection import one_connection_per_request
    from web.plugin_routes import plugin_route_handlers
    from web.security import add_security_headers, csrf_middleware, ignore_session_cookie_middleware, install_access_log_redaction
    from web.stores import app_stores

    host = build_plugin_host()
    app = Litestar(
        route_handlers=[healthz, liveness, auth_router, UnitsController, PeopleController, ConferencesController, AudiencesController,
                        MaterialsController.sized(get_settings().max_upload_bytes), AdminController, MeController, personal_link,
                        issue_login_link, *api_route_handlers(),
                        *page_route_handlers(host), *plugin_route_handlers(host)],
        template_config=template_config(plugin_template_folders(host)),
        before_request=choose_locale,
        dependencies={"actor": Provide(request_actor)},
        guards=[access_guard],
        middleware=[one_connection_per_request, reuse_reads_on_safe_requests, ignore_session_cookie_middleware(), session_config().middleware, csrf_middleware()],
        stores=app_stores(),
        plugins=[LiveUpdates()],
        before_send=[add_security_headers],
        compression_config=compression_config(),  # pages, CSS and JS gzipped: a phone's first load stays small
        request_max_body_size=get_settings().max_upload_bytes + 1024 * 1024,  # a material plus its form fields
        exception_handlers=EXCEPTION_HANDLERS,
        type_encoders={Phrase: gettext},  # a domain message inside an answer (a scan batch's refusals) in the reader's language
        lifespan=[database_lifespan, worker_lifespan],
        openapi_config=OpenAPIConfig(title="hoinghi", version="0.1.0", path="/schema"),
    )
    check_access_declarations(app)
    from web.api.docs import document_error_shape

    document_error_shape(app)
    install_access_log_redaction()
    app.state.plugin_host = host
    return app
