"""Shared set-up of the qr_checkin tests: a published conference with two venues and invitees,
the plugin on (plugins.toml of our own), scanner device keys, and the app served over the
test's own database by a real ``hoinghi serve``."""

from __future__ import annotations

import dataclasses
import datetime as dt

import httpx
import pytest

from core import clock
from core.config import reset_settings
from core.services import conferences, invitations, tokens
from tests.conftest import PROJECT_ROOT
from tests.core.flows import local, make_conference, make_people
from tests.factories import SYSTEM, make_tree
from tests.servers import running_server

NOW = local(2026, 3, 10, 7, 50)  # ten minutes before the start: on time


def write_toml(path, *, default: str = "on", scans_per_second: int = 1000) -> None:
    path.write_text(f'[plugins.qr_checkin]\ndefault = "{default}"\n\n[plugins.qr_checkin.settings]\n'
                    f"scans_per_second = {scans_per_second}\n", encoding="utf-8")


@pytest.fixture
def plugins_toml(tmp_path, monkeypatch):
    path = tmp_path / "plugins.toml"
    write_toml(path)
    monkeypatch.setenv("HOINGHI_PLUGINS_TOML", str(path))
    reset_settings()
    return path


@dataclasses.dataclass
class World:
    tree: dict
    conference: dict
    other: dict  # another published conference with its own invitee
    hall: dict  # venue without host unit
    branch: dict  # venue hosted by district_a
    people: list  # invited, no venue
    hall_people: list
    branch_people: list
    outsider: dict  # invited to ``other`` only


async def _venues(conference_id: int) -> list[dict]:
    from core.tables import Venue

    return await Venue.select().where(Venue.conference == conference_id).order_by(Venue.id)


@pytest.fixture
async def world(db, plugins_toml) -> World:
    return await _build_world()


async def device_key(*, conference_id: int | None = None, venue_id: int | None = None, label: str = "") -> str:
    _row, plaintext = await tokens.issue_device_token(SYSTEM, conference_id=conference_id, venue_id=venue_id, label=label)
    return plaintext


@pytest.fixture
def served(db, tmp_path, plugins_toml):
    """serve(now=...) -> the app over the test's database (no worker), clock fixed by HOINGHI_NOW."""

    def serve(*, now: dt.datetime = NOW, workers: int = 1, extra_env: dict | None = None):
        env = {"HOINGHI_PLUGINS_TOML": str(plugins_toml), "HOINGHI_NO_WORKER": "1", "HOINGHI_NOW": now.isoformat(),
               **(extra_env or {})}
        if db.engine_type == "postgres":
            env["DATABASE_URL"] = db.config["dsn"]
        else:
            env.update({"HOINGHI_VAR_DIR": str(tmp_path), "DATABASE_URL": ""})
        return running_server(env, cwd=str(PROJECT_ROOT), workers=workers)

    return serve


def scanner(base_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"X-Device-Token": key}, timeout=20)


@dataclasses.dataclass
class Prepared:
    """A database of our own for sync (browser) tests: ``run(fn)`` runs ``await fn()`` with the
    engine bound; ``serve()`` serves the app over it."""

    env: dict
    engine_factory: object

    def run(self, fn):
        import asyncio

        from core.db import bind_engine, close_engine

        async def body():
            engine = await self.engine_factory()
            bind_engine(engine)
            try:
                return await fn()
            finally:
                await close_engine(engine)

        # in a thread of its own: Playwright's sync API keeps an event loop on the main thread
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, body()).result()

    def serve(self, *, now: dt.datetime | None = NOW, extra_env: dict | None = None, workers: int = 1, port: int | None = None):
        env = {**self.env, **({"HOINGHI_NOW": now.isoformat()} if now else {}), **(extra_env or {})}
        return running_server(env, cwd=str(PROJECT_ROOT), workers=workers, port=port)


@pytest.fixture
def prepared(template_database, tmp_path, plugins_toml):
    import asyncio
    import shutil

    from tests.conftest import _admin_async, _with_database, DATABASE_URL, _counter

    env = {"HOINGHI_PLUGINS_TOML": str(plugins_toml), "HOINGHI_NO_WORKER": "1"}
    name = None
    if template_database["kind"] == "postgres":
        from core.db import RequestPooledPostgresEngine

        name = f"hoinghi_qr_{next(_counter)}_{id(tmp_path) % 100000}"
        asyncio.run(_admin_async(f'CREATE DATABASE "{name}" TEMPLATE "{template_database["name"]}"'))
        dsn = _with_database(DATABASE_URL, name)
        env["DATABASE_URL"] = dsn

        async def factory():
            engine = RequestPooledPostgresEngine(config={"dsn": dsn})
            await engine.start_connection_pool(min_size=1, max_size=2)
            return engine
    else:
        from core.db import EmbeddedSQLiteEngine

        var_dir = tmp_path / "prepared-var"
        var_dir.mkdir()
        shutil.copyfile(template_database["path"], var_dir / "hoinghi.sqlite")
        env.update({"HOINGHI_VAR_DIR": str(var_dir), "DATABASE_URL": ""})

        async def factory():
            return EmbeddedSQLiteEngine(path=str(var_dir / "hoinghi.sqlite"))
    try:
        yield Prepared(env, factory)
    finally:
        if name:
            asyncio.run(_admin_async(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def build_world(*, start: dt.datetime | None = None) -> World:
    """The ``world`` fixture's data, for sync tests (call through ``prepared.run``)."""
    return await _build_world(start=start)


async def _build_world(*, start: dt.datetime | None = None) -> World:
    """With ``start``, the conference starts then and the clock is left running (real time)."""
    from plugins.qr_checkin.services import forget_key_caches

    forget_key_caches()
    clock.set_now(None if start else NOW)
    tree = await make_tree()
    people = await make_people(tree["commune_a1"], 3, prefix="Đảng viên")
    conference = await make_conference(tree, start=start)
    conference = await conferences.publish_conference(SYSTEM, conference["id"])
    hall, branch = await _venues(conference["id"])
    hall_people = await make_people(tree["commune_a2"], 2, categories=("cadre",), prefix="Hội trường")
    branch_people = await make_people(tree["commune_b1"], 2, categories=("cadre",), prefix="Tiên Du")
    for person in hall_people:
        await invitations.invite_person(SYSTEM, conference["id"], person["id"], venue_id=hall["id"])
    for person in branch_people:
        await invitations.invite_person(SYSTEM, conference["id"], person["id"], venue_id=branch["id"])
    other = await conferences.create_conference(
        SYSTEM, unit_id=tree["province"]["id"], title="Hội nghị khác", kind="periodic_briefing", format="in_person",
        starts_at=local(2026, 3, 10, 8), ends_at=local(2026, 3, 10, 11), venues=[{"name": "Phòng họp", "address": ""}])
    other = await conferences.publish_conference(SYSTEM, other["id"])
    outsider = (await make_people(tree["commune_b1"], 1, categories=("guest",), prefix="Khách"))[0]
    await invitations.invite_person(SYSTEM, other["id"], outsider["id"])
    return World(tree, conference, other, hall, branch, people, hall_people, branch_people, outsider)
