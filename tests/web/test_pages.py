"""The pages around a session, over real HTTP: sign-in form, redirects, language, error pages,
vendored static files."""

import hashlib
import re

import httpx
import pytest

from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server
from tests.web import clients

pytestmark = pytest.mark.timeout(180)
PASSWORD = "mat-khau-quan-tri-dai"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("pages")
    with empty_database(tmp_path) as env:
        env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), **env}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            yield base


def form_token(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def test_sign_in_with_the_form_and_come_back_where_you_were(served):
    browser = httpx.Client(base_url=served, timeout=10)
    page = browser.get("/login", params={"next": "/conferences?month=2026-12"})
    assert page.status_code == 200 and "Đăng nhập" in page.text and 'lang="vi"' in page.text
    token = form_token(page.text)
    wrong = browser.post("/login", data={"_csrf_token": token, "username": "admin", "password": "khong-dung-dau",
                                         "next": "/conferences?month=2026-12"})
    assert wrong.status_code == 401 and "không đúng" in wrong.text and 'value="admin"' in wrong.text
    signed = browser.post("/login", data={"_csrf_token": token, "username": "admin", "password": PASSWORD,
                                          "next": "/conferences?month=2026-12"})
    assert signed.status_code == 303 and signed.headers["location"] == "/conferences?month=2026-12"
    assert browser.get("/login").status_code == 303  # already signed in

    out = browser.post("/logout", data={"_csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/login"


def test_the_form_refuses_a_missing_token_and_foreign_redirects(served):
    browser = httpx.Client(base_url=served, timeout=10)
    page = browser.get("/login")
    forged = browser.post("/login", data={"username": "admin", "password": PASSWORD})
    assert forged.status_code == 403 and "tải lại trang" in forged.text and "<html" in forged.text
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        answer = browser.post("/login", data={"_csrf_token": form_token(page.text), "username": "admin", "password": PASSWORD,
                                              "next": target})
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        browser.post("/logout", data={"_csrf_token": form_token(page.text)})


def test_language_from_the_browser_then_from_the_persons_choice(served):
    english_browser = httpx.Client(base_url=served, timeout=10, headers={"Accept-Language": "en-GB,en;q=0.9"})
    page = english_browser.get("/login")
    assert 'lang="en"' in page.text and "Sign in" in page.text and "Đăng nhập" not in page.text
    chosen = english_browser.post("/lang", data={"_csrf_token": form_token(page.text), "lang": "vi", "next": "/login"})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/login"
    assert 'lang="vi"' in english_browser.get("/login").text


def test_error_pages_are_pages_and_api_errors_are_json(served):
    missing_page = httpx.get(f"{served}/khong-co-trang-nay", headers={"Accept": "text/html"})
    assert missing_page.status_code == 404 and "<html" in missing_page.text and "Không tìm thấy" in missing_page.text
    missing_api = httpx.get(f"{served}/api/v1/khong-co", headers={"Accept": "text/html"})
    assert missing_api.status_code == 404 and missing_api.json()["error"]


def test_vendored_files_are_the_pinned_ones(served):
    table = (PROJECT_ROOT / "web/static/vendor/VENDORED.md").read_text()
    rows = re.findall(r"^\| (\S+) \| \S+ \| \S+ \| .*? \| .*? \| ([0-9a-f]{64}) \|$", table, re.M)
    assert rows
    for filename, digest in rows:
        served_file = httpx.get(f"{served}/static/vendor/{filename}")
        assert served_file.status_code == 200 and hashlib.sha256(served_file.content).hexdigest() == digest
        assert "max-age" in served_file.headers["cache-control"]
