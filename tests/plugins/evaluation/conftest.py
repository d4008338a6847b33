"""Fixtures of the evaluation tests: the plugin on for the province (through a plugins.toml, as
deployed), the console channel for messages, and a conference that has ended with a roll-call."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from core.config import reset_settings
from core.plugins import build_plugin_host
from plugins.evaluation.demo import DEMO_CONTENT
from tests.core.flows import local, make_conference, make_people
from tests.conftest import PROJECT_ROOT
from tests.factories import SYSTEM, make_tree
from tests.servers import running_server


@pytest.fixture
def plugins_toml(tmp_path, monkeypatch):
    path = tmp_path / "plugins.toml"
    path.write_text('[plugins.evaluation]\ndefault = "on"\n', encoding="utf-8")
    monkeypatch.setenv("HOINGHI_PLUGINS_TOML", str(path))
    monkeypatch.setenv("HOINGHI_CONSOLE_CHANNEL", "1")
    reset_settings()
    return path


@pytest.fixture
def host(plugins_toml):
    return build_plugin_host(plugins_toml=plugins_toml)


START = local(2026, 3, 10, 8)
NOW = START + dt.timedelta(hours=4)


@pytest.fixture
def served(db, tmp_path, plugins_toml):
    """The app served over the test's database, the plugin on by plugins.toml, the clock frozen
    after the conference (the test runs the worker itself, in this process)."""

    def serve():
        env = {"HOINGHI_PLUGINS_TOML": str(plugins_toml), "HOINGHI_NO_WORKER": "1", "HOINGHI_CONSOLE_CHANNEL": "1",
               "HOINGHI_NOW": NOW.isoformat()}
        if db.engine_type == "postgres":
            env["DATABASE_URL"] = db.config["dsn"]
        else:
            env.update({"HOINGHI_VAR_DIR": str(tmp_path), "DATABASE_URL": ""})
        return running_server(env, cwd=str(PROJECT_ROOT))

    return serve




async def ended_conference(*, people: int = 8, present: int = 6, with_session: bool = True) -> dict:
    """A province conference for ``people`` briefers, ``present`` of them recorded present, ended.
    Returns {"tree", "conference", "people", "present", "absent", "session", "speaker"}."""
    from core.services import conferences, rollcall

    tree = await make_tree()
    invitees = await make_people(tree["province"], people)
    clock.set_now(START - dt.timedelta(days=2))
    conference = await make_conference(tree)
    session = speaker = None
    if with_session:
        session = await conferences.add_session(SYSTEM, conference["id"], title="Thông tin thời sự", topic="Kinh tế",
                                                starts_at=START, ends_at=START + dt.timedelta(hours=1))
        speaker = await conferences.add_speaker(SYSTEM, conference["id"], session_id=session["id"], name="Trần Văn Báo",
                                                position_title="Phó Trưởng ban Tuyên giáo", organisation="Tỉnh ủy")
    await conferences.publish_conference(SYSTEM, conference["id"])
    clock.set_now(START + dt.timedelta(minutes=5))
    for person in invitees[:present]:
        await rollcall.record_attendance(SYSTEM, conference_id=conference["id"], person_id=person["id"], method="manual")
    clock.set_now(START + dt.timedelta(hours=4))
    return {"tree": tree, "conference": conference, "people": invitees, "present": invitees[:present], "absent": invitees[present:],
            "session": session, "speaker": speaker}


async def end(conference_id: int) -> None:
    from core.services import conferences

    await conferences.end_conference(SYSTEM, conference_id)


async def demo_template(unit: dict) -> dict:
    from plugins.evaluation import services

    return await services.create_template(SYSTEM, unit_id=unit["id"], name="Phiếu đánh giá hội nghị báo cáo viên", content=DEMO_CONTENT)


def good_answers(**overrides) -> dict:
    answers = {"noi_dung": 5, "bao_cao_vien": 4, "thoi_luong": "Vừa phải", "chu_de": ["Tình hình quốc tế", "Chính sách mới"],
               "tai_lieu": True, "to_chuc": 4, "gop_y": "Nên gửi tài liệu sớm hơn.",
               "kien_nghi": {"topic": "Kinh tế - xã hội", "text": "Đề nghị thông tin về khu công nghiệp."}}
    answers.update(overrides)
    return {key: value for key, value in answers.items() if value is not None}


@pytest.fixture
def browser():
    """Chromium for this directory's browser test, closed after the test: the session-wide
    ``browser`` of tests/conftest.py keeps Playwright's event loop running in the main thread, and
    every async test collected after it then fails ("cannot be called from a running event loop")."""
    from tests.browser import chromium

    with chromium() as instance:
        yield instance
