"""An open-loop HTTP load generator, run in its own process: ``python -m bench.loadgen SPEC.json``.

Requests start on a fixed schedule (``rate`` per second) whether or not earlier ones finished,
and each latency is measured from its *scheduled* start, so a slow server cannot hide its
queueing (no coordinated omission). Prints one JSON object: per-target percentiles, achieved
rate and errors. Only 127.0.0.1 targets are accepted; the run stops by itself after ``seconds``.
"""

from __future__ import annotations

import asyncio
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


async def open_loop(client: httpx.AsyncClient, paths: list[str], rate: float, seconds: float) -> dict:
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    rng = random.Random(7)

    async def one(scheduled: float, path: str) -> None:
        nonlocal errors
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            response = await client.get(path)
            if response.status_code >= 400:
                errors += 1
        except httpx.HTTPError:
            errors += 1
        latencies.append(time.perf_counter() - scheduled)

    started = time.perf_counter() + 0.05
    tasks = [asyncio.create_task(one(started + index / rate, rng.choice(paths))) for index in range(total)]
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return {"offered": rate, "achieved": round(total / elapsed, 1), "requests": total, "errors": errors,
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 2), "p99_ms": round(percentile(latencies, 0.99) * 1000, 2)}


async def main(spec: dict) -> dict:
    base = spec["base"]
    if urlsplit(base).hostname != "127.0.0.1":
        raise SystemExit("the load generator targets 127.0.0.1 only")
    client = await signed_in_client(base, spec["username"], spec["password"], spec.get("connections", 64))
    results = {}
    try:
        for name, paths in spec["targets"].items():
            await open_loop(client, paths, 20, 1)  # warm connections and caches
            steady = await open_loop(client, paths, spec["rate"], spec["seconds"])
            ceiling = None
            for rate in spec.get("ramp", []):
                step = await open_loop(client, paths, rate, spec.get("ramp_seconds", 3))
                if step["errors"] or step["p99_ms"] > spec["p99_target_ms"] or step["achieved"] < 0.95 * rate:
                    break
                ceiling = rate
            results[name] = {**steady, "sustained_rate": ceiling}
    finally:
        await client.aclose()
    return results


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        print(json.dumps(asyncio.run(main(json.load(handle)))))
