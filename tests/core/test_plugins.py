import datetime as dt
import inspect

import pytest

from core import clock, hookspecs, jobs
from core.errors import Conflict, Forbidden, ValidationError
from core.hookspecs import hookimpl
from core.plugins import PluginConfigError, build_plugin_host
from core.services import conferences
from core.tables import EventDelivery
from tests.core.flows import make_conference, make_people
from tests.factories import SYSTEM, make_actor, make_tree


class Recorder:
    """A throw-away plugin that remembers what reached it."""

    LABEL = "Ghi chép"

    def __init__(self):
        self.seen: list[tuple[str, int]] = []

    @hookimpl
    def menu_items(self, unit):
        return [{"label": "Ghi chép", "url": "/recorder"}]

    @hookimpl
    async def conference_published(self, conference, event):
        self.seen.append(("published", conference["id"]))

    @hookimpl
    def conference_cancelled(self, conference, event):
        self.seen.append(("cancelled", conference["id"]))


class Flaky:
    LABEL = "Hay lỗi"

    def __init__(self):
        self.calls = 0

    @hookimpl
    def conference_published(self, conference, event):
        self.calls += 1
        raise RuntimeError("máy chủ SMS không trả lời")


class NeedsRecorder:
    REQUIRES = ("recorder",)

    @hookimpl
    def menu_items(self, unit):
        return [{"label": "Phụ thuộc", "url": "/dep"}]


def write_toml(tmp_path, text: str):
    path = tmp_path / "plugins.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_hook_is_documented_with_scope_and_caller():
    for group in (hookspecs.AppSpecs, hookspecs.UnitSpecs):
        for name, function in inspect.getmembers(group, inspect.isfunction):
            doc = inspect.getdoc(function) or ""
            assert "Scope:" in doc and "alled" in doc, f"hook {name} lacks its scope and caller in the docstring"


def test_async_contribution_hooks_are_refused(tmp_path):
    class Bad:
        @hookimpl
        async def menu_items(self, unit):
            return []

    with pytest.raises(PluginConfigError, match="đồng bộ"):
        build_plugin_host(plugins_toml=tmp_path / "none.toml", extra=[("bad", Bad())], discover=False)


def test_misspelt_hooks_and_bad_toml_stop_start_up(tmp_path):
    class Typo:
        @hookimpl
        def menu_itemz(self, unit):
            return []

    with pytest.raises(Exception, match="menu_itemz"):
        build_plugin_host(plugins_toml=tmp_path / "none.toml", extra=[("typo", Typo())], discover=False)
    for text, key in [('[plugins.nope]\ndefault = "on"', "plugins.nope"),
                      ('[plugins.recorder]\ndefault = "yes"', "plugins.recorder.default"),
                      ('[plugins.recorder]\nlocked = "no"', "plugins.recorder.locked"),
                      ('[plugins.recorder.settings]\ntoken = "x"', "plugins.recorder.settings.token")]:
        with pytest.raises(PluginConfigError, match=key.replace(".", r"\.")):
            build_plugin_host(plugins_toml=write_toml(tmp_path, text), extra=[("recorder", Recorder())], discover=False)


