"""Defences over real HTTP: CSRF, login throttling behind a trusted proxy, security headers,
argon2 hashes, access-log redaction."""

import hashlib
import logging
from pathlib import Path

import httpx
import pytest

from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server
from tests.web import clients

pytestmark = pytest.mark.timeout(180)
PASSWORD = "mat-khau-quan-tri-dai"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("security")
    with empty_database(tmp_path) as env:
        env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), **env}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            yield base, env


def test_unsafe_requests_need_the_csrf_token(served):
    base, _ = served
    admin = clients.signed_in(base, "admin", PASSWORD)
    root = admin.get("/api/v1/units").json()[0]
    body = {"parent_id": root["id"], "name": "Huyện ủy Gia Bình", "short_code": "HU-GB", "kind": "district"}

    forged = httpx.post(f"{base}/api/v1/units", json=body, cookies=admin.cookies)  # a cross-site form: cookie, no token
    assert forged.status_code == 403 and "tải lại trang" in forged.json()["error"]
    wrong = httpx.post(f"{base}/api/v1/units", json=body, cookies=admin.cookies, headers={"x-csrftoken": "0" * 128})
    assert wrong.status_code == 403
    assert admin.get("/api/v1/units/%d/tree" % root["id"]).json()[-1]["short_code"] == "TU"  # nothing was created

    assert admin.post("/api/v1/units", json=body).status_code == 201


def test_pages_carry_the_token_masked_anew_each_time_and_a_masked_token_is_accepted(served):
    """BREACH: a compressed page must not repeat the same token bytes from one answer to the next."""
    import re

    base, _ = served
    admin = clients.signed_in(base, "admin", PASSWORD)
    shown = [re.search(r'<meta name="csrf-token" content="([^"]+)"', admin.get("/units").text).group(1) for _ in range(2)]
    cookie = admin.cookies.get(clients.CSRF_COOKIE)
    assert shown[0] != shown[1] and cookie not in shown and not any(cookie in token for token in shown)
    root = admin.get("/api/v1/units").json()[0]
    body = {"parent_id": root["id"], "name": "Huyện ủy Thuận Thành", "short_code": "HU-TT", "kind": "district"}
    tampered = shown[0][:-4] + ("AAAA" if not shown[0].endswith("AAAA") else "BBBB")
    assert admin.post("/api/v1/units", json=body, headers={"x-csrftoken": tampered}).status_code == 403
    assert admin.post("/api/v1/units", json=body, headers={"x-csrftoken": shown[1]}).status_code == 201


def test_a_malformed_token_is_refused_with_403_never_a_500(served):
    base, _ = served
    admin = clients.signed_in(base, "admin", PASSWORD)
    body = {"name": "X", "short_code": "HU-X", "kind": "district"}
    sent = {
        "non-ASCII header": httpx.post(f"{base}/api/v1/units", json=body, cookies=admin.cookies, headers={"x-csrftoken": b"\xe9" * 200}),
        "non-ASCII form field": httpx.post(f"{base}/units", data={"_csrf_token": "é" * 200, "name": "x"}, cookies=admin.cookies),
        "a file as the token": httpx.post(f"{base}/units", files={"_csrf_token": ("a.txt", b"abc")}, data={"name": "x"},
                                          cookies=admin.cookies),
        "masked non-ASCII": httpx.post(f"{base}/units", data={"_csrf_token": "m.éééé", "name": "x"}, cookies=admin.cookies),
    }
    assert {name: answer.status_code for name, answer in sent.items()} == dict.fromkeys(sent, 403)


def test_masking_round_trip_and_malformed_tokens():
    from web.security import mask_csrf_token, unmask_csrf_token

    token = "ab" * 64
    masked = {mask_csrf_token(token) for _ in range(5)}
    assert len(masked) == 5 and {unmask_csrf_token(value) for value in masked} == {token}
    assert unmask_csrf_token(token) == token  # the cookie's own value, as scripts send it
    for malformed in ("m.", "m.!!!", "m.QUJD", "m." + "A" * 7):
        assert unmask_csrf_token(malformed) == ""


