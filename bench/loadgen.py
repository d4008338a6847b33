"""An open-loop HTTP load generator, run in its own process: ``python -m bench.loadgen SPEC.json``.

Requests start on a fixed schedule (``rate`` per second) whether or not earlier ones finished,
and each latency is measured from its *scheduled* start, so a slow server cannot hide its
queueing (no coordinated omission). Prints one JSON object: per-target percentiles, achieved
rate and errors by kind. Only 127.0.0.1 targets are accepted; the run stops by itself after ``seconds``.

A request the client gave up on keeps the server busy, so before each target and each ramp step
the generator waits until the server is idle again (the bare endpoint answers fast several
times in a row): one slow target never poisons the next.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import sys
import time
from urllib.parse import urlsplit

import httpx


def percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def signed_in_client(base: str, username: str, password: str, connections: int) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=10, limits=httpx.Limits(max_connections=connections,
                                                                              max_keepalive_connections=connections))
    await client.get("/healthz")
    token = client.cookies.get("hoinghi_csrf")
    answer = await client.post("/api/v1/auth/login", json={"username": username, "password": password},
                               headers={"x-csrftoken": token})
    answer.raise_for_status()
    return client


IDLE_PATH = "/healthz/live"
IDLE_ANSWER_SECONDS = 0.05
IDLE_IN_A_ROW = 5
IDLE_WAIT_SECONDS = 120


async def wait_until_idle(client: httpx.AsyncClient) -> float:
    """Poll the bare endpoint until it answers within IDLE_ANSWER_SECONDS IDLE_IN_A_ROW times in a
    row (requests abandoned by the client have drained); the seconds waited."""
    started = time.perf_counter()
    in_a_row = 0
    while in_a_row < IDLE_IN_A_ROW:
        if time.perf_counter() - started > IDLE_WAIT_SECONDS:
            raise SystemExit(f"the server did not become idle within {IDLE_WAIT_SECONDS} s")
        asked = time.perf_counter()
        try:
            fast = (await client.get(IDLE_PATH, timeout=IDLE_WAIT_SECONDS)).status_code == 200 \
                and time.perf_counter() - asked < IDLE_ANSWER_SECONDS
        except httpx.HTTPError:
            fast = False
        in_a_row = in_a_row + 1 if fast else 0
        await asyncio.sleep(0.1)
    return round(time.perf_counter() - started, 2)


def error_kind(error: Exception | None, status: int | None = None) -> str:
    if status is not None:
        return f"HTTP {status}"
    if isinstance(error, httpx.TimeoutException):
        return "timeout"
    if isinstance(error, httpx.ConnectError):
        return "connect"
    return type(error).__name__


async def open_loop(client: httpx.AsyncClient, paths: list[str], rate: float, seconds: float) -> dict:
    total = int(rate * seconds)
    latencies: list[float] = []
    errors: collections.Counter[str] = collections.Counter()
    rng = random.Random(7)

    async def one(scheduled: float, path: str) -> None:
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            response = await client.get(path)
            if response.status_code >= 400:
                errors[error_kind(None, response.status_code)] += 1
        except httpx.HTTPError as error:
            errors[error_kind(error)] += 1
        latencies.append(time.perf_counter() - scheduled)

    started = time.perf_counter() + 0.05
    tasks = [asyncio.create_task(one(started + index / rate, rng.choice(paths))) for index in range(total)]
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return {"offered": rate, "achieved": round(total / elapsed, 1), "requests": total, "errors": sum(errors.values()),
            "errors_by_kind": dict(errors),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 2), "p99_ms": round(percentile(latencies, 0.99) * 1000, 2)}


async def main(spec: dict) -> dict:
    base = spec["base"]
    if urlsplit(base).hostname != "127.0.0.1":
        raise SystemExit("the load generator targets 127.0.0.1 only")
    client = await signed_in_client(base, spec["username"], spec["password"], spec.get("connections", 64))
    results = {}
    try:
        for name, paths in spec["targets"].items():
            idle_waits = [await wait_until_idle(client)]
            await open_loop(client, paths, 20, 1)  # warm connections and caches
            idle_waits.append(await wait_until_idle(client))
            steady = await open_loop(client, paths, spec["rate"], spec["seconds"])
            ceiling, failed_step = None, None
            for rate in spec.get("ramp", []):
                idle_waits.append(await wait_until_idle(client))
                step = await open_loop(client, paths, rate, spec.get("ramp_seconds", 3))
                if step["errors"] or step["p99_ms"] > spec["p99_target_ms"] or step["achieved"] < 0.95 * rate:
                    failed_step = step
                    break
                ceiling = rate
            results[name] = {**steady, "sustained_rate": ceiling, "first_failed_step": failed_step, "idle_waits_s": idle_waits}
    finally:
        await client.aclose()
    return results


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        print(json.dumps(asyncio.run(main(json.load(handle)))))
