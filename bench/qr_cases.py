"""Benchmarks of the qr_checkin plugin (``make bench``; ``python -m bench qr_scans_100k qr_badge_sheet_10k``).

``qr_scans_100k``: 100,000 invitations with distinct credentials; the app served by
``hoinghi serve --workers 2`` on 127.0.0.1 (rate limits in Redis when it is reachable, as in
production with several processes), the load generator (bench/qr_loadgen.py) in its own process:

* open loop at an offered 300 first scans/s: p99 (target < 20 ms);
* closed loop, concurrency 64, one device token per connection: first scans/s (target 1,000 on
  PostgreSQL, 600 on SQLite), re-scans/s and invalid credentials/s (at least as fast as first
  scans), a bare endpoint of the same app (a static file) for the HTTP ceiling;
* the raw-driver version of the scan's two statements (the credential lookup, the attendance
  insert) at the same concurrency, measured in the same run: the ratio first-scans / raw;
* CPU milliseconds per first scan of the server's processes and of the load generator, which
  depend far less on the machine's load than the rates do (the database server's own CPU,
  PostgreSQL's, is not in them).

``qr_badge_sheet_10k``: the A4 badge sheet of a 10,000-invitee conference as a background job
(target < 60 s).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import data
import plugins.qr_checkin.tables  # noqa: F401,E402  (bound with the core tables: imported before the engine is)

ROOT = Path(__file__).resolve().parent.parent
DEVICES = 64


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _redis_reachable() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


def _server_env(engine, toml: Path) -> dict:
    env = {"HOINGHI_PLUGINS_TOML": str(toml), "HOINGHI_NO_WORKER": "1"}
    if engine.engine_type == "postgres":
        env["DATABASE_URL"] = engine.config["dsn"]
    else:
        env.update({"DATABASE_URL": "", "HOINGHI_VAR_DIR": str(Path(engine.path).parent)})
    if _redis_reachable():
        env.update({"REDIS_URL": "redis://127.0.0.1:6379/0", "HOINGHI_REDIS_NAMESPACE": f"bench-qr-{os.getpid()}-{time.time_ns()}"})
    return env


def _serve(env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                               env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


async def _conference_of(total: int):
    """A published conference inviting people 1..total (bulk-loaded), with one venue."""
    import datetime as dt

    from core import clock
    from core.access import Actor
    from core.db import bulk_insert, transaction
    from core.services import conferences
    from core.tables import Conference, Invitation

    tree = await data.unit_tree(100)
    await data.people(total, [unit["id"] for unit in tree])
    system = Actor.system_actor("bench")
    start = clock.now() - dt.timedelta(minutes=5)
    conference = await conferences.create_conference(
        system, unit_id=1, title="Hội nghị toàn tỉnh", kind="all_member", format="in_person", starts_at=start,
        ends_at=start + dt.timedelta(hours=3), venues=[{"name": "Hội trường", "address": "Số 1"}])
    now = clock.now()
    async with transaction():
        await bulk_insert(Invitation, ["conference", "person", "source", "status", "rsvp", "rsvp_reason", "sequence", "created_at",
                                       "updated_at"],
                          [(conference["id"], person, "individual", "active", "pending", "", 0, now, now) for person in range(1, total + 1)])
    await Conference.update({Conference.status: "published", Conference.published_at: now}).where(Conference.id == conference["id"])
    await Conference.raw("ANALYZE")
    return conference


async def _raw_ceiling(engine, conference_id: int, invitation_ids: list[int], concurrency: int, seconds: float) -> float:
    """The scan's two statements on the bare driver: lookup join, attendance insert."""
    from plugins.qr_checkin.services import _LOOKUP

    insert = ("INSERT INTO attendance (conference, person, venue, status, method, reason, recorded_at) "
              "VALUES ({c}, {p}, NULL, 'present', 'staff_scan', '', {t}) ON CONFLICT DO NOTHING")
    # the lookup of a scan that sends no nonce, its device key's liveness read as the scan's is
    without_nonce = _LOOKUP.replace("{}", "NULL", 1).replace("{}", "1", 1)
    position = 0
    done = 0
    deadline = time.perf_counter() + seconds
    if engine.engine_type == "postgres":
        import asyncpg

        pool = await asyncpg.create_pool(engine.config["dsn"], min_size=concurrency // 4, max_size=concurrency // 4)
        lookup = without_nonce + "c.invitation = $1"
        write = insert.format(c="$1", p="$2", t="now()")

        async def worker():
            nonlocal position, done
            while time.perf_counter() < deadline and position < len(invitation_ids):
                invitation = invitation_ids[position]
                position += 1
                async with pool.acquire() as connection:
                    row = await connection.fetchrow(lookup, invitation)
                    async with connection.transaction():
                        await connection.execute(write, conference_id, row["person"])
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        elapsed = time.perf_counter() - started
        await pool.close()
        return done / elapsed
    import aiosqlite

    connection = await aiosqlite.connect(engine.path, isolation_level=None)
    await connection.execute("PRAGMA journal_mode = WAL")
    await connection.execute("PRAGMA synchronous = NORMAL")
    lookup = without_nonce + "c.invitation = ?"
    write = insert.format(c="?", p="?", t="datetime('now')")
    started = time.perf_counter()
    while time.perf_counter() < deadline and position < len(invitation_ids):
        cursor = await connection.execute(lookup, (invitation_ids[position],))
        row = await cursor.fetchone()
        position += 1
        await connection.execute("BEGIN IMMEDIATE")
        await connection.execute(write, (conference_id, row[6]))
        await connection.execute("COMMIT")
        done += 1
    elapsed = time.perf_counter() - started
    await connection.close()
    return done / elapsed


async def qr_scans_100k() -> dict:
    """QR scans, 100k invitations, 2 processes: p99@300/s; closed-loop scans/s"""
    from core.access import Actor
    from core.db import current_engine
    from core.tables import Conference
    from core.services import tokens
    from plugins.qr_checkin import services

    engine = current_engine()
    conference = await _conference_of(100_000)
    started = time.perf_counter()
    credentials = await services.credentials_for(conference["id"])
    issue_seconds = time.perf_counter() - started
    texts = [c["credential"] for c in credentials]
    invitation_ids = [c["invitation_id"] for c in credentials]
    if engine.engine_type == "postgres":
        # a conference day's database has been vacuumed since its invitations were written; a
        # bulk-loaded one would have autovacuum and autoanalyze run through the measured minutes
        await Conference.raw("VACUUM ANALYZE")
    system = Actor.system_actor("bench")
    device_tokens = [(await tokens.issue_device_token(system, conference_id=conference["id"], label=f"Máy {i}"))[1]
                     for i in range(DEVICES)]
    forged = texts[0][:-2] + ("AA" if not texts[0].endswith("AA") else "BB")
    workdir = Path(tempfile.mkdtemp(prefix="hoinghi-bench-qr-"))
    (workdir / "items.json").write_text(json.dumps(texts))
    toml = workdir / "plugins.toml"
    toml.write_text('[plugins.qr_checkin]\ndefault = "on"\n\n[plugins.qr_checkin.settings]\nscans_per_second = 100000\n')
    port = _free_port()
    path = f"/api/v1/qr_checkin/conferences/{conference['id']}/scans"
    spec = {"base": f"http://127.0.0.1:{port}", "path": path, "tokens": device_tokens, "items": str(workdir / "items.json"), "runs": {
        "warm": {"mode": "closed", "concurrency": 8, "seconds": 2, "item": forged},
        "open_300": {"mode": "open", "rate": 300, "seconds": 10, "from": 0, "to": 3000},
        "first": {"mode": "closed", "concurrency": DEVICES, "seconds": 10, "from": 3000, "to": 45_000},
        # the people the open loop checked in, round and round: every one a re-scan
        "rescan": {"mode": "closed", "concurrency": DEVICES, "seconds": 10, "from": 0, "to": 3000, "cycle": True},
        "invalid": {"mode": "closed", "concurrency": DEVICES, "seconds": 10, "item": forged},
        "bare": {"mode": "closed", "concurrency": DEVICES, "seconds": 5, "item": "", "method": "GET",
                 "path": "/static/qr_checkin/sw.js"},
    }}
    server = _serve(_server_env(engine, toml), port)
    spec["server_pid"] = server.pid  # CPU per request of the server's processes
    (workdir / "spec.json").write_text(json.dumps(spec))
    try:
        run = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "bench.qr_loadgen", str(workdir / "spec.json")],
                                      cwd=ROOT, capture_output=True, text=True, timeout=600)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-2000:])
    results = json.loads(run.stdout)
    raw = await _raw_ceiling(engine, conference["id"], invitation_ids[50_000:], DEVICES, 10)
    open_300, first, rescan, invalid, bare = (results[k] for k in ("open_300", "first", "rescan", "invalid", "bare"))
    target_rate = 1000 if engine.engine_type == "postgres" else 600
    print(f"    qr_checkin {engine.engine_type}: credentials for 100k issued in {issue_seconds:.1f} s; open loop {open_300}; "
          f"first {first}; re-scan {rescan}; invalid {invalid}; bare {bare}; raw driver {raw:.0f}/s", flush=True)
    ok = (open_300["p99_ms"] < 20 and not open_300["errors"] and first["per_second"] >= target_rate and not first["errors"]
          and rescan["per_second"] >= first["per_second"] and invalid["per_second"] >= first["per_second"])
    measured = (f"p99 {open_300['p99_ms']:.1f} ms; {first['per_second']:.0f}/s first ({first['per_second'] / raw:.2f}x raw "
                f"{raw:.0f}/s), {rescan['per_second']:.0f}/s re-scan, {invalid['per_second']:.0f}/s invalid, bare {bare['per_second']:.0f}/s; "
                f"CPU ms per first scan: server {first['server_cpu_ms']:.2f}, load generator {first['client_cpu_ms']:.2f}, "
                f"PostgreSQL and Redis {first['services_cpu_ms']:.2f}; machine {first['machine_busy']:.0%} busy")
    return {"measured": measured, "target": f"p99<20ms, >={target_rate}/s", "ok": ok}


async def qr_badge_sheet_10k() -> dict:
    """QR badge sheet (A4, print HTML) for 10,000 attendees, as a job"""
    from core import jobs
    from core.access import Actor
    from core.plugins import build_plugin_host
    from plugins.qr_checkin import badges

    conference = await _conference_of(10_000)
    toml = Path(tempfile.mkdtemp(prefix="hoinghi-bench-qr-")) / "plugins.toml"
    toml.write_text('[plugins.qr_checkin]\ndefault = "on"\n')
    host = build_plugin_host(plugins_toml=toml)
    started = time.perf_counter()
    sheet = await badges.request_sheet(Actor.system_actor("bench"), conference_id=conference["id"])
    await jobs.run_due_jobs(jobs.all_job_handlers(host))
    elapsed = time.perf_counter() - started
    status = await badges.sheet_status(Actor.system_actor("bench"), conference_id=conference["id"], sheet_id=sheet["id"])
    ok = status["status"] == "done" and status["done"] == 10_000 and elapsed < 60
    return {"measured": f"{elapsed:.1f} s, {status['parts']} files", "target": "< 60 s", "ok": ok}


ALL = [qr_scans_100k, qr_badge_sheet_10k]
