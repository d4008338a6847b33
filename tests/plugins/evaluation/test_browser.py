"""An attendee answers the demo form in headless Chromium on a 360×640 phone, through the
served app over a database set up by the real commands (`hoinghi init`, `hoinghi demo`,
`hoinghi evaluation demo`): personal link, the form, a refused required answer, then the thanks
page with the edit key shown once. A plain sync test (Playwright's sync API)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import subprocess
import sys

from tests.browser import has_horizontal_overflow, phone_context, screenshot
from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server

# present at the demo's ended conference, not among the demo's sample respondents; a personal link
PICK = """
import asyncio, datetime as dt, json
from core.commands.runtime import run_with_database

async def body():
    from core.access import Actor
    from core.services import tokens
    from core.tables import Attendance
    from plugins.evaluation.tables import EvaluationForm, EvaluationParticipation
    form = await EvaluationForm.select().where(EvaluationForm.status == "open").first()
    answered = {r["person_id"] for r in await EvaluationParticipation.select().where(EvaluationParticipation.form_id == form["id"])}
    present = await Attendance.select(Attendance.person).where((Attendance.conference == form["conference_id"])
                                                               & Attendance.status.is_in(["present", "late"]))
    person = next(r["person"] for r in present if r["person"] not in answered)
    _, link = await tokens.issue_secret_token(Actor.system_actor("test"), purpose="login_link", subject_type="person",
                                              subject_id=person, ttl=dt.timedelta(days=1))
    return {"form_id": form["id"], "link": f"/i/{link}", "answered": len(answered)}

print(json.dumps(run_with_database(body)))
"""


@contextlib.contextmanager
def _outside_the_browser_loop(manager):
    """Enter and leave ``manager`` in another thread: Playwright's sync API keeps an event loop
    running in this one, and the PostgreSQL set-up of ``empty_database`` calls asyncio.run."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        value = pool.submit(manager.__enter__).result()
        try:
            yield value
        finally:
            pool.submit(manager.__exit__, None, None, None).result()


def test_an_attendee_answers_the_demo_form_on_a_phone(tmp_path, browser):
    toml = tmp_path / "plugins.toml"
    toml.write_text('[plugins.evaluation]\ndefault = "on"\n', encoding="utf-8")
    with _outside_the_browser_loop(empty_database(tmp_path)) as env:
        env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), **env, "HOINGHI_CONSOLE_CHANNEL": "1", "HOINGHI_PLUGINS_TOML": str(toml)}
        run_cli("init", "--non-interactive", "--admin-password", "mat-khau-quan-tri-dai", env=env)
        run_cli("demo", env=env)
        run_cli("evaluation", "demo", env=env)
        import os

        picked = subprocess.run([sys.executable, "-c", PICK], env={**os.environ, **env}, cwd=PROJECT_ROOT, capture_output=True, text=True,
                                timeout=120)
        assert picked.returncode == 0, picked.stderr
        chosen = json.loads(picked.stdout.strip().splitlines()[-1])
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            context = phone_context(browser)
            page = context.new_page()
            page.goto(base + chosen["link"])  # the session is set; the token leaves the address bar
            assert "/i/" not in page.url
            page.goto(f"{base}/me/evaluation/forms/{chosen['form_id']}")
            assert page.locator("h1").inner_text() == "Phiếu đánh giá hội nghị báo cáo viên"
            assert not has_horizontal_overflow(page)
            # only the first rating: the other required answers are missing
            page.locator('input[name="q_noi_dung"][value="5"]').check()
            page.get_by_role("button", name="Gửi phiếu").click()
            assert "bắt buộc" in page.locator("#question-bao_cao_vien .field-error").inner_text()
            assert page.locator('input[name="q_noi_dung"][value="5"]').is_checked()  # what was given is kept
            page.locator('input[name="q_bao_cao_vien"][value="4"]').check()
            page.get_by_label("Vừa phải").check()
            page.get_by_label("Chính sách mới").check()
            page.locator('input[name="q_tai_lieu"][value="1"]').check()
            page.locator('input[name="q_to_chuc"][value="3"]').check()
            page.locator('select[name="q_kien_nghi_topic"]').select_option("Đời sống nhân dân")
            page.locator('textarea[name="q_kien_nghi"]').fill("Đề nghị lắp thêm đèn chiếu sáng đường thôn.")
            assert not has_horizontal_overflow(page)
            page.get_by_role("button", name="Gửi phiếu").click()
            assert page.locator("h1").inner_text() == "Cảm ơn đồng chí đã gửi phiếu"
            key = page.locator("#edit-key").inner_text().strip()
            assert len(key) >= 20
            screenshot(page, "evaluation-phone-thanks")
            # back to the form: already sent; the key opens it again for editing
            page.goto(f"{base}/me/evaluation/forms/{chosen['form_id']}")
            assert "Đồng chí đã gửi phiếu ẩn danh này." in page.content()
            page.locator('input[name="edit_key"]').fill(key)
            page.get_by_role("button", name="Sửa phiếu").click()
            assert page.locator('input[name="q_bao_cao_vien"][value="4"]').is_checked()
            assert page.locator('textarea[name="q_kien_nghi"]').input_value() == "Đề nghị lắp thêm đèn chiếu sáng đường thôn."
            context.close()
