"""A plugin from outside the repository's packages works end to end: installed into a
throwaway venv (never the shared test venv) as its own distribution, discovered through its
entry point, migrated (its own table), serving its own route behind the per-unit guard, and
receiving a lifecycle hook through the outbox worker.
"""

import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import PROJECT_ROOT, empty_database
from tests.servers import running_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]
SAMPLE = Path(__file__).parent / "sample_plugin"


def _run(*args, **kwargs):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory):
    root = tmp_path_factory.mktemp("third-party")
    wheels = root / "wheels"
    for source in (PROJECT_ROOT, SAMPLE):
        _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, source)
    venv = root / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    site = Path(_run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # dependencies only; nested .pth are not read
    _run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", "-q", *sorted(wheels.glob("*.whl")))
    return venv


def test_sample_plugin_end_to_end(plugin_venv, tmp_path):
    hoinghi = plugin_venv / "bin" / "hoinghi"
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "plugins.toml").write_text('[plugins.sample]\ndefault = "off"\n')
    with empty_database(tmp_path) as db_env:
        env = {**os.environ, **db_env, "PYTHONPATH": "", "HOINGHI_PLUGINS_TOML": str(workdir / "plugins.toml")}
        env.pop("PICCOLO_CONF", None)
        if "HOINGHI_VAR_DIR" not in db_env:
            env["HOINGHI_VAR_DIR"] = str(tmp_path / "var")
        _run(hoinghi, "init", "--non-interactive", "--unit-code", "TU", cwd=workdir, env=env)
        check = _run(hoinghi, "migrate", "--check", cwd=workdir, env=env)
        assert "khớp" in check.stdout
        listing = _run(hoinghi, "plugin", "list", "TU", cwd=workdir, env=env)
        assert "sample" in listing.stdout and "tắt" in listing.stdout

        server_env = {key: value for key, value in env.items() if key not in os.environ or os.environ[key] != value}
        with running_server(server_env, cwd=str(workdir), python=str(plugin_venv / "bin" / "python")) as base:
            off = httpx.get(f"{base}/api/v1/sample/units/1/notes", timeout=5)
            assert off.status_code == 404  # switched off: as if it did not exist
            _run(hoinghi, "plugin", "set", "TU", "sample", "on", cwd=workdir, env=env)
            on = httpx.get(f"{base}/api/v1/sample/units/1/notes", timeout=5)
            assert on.status_code == 200 and on.json() == {"unit_id": 1, "notes": []}
            _run(plugin_venv / "bin" / "python", "-c", PUBLISH, cwd=workdir, env=env)
            deadline = time.monotonic() + 20
            notes = []
            while time.monotonic() < deadline and not notes:
                notes = httpx.get(f"{base}/api/v1/sample/units/1/notes", timeout=5).json()["notes"]
                time.sleep(0.3)
            assert notes == ["published: Hội nghị thử plugin"]


PUBLISH = """
import asyncio, datetime as dt
from core.access import Actor
from core.commands.runtime import run_with_database
from core.services import conferences

async def body():
    system = Actor.system_actor("test")
    start = dt.datetime(2030, 1, 8, 1, tzinfo=dt.timezone.utc)
    conference = await conferences.create_conference(system, unit_id=1, title="Hội nghị thử plugin", kind="other",
        format="in_person", starts_at=start, ends_at=start + dt.timedelta(hours=2), venues=[{"name": "Hội trường"}])
    await conferences.publish_conference(system, conference["id"])

run_with_database(body)
"""