async def test_tri_state_inheritance_locks_and_requirements(db, tmp_path):
    tree = await make_tree()
    recorder = Recorder()
    host = build_plugin_host(plugins_toml=write_toml(tmp_path, '[plugins.recorder]\ndefault = "off"\n[plugins.dep]\ndefault = "on"\n'),
                             extra=[("recorder", recorder), ("dep", NeedsRecorder())], discover=False)
    commune = tree["commune_a1"]
    assert await host.enabled_for_path(commune["path"]) == frozenset()  # dep needs recorder, which is off
    await host.set_state(SYSTEM, tree["district_a"]["id"], "recorder", "on")
    assert await host.enabled_for_path(commune["path"]) == {"recorder", "dep"}
    assert await host.enabled_for_path(tree["commune_b1"]["path"]) == frozenset()
    await host.set_state(SYSTEM, commune["id"], "recorder", "off")
    assert await host.enabled_for_path(commune["path"]) == frozenset()
    await host.set_state(SYSTEM, commune["id"], "recorder", "inherit")
    hooks = await host.hooks_for_unit(commune["id"])
    assert [item["label"] for items in hooks.menu_items(unit=commune) for item in items] == ["Ghi chép", "Phụ thuộc"]
    off_hooks = await host.hooks_for_unit(tree["commune_b1"]["id"])
    assert off_hooks.menu_items(unit=tree["commune_b1"]) == []
    viewer = await make_actor("viewer", tree["district_a"])
    with pytest.raises(Forbidden):
        await host.set_state(viewer, commune["id"], "recorder", "off")
    with pytest.raises(ValidationError):
        await host.set_state(SYSTEM, commune["id"], "recorder", "maybe")
    states = {row["plugin"]: row for row in await host.states(SYSTEM, commune["id"])}
    assert states["recorder"]["enabled"] and states["recorder"]["setting"] == "inherit"

    locked = build_plugin_host(plugins_toml=write_toml(tmp_path, '[plugins.recorder]\ndefault = "on"\nlocked = true\n'),
                               extra=[("recorder", Recorder())], discover=False)
    assert "recorder" in await locked.enabled_for_path(tree["commune_b1"]["path"])
    with pytest.raises(Conflict, match="khoá"):
        await locked.set_state(SYSTEM, commune["id"], "recorder", "off")


async def test_a_change_in_another_process_is_seen_through_the_generation(db, tmp_path):
    tree = await make_tree()
    toml = write_toml(tmp_path, '[plugins.recorder]\ndefault = "off"\n')
    first = build_plugin_host(plugins_toml=toml, extra=[("recorder", Recorder())], discover=False)
    second = build_plugin_host(plugins_toml=toml, extra=[("recorder", Recorder())], discover=False)
    assert await second.enabled_for_path(tree["commune_a1"]["path"]) == frozenset()
    await first.set_state(SYSTEM, tree["province"]["id"], "recorder", "on")
    assert await second.enabled_for_path(tree["commune_a1"]["path"]) == {"recorder"}


async def test_events_reach_each_enabled_plugin_once_and_failures_stay_isolated(db, tmp_path):
    tree = await make_tree()
    await make_people(tree["commune_a1"], 2)
    recorder, flaky = Recorder(), Flaky()
    host = build_plugin_host(plugins_toml=write_toml(tmp_path, '[plugins.recorder]\ndefault = "on"\n[plugins.flaky]\ndefault = "on"\n'),
                             extra=[("recorder", recorder), ("flaky", flaky)], discover=False)
    conference = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, conference["id"])
    await conferences.cancel_conference(SYSTEM, conference["id"])

    first = await jobs.run_once(host)
    assert recorder.seen == [("published", conference["id"]), ("cancelled", conference["id"])]
    assert flaky.calls == 1 and first["retry"] == 1
    again = await jobs.run_once(host)  # not due yet: backoff
    assert flaky.calls == 1 and recorder.seen == [("published", conference["id"]), ("cancelled", conference["id"])]
    assert again["delivered"] == 0
    for _ in range(jobs.MAX_ATTEMPTS):
        clock.set_now(clock.now() + jobs.backoff(jobs.MAX_ATTEMPTS))
        await jobs.run_once(host)
    assert flaky.calls == jobs.MAX_ATTEMPTS
    dead = await jobs.dead_letters()
    assert [(row["plugin"], row["name"]) for row in dead] == [("flaky", "conference_published")]
    assert "SMS" in dead[0]["last_error"]
    await jobs.retry_dead(dead[0]["id"])
    await jobs.run_once(host)
    assert flaky.calls == jobs.MAX_ATTEMPTS + 1
    assert len(recorder.seen) == 2  # the recorder never ran again


async def test_events_of_one_conference_arrive_in_order(db, tmp_path):
    tree = await make_tree()
    await make_people(tree["commune_a1"], 1)

    class FailsOnce:
        def __init__(self):
            self.seen, self.failed = [], False

        @hookimpl
        def conference_published(self, conference, event):
            if not self.failed:
                self.failed = True
                raise RuntimeError("lần đầu lỗi")
            self.seen.append("published")

        @hookimpl
        def conference_cancelled(self, conference, event):
            self.seen.append("cancelled")

    plugin = FailsOnce()
    host = build_plugin_host(plugins_toml=write_toml(tmp_path, '[plugins.ordered]\ndefault = "on"\n'),
                             extra=[("ordered", plugin)], discover=False)
    conference = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, conference["id"])
    await conferences.cancel_conference(SYSTEM, conference["id"])
    outcome = await jobs.run_once(host)
    assert outcome["waiting"] == 1 and plugin.seen == []  # "cancelled" waits for "published"
    clock.set_now(clock.now() + jobs.backoff(1))
    await jobs.run_once(host)
    assert plugin.seen == ["published", "cancelled"]


