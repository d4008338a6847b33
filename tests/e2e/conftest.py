"""The demo deployment the browser journeys run on: `hoinghi init` + `hoinghi demo`, as `make demo`
runs them, served with the clock fixed at NOW and messages on the console channel."""

import pytest

from tests.conftest import PROJECT_ROOT, empty_database, run_cli
from tests.servers import running_server

PASSWORD = "mat-khau-quan-tri-dai"
NOW = "2030-03-01T09:00:00+07:00"


@pytest.fixture
def demo_server(tmp_path):
    with empty_database(tmp_path) as env:
        env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), **env, "HOINGHI_NOW": NOW, "HOINGHI_CONSOLE_CHANNEL": "1"}
        run_cli("init", "--non-interactive", "--unit-code", "TU", "--admin-password", PASSWORD, env=env)
        run_cli("demo", env=env)
        with running_server(env, cwd=str(PROJECT_ROOT)) as base:
            yield base
