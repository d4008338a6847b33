"""Load generator for the qr_checkin scan API, in its own process: ``python -m bench.qr_loadgen SPEC.json``.

* ``open``: requests start on a fixed schedule (``rate`` per second) whatever the server does;
  latency counts from the scheduled start (no coordinated omission).
* ``closed``: ``concurrency`` workers, each with its own device token and connection (the rate
  limit is per device), send scans back to back for ``seconds``; reports scans per second. With
  ``cycle`` the items are sent round and round (re-scans of people already checked in).

Requests go through bench/light_http.py (pre-encoded bytes on keep-alive connections, answers
parsed by httptools, under uvloop): httpx cost this process 1.3–2 ms of CPU per scan, a quarter
of the machine that the server needed.

Each request carries the next credential of its list, so first scans are distinct people, and a
nonce of its own, as the scanner page sends with every scan (the server checks it for a replay).
Each run also reports CPU milliseconds per request, which do not depend on the machine's load as
throughput does: ``server_cpu_ms`` (the server's processes, from /proc, when ``server_pid`` is
given) and ``client_cpu_ms`` (this process: if it is a large share, the run measures the client).
Prints one JSON object. Only 127.0.0.1 targets are accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import itertools
import json
import os
import sys
import time
from urllib.parse import urlsplit

import httptools
import uvloop

from bench.light_http import Answer, Connection, request_bytes
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


SERVICES = {"postgres", "redis-server"}  # the database's backends and the rate limit's store


def services_cpu_seconds() -> float:
    """User plus system CPU time of PostgreSQL's and Redis's processes on this machine."""
    total = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError), open(stat) as handle:
            head, tail = handle.read().rsplit(")", 1)
            if head.split("(", 1)[1] in SERVICES:
                fields = tail.split()
                total += int(fields[11]) + int(fields[12])
    return total / _TICK


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as handle:
        values = [int(value) for value in handle.readline().split()[1:8]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / _TICK, sum(values) / _TICK


class CpuMeter:
    """CPU per request over one run: the server, this load generator, PostgreSQL and Redis, and
    how busy the whole machine was (a closed loop that leaves cores idle waits on something)."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.server = server_cpu_seconds(server_pid)
        self.client = time.process_time()
        self.services = services_cpu_seconds()
        self.machine = machine_busy_seconds()

    def per_request(self, requests: int) -> dict:
        server = server_cpu_seconds(self.server_pid) - self.server
        client = time.process_time() - self.client
        services = services_cpu_seconds() - self.services
        busy, total = (now - before for now, before in zip(machine_busy_seconds(), self.machine))
        requests = max(requests, 1)
        return {"server_cpu_ms": round(server / requests * 1000, 3) if self.server_pid else None,
                "client_cpu_ms": round(client / requests * 1000, 3),
                "services_cpu_ms": round(services / requests * 1000, 3),
                "machine_busy": round(busy / total, 2) if total else None}


NONCE_PREFIX = os.urandom(6).hex().encode()  # nonces unique across runs and load generators
_nonces = itertools.count()


def _body(item: str) -> bytes:
    """A scan's body up to its nonce (completed by :func:`_sent`, per request)."""
    return json.dumps({"credential": item, "nonce": ""}).encode()[:-2]


def _sent(body: bytes) -> bytes:
    return body + b'%s-%d"}' % (NONCE_PREFIX, next(_nonces)) if body else body


