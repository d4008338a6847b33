"""What one request of each web benchmark target costs, measured in one process so that the figure
hardly depends on the machine's load: SQL statements per request, and CPU time per request
(``time.process_time``: the app, the database driver's threads and the in-process HTTP client,
whose share the bare endpoint shows). Run by bench/web_load.py as
``python -m bench.web_cost SPEC.json`` with the server's environment; prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

REQUESTS = 40


class StatementCounter:
    """Counts the statements Piccolo sends, by wrapping each engine class's ``run_querystring``."""

    def __init__(self) -> None:
        self.count = 0

    def install(self) -> None:
        from piccolo.engine.postgres import PostgresEngine
        from piccolo.engine.sqlite import SQLiteEngine

        for engine_class in (PostgresEngine, SQLiteEngine):
            original = engine_class.run_querystring

            async def counted(engine, querystring, in_pool=True, _original=original):
                self.count += 1
                return await _original(engine, querystring, in_pool)

            engine_class.run_querystring = counted


async def _lifespan(app):
    """Start the app's lifespan (database, live updates) as a server would; returns a coroutine
    function that shuts it down (closing the database lets the process exit)."""
    started, stopped = asyncio.Event(), asyncio.Event()
    messages: asyncio.Queue = asyncio.Queue()
    await messages.put({"type": "lifespan.startup"})

    async def send(message):
        (started if message["type"].startswith("lifespan.startup") else stopped).set()

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, messages.get, send))
    await started.wait()

    async def shutdown():
        await messages.put({"type": "lifespan.shutdown"})
        await stopped.wait()
        await task

    return shutdown


async def main(spec: dict) -> dict:
    import httpx

    from web.app import create_app

    counter = StatementCounter()
    counter.install()
    app = create_app()
    shutdown = await _lifespan(app)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    results = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        await client.get("/healthz")
        answer = await client.post("/api/v1/auth/login", json={"username": spec["username"], "password": spec["password"]},
                                   headers={"x-csrftoken": client.cookies.get("hoinghi_csrf")})
        answer.raise_for_status()
        for name, paths in spec["targets"].items():
            for path in paths:  # warm caches and connections
                (await client.get(path)).raise_for_status()
            counter.count = 0
            cpu = time.process_time()
            for index in range(REQUESTS):
                (await client.get(paths[index % len(paths)])).raise_for_status()
            results[name] = {"statements": counter.count / REQUESTS, "cpu_ms": (time.process_time() - cpu) / REQUESTS * 1000}
    await shutdown()
    return results


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        print(json.dumps(asyncio.run(main(json.load(handle)))))
