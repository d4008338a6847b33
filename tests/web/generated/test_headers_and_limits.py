"""Security headers on every route (generated from ``app.routes``), uploaded materials served
safely, the upload size limit answered with 413, and ``serve``'s warning about plain http.

The module's app runs with ``HOINGHI_MAX_UPLOAD_MB=1`` so an oversize upload is small to send.
"""

from __future__ import annotations

import pytest

from tests.web.generated.expectations import expectation_for
from tests.web.generated.harness import ModuleApp, module_app as _module_app
from tests.web.generated.routes import call, table_endpoints, url_for
from web.app import create_app

pytestmark = pytest.mark.timeout(300)
MB = 1024 * 1024


@pytest.fixture(scope="module")
def small_limit_app(template_database, tmp_path_factory):
    with _module_app(template_database, tmp_path_factory.mktemp("limits"), {"HOINGHI_MAX_UPLOAD_MB": "1"}) as module:
        yield module


def check_headers(headers, where: str) -> list[str]:
    problems = []
    policy = headers.get("content-security-policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    script = directives.get("script-src", directives.get("default-src"))
    if script is None or "'unsafe-inline'" in script or "'unsafe-eval'" in script:
        problems.append(f"{where}: a content security policy allowing no inline script, got {policy!r}")
    if "frame-ancestors 'none'" not in policy and headers.get("x-frame-options") != "DENY":
        problems.append(f"{where}: frames not denied")
    if headers.get("x-frame-options") != "DENY":
        problems.append(f"{where}: X-Frame-Options {headers.get('x-frame-options')!r}")
    if headers.get("x-content-type-options") != "nosniff":
        problems.append(f"{where}: X-Content-Type-Options {headers.get('x-content-type-options')!r}")
    if headers.get("referrer-policy") != "no-referrer":
        problems.append(f"{where}: Referrer-Policy {headers.get('referrer-policy')!r}")
    return problems


def test_every_route_answers_with_the_security_headers(small_limit_app: ModuleApp):
    """Each route, as the caller its expectation allows (or anonymous), whatever the status."""
    module, problems = small_limit_app, []
    for endpoint in table_endpoints(create_app()):
        entry = expectation_for(endpoint)
        if entry is None or entry.stream or endpoint.method == "HEAD":
            continue
        caller = {"attendee": "attendee", "fixed": None, "public": None}.get(entry.need, "admin")
        for who in {caller, None}:
            client = module.caller(who, fresh=entry.resets_session)
            place = module.seed.place("own")
            url = url_for(endpoint, entry, module.seed, place)
            kwargs = entry.request(module.seed, place)
            headers = dict(kwargs.pop("headers", {}))
            if endpoint.unsafe and client.cookies.get("hoinghi_csrf"):
                headers["x-csrftoken"] = client.cookies.get("hoinghi_csrf")
            response = client.request(endpoint.method, url, headers=headers, follow_redirects=False, **kwargs)
            problems += check_headers(response.headers, f"{endpoint.name} as {who or 'anonymous'} ({response.status_code})")
    for path in ("/no-such-page", "/api/v1/no-such-thing", "/me", "/i/not-a-token"):
        response = module.use(None).get(path, follow_redirects=False)
        problems += check_headers(response.headers, f"GET {path} ({response.status_code})")
    assert not problems, "\n".join(problems)


def test_the_personal_link_leaves_no_token_in_the_address_or_a_referer(small_limit_app: ModuleApp):
    module = small_limit_app
    client = module.use(None)
    entered = client.get(module.seed.login_path, follow_redirects=False)
    assert entered.status_code == 303 and entered.headers["location"] == "/me"
    assert entered.headers["referrer-policy"] == "no-referrer"
    assert module.seed.login_path.removeprefix("/i/") not in entered.headers["location"]
    mine = client.get("/api/v1/me/conferences")
    assert mine.status_code == 200 and mine.headers["referrer-policy"] == "no-referrer"


def _upload(module: ModuleApp, content, filename: str, **headers):
    client = module.use("admin")
    conference = module.seed.place("own").conference["id"]
    return client.post(f"/api/v1/conferences/{conference}/materials", content=content,
                       params={"title": f"Tài liệu {filename}", "kind": "huong_dan", "filename": filename},
                       headers={"x-csrftoken": client.cookies.get("hoinghi_csrf"), "content-type": "application/octet-stream",
                                **headers})


@pytest.mark.parametrize(("label", "disposition"), [
    ("pdf", "inline"), ("png", "inline"), ("html", "attachment"), ("svg", "attachment"), ("zip", "attachment")])
def test_materials_are_attachments_unless_safe_to_show_and_always_sandboxed(small_limit_app: ModuleApp, label, disposition):
    """A PDF or a raster image may show in the browser; anything else (HTML, SVG, whatever the
    file claims to be) is a download. Either way: sandboxed, no sniffing."""
    module = small_limit_app
    material = module.seed.samples[label]
    response = module.use("admin").get(f"/api/v1/materials/{material['id']}/download")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].split(";")[0] == disposition, response.headers["content-disposition"]
    policy = response.headers["content-security-policy"]
    assert policy.startswith("sandbox") and "default-src 'none'" in policy and "script-src" not in policy, policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"].split(";")[0] in ("application/pdf", "image/png", "text/plain", "application/octet-stream",
                                                              "application/zip"), response.headers["content-type"]
    if disposition == "attachment":
        assert not response.headers["content-type"].startswith(("text/html", "image/svg"))


