"""The plugin's hooks as the core calls them: through a unit's hook caller, awaiting what a
plugin returns; the demo command through the real CLI."""

from __future__ import annotations

import inspect
import re

from core.tables import Conference
from plugins.evaluation import services
from tests.conftest import run_cli
from tests.factories import SYSTEM
from tests.plugins.evaluation.conftest import demo_template, end, ended_conference, good_answers


async def _panels(host, unit_path: str, **kwargs) -> list[dict]:
    hooks = await host.hooks_for_path(unit_path)
    found = []
    for result in hooks.attendee_panels(**kwargs):
        if inspect.isawaitable(result):
            result = await result
        found.extend(result or [])
    return found


async def test_the_attendee_panel_links_the_open_forms_of_those_asked(db, host):
    setup = await ended_conference(people=3, present=2, with_session=False)
    conference = await Conference.select().where(Conference.id == setup["conference"]["id"]).first()
    province = setup["tree"]["province"]
    template = await demo_template(province)
    form = (await services.attach_form(SYSTEM, conference_id=conference["id"], template_id=template["id"]))[0]
    present, absent = setup["present"][0], setup["absent"][0]
    assert await _panels(host, province["path"], person=present, conference=conference) == []  # not open yet
    await end(conference["id"])
    await services.open_on_conference_end(conference["id"], host)
    panels = await _panels(host, province["path"], person=present, conference=conference)
    assert [panel["title"] for panel in panels] == ["Phiếu đánh giá"]
    assert f'href="/me/evaluation/forms/{form["id"]}"' in panels[0]["html"] and "đã gửi" not in panels[0]["html"]
    assert await _panels(host, province["path"], person=absent, conference=conference) == []  # absent: not asked
    await services.submit_response(present["id"], form_id=form["id"], answers=good_answers(), conference_ids=[conference["id"]])
    answered = await _panels(host, province["path"], person=present, conference=conference)
    assert "Đồng chí đã gửi phiếu này." in answered[0]["html"]
    await host.set_state(SYSTEM, province["id"], "evaluation", "off")
    assert await _panels(host, province["path"], person=present, conference=conference) == []


async def test_the_venue_screen_shows_a_qr_to_the_form(db, host):
    setup = await ended_conference(people=1, present=1, with_session=False)
    conference = setup["conference"]
    hooks = await host.hooks_for_path(setup["tree"]["province"]["path"])
    panels = [panel for result in hooks.venue_screen_panels(conference=conference, venue=conference["venues"][0]) for panel in result]
    assert len(panels) == 1 and panels[0]["html"].count("<svg") == 1
    assert f"/me/evaluation/conferences/{conference['id']}" in panels[0]["html"]
    assert re.search(r"<path[^>]+d=\"M", panels[0]["html"])  # a drawn QR code, not an image link


def test_the_demo_command_adds_the_template_and_answers(tmp_path):
    from tests.conftest import empty_database

    with empty_database(tmp_path) as env:
        env = {**env, "HOINGHI_CONSOLE_CHANNEL": "1"}
        run_cli("init", "--non-interactive", "--admin-password", "mat-khau-quan-tri-dai", env=env)
        demo = run_cli("demo", env=env)  # through the demo_data hook
        assert "Mẫu phiếu đánh giá" in demo.stderr and "câu trả lời mẫu" in demo.stderr
        again = run_cli("evaluation", "demo", env=env)
        assert "Phiếu đánh giá hội nghị báo cáo viên" in again.stdout
        assert "câu trả lời mẫu" not in again.stdout  # once only
        check = run_cli("migrate", "--check", env=env)
        assert check.returncode == 0