class Device:
    """One scanner: its token's request head, and its connections (idle ones kept for reuse)."""

    def __init__(self, host: str, port: int, token: str, path: str, method: str = "POST", limit: int = 1) -> None:
        self.host, self.port, self.limit = host, port, limit
        # what the previous client (httpx) sent, as a phone's browser does: gzip accepted
        headers = {"X-Device-Token": token, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
        self.get = request_bytes("GET", path, headers) if method == "GET" else None
        self.head = request_bytes("POST", path, headers).split(b"Content-Length")[0]
        self.idle: list[Connection] = []
        self.opened = 0
        self.freed = asyncio.Condition()

    def request(self, body: bytes) -> bytes:
        return self.get if self.get is not None else self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body

    async def warm(self, connections: int) -> None:
        """Connections opened before the clock starts (each answers the bare endpoint once)."""
        for _ in range(connections):
            connection = await Connection.open(self.host, self.port)
            await connection.send(request_bytes("GET", "/healthz/live", {}))
            self.idle.append(connection)
            self.opened += 1

    async def send(self, body: bytes) -> Answer:
        async with self.freed:
            while not self.idle and self.opened >= self.limit:
                await self.freed.wait()
            connection = self.idle.pop() if self.idle else None
            if connection is None:
                self.opened += 1
        if connection is None:
            connection = await Connection.open(self.host, self.port)
        try:
            answer = await connection.send(self.request(body))
        except BaseException:
            connection.close()
            async with self.freed:
                self.opened -= 1
                self.freed.notify()
            raise
        async with self.freed:
            self.idle.append(connection)
            self.freed.notify()
        return answer

    def close(self) -> None:
        for connection in self.idle:
            connection.close()


FAILURES = (OSError, ConnectionError, httptools.HttpParserError)


def _count(answer: Answer, statuses: dict, method: str) -> bool:
    """Whether the answer is an error; a scan's status is counted."""
    if answer.status >= 400:
        return True
    if method == "POST":
        status = json.loads(answer.body).get("status")
        statuses[status] = statuses.get(status, 0) + 1
    return False


async def open_loop(base: str, path: str, tokens: list[str], items: list[str], rate: float, seconds: float,
                    server_pid: int | None = None) -> dict:
    host, port = _address(base)
    devices = [Device(host, port, token, path, limit=8) for token in tokens]
    await asyncio.gather(*[device.warm(2) for device in devices])  # connections open before the clock starts
    total = min(int(rate * seconds), len(items))
    bodies = [_body(item) for item in items[:total]]
    latencies: list[float] = []
    errors = 0
    statuses: dict[str, int] = {}

    async def one(index: int, scheduled: float) -> None:
        nonlocal errors
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            errors += _count(await devices[index % len(devices)].send(_sent(bodies[index])), statuses, "POST")
        except FAILURES:
            errors += 1
        latencies.append(time.perf_counter() - scheduled)  # from the scheduled start: no coordinated omission

    meter = CpuMeter(server_pid)
    started = time.perf_counter() + 0.05
    await asyncio.gather(*[asyncio.create_task(one(index, started + index / rate)) for index in range(total)])
    elapsed = time.perf_counter() - started
    cpu = meter.per_request(total)
    for device in devices:
        device.close()
    return {"offered": rate, "achieved": round(total / elapsed, 1), "requests": total, "errors": errors, "statuses": statuses,
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 2), "p99_ms": round(percentile(latencies, 0.99) * 1000, 2), **cpu}


async def closed_loop(base: str, path: str, tokens: list[str], items: list[str], seconds: float, *, method: str = "POST",
                      cycle: bool = False, server_pid: int | None = None) -> dict:
    host, port = _address(base)
    position = 0
    done = 0
    errors = 0
    statuses: dict[str, int] = {}
    devices = [Device(host, port, token, path, method) for token in tokens]
    await asyncio.gather(*[device.warm(1) for device in devices])  # connected before the clock starts
    bodies = [_body(item) for item in items] if method == "POST" else [b""]  # encoded before the clock starts
    meter = CpuMeter(server_pid)
    deadline = time.perf_counter() + seconds

    async def worker(device: Device) -> None:
        nonlocal position, done, errors
        while time.perf_counter() < deadline and (cycle or position < len(bodies)):
            body = bodies[position % len(bodies)]
            position += 1
            try:
                errors += _count(await device.send(_sent(body)), statuses, method)
                done += 1
            except FAILURES:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*[worker(device) for device in devices])
    elapsed = time.perf_counter() - started
    cpu = meter.per_request(done)
    for device in devices:
        device.close()
    return {"per_second": round(done / elapsed, 1), "requests": done, "errors": errors, "statuses": statuses, **cpu}


def _address(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    return parts.hostname, parts.port or 80


async def main(spec: dict) -> dict:
    base = spec["base"]
    if urlsplit(base).hostname != "127.0.0.1":
        raise SystemExit("the load generator targets 127.0.0.1 only")
    with open(spec["items"], encoding="utf-8") as handle:
        items = json.load(handle)
    path, tokens = spec["path"], spec["tokens"]
    results = {}
    for name, run in spec["runs"].items():
        chosen = items[run["from"]:run["to"]] if "from" in run else [run["item"]]  # one item: sent round and round
        if run["mode"] == "open":
            results[name] = await open_loop(base, path, tokens[:run.get("devices", 16)], chosen, run["rate"], run["seconds"],
                                            server_pid=spec.get("server_pid"))
        else:
            results[name] = await closed_loop(base, run.get("path", path), tokens[:run["concurrency"]], chosen, run["seconds"],
                                              method=run.get("method", "POST"), cycle=run.get("cycle", "item" in run),
                                              server_pid=spec.get("server_pid"))
    return results


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    print(json.dumps(uvloop.run(main(spec))))