def test_an_upload_over_the_limit_is_refused_with_413(small_limit_app: ModuleApp):
    module = small_limit_app
    at_limit = _upload(module, b"%PDF-1.4\n" + b"0" * (MB - 9), "vua-du.pdf")
    assert at_limit.status_code == 201, at_limit.text

    declared = _upload(module, b"%PDF-1.4\n" + b"0" * MB, "qua-lon.pdf")
    assert declared.status_code == 413 and declared.json()["error"] == "Tệp gửi lên vượt quá giới hạn 1 MB.", declared.text

    def chunks():  # no Content-Length: refused once the stream passes the limit
        yield b"%PDF-1.4\n"
        for _ in range(40):
            yield b"0" * (64 * 1024)

    streamed = _upload(module, chunks(), "qua-lon-2.pdf")
    assert streamed.status_code == 413, streamed.text
    assert set(streamed.json()) >= {"error", "fields"}


def test_serve_warns_when_the_public_address_is_plain_http_and_not_loopback():
    from core.commands.setup import insecure_public_url_warning

    for quiet in ("https://hoinghi.tinhuy.vn", "http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"):
        assert insecure_public_url_warning(quiet) is None, quiet
    for loud in ("http://hoinghi.tinhuy.vn", "http://192.168.1.20:8000", "http://0.0.0.0:8000"):
        warning = insecure_public_url_warning(loud)
        assert warning and loud in warning and "HTTPS" in warning, loud


@pytest.mark.parametrize(("public_url", "hsts"), [("https://hoinghi.tinhuy.vn", True), ("http://127.0.0.1:8000", False)])
def test_strict_transport_security_only_when_served_over_https(monkeypatch, public_url, hsts):
    import asyncio

    from core.config import get_settings, reset_settings
    from web.security import add_security_headers

    monkeypatch.setenv("HOINGHI_PUBLIC_URL", public_url)
    reset_settings()
    try:
        message = {"type": "http.response.start", "status": 200, "headers": []}
        asyncio.run(add_security_headers(message, {}))
        names = {name.decode().lower() for name, _ in message["headers"]}
        assert ("strict-transport-security" in names) is hsts
        assert {"content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"} <= names
        assert get_settings().secure_cookies is hsts  # Secure cookies follow an https public address
    finally:
        monkeypatch.delenv("HOINGHI_PUBLIC_URL")
        reset_settings()