async def test_switching_off_skips_pending_deliveries(db, tmp_path):
    tree = await make_tree()
    await make_people(tree["commune_a1"], 1)
    recorder = Recorder()
    host = build_plugin_host(plugins_toml=write_toml(tmp_path, '[plugins.recorder]\ndefault = "on"\n'),
                             extra=[("recorder", recorder)], discover=False)
    conference = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, conference["id"])
    await jobs.dispatch(host)
    reminder = await jobs.schedule("remind", run_at=clock.now(), plugin="recorder", unit_id=tree["commune_a1"]["id"])
    elsewhere = await jobs.schedule("remind", run_at=clock.now(), plugin="recorder", unit_id=tree["commune_b1"]["id"])
    await host.set_state(SYSTEM, tree["district_a"]["id"], "recorder", "off")
    from core.tables import Job

    statuses = {row["id"]: row["status"] for row in await Job.select(Job.id, Job.status)}
    assert statuses == {reminder: "cancelled", elsewhere: "pending"}
    await host.set_state(SYSTEM, tree["province"]["id"], "recorder", "off")
    await jobs.deliver_due(host)
    assert recorder.seen == []
    assert (await EventDelivery.select(EventDelivery.status).first())["status"] == "skipped"


class Configurable:
    @hookimpl
    def settings_schema(self):
        return {
            "api_url": {"scope": "deployment", "type": "str", "default": "https://example.vn", "label": "Địa chỉ API"},
            "reminder_hours": {"scope": "unit", "type": "int", "default": 24, "label": "Nhắc trước (giờ)"},
        }


async def test_plugin_settings_by_scope(db, tmp_path):
    tree = await make_tree()
    host = build_plugin_host(plugins_toml=write_toml(tmp_path, '[plugins.conf.settings]\napi_url = "https://sms.example.vn"\n'),
                             extra=[("conf", Configurable())], discover=False)
    from core.plugins import plugin_setting, set_plugin_setting

    assert await plugin_setting(host, unit_path=tree["commune_a1"]["path"], plugin="conf", key="api_url") == "https://sms.example.vn"
    assert await plugin_setting(host, unit_path=tree["commune_a1"]["path"], plugin="conf", key="reminder_hours") == 24
    await set_plugin_setting(host, SYSTEM, unit_id=tree["district_a"]["id"], plugin="conf", key="reminder_hours", value=48)
    assert await plugin_setting(host, unit_path=tree["commune_a1"]["path"], plugin="conf", key="reminder_hours") == 48
    assert await plugin_setting(host, unit_path=tree["commune_b1"]["path"], plugin="conf", key="reminder_hours") == 24
    with pytest.raises(ValidationError):
        await set_plugin_setting(host, SYSTEM, unit_id=tree["district_a"]["id"], plugin="conf", key="reminder_hours", value="hai")
    with pytest.raises(ValidationError):  # a deployment key is not a unit's to change
        await set_plugin_setting(host, SYSTEM, unit_id=tree["district_a"]["id"], plugin="conf", key="api_url", value="x")



def test_plugin_tables_must_carry_the_plugin_prefix(tmp_path, monkeypatch):
    import sys
    import types

    from piccolo.columns import Varchar
    from piccolo.conf.apps import AppConfig
    from piccolo.table import Table

    class Unprefixed(Table, tablename="notes_without_prefix"):
        text = Varchar()

    module = types.ModuleType("prefixed_plugin_app")
    module.APP_CONFIG = AppConfig(app_name="pref", migrations_folder_path=str(tmp_path), table_classes=[Unprefixed])
    monkeypatch.setitem(sys.modules, "prefixed_plugin_app", module)

    class Prefixed:
        @hookimpl
        def piccolo_apps(self):
            return ["prefixed_plugin_app"]

    with pytest.raises(PluginConfigError, match="phải bắt đầu bằng pref_"):
        build_plugin_host(plugins_toml=tmp_path / "none.toml", extra=[("pref", Prefixed())], discover=False)


