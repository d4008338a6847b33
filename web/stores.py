"""The Litestar stores that every server process shares: sessions and rate limits.

``serve --workers N`` runs N processes behind one socket, so nothing a request relies on may live
in one process's memory. By default the stores are files under ``var/`` (FileStore writes through
a temporary file and an atomic rename, so processes never read half a session); with
``REDIS_URL`` they live in Redis, which is also how several machines share them.

``HOINGHI_REDIS_NAMESPACE`` prefixes every Redis key and channel of this deployment (default
``hoinghi``), so two deployments, or two test runs, can share one Redis.
"""

from __future__ import annotations

import os

from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.registry import StoreRegistry

from core.config import get_settings

SESSIONS = "sessions"
# Litestar's RateLimitConfig looks its store up under this name by default
RATE_LIMIT = "rate_limit"


def redis_url() -> str | None:
    return os.environ.get("REDIS_URL") or None


def redis_namespace() -> str:
    return os.environ.get("HOINGHI_REDIS_NAMESPACE") or "hoinghi"


def redis_client():
    """A new asyncio Redis client for ``REDIS_URL`` (connections open lazily, in the running loop)."""
    from redis.asyncio import Redis

    return Redis.from_url(redis_url())


def _store(name: str) -> Store:
    if redis_url():
        from litestar.stores.redis import RedisStore

        # the store closes its own client when the app shuts down (stores are lifespan managers)
        return RedisStore(redis_client(), namespace=f"{redis_namespace()}:{name}", handle_client_shutdown=True)
    return FileStore(get_settings().var_dir / name, create_directories=True)


def session_store() -> Store:
    """Server-side sessions: files under ``var/sessions``, or Redis when ``REDIS_URL`` is set."""
    return _store(SESSIONS)


def rate_limit_store() -> Store:
    """Login throttling and rate-limit counters: files under ``var/rate_limit``, or Redis."""
    return _store(RATE_LIMIT)


def app_stores() -> StoreRegistry:
    """The registry for ``Litestar(stores=...)``: sessions and rate limits, and any other store
    asked for by name, all shared by every process (never Litestar's per-process memory default)."""
    return StoreRegistry({SESSIONS: session_store(), RATE_LIMIT: rate_limit_store()}, default_factory=_store)
