"""Load generator for the qr_checkin scan API, in its own process: ``python -m bench.qr_loadgen SPEC.json``.

* ``open``: requests start on a fixed schedule (``rate`` per second) whatever the server does;
  latency counts from the scheduled start (no coordinated omission).
* ``closed``: ``concurrency`` workers, each with its own device token and connection (the rate
  limit is per device), send scans back to back for ``seconds``; reports scans per second.

Each request carries the next credential of its list, so first scans are distinct people.
Prints one JSON object. Only 127.0.0.1 targets are accepted.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import urlsplit

import httpx

from bench.loadgen import percentile


def _body(item: str) -> dict:
    return {"credential": item}


async def open_loop(base: str, path: str, tokens: list[str], items: list[str], rate: float, seconds: float) -> dict:
    clients = [httpx.AsyncClient(base_url=base, timeout=10, headers={"X-Device-Token": token},
                                 limits=httpx.Limits(max_connections=8)) for token in tokens]
    total = min(int(rate * seconds), len(items))
    latencies: list[float] = []
    errors = 0
    statuses: dict[str, int] = {}

    async def one(index: int, scheduled: float) -> None:
        nonlocal errors
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            response = await clients[index % len(clients)].post(path, json=_body(items[index]))
            if response.status_code >= 400:
                errors += 1
            else:
                status = response.json().get("status")
                statuses[status] = statuses.get(status, 0) + 1
        except httpx.HTTPError:
            errors += 1
        latencies.append(time.perf_counter() - scheduled)

    started = time.perf_counter() + 0.05
    await asyncio.gather(*[asyncio.create_task(one(index, started + index / rate)) for index in range(total)])
    elapsed = time.perf_counter() - started
    for client in clients:
        await client.aclose()
    return {"offered": rate, "achieved": round(total / elapsed, 1), "requests": total, "errors": errors, "statuses": statuses,
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 2), "p99_ms": round(percentile(latencies, 0.99) * 1000, 2)}


async def closed_loop(base: str, path: str, tokens: list[str], items: list[str], seconds: float, *, method: str = "POST") -> dict:
    position = 0
    done = 0
    errors = 0
    statuses: dict[str, int] = {}
    deadline = time.perf_counter() + seconds

    async def worker(token: str) -> None:
        nonlocal position, done, errors
        async with httpx.AsyncClient(base_url=base, timeout=10, headers={"X-Device-Token": token},
                                     limits=httpx.Limits(max_connections=1)) as client:
            while time.perf_counter() < deadline and position < len(items):
                item = items[position]
                position += 1
                try:
                    if method == "GET":
                        response = await client.get(path)
                    else:
                        response = await client.post(path, json=_body(item))
                    if response.status_code >= 400:
                        errors += 1
                    elif method == "POST":
                        status = response.json().get("status")
                        statuses[status] = statuses.get(status, 0) + 1
                    done += 1
                except httpx.HTTPError:
                    errors += 1

    started = time.perf_counter()
    await asyncio.gather(*[worker(token) for token in tokens])
    elapsed = time.perf_counter() - started
    return {"per_second": round(done / elapsed, 1), "requests": done, "errors": errors, "statuses": statuses}


async def main(spec: dict) -> dict:
    base = spec["base"]
    if urlsplit(base).hostname != "127.0.0.1":
        raise SystemExit("the load generator targets 127.0.0.1 only")
    with open(spec["items"], encoding="utf-8") as handle:
        items = json.load(handle)
    path, tokens = spec["path"], spec["tokens"]
    results = {}
    for name, run in spec["runs"].items():
        chosen = items[run["from"]:run["to"]] if "from" in run else [run["item"]] * 1_000_000
        if run["mode"] == "open":
            results[name] = await open_loop(base, path, tokens[:run.get("devices", 16)], chosen, run["rate"], run["seconds"])
        else:
            results[name] = await closed_loop(base, run.get("path", path), tokens[:run["concurrency"]], chosen, run["seconds"],
                                              method=run.get("method", "POST"))
    return results


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        print(json.dumps(asyncio.run(main(json.load(handle)))))
