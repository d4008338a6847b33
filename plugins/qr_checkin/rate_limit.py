"""The scanners' rate limit: Litestar's ``RateLimitMiddleware``, counted in Redis by leases.

Litestar's middleware reads a device's request history from the store and writes it back, two
round trips made under a lock that every request of the process waits on: at a hall's thousand
scans a second the scans queue behind it. With the counters in Redis (``REDIS_URL``, how
several processes share them) a process instead takes a *lease* of a device's window: one
``MULTI``/``EXEC`` of ``SET NX PX`` + ``INCRBY n`` + ``PTTL`` (atomic: the key cannot expire
between the first two and live on without an expiry) counts n requests at once (a tenth of the
limit, at most 16, at least 1), which the process then hands out without asking Redis again
until they are used or the window ends. The count stays atomic across processes and never lets
more than the limit through in a window (what one process leased and did not use is lost to the
device, at most n-1 requests per process and window); below 20 requests a second it is exact,
one round trip per request. The window is Litestar's: it opens at a device's first request and
lasts the limit's unit. With the file store Litestar's own code runs.
"""

from __future__ import annotations

import time

from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import DURATION_VALUES, RateLimitConfig, RateLimitMiddleware
from litestar.stores.redis import RedisStore

LEASE_SHARE = 10  # a lease is this fraction of the limit
LEASE_MAX = 16
LEASES_KEPT = 4096  # devices seen by one process before ended leases are dropped


class _Lease:
    """Requests of one device's window this process may let through: ``used`` up to ``last``."""

    __slots__ = ("ends", "used", "last")

    def __init__(self, ends: float, used: int, last: int) -> None:
        self.ends, self.used, self.last = ends, used, last


_leases: dict[str, _Lease] = {}


async def _count(store: RedisStore, key: str, window: int, limit: int) -> tuple[int, float]:
    """(this request's number in the device's window, seconds until the window ends)."""
    now = time.monotonic()
    lease = _leases.get(key)
    if lease is not None and lease.ends > now and lease.used < lease.last:
        lease.used += 1
        return lease.used, lease.ends - now
    size = max(1, min(LEASE_MAX, limit // LEASE_SHARE))
    async with store._redis.pipeline(transaction=True) as pipeline:
        pipeline.set(key, 0, px=window * 1000, nx=True).incrby(key, size).pttl(key)
        _, counted, pttl = await pipeline.execute()
    remaining_ms = pttl if pttl > 0 else window * 1000
    first = counted - size + 1  # this request's number; the lease runs to ``counted``
    if len(_leases) >= LEASES_KEPT:
        for stale in [name for name, held in _leases.items() if held.ends <= now]:
            del _leases[stale]
    _leases[key] = _Lease(now + remaining_ms / 1000, first, min(counted, limit))
    return first, remaining_ms / 1000


def forget_leases() -> None:
    """Drop this process's leases (tests that reset the counters in Redis)."""
    _leases.clear()


class DeviceRateLimitMiddleware(RateLimitMiddleware):
    async def __call__(self, scope, receive, send) -> None:
        app = scope["litestar_app"]
        store = self.config.get_store_from_app(app)
        if not isinstance(store, RedisStore):
            await super().__call__(scope, receive, send)
            return
        request = app.request_class(scope)
        if not await self.should_check_request(request=request):
            await self.app(scope, receive, send)
            return
        window = DURATION_VALUES[self.unit]
        key = store._make_key(self.cache_key_from_request(request))  # the store's namespace, as Litestar's would use
        count, reset_in = await _count(store, key, window, self.max_requests)
        headers = self._headers(count, max(1, round(reset_in))) if self.config.set_rate_limit_headers else None
        if count > self.max_requests:
            raise TooManyRequestsException(headers=headers)
        if headers is not None:
            original = send

            async def send(message) -> None:
                if message["type"] == "http.response.start":
                    message.setdefault("headers", [])
                    MutableScopeHeaders(message).update(headers)
                await original(message)

        await self.app(scope, receive, send)

    def _headers(self, count: int, reset_in: int) -> dict[str, str]:
        config = self.config
        return {config.rate_limit_policy_header_key: f"{self.max_requests}; w={DURATION_VALUES[self.unit]}",
                config.rate_limit_limit_header_key: str(self.max_requests),
                config.rate_limit_remaining_header_key: str(max(self.max_requests - count, 0)),
                config.rate_limit_reset_header_key: str(reset_in)}


def device_rate_limit(per_second: int, identifier_for_request, store: str) -> RateLimitConfig:
    return RateLimitConfig(rate_limit=("second", per_second), identifier_for_request=identifier_for_request, store=store,
                           middleware_class=DeviceRateLimitMiddleware)
