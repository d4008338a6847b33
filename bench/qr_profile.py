"""Where a scan's time goes, independent of the machine's load: ``python -m bench.qr_profile [sqlite|postgres]``.

Builds a small published conference, serves the real app in-process (httpx's ASGI transport)
and counts, per request, the SQL statements and transactions the app sends to the database,
for a first scan, a re-scan, a forged credential and a typed short code; then prints the
statements of one first scan. ``--cpu`` adds the app's CPU time per scan (``time.process_time``
of the whole process: the test client's share included, so read it as an upper bound);
``--profile=FILE`` writes a cProfile of the first scans (app and client in one thread).

``--served`` measures the server alone: the same app behind a real uvicorn server in this
process (uvloop, httptools, the access log, as ``hoinghi serve`` runs it), loaded by
bench/qr_loadgen.py in its own process (closed loop, 16 devices): CPU milliseconds per request
of this process (the server, its SQLite threads included) and of the load generator, for first
scans, re-scans, forged credentials and the bare endpoint; with ``--profile=FILE`` the cProfile
is of the served requests only. ``QR_PROFILE_RUNS="first scan"`` serves only those requests
(three times as long), for a sampling profiler such as py-spy attached to this process.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HOINGHI_SECRET_KEY", "bench-secret-key-" + "x" * 40)
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")

PEOPLE = 400
SERVED_PEOPLE = 24_000 if os.environ.get("QR_PROFILE_RUNS") else 6000  # distinct first scans for the closed loop
SERVED_DEVICES = 16
SERVED_SECONDS = 4


class StatementCounter:
    """Counts what an engine sends: statements (Piccolo's query log hook) and transactions; and
    which statements ran outside any transaction (each its own commit, and on SQLite its own
    turn at the writer lock)."""

    def __init__(self, engine) -> None:
        self.statements: list[str] = []
        self.alone: list[int] = []  # indexes into statements
        self.transactions = 0
        self.engine = engine
        engine_class = type(engine)  # PostgresEngine has slots: hook the class, for this engine only
        printed, opened = engine_class.print_query, engine_class.transaction

        def log(this, query_id, query):
            if this is not engine:
                return printed(this, query_id=query_id, query=query)
            if engine.current_transaction.get() is None:
                self.alone.append(len(self.statements))
            self.statements.append(query)

        def counted(this, *args, **kwargs):
            if this is engine and engine.current_transaction.get() is None:  # a nested block joins its parent's
                self.transactions += 1
            return opened(this, *args, **kwargs)

        engine_class.print_query, engine_class.transaction = log, counted

    def counting(self, on: bool) -> None:
        """Piccolo renders a query only to log it, which costs CPU: log only while counting."""
        self.engine.log_queries = on

    def mark(self) -> tuple[int, int]:
        return len(self.statements), self.transactions


async def _world(kind: str, people: int = PEOPLE, devices: int = 1):
    from bench import qr_cases
    from bench.databases import bench_database
    from core.access import Actor
    from core.services import tokens
    from plugins.qr_checkin import services

    context = bench_database(kind)
    engine = await context.__aenter__()
    conference = await qr_cases._conference_of(people)
    rendered = await services.credentials_for(conference["id"])
    token = [(await tokens.issue_device_token(Actor.system_actor("bench"), conference_id=conference["id"], label=f"Máy đo {i}"))[1]
             for i in range(devices)]
    if kind == "postgres":
        location = {"DATABASE_URL": engine.config["dsn"]}
    else:
        location = {"DATABASE_URL": "", "HOINGHI_VAR_DIR": str(Path(engine.path).parent)}
    return context, conference, rendered, token, location


async def _served(app, conference: dict, rendered: list[dict], device_tokens: list[str], forged: str, profile: str | None) -> None:
    """CPU per request of a real server (this process) and of the load generator (its own process)."""
    import json
    import logging
    import subprocess

    import uvicorn

    from bench import qr_cases

    access = logging.getLogger("uvicorn.access")  # logged as in production, written nowhere
    access.addHandler(logging.FileHandler(os.devnull))
    access.setLevel(logging.INFO)
    access.propagate = False
    port = qr_cases._free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", loop="none", http="httptools",
                                           log_config=None, access_log=True))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    workdir = Path(tempfile.mkdtemp(prefix="hoinghi-qr-profile-"))
    (workdir / "items.json").write_text(json.dumps([c["credential"] for c in rendered]))
    half = len(rendered) // 2
    seconds = SERVED_SECONDS
    spec = {"base": f"http://127.0.0.1:{port}", "path": f"/api/v1/qr_checkin/conferences/{conference['id']}/scans",
            "tokens": device_tokens, "items": str(workdir / "items.json"), "server_pid": os.getpid(), "runs": {
                "warm": {"mode": "closed", "concurrency": 4, "seconds": 1, "item": forged},
                "first scan": {"mode": "closed", "concurrency": SERVED_DEVICES, "seconds": seconds, "from": 400, "to": half},
                "re-scan": {"mode": "closed", "concurrency": SERVED_DEVICES, "seconds": seconds, "from": 400, "to": 500, "cycle": True},
                "forged credential": {"mode": "closed", "concurrency": SERVED_DEVICES, "seconds": seconds, "item": forged},
                "bare (static file)": {"mode": "closed", "concurrency": SERVED_DEVICES, "seconds": seconds, "item": "",
                                       "method": "GET", "path": "/static/qr_checkin/sw.js"},
            }}
    only = os.environ.get("QR_PROFILE_RUNS")  # e.g. "first scan": one kind of request (a sampling profiler's run)
    if only:
        spec["runs"] = {label: run for label, run in spec["runs"].items() if label in ("warm", *only.split(","))}
        spec["runs"] = {label: {**run, "seconds": run["seconds"] * 3} for label, run in spec["runs"].items()}
    (workdir / "spec.json").write_text(json.dumps(spec))
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    loadgen = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.qr_loadgen", str(workdir / "spec.json"),
                                                   cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE)
    output, _ = await loadgen.communicate()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    server.should_exit = True
    await serving
    results = json.loads(output)
    print(f"  served by uvicorn in this process, {SERVED_DEVICES} devices, closed loop {seconds} s each"
          f" (req/s depends on the machine's load; CPU ms per request does not):")
    for label, result in results.items():
        if label == "warm":
            continue
        print(f"  {label:<18} server {result['server_cpu_ms']:6.2f} ms CPU, load generator {result['client_cpu_ms']:5.2f} ms CPU"
              f" per request; {result['per_second']:6.0f} req/s, {result['errors']} errors {result['statuses']}", flush=True)
    if profile:
        print(f"  cProfile of the served requests written to {profile}")


async def _serve_and_count(conference: dict, rendered: list[dict], device_tokens: list[str], location: dict, cpu: bool,
                           profile: str | None, served: bool = False) -> None:
    import importlib
    import logging

    import httpx

    from core.config import get_settings, reset_settings
    from core.db import make_engine

    toml = Path(tempfile.mkdtemp(prefix="hoinghi-qr-profile-")) / "plugins.toml"
    toml.write_text('[plugins.qr_checkin]\ndefault = "on"\n\n[plugins.qr_checkin.settings]\nscans_per_second = 100000\n')
    os.environ.update({**location, "HOINGHI_PLUGINS_TOML": str(toml), "HOINGHI_NO_WORKER": "1"})
    from bench import qr_cases

    if served and qr_cases._redis_reachable():  # the rate-limit counters where the benchmark's server keeps them
        os.environ.update({"REDIS_URL": "redis://127.0.0.1:6379/0", "HOINGHI_REDIS_NAMESPACE": f"qr-profile-{os.getpid()}"})
    reset_settings()
    engine = make_engine(get_settings())
    importlib.import_module("core.piccolo_conf").DB = engine  # the app's process_engine()
    counter = StatementCounter(engine)
    from web.app import create_app

    path = f"/api/v1/qr_checkin/conferences/{conference['id']}/scans"
    forged = rendered[0]["credential"][:-2] + ("AA" if not rendered[0]["credential"].endswith("AA") else "BB")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = create_app()
    # the app in this thread and loop (Litestar's test clients run it in a thread: a profile would miss it)
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        client.headers["X-Device-Token"] = device_tokens[0]

        async def post(body: dict) -> str:
            response = await client.post(path, json=body)
            if response.status_code != 200:
                raise SystemExit(f"{response.status_code} {response.text}")
            return response.json()["status"]

        async def count(label: str, bodies: list[dict]) -> list[str]:
            """Statements per scan (Piccolo renders each logged query: no CPU figure from this pass)."""
            first_statements: list[str] = []
            statements = transactions = 0
            counter.counting(True)
            for index, body in enumerate(bodies):
                before = counter.mark()
                status = await post(body)
                after = counter.mark()
                statements += after[0] - before[0]
                transactions += after[1] - before[1]
                if index == 0:
                    first_statements = counter.statements[before[0]:after[0]]
            counter.counting(False)
            print(f"  {label:<18} {statements / len(bodies):5.1f} statements, {transactions / len(bodies):4.1f} transactions"
                  f" per scan; status {status}", flush=True)
            return first_statements

        async def cpu_time(label: str, bodies: list[dict]) -> None:
            started = time.process_time()
            for body in bodies:
                status = await post(body)
            print(f"  {label:<18} {(time.process_time() - started) / len(bodies) * 1000:6.2f} ms CPU per scan, client included;"
                  f" status {status}", flush=True)

        await post({"credential": rendered[-1]["credential"]})  # warm the process caches, as a running server has
        if served:
            await _served(app, conference, rendered[:-1], device_tokens, forged, profile)
            return
        batch = 100
        forged_bodies = [{"credential": forged}] * batch
        quarters = [rendered[i * batch:(i + 1) * batch] for i in range(4)]
        shown = await count("first scan", [{"credential": c["credential"]} for c in quarters[0]])
        await count("re-scan", [{"credential": c["credential"]} for c in quarters[0]])
        await count("forged credential", forged_bodies)
        await count("typed short code", [{"short_code": c["short_code"]} for c in quarters[1]])
        if cpu or profile:
            profiler = None
            if profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            await cpu_time("first scan", [{"credential": c["credential"]} for c in quarters[2]])
            await cpu_time("re-scan", [{"credential": c["credential"]} for c in quarters[2]])
            await cpu_time("forged credential", forged_bodies)
            await cpu_time("typed short code", [{"short_code": c["short_code"]} for c in quarters[3]])
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile)
                print(f"  cProfile of these scans written to {profile}")
        print("  statements of one first scan:")
        for statement in shown:
            print("    " + " ".join(statement.split())[:160])


async def main(kind: str, cpu: bool, profile: str | None, served: bool) -> None:
    context, conference, rendered, device_tokens, location = await _world(
        kind, SERVED_PEOPLE if served else PEOPLE, SERVED_DEVICES if served else 1)
    try:
        await _serve_and_count(conference, rendered, device_tokens, location, cpu, profile, served)
    finally:
        await context.__aexit__(None, None, None)


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    print(f"qr_checkin scan profile ({arguments[0] if arguments else 'sqlite'}):")
    profile_to = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--profile=")), None)
    served = "--served" in sys.argv
    if served:
        import uvloop  # as uvicorn runs the server

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(main(arguments[0] if arguments else "sqlite", "--cpu" in sys.argv, profile_to, served))
