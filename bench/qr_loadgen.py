"""Load generator for the qr_checkin scan API, in its own process: ``python -m bench.qr_loadgen SPEC.json``.

* ``open``: requests start on a fixed schedule (``rate`` per second) whatever the server does;
  latency counts from the scheduled start (no coordinated omission).
* ``closed``: ``concurrency`` workers, each with its own device token and connection (the rate
  limit is per device), send scans back to back for ``seconds``; reports scans per second. With
  ``cycle`` the items are sent round and round (re-scans of people already checked in).

Each request carries the next credential of its list, so first scans are distinct people.
Each run also reports CPU milliseconds per request, which do not depend on the machine's load as
throughput does: ``server_cpu_ms`` (the server's processes, from /proc, when ``server_pid`` is
given) and ``client_cpu_ms`` (this process: if it is a large share, the run measures the client).
Prints one JSON object. Only 127.0.0.1 targets are accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import os
import ssl
import sys
import time
from urllib.parse import urlsplit

import httpx

from bench.loadgen import percentile

_TICK = os.sysconf("SC_CLK_TCK")


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's supervisor and its worker processes)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        if current == os.getpid():
            continue  # a server that started this load generator: its own CPU is counted apart
        found.append(current)
        for task in glob.glob(f"/proc/{current}/task/*/children"):
            with contextlib.suppress(OSError), open(task) as handle:
                pending.extend(int(child) for child in handle.read().split())
    return found


def server_cpu_seconds(pid: int | None) -> float:
    """User plus system CPU time of a process tree (0 without a pid or off Linux)."""
    if pid is None:
        return 0.0
    total = 0
    for member in _process_tree(pid):
        with contextlib.suppress(OSError), open(f"/proc/{member}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


class CpuMeter:
    """CPU per request of the server and of this load generator over one run."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.server = server_cpu_seconds(server_pid)
        self.client = time.process_time()

    def per_request(self, requests: int) -> dict:
        server = server_cpu_seconds(self.server_pid) - self.server
        client = time.process_time() - self.client
        requests = max(requests, 1)
        return {"server_cpu_ms": round(server / requests * 1000, 3) if self.server_pid else None,
                "client_cpu_ms": round(client / requests * 1000, 3)}


def _body(item: str) -> dict:
    return {"credential": item}


# one TLS context for every client: httpx builds one per client otherwise (tens of ms of CPU
# each), which would eat the measuring window of 64 fresh clients
_SSL = ssl.create_default_context()


def _client(base: str, token: str, connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, timeout=30, headers={"X-Device-Token": token}, verify=_SSL,
                             limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections))


async def open_loop(base: str, path: str, tokens: list[str], items: list[str], rate: float, seconds: float,
                    server_pid: int | None = None) -> dict:
    clients = [_client(base, token, 8) for token in tokens]
    await asyncio.gather(*[client.get("/healthz") for client in clients])  # connections open before the clock starts
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

    meter = CpuMeter(server_pid)
    started = time.perf_counter() + 0.05
    await asyncio.gather(*[asyncio.create_task(one(index, started + index / rate)) for index in range(total)])
    elapsed = time.perf_counter() - started
    cpu = meter.per_request(total)
    for client in clients:
        await client.aclose()
    return {"offered": rate, "achieved": round(total / elapsed, 1), "requests": total, "errors": errors, "statuses": statuses,
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 2), "p99_ms": round(percentile(latencies, 0.99) * 1000, 2), **cpu}


async def closed_loop(base: str, path: str, tokens: list[str], items: list[str], seconds: float, *, method: str = "POST",
                      cycle: bool = False, server_pid: int | None = None) -> dict:
    position = 0
    done = 0
    errors = 0
    statuses: dict[str, int] = {}
    clients = [_client(base, token, 1) for token in tokens]
    await asyncio.gather(*[client.get("/healthz") for client in clients])  # connected before the clock starts
    meter = CpuMeter(server_pid)
    deadline = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal position, done, errors
        while time.perf_counter() < deadline and (cycle or position < len(items)):
            item = items[position % len(items)]
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
    await asyncio.gather(*[worker(client) for client in clients])
    elapsed = time.perf_counter() - started
    cpu = meter.per_request(done)
    for client in clients:
        await client.aclose()
    return {"per_second": round(done / elapsed, 1), "requests": done, "errors": errors, "statuses": statuses, **cpu}


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
            results[name] = await open_loop(base, path, tokens[:run.get("devices", 16)], chosen, run["rate"], run["seconds"],
                                            server_pid=spec.get("server_pid"))
        else:
            results[name] = await closed_loop(base, run.get("path", path), tokens[:run["concurrency"]], chosen, run["seconds"],
                                              method=run.get("method", "POST"), cycle=run.get("cycle", False),
                                              server_pid=spec.get("server_pid"))
    return results


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        print(json.dumps(asyncio.run(main(json.load(handle)))))
