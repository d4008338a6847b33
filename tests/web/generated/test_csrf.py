"""CSRF, generated from ``app.routes``.

* Every unsafe route not marked ``exclude_from_csrf``, called cross-site — a signed-in
  browser's session cookie, a foreign Origin, no token or a wrong one — answers 403 and does
  nothing.
* Every route marked ``exclude_from_csrf`` (authenticated by a device, callback or feed token)
  refuses a session cookie as authentication.
* A request with an API key needs no CSRF cookie at all, and the session cookie beside it is
  ignored.
"""

from __future__ import annotations

import pytest

from tests.web.generated.expectations import EXPECTATIONS, expectation_for
from tests.web.generated.harness import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, ModuleApp
from tests.web.generated.routes import Endpoint, call, table_endpoints, url_for
from web.app import create_app

pytestmark = pytest.mark.timeout(300)
ENDPOINTS = table_endpoints(create_app())
GUARDED = [endpoint for endpoint in ENDPOINTS if endpoint.unsafe and not endpoint.csrf_exempt]
EXEMPT = [endpoint for endpoint in ENDPOINTS if endpoint.csrf_exempt]
FOREIGN = {"origin": "https://trang-gia-mao.example", "referer": "https://trang-gia-mao.example/bay.html"}
CSRF_REFUSAL = "tải lại trang"
TOKEN_HEADERS = {"authorization", "x-device-token"}  # web/errors.py's wording of Litestar's CSRF refusal


def test_the_generated_lists_are_not_empty():
    assert len(GUARDED) > 40 and EXEMPT, (len(GUARDED), EXEMPT)


def _request(module: ModuleApp, endpoint: Endpoint, caller: str) -> tuple[str, dict]:
    entry = expectation_for(endpoint)
    place = module.seed.place("own")
    return url_for(endpoint, entry, module.seed, place), entry.request(module.seed, place)