def test_login_itself_needs_the_token(served):
    base, _ = served
    cold = httpx.post(f"{base}/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert cold.status_code == 403


def test_an_authorization_header_skips_csrf_and_ignores_the_session_cookie(served):
    base, _ = served
    admin = clients.signed_in(base, "admin", PASSWORD)
    response = httpx.post(f"{base}/api/v1/units", json={"name": "X"}, cookies=admin.cookies,
                          headers={"Authorization": "Bearer not-a-real-token"})
    assert response.status_code == 401 and "Khoá API" in response.json()["error"]
    malformed = httpx.get(f"{base}/api/v1/units", cookies=admin.cookies, headers={"Authorization": "Basic YWRtaW46eA=="})
    assert malformed.status_code == 401


def test_an_api_key_carries_one_of_its_owners_roles_needs_no_csrf_and_dies_when_revoked(served):
    base, _ = served
    admin = clients.signed_in(base, "admin", PASSWORD)
    root = admin.get("/api/v1/units").json()[0]
    weaker = admin.post("/api/v1/tokens", json={"purpose": "api", "unit_id": root["id"], "role": "viewer", "label": "báo cáo"})
    assert weaker.status_code == 403 and "vai trò" in weaker.json()["error"]  # a key carries one of the owner's own roles
    issued = admin.post("/api/v1/tokens", json={"purpose": "api", "unit_id": root["id"], "role": "admin", "label": "đồng bộ"})
    assert issued.status_code == 201, issued.text
    key = issued.json()["token"]
    assert len(key) >= 43 and key not in admin.get("/api/v1/tokens").text  # shown once, never listed
    api = httpx.Client(base_url=base, timeout=10, headers={"Authorization": f"Bearer {key}"})
    assert api.get("/api/v1/units").json()[0]["id"] == root["id"]
    created = api.post("/api/v1/units", json={"parent_id": root["id"], "name": "Đảng ủy Khối", "short_code": "DUK",
                                              "kind": "district"})
    assert created.status_code == 201, created.text  # no CSRF token: the header cannot come from a cross-site form
    assert admin.post(f"/api/v1/tokens/{issued.json()['item']['id']}/revoke").status_code == 200
    assert api.get("/api/v1/units").status_code == 401


def test_repeated_failures_lock_out_that_user_from_that_address_only(served):
    base, _ = served
    attacker = clients.browser(base, headers={"X-Forwarded-For": "203.0.113.7"})
    for _ in range(6):
        assert attacker.post("/api/v1/auth/login", json={"username": "admin", "password": "doan-sai-mat-khau"}).status_code == 401
    locked = attacker.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert locked.status_code == 429 and "thử lại sau" in locked.json()["error"]
    assert 0 < int(locked.headers["retry-after"]) <= 30

    # the real admin, at another address, still signs in
    elsewhere = clients.browser(base, headers={"X-Forwarded-For": "198.51.100.20"})
    assert elsewhere.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}).status_code == 200


def test_a_burst_of_parallel_guesses_gets_no_more_tries_than_one_at_a_time(served):
    """Attempts are counted before the password is checked, atomically in the database: guesses
    sent all at once cannot all pass a check made before any of them had failed."""
    from concurrent.futures import ThreadPoolExecutor

    base, _ = served
    guessers = [clients.browser(base, headers={"X-Forwarded-For": "203.0.113.50"}) for _ in range(24)]
    with ThreadPoolExecutor(max_workers=len(guessers)) as pool:
        responses = list(pool.map(lambda client: client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": "doan-sai-song-song"}), guessers))
    answers = [response.status_code for response in responses]
    assert sorted(set(answers)) == [401, 429], answers
    assert answers.count(401) <= 6  # the five free failures and the one that then held the lock
    refused = next(response for response in responses if response.status_code == 429)
    assert "thử lại sau" in refused.json()["error"] and int(refused.headers["retry-after"]) > 0


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(tmp_path):
    with empty_database(tmp_path) as env:
        env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), "HOINGHI_TRUSTED_PROXIES": "10.9.9.9", **env}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5", "203.0.113.6"):
                spoofing = clients.browser(base, headers={"X-Forwarded-For": address})
                assert spoofing.post("/api/v1/auth/login", json={"username": "admin", "password": "sai-mat-khau-x"}).status_code == 401
            # rotating the header did not help: all six counted against 127.0.0.1
            again = clients.browser(base, headers={"X-Forwarded-For": "203.0.113.99"})
            assert again.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}).status_code == 429


