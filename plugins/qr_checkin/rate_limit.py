"""The scanners' rate limit: Litestar's ``RateLimitMiddleware``, counted in one Redis round trip.

Litestar's middleware reads a device's request history from the store and writes it back, two
round trips made under a lock that every request of the process waits on: at a hall's thousand
scans a second the scans queue behind it. With the counters in Redis (``REDIS_URL``, how
several processes share them) the count here is one pipelined ``SET NX EX`` + ``INCR`` + ``TTL``:
atomic across processes, so no lock, and the same window as Litestar's (it opens at a device's
first request and lasts the limit's unit). With the file store Litestar's own code runs.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import DURATION_VALUES, RateLimitConfig, RateLimitMiddleware
from litestar.stores.redis import RedisStore


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
        async with store._redis.pipeline(transaction=False) as pipeline:
            pipeline.set(key, 0, ex=window, nx=True).incr(key).ttl(key)
            _, count, ttl = await pipeline.execute()
        headers = self._headers(count, ttl if ttl > 0 else window) if self.config.set_rate_limit_headers else None
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