async def test_clean_up_hooks_run_on_every_plugin_even_where_off(db, tmp_path):
    from core.services import units

    tree = await make_tree()
    cleaned = []

    class Tidy:
        @hookimpl
        async def conference_deleted(self, conference_id):
            cleaned.append(("conference", conference_id))

        @hookimpl
        def unit_deleted(self, unit_id):
            cleaned.append(("unit", unit_id))

    class Broken:
        @hookimpl
        def conference_deleted(self, conference_id):
            raise RuntimeError("không dọn được")

    host = build_plugin_host(plugins_toml=write_toml(tmp_path, '[plugins.tidy]\ndefault = "off"\n'),
                             extra=[("tidy", Tidy()), ("broken", Broken())], discover=False)
    await make_people(tree["commune_a1"], 1)
    conference = await make_conference(tree)
    failures = await conferences.delete_conference(SYSTEM, conference["id"], host=host)
    assert cleaned == [("conference", conference["id"])] and list(failures) == ["broken"]
    published = await make_conference(tree)
    await conferences.publish_conference(SYSTEM, published["id"])
    with pytest.raises(Conflict):
        await conferences.delete_conference(SYSTEM, published["id"], host=host)
    with pytest.raises(Conflict, match="cấp dưới"):
        await units.delete_unit(SYSTEM, tree["district_b"]["id"], host=host)
    await units.delete_unit(SYSTEM, tree["commune_b1"]["id"], host=host)
    assert cleaned[-1] == ("unit", tree["commune_b1"]["id"])


async def test_attendee_content_is_filtered_per_conference_unit(db, tmp_path):
    from core.plugins import conferences_with_plugin
    from core.services import audiences

    tree = await make_tree()
    person = (await make_people(tree["commune_a1"], 1))[0]
    host = build_plugin_host(plugins_toml=write_toml(tmp_path, '[plugins.recorder]\ndefault = "off"\n'),
                             extra=[("recorder", Recorder())], discover=False)
    audience = await audiences.create_audience(SYSTEM, unit_id=tree["province"]["id"], name="BCV", rules={"categories": ["briefer"]})
    made = {}
    for key in ("district_a", "district_b"):
        conference = await conferences.create_conference(
            SYSTEM, unit_id=tree[key]["id"], title=f"HN {key}", kind="other", format="in_person",
            starts_at=clock.now() + dt.timedelta(days=3), ends_at=clock.now() + dt.timedelta(days=3, hours=2),
            venues=[{"name": "Hội trường"}], audience_ids=[audience["id"]])
        await conferences.publish_conference(SYSTEM, conference["id"])
        made[key] = conference["id"]
    assert await conferences_with_plugin(host, person_id=person["id"], plugin="recorder") == []
    await host.set_state(SYSTEM, tree["district_b"]["id"], "recorder", "on")
    assert await conferences_with_plugin(host, person_id=person["id"], plugin="recorder") == [made["district_b"]]


async def test_a_hot_path_reads_the_generation_at_most_once_within_its_freshness(db, tmp_path):
    tree = await make_tree()
    toml = write_toml(tmp_path, '[plugins.recorder]\ndefault = "off"\n')
    first = build_plugin_host(plugins_toml=toml, extra=[("recorder", Recorder())], discover=False)
    second = build_plugin_host(plugins_toml=toml, extra=[("recorder", Recorder())], discover=False)
    path = tree["commune_a1"]["path"]
    assert await first.enabled_for_path(path, fresh_within=60) == frozenset()
    assert await second.enabled_for_path(path, fresh_within=60) == frozenset()
    await first.set_state(SYSTEM, tree["province"]["id"], "recorder", "on")
    assert await first.enabled_for_path(path, fresh_within=60) == {"recorder"}  # its own switch: at once
    assert await second.enabled_for_path(path, fresh_within=60) == frozenset()  # another process's: within the minute
    assert await second.enabled_for_path(path) == {"recorder"}  # a call without freshness reads the counter