def test_security_headers_on_every_response(served):
    base, _ = served
    for path in ("/healthz", "/api/v1/units", "/no-such-page"):
        headers = httpx.get(f"{base}{path}").headers
        assert "script-src 'self'" in headers["content-security-policy"] and "unsafe-inline" not in headers[
            "content-security-policy"].split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"


def test_cookies_are_httponly_and_lax(served):
    base, _ = served
    client = clients.browser(base)
    response = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    set_cookie = response.headers.get_list("set-cookie")
    session = next(value for value in set_cookie if value.startswith("hoinghi_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session.replace("Lax", "lax")


def test_passwords_are_stored_as_argon2id(served):
    _, env = served
    result = run_cli("user", "add", "thu.ky", "--password", "mot-mat-khau-dai", env=env)
    assert result.returncode == 0
    from core.services.users import hash_password, needs_rehash, verify_password

    stored = hash_password("mot-mat-khau-dai")
    assert stored.startswith("$argon2id$") and verify_password("mot-mat-khau-dai", stored)
    assert not verify_password("mot-mat-khau-khac", stored) and not needs_rehash(stored)
    legacy = "scrypt$16384$00112233445566778899aabbccddeeff$" + "0" * 64
    assert needs_rehash(legacy) and not verify_password("x", legacy)


def test_access_log_redacts_secrets_in_urls():
    from web.security import RedactSecretsFilter

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/i/AbCdEf0123456789secret", "1.1", 303), None)
    RedactSecretsFilter().filter(record)
    assert "secret" not in record.getMessage() and "/i/[redacted]" in record.getMessage()
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/ical/feedtoken123.ics", "1.1", 200), None)
    RedactSecretsFilter().filter(record)
    assert "feedtoken123" not in record.getMessage()


def test_a_revoked_role_takes_effect_on_the_next_request_of_a_signed_in_session(served):
    base, _ = served
    admin = clients.signed_in(base, "admin", PASSWORD)
    root = admin.get("/api/v1/units").json()[0]
    district = admin.post("/api/v1/units", json={"parent_id": root["id"], "name": "Huyện ủy Lương Tài", "short_code": "HU-LT",
                                                 "kind": "district"}).json()
    user = admin.post("/api/v1/users", json={"username": "xem.luongtai", "password": PASSWORD, "full_name": "Xem Lương Tài"}).json()
    assert admin.post(f"/api/v1/users/{user['id']}/roles", json={"unit_id": district["id"], "role": "viewer"}).status_code == 200
    viewer = clients.signed_in(base, "xem.luongtai", PASSWORD)
    assert viewer.get(f"/api/v1/units/{district['id']}/tree").status_code == 200
    assert viewer.get(f"/api/v1/units/{district['id']}/tree").status_code == 200  # the session was not rewritten: still valid

    assert admin.post(f"/api/v1/users/{user['id']}/roles/revoke", json={"unit_id": district["id"], "role": "viewer"}).status_code == 200
    assert viewer.get(f"/api/v1/units/{district['id']}/tree").status_code == 404  # the same session, the role gone


def test_an_unchanged_session_is_not_written_back_on_every_response(served):
    base, env = served
    admin = clients.signed_in(base, "admin", PASSWORD)
    session_file = Path(env["HOINGHI_VAR_DIR"]) / "sessions" / hashlib.blake2s(admin.cookies.get("hoinghi_session").encode()).hexdigest()  # FileStore names files by the key's hash
    written = session_file.stat().st_mtime_ns
    answer = admin.get("/api/v1/units")
    assert answer.status_code == 200 and "hoinghi_session" not in answer.headers.get("set-cookie", "")
    assert session_file.stat().st_mtime_ns == written

    switched = admin.post("/lang", data={"lang": "en", "next": "/"}, follow_redirects=False)  # a change is written at once
    assert switched.status_code == 303 and "hoinghi_session" in switched.headers.get("set-cookie", "")
    assert session_file.stat().st_mtime_ns != written
