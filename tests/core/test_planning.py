"""The reads behind the organiser's pages (core/services/planning.py) and the conference page's
plugin panels, on both databases."""

import datetime as dt
import types

import pytest

from core import clock
from core.errors import NotFound
from core.hookspecs import hookimpl
from core.plugins import build_plugin_host
from core.services import audiences, conferences, planning
from core.tables import Job
from tests.core.flows import local, make_conference, make_people
from tests.factories import SYSTEM, make_actor, make_tree


async def test_what_needs_action_in_a_subtree(db, monkeypatch):
    monkeypatch.setenv("HOINGHI_CONSOLE_CHANNEL", "1")
    from core.notifications import set_unit_setting

    clock.set_now(local(2026, 3, 5, 9))
    tree = await make_tree()
    await make_people(tree["province"], 2)
    soon = await make_conference(tree, start=local(2026, 3, 10, 8))
    later = await make_conference(tree, start=local(2026, 4, 14, 8))
    published = await make_conference(tree, start=local(2026, 3, 20, 8))
    await conferences.publish_conference(SYSTEM, published["id"])
    await Job.insert(Job(kind="send_messages", unit_id=tree["district_a"]["id"], status="dead"),
                     Job(kind="send_messages", unit_id=tree["district_b"]["id"], status="dead"))
    await set_unit_setting(SYSTEM, tree["province"]["id"], "notifications.quota.console", 0)
    organiser = await make_actor("organiser", tree["province"])
    host = build_plugin_host(discover=False)

    action = await planning.needs_action(organiser, unit_id=tree["province"]["id"], host=host)
    assert [row["id"] for row in action["drafts"]] == [soon["id"], later["id"]] and action["drafts_total"] == 2
    assert [row["id"] for row in action["without_materials"]] == [soon["id"]]  # within seven days
    assert [(row["id"], row["pending"]) for row in action["unanswered"]] == [(published["id"], 2)]
    assert action["unanswered_total"] == 2 and action["dead_letters"] == 2
    assert [(quota["channel"], quota["left"], quota["limit"]) for quota in action["quotas"]] == [("console", 0, 0)]

    district = await make_actor("organiser", tree["district_a"])
    mine = await planning.needs_action(district, unit_id=tree["district_a"]["id"], host=host)
    assert mine["drafts"] == [] and mine["dead_letters"] == 1  # only its own subtree's failures
    with pytest.raises(NotFound):
        await planning.needs_action(district, unit_id=tree["district_b"]["id"])
    upcoming = await planning.upcoming_conferences(organiser, unit_id=tree["province"]["id"])
    assert [row["id"] for row in upcoming] == [soon["id"], published["id"], later["id"]]
    # the district sees the province's conference hosted at its venue (Điểm cầu Tiên Du)
    assert [row["id"] for row in await planning.upcoming_conferences(district, unit_id=tree["district_a"]["id"])] == [
        soon["id"], published["id"], later["id"]]


async def test_a_month_by_day_in_the_units_time_zone(db):
    tree = await make_tree()
    late_evening = await make_conference(tree, start=local(2026, 3, 31, 23, 30))  # 16:30 UTC, still 31 March in Hà Nội
    april_first = await make_conference(tree, start=local(2026, 4, 1, 0, 30))  # 31 March 17:30 UTC
    organiser = await make_actor("viewer", tree["province"])
    march = await planning.month_calendar(organiser, unit_id=tree["province"]["id"], month="2026-03")
    days = {day["date"]: [c["id"] for c in day["conferences"]] for week in march["weeks"] for day in week}
    assert days[dt.date(2026, 3, 31)] == [late_evening["id"]] and april_first["id"] not in sum(days.values(), [])
    assert march["weeks"][0][0]["date"] == dt.date(2026, 2, 23)  # Monday first
    assert (march["previous"], march["next"], march["count"]) == ("2026-02", "2026-04", 1)
    april = await planning.month_calendar(organiser, unit_id=tree["province"]["id"], month="2026-04")
    assert [c["id"] for c in april["weeks"][0][2]["conferences"]] == [april_first["id"]]  # Wednesday 1 April
    with pytest.raises(Exception, match="Tháng không hợp lệ"):
        await planning.month_calendar(organiser, unit_id=tree["province"]["id"], month="2026-13")


async def test_the_reach_of_several_audiences_counts_each_person_once(db):
    tree = await make_tree()
    await make_people(tree["district_a"], 3)
    await make_people(tree["district_b"], 2)
    everyone = await audiences.create_audience(SYSTEM, unit_id=tree["province"]["id"], name="Tất cả", rules={"categories": ["briefer"]})
    district = await audiences.create_audience(SYSTEM, unit_id=tree["district_a"]["id"], name="Tiên Du",
                                               rules={"categories": ["briefer"], "unit_ids": [tree["district_a"]["id"]]})
    organiser = await make_actor("organiser", tree["province"])
    assert await planning.audience_reach(organiser, audience_ids=[everyone["id"], district["id"]]) == 5
    assert await planning.audience_reach(organiser, audience_ids=[district["id"]]) == 3
    other = await make_actor("organiser", tree["district_b"])
    with pytest.raises(NotFound):
        await planning.audience_reach(other, audience_ids=[district["id"]])
    units = await planning.managed_units(await make_actor("organiser", tree["district_a"]))
    assert [row["id"] for row in units] == [tree["district_a"]["id"], tree["commune_a1"]["id"], tree["commune_a2"]["id"]]


