"""Our own static files are named with their content's digest (web/static_versions.py): a
browser that cached yesterday's app.js for a day fetches today's on the next page load."""

from __future__ import annotations

import hashlib
import os
import re

import httpx

from web import static_versions


def test_a_page_names_its_scripts_by_their_content_and_the_address_serves_that_content(server):
    page = httpx.get(f"{server}/login")
    addresses = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    ours = [address for address in addresses if address.startswith("/static/js/app.js")]
    assert ours and all("?v=" in address for address in addresses), addresses
    for address in addresses:
        served_file = httpx.get(f"{server}{address}")
        digest = address.rsplit("?v=", 1)[1]
        assert served_file.status_code == 200 and hashlib.sha256(served_file.content).hexdigest().startswith(digest)
        assert "max-age" in served_file.headers["cache-control"]


def test_the_address_changes_when_the_file_does_and_strays_are_left_alone(tmp_path):
    (tmp_path / "js").mkdir()
    script = tmp_path / "js" / "page.js"
    script.write_text("console.log(1);")
    static_versions.serve("/static/testing_versions/", tmp_path)
    try:
        _assert_versions_follow(script)
    finally:
        static_versions.forget("/static/testing_versions/")


def _assert_versions_follow(script) -> None:
    before = static_versions.static_url("/static/testing_versions/js/page.js")
    assert before == "/static/testing_versions/js/page.js?v=" + hashlib.sha256(b"console.log(1);").hexdigest()[:12]
    script.write_text("console.log(22);")
    os.utime(script, ns=(1, 2))  # another modification time even on a coarse clock
    assert static_versions.static_url("/static/testing_versions/js/page.js") != before
    # a missing file, a path out of the folder, an address no folder serves: as written
    for stray in ("/static/testing_versions/js/none.js", "/static/testing_versions/../secret.txt", "/elsewhere/app.js"):
        assert static_versions.static_url(stray) == stray
