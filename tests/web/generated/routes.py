"""The app's routes as the generated tests see them, and a request runner over the module app."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from tests.web.generated.expectations import DEFAULT_FILL, EXPECTATIONS, Expect
from tests.web.generated.harness import CSRF_COOKIE, CSRF_HEADER, ModuleApp
from tests.web.generated.seed import Place, Seed

DOCS_PREFIX = "/schema"  # Litestar's OpenAPI pages: public by construction, outside the table
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


@dataclasses.dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as Litestar spells it, e.g. /api/v1/units/{unit_id:int}/tree
    handler: Any

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def opt(self) -> dict:
        return self.handler.opt or {}

    @property
    def unsafe(self) -> bool:
        return self.method in UNSAFE

    @property
    def csrf_exempt(self) -> bool:
        return bool(self.opt.get("exclude_from_csrf"))

    @property
    def status_code(self) -> int:
        return self.handler.status_code


def endpoints(app) -> list[Endpoint]:
    """Every (method, path) the app answers, OPTIONS (Litestar's automatic preflight) aside."""
    found: dict[tuple[str, str], Endpoint] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(set(getattr(handler, "http_methods", ())) - {"OPTIONS"}):
                found.setdefault((method, route.path), Endpoint(method, route.path, handler))
    return sorted(found.values(), key=lambda endpoint: (endpoint.path, endpoint.method))


def table_endpoints(app) -> list[Endpoint]:
    return [endpoint for endpoint in endpoints(app) if not endpoint.path.startswith(DOCS_PREFIX)]


def url_for(endpoint: Endpoint, entry: Expect, seed: Seed, place: Place) -> str:
    fill = {**DEFAULT_FILL, **entry.fill}

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in fill:
            raise AssertionError(f"{endpoint.name}: no seeded object fills the path parameter {name!r} (add it to DEFAULT_FILL)")
        filled = fill[name](seed, place)
        if filled is None:
            raise AssertionError(f"{endpoint.name}: position has no object for {name!r}")
        return str(filled)

    return _PARAM.sub(value, endpoint.path)


def call(module: ModuleApp, endpoint: Endpoint, url: str, kwargs: dict, *, csrf: bool = True, stream: bool = False) -> int:
    """Send one request with the client's current cookies (and the CSRF header when ``csrf``);
    the status code. Streams are read only up to their response start, then disconnected."""
    kwargs = {key: value for key, value in kwargs.items()}
    headers = dict(kwargs.pop("headers", {}))
    if csrf and endpoint.unsafe and module.client.cookies.get(CSRF_COOKIE):
        headers.setdefault(CSRF_HEADER, module.client.cookies.get(CSRF_COOKIE))
    if stream:
        return _stream_status(module, endpoint.method, url, headers)
    response = module.client.request(endpoint.method, url, headers=headers, follow_redirects=False, **kwargs)
    return response.status_code


def _stream_status(module: ModuleApp, method: str, url: str, headers: dict) -> int:
    client = module.client
    request = client.build_request(method, url, headers=headers)
    scope = client._transport.parse_request(request)
    scope.update(method=method, http_version="1.1", extensions={"http.response.template": {}}, state={})

    async def run() -> int:
        import anyio

        started = anyio.Event()
        answer: dict[str, int] = {}
        sent = False

        async def receive() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await started.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                started.set()

        with anyio.fail_after(20):
            await module.app(scope, receive, send)
        return answer["status"]

    return client.blocking_portal.call(run)
