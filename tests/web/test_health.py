import time

import httpx
import pytest


def test_health_and_openapi_over_real_http(server):
    health = httpx.get(f"{server}/healthz", timeout=5)
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok" and body["dead_letters"] == 0 and body["queue_lag_seconds"] == 0
    schema = httpx.get(f"{server}/schema/openapi.json", timeout=5)
    assert schema.status_code == 200
    assert "/healthz" in schema.json()["paths"]
    deadline = time.monotonic() + 10  # the worker inside the server beats
    while httpx.get(f"{server}/healthz", timeout=5).json()["worker_heartbeat"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert httpx.get(f"{server}/healthz", timeout=5).json()["worker_heartbeat"] is not None


@pytest.mark.sqlite_only
def test_a_second_sqlite_worker_is_refused(tmp_path):
    from core.worker import WorkerLock
    from tests.conftest import run_cli

    env = {"HOINGHI_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": ""}
    run_cli("migrate", env=env)
    held = WorkerLock(tmp_path / "var" / "worker.lock")
    assert held.acquire()
    try:
        refused = run_cli("worker", env=env, check=False)
        assert refused.returncode == 2 and "chỉ được một" in refused.stderr
    finally:
        held.release()