class Panels:
    @hookimpl
    def conference_panels(self, conference):
        return [{"title": "Đánh giá", "html": f"<p>Phiếu đánh giá của hội nghị #{conference['id']}</p>"}]


class Broken:
    @hookimpl
    def conference_panels(self, conference):
        raise RuntimeError("hỏng")


async def test_conference_page_shows_the_panels_of_the_plugins_its_unit_enables(db, tmp_path):
    from web.pages.conferences import plugin_panels

    toml = tmp_path / "plugins.toml"
    toml.write_text('[plugins.panels]\ndefault = "on"\n[plugins.broken]\ndefault = "on"\n', encoding="utf-8")
    host = build_plugin_host(plugins_toml=toml, extra=[("panels", Panels()), ("broken", Broken())], discover=False)
    request = types.SimpleNamespace(app=types.SimpleNamespace(state=types.SimpleNamespace(plugin_host=host)))
    tree = await make_tree()
    conference = await make_conference(tree)
    shown = await plugin_panels(request, conference, tree["province"]["path"])
    assert [(panel["plugin"], panel["title"], str(panel["html"])) for panel in shown] == [
        ("panels", "Đánh giá", f"<p>Phiếu đánh giá của hội nghị #{conference['id']}</p>")]  # the broken one hides only itself
    await host.set_state(SYSTEM, tree["province"]["id"], "panels", "off")
    assert await plugin_panels(request, conference, tree["province"]["path"]) == []


async def test_one_screen_of_the_roll_call_with_totals_of_everyone(db):
    from core.services import invitations, rollcall

    clock.set_now(local(2026, 3, 10, 7, 50))
    tree = await make_tree()
    await make_people(tree["province"], 4, prefix="Tỉnh")
    await make_people(tree["district_a"], 3, prefix="Huyện")
    conference = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, conference["id"])
    hall, district_venue = conference["venues"]
    invited = await invitations.list_invitations(SYSTEM, conference["id"], limit=100)
    by_name = {row["full_name"]: row["person"] for row in invited}
    for name in ("Huyện HU-TD 0", "Huyện HU-TD 1", "Huyện HU-TD 2"):
        await invitations.invite_person(SYSTEM, conference["id"], by_name[name], venue_id=district_venue["id"])
    await rollcall.record_attendance(SYSTEM, conference_id=conference["id"], person_id=by_name["Tỉnh TU-BN 0"], method="manual")
    await rollcall.record_attendance(SYSTEM, conference_id=conference["id"], person_id=by_name["Huyện HU-TD 1"], method="manual")
    await rollcall.excuse(SYSTEM, conference["id"], by_name["Huyện HU-TD 2"], "Ốm")
    organiser = await make_actor("organiser", tree["province"])

    board = await planning.roll_call_board(organiser, conference["id"], limit=5)
    assert board["invited"] == 7 and board["more"] and len(board["rows"]) == 5
    assert (board["counts"]["present"], board["counts"]["excused"], board["counts"]["not_recorded"]) == (2, 1, 4)
    assert board["by_venue"][district_venue["id"]]["invited"] == 3 and board["by_venue"][None]["invited"] == 4
    waiting = await planning.roll_call_board(organiser, conference["id"], status="not_recorded")
    assert sorted(row["full_name"] for row in waiting["rows"]) == ["Huyện HU-TD 0", "Tỉnh TU-BN 1", "Tỉnh TU-BN 2", "Tỉnh TU-BN 3"]
    found = await planning.roll_call_board(organiser, conference["id"], query="huyen 2")
    assert [(row["full_name"], row["record"]["status"]) for row in found["rows"]] == [("Huyện HU-TD 2", "excused")]

    host_staff = await make_actor("checkin_staff", tree["district_a"])  # reaches the conference through its venue only
    mine = await planning.roll_call_board(host_staff, conference["id"])
    assert {row["full_name"] for row in mine["rows"]} == {"Huyện HU-TD 0", "Huyện HU-TD 1", "Huyện HU-TD 2"}
    assert mine["invited"] == 3 and set(mine["by_venue"]) == {district_venue["id"]}
    with pytest.raises(NotFound):
        await planning.roll_call_board(host_staff, conference["id"], venue_id=hall["id"])
    with pytest.raises(NotFound):
        await planning.roll_call_board(await make_actor("organiser", tree["district_b"]), conference["id"])
