"""HTTP clients for tests: a browser-like session client that echoes the CSRF cookie in the
header on every unsafe request, as the pages' htmx set-up does."""

from __future__ import annotations

import httpx

CSRF_COOKIE = "hoinghi_csrf"
CSRF_HEADER = "x-csrftoken"


def _echo_csrf(client: httpx.Client):
    def hook(request: httpx.Request) -> None:
        token = client.cookies.get(CSRF_COOKIE)
        if request.method not in ("GET", "HEAD", "OPTIONS") and token and CSRF_HEADER not in request.headers:
            request.headers[CSRF_HEADER] = token
    return hook


def browser(base: str, **kwargs) -> httpx.Client:
    """An anonymous client holding a CSRF cookie (fetched from /healthz), like a page just loaded."""
    client = httpx.Client(base_url=base, timeout=kwargs.pop("timeout", 10), **kwargs)
    client.event_hooks["request"] = [_echo_csrf(client)]
    client.get("/healthz")
    assert client.cookies.get(CSRF_COOKIE), "the server set no CSRF cookie"
    return client


def signed_in(base: str, username: str, password: str, **kwargs) -> httpx.Client:
    client = browser(base, **kwargs)
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return client
