"""Headless Chromium for browser tests: Debian's ``/usr/bin/chromium`` driven by Playwright (never
a downloaded browser; ``make test`` installs the package once).

Use the ``browser`` fixture (one Chromium per test session) and open a context per test:
``phone_context(browser)`` gives the 360×640 viewport attendees have. Screenshots go under
``tests/e2e/artifacts/`` (git-ignored) through ``screenshot(page, name)``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "e2e" / "artifacts"
PHONE = {"width": 360, "height": 640}
# Without the background-networking flags Chromium keeps calling Google's hosts, which this
# closed network refuses; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def chromium(extra_args: list[str] | None = None):
    """A headless Chromium (Playwright's sync API: use it from plain, non-async tests)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=[*CHROMIUM_ARGS, *(extra_args or [])])
        try:
            yield browser
        finally:
            browser.close()


def phone_context(browser, **kwargs):
    """A fresh browser context the size of a cheap phone (360×640, touch), Vietnamese first."""
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN", **kwargs)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def has_horizontal_overflow(page) -> bool:
    """True when the page is wider than the viewport (something scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
