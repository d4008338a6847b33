"""Web benchmark (issue 4): 10,000 conferences and 100,000 people, ``hoinghi serve --workers 2`` on
127.0.0.1, an open-loop load generator in its own process (bench/loadgen.py).

For each target: p50/p99 at an offered 100 requests/s, then the highest rate of a ramp that
still meets p99 < 50 ms with no errors, beside a bare endpoint of the same app in the same run
(``/healthz/live``: no database), which shows what the server and the load generator cost alone.

Beside it, ``web_cost_per_request``: the statements and CPU time of one request of each target in
one process (bench/web_cost.py), figures that a loaded machine hardly moves.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import data

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "mat-khau-do-tai-dai"
OFFERED = 100
P99_TARGET_MS = 50
RAMP = [150, 200, 300, 400, 600, 800, 1200]


async def _seed(conferences_total: int = 10_000, people_total: int = 100_000) -> dict:
    """Units, people and conferences straight through the driver; an admin to sign in as."""
    from core import clock
    from core.access import Actor
    from core.db import bulk_insert, transaction
    from core.services import users
    from core.tables import Conference, Venue

    tree = await data.unit_tree(100)
    await data.people(people_total, [unit["id"] for unit in tree])
    now = clock.now()
    first = dt.datetime(2030, 1, 6, 1, tzinfo=dt.timezone.utc)
    rows, venues = [], []
    for index in range(conferences_total):
        starts = first + dt.timedelta(hours=7 * index)
        unit_id = tree[index % len(tree)]["id"]
        rows.append((index + 1, unit_id, f"Hội nghị báo cáo viên số {index + 1}", "", "periodic_briefing", "in_person", starts,
                     starts + dt.timedelta(hours=3), "Asia/Ho_Chi_Minh", "published" if index % 3 else "draft", False, 0, 1, now, now))
        venues.append((index + 1, index + 1, "Hội trường", "Số 1 đường Trần Phú", None))
    async with transaction():
        await bulk_insert(Conference, ["id", "unit", "title", "description", "kind", "format", "starts_at", "ends_at", "timezone",
                                       "status", "is_public", "revision", "version", "created_at", "updated_at"], rows)
        await bulk_insert(Venue, ["id", "conference", "name", "address", "host_unit"], venues)
    await data._reset_sequence("conference", conferences_total)
    await data._reset_sequence("venue", conferences_total)
    system = Actor.system_actor("bench")
    admin = await users.create_user(system, username="dotai", password=PASSWORD, full_name="Đo tải")
    await users.grant_role(system, user_id=admin["id"], unit_id=1, role="admin")
    await Conference.raw("ANALYZE")
    return {"conference_ids": [1 + step * 997 % conferences_total for step in range(50)]}


def _server_env(engine) -> dict:
    if engine.engine_type == "postgres":
        return {"DATABASE_URL": engine.config["dsn"]}
    return {"HOINGHI_VAR_DIR": str(Path(engine.path).parent), "DATABASE_URL": ""}


def _run(module: str, spec: dict, env: dict | None = None) -> dict:
    """``python -m <module> SPEC.json`` in its own process; its last line of output, as JSON."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(spec, handle)
    try:
        result = subprocess.run([sys.executable, "-m", module, handle.name], cwd=ROOT, capture_output=True, text=True,
                                timeout=1800, check=True, env={**os.environ, **(env or {})})
    finally:
        os.unlink(handle.name)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _targets(seeded: dict) -> dict[str, list[str]]:
    ids = seeded["conference_ids"]
    return {
        "bare endpoint /healthz/live": ["/healthz/live"],
        "conference list API": ["/api/v1/conferences?unit_id=1&limit=50", "/api/v1/conferences?unit_id=5&status=published&limit=50"],
        "people search API": [f"/api/v1/people?unit_id=1&q={query}" for query in ("nguyen van", "tran thi", "le", "pham minh")],
        "conference API": [f"/api/v1/conferences/{conference_id}" for conference_id in ids],
        "conference page": [f"/conferences/{conference_id}" for conference_id in ids],
        "people search page": [f"/people?unit_id=1&q={query}" for query in ("nguyen van", "tran thi", "le")],
    }


CPU_TARGET_MS = 10  # 100 requests/s then keep one of the machine's two cores busy, the load generator the other


async def web_cost_per_request() -> list[dict]:
    """Web: SQL statements and CPU per request, one process (10k conferences, 100k people)"""
    from core.db import current_engine

    seeded = await _seed()
    load_before = os.getloadavg()[0]
    results = _run("bench.web_cost", {"username": "dotai", "password": PASSWORD, "targets": _targets(seeded)},
                   env={**_server_env(current_engine()), "HOINGHI_NO_WORKER": "1"})
    figures = []
    for name, result in results.items():
        figures.append({"title": name, "measured": f"{result['statements']:.0f} statements, CPU {result['cpu_ms']:.1f} ms; "
                                                   f"load {load_before:.1f}",
                        "target": f"< {CPU_TARGET_MS} ms", "ok": result["cpu_ms"] < CPU_TARGET_MS})
    return figures


async def web_under_load() -> list[dict]:
    """Web: p99 at 100 req/s, 2 worker processes (10k conferences, 100k people)"""
    from tests.servers import running_server

    seeded = await _seed()
    engine = __import__("core.db", fromlist=["current_engine"]).current_engine()
    targets = _targets(seeded)
    load_before = os.getloadavg()[0]  # the machine's load before this run adds its own
    with running_server({**_server_env(engine), "HOINGHI_NO_WORKER": "1"}, cwd=str(ROOT), workers=2) as base:
        results = _run("bench.loadgen", {"base": base, "username": "dotai", "password": PASSWORD, "targets": targets,
                                         "rate": OFFERED, "seconds": 10, "ramp": RAMP, "ramp_seconds": 4,
                                         "p99_target_ms": P99_TARGET_MS, "connections": 64})
    load_after = os.getloadavg()[0]
    figures = []
    for name, result in results.items():
        ceiling = result["sustained_rate"]
        errors = ", ".join(f"{count} {kind}" for kind, count in result["errors_by_kind"].items()) or "0 err"
        measured = (f"p99 {result['p99_ms']:.1f} ms (p50 {result['p50_ms']:.1f}), {errors}; "
                    f"max {ceiling or '<' + str(RAMP[0])}/s; load {load_before:.1f}–{load_after:.1f}")
        ok = result["errors"] == 0 and result["p99_ms"] < P99_TARGET_MS
        figures.append({"title": name, "measured": measured, "target": f"p99 < {P99_TARGET_MS} ms", "ok": ok})
    return figures


ALL = [web_cost_per_request, web_under_load]