@pytest.mark.parametrize("endpoint", GUARDED, ids=lambda endpoint: endpoint.name)
def test_a_cross_site_request_is_refused(module_app: ModuleApp, endpoint: Endpoint):
    caller = "attendee" if expectation_for(endpoint).need == "attendee" else "admin"
    wrong = []
    for token in (None, "0" * 128, "forged"):
        client = module_app.use(caller)
        url, kwargs = _request(module_app, endpoint, caller)
        headers = {**kwargs.pop("headers", {}), **FOREIGN}
        if token is not None:
            headers[CSRF_HEADER] = token
        if "data" in kwargs and token is not None:  # a form: the token in its field, as a forged form would
            kwargs["data"] = {**kwargs["data"], "_csrf_token": token}
            headers.pop(CSRF_HEADER)
        response = client.request(endpoint.method, url, headers=headers, follow_redirects=False, **kwargs)
        refused = response.status_code == 403 and CSRF_REFUSAL in response.text
        if not refused:
            wrong.append(f"{endpoint.name} as {caller} at position own, cross-site with token {token!r}: expected the "
                         f"CSRF refusal (403), got {response.status_code} {response.text[:200]}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("endpoint", EXEMPT, ids=lambda endpoint: endpoint.name)
def test_a_token_route_ignores_the_session_cookie(module_app: ModuleApp, endpoint: Endpoint):
    """An admin's session cookie (and a valid CSRF pair) buys nothing on a token route."""
    assert not {"access"} & set(endpoint.opt) or endpoint.opt["access"] == "public", endpoint.name
    entry = expectation_for(endpoint)
    client = module_app.use("admin")
    url, kwargs = _request(module_app, endpoint, "admin")
    headers = dict(kwargs.pop("headers", {}))
    # the session cookie only: an entry's request may carry the route's token (a scanner's key)
    tokened = bool({name.lower() for name in headers} & TOKEN_HEADERS)
    kwargs["headers"] = {name: value for name, value in headers.items() if name.lower() not in TOKEN_HEADERS}
    status = call(module_app, endpoint, url, kwargs)
    assert (entry.fixed is None or tokened or status == entry.fixed) and 400 <= status < 500, (
        f"{endpoint.name} as admin (session cookie only) at position own: expected {entry.fixed if not tokened else '4xx'}, "
        f"got {status}")
    assert SESSION_COOKIE not in client.cookies or client.cookies[SESSION_COOKIE] == module_app.jars["admin"][SESSION_COOKIE]


def test_the_session_cookie_never_reaches_a_token_route_handler():
    """IgnoreSessionCookie in a minimal app: a marked route sees no session, a plain one does."""
    from litestar import Litestar, Request, get
    from litestar.testing import TestClient

    from web.auth import session_config
    from web.security import ignore_session_cookie_middleware
    from web.stores import app_stores

    @get("/sign-in", opt={"access": "public"})
    async def sign_in(request: Request) -> dict:
        request.set_session({"user_id": 1})
        return {}

    @get("/plain", opt={"access": "public"})
    async def plain(request: Request) -> dict:
        return {"session": request.session}

    @get("/device", opt={"access": "public", "exclude_from_csrf": True})
    async def device(request: Request) -> dict:
        return {"session": request.session}

    app = Litestar([sign_in, plain, device], stores=app_stores(),
                   middleware=[ignore_session_cookie_middleware(), session_config().middleware])
    with TestClient(app) as client:
        client.get("/sign-in")
        assert client.get("/plain").json() == {"session": {"user_id": 1}}
        assert client.get("/device").json() == {"session": {}}
        assert client.get("/plain", headers={"authorization": "Bearer x"}).json() == {"session": {}}
        assert client.get("/plain").json() == {"session": {"user_id": 1}}  # and the session itself survived


STAFF_UNSAFE = [endpoint for endpoint in GUARDED if endpoint.key in EXPECTATIONS and "page" not in endpoint.opt
                and EXPECTATIONS[endpoint.key].need in ("read", "checkin", "manage", "admin", "staff")]


@pytest.mark.parametrize("endpoint", STAFF_UNSAFE, ids=lambda endpoint: endpoint.name)
def test_an_api_key_needs_no_csrf_cookie_and_the_session_beside_it_is_ignored(module_app: ModuleApp, endpoint: Endpoint):
    entry = expectation_for(endpoint)
    key = module_app.seed.api_keys["admin"]
    url, kwargs = _request(module_app, endpoint, "admin")
    client = module_app.use(None)
    client.cookies.clear()  # no CSRF cookie at all: a script, not a browser
    headers = {**kwargs.pop("headers", {}), "authorization": f"Bearer {key}"}
    response = client.request(endpoint.method, url, headers=headers, follow_redirects=False, **kwargs)
    ok = {entry.by_api_key} if entry.by_api_key else set(entry.ok or (endpoint.status_code,))
    assert response.status_code in ok, (
        f"{endpoint.name} as admin's API key at position own: expected {sorted(ok)}, got {response.status_code} {response.text[:200]}")
    assert CSRF_COOKIE not in response.cookies

    # a bad key beside an admin's valid session: the key decides, the session is not used
    client = module_app.use("admin")
    url, kwargs = _request(module_app, endpoint, "admin")
    headers = {**kwargs.pop("headers", {}), "authorization": "Bearer khoa-khong-hop-le", **FOREIGN}
    refused = client.request(endpoint.method, url, headers=headers, follow_redirects=False, **kwargs)
    assert refused.status_code == 401, (
        f"{endpoint.name} with an invalid API key and admin's session cookie: expected 401, got {refused.status_code}")


def test_start_up_refuses_a_session_route_marked_exempt_and_a_device_route_left_unmarked():
    from web.auth import check_csrf_declaration

    with pytest.raises(RuntimeError, match="exclude_from_csrf"):
        check_csrf_declaration("/api/v1/x", {"access": "staff", "exclude_from_csrf": True})
    with pytest.raises(RuntimeError, match="exclude_from_csrf"):
        check_csrf_declaration("/me/x", {"plugin": "x", "unit_from": "attendee_session", "exclude_from_csrf": True})
    with pytest.raises(RuntimeError, match="device token"):
        check_csrf_declaration("/api/v1/qr/sync", {"plugin": "qr", "unit_from": "device_token"})
    check_csrf_declaration("/api/v1/qr/sync", {"plugin": "qr", "unit_from": "device_token", "exclude_from_csrf": True})
    check_csrf_declaration("/api/v1/sms/receipts", {"plugin": "sms", "unit_from": "unit_id", "exclude_from_csrf": True})


@pytest.mark.parametrize("entry", ["api", "page", "personal link"])
def test_signing_in_issues_a_new_session_id_so_a_planted_one_stays_anonymous(module_app: ModuleApp, entry):
    """Session fixation: an attacker who gets a victim's browser to carry a session id they know
    (an anonymous session of their own) gains nothing when the victim signs in."""
    from tests.web.generated.harness import new_session

    planted = new_session(module_app, None)  # the attacker's own anonymous visit...
    client = module_app.client
    client.cookies.clear()
    client.cookies.update(planted)
    client.post("/lang", data={"lang": "vi", "next": "/"}, headers={CSRF_HEADER: client.cookies.get(CSRF_COOKIE)})
    attacker_id = client.cookies.get(SESSION_COOKIE)
    assert attacker_id, "choosing a language keeps a session: the id the attacker plants"
    csrf = {CSRF_HEADER: client.cookies.get(CSRF_COOKIE)}
    seed = module_app.seed
    if entry == "api":
        response = client.post("/api/v1/auth/login", json={"username": seed.usernames["admin"], "password": seed.password},
                               headers=csrf)
        assert response.status_code == 200, response.text
    elif entry == "page":
        response = client.post("/login", data={"username": seed.usernames["admin"], "password": seed.password, "next": "/"},
                               headers=csrf, follow_redirects=False)
        assert response.status_code == 303, response.text
    else:
        response = client.get(seed.login_path, follow_redirects=False)
        assert response.status_code == 303
    victim_id = client.cookies.get(SESSION_COOKIE)
    assert victim_id and victim_id != attacker_id

    client.cookies.clear()
    client.cookies.update(planted)
    client.cookies.set(SESSION_COOKIE, attacker_id, domain=next(c.domain for c in client.cookies.jar if c.name == CSRF_COOKIE))
    probe = "/api/v1/me/conferences" if entry == "personal link" else "/api/v1/units"
    assert client.get(probe).status_code == 401, f"{entry}: the planted session id became a signed-in session"


def test_an_anonymous_visit_leaves_no_session_behind(module_app: ModuleApp):
    client = module_app.client
    client.cookies.clear()
    response = client.get("/healthz")
    assert CSRF_COOKIE in response.cookies and SESSION_COOKIE not in response.cookies


def test_start_up_refuses_a_route_that_skips_the_session_but_a_session_could_reach():
    from web.auth import check_csrf_declaration

    with pytest.raises(RuntimeError, match="skips the session"):
        check_csrf_declaration("/api/v1/x", {"access": "staff", "skip_session": True})
    with pytest.raises(RuntimeError, match="skips the session"):
        check_csrf_declaration("/api/v1/x", {"plugin": "x", "unit_from": "unit_id", "skip_session": True})
    check_csrf_declaration("/api/v1/qr/scans", {"plugin": "qr", "unit_from": "device_token", "exclude_from_csrf": True,
                                                "skip_session": True})
