"""Benchmarks of the sms plugin: a campaign dispatched by a real ``hoinghi worker`` process (the
send_messages job, as in production) to a local HTTP gateway and a local SMSC (both on
127.0.0.1, served by this process, see tests/plugins/sms/), paced at a configured rate.
``HOINGHI_BENCH_SMS_COUNT`` sets how many messages (default 100,000: 500 s per database at
200 messages/s). The rate is read at the gateway (first to last request); the memory figure is
the growth of the worker's RSS from before the campaign to its peak during it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

RATE = int(os.environ.get("HOINGHI_BENCH_SMS_RATE", "200"))
TOLERANCE = 0.05
ROOT = Path(__file__).resolve().parent.parent


def _count() -> int:
    return int(os.environ.get("HOINGHI_BENCH_SMS_COUNT", "100000"))


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@contextlib.contextmanager
def _worker(toml: Path):
    """``hoinghi worker`` on the benchmark's database (SQLite file or PostgreSQL), until stopped."""
    from core.tables import Message

    engine = Message._meta.db
    env = {**os.environ, "HOINGHI_PLUGINS_TOML": str(toml), "HOINGHI_WORKER_IDLE_SECONDS": "0.2"}
    if engine.engine_type == "postgres":
        env["DATABASE_URL"] = engine.config["dsn"]
    else:
        env.update({"DATABASE_URL": "", "HOINGHI_VAR_DIR": str(Path(engine.path).parent)})
    # HOINGHI_BENCH_SMS_PROFILE=<file>: the worker runs under cProfile (CPU clock) and writes its
    # profile to <file>.<database> when it stops: where its CPU per message goes
    profile = os.environ.get("HOINGHI_BENCH_SMS_PROFILE")
    wrapper = ["-m", "bench.profiled", f"{profile}.{engine.engine_type}"] if profile else []
    command = [sys.executable, *(wrapper or ["-m"]), "core.cli", "worker"]
    process = subprocess.Popen(command, env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _campaign(settings: dict, count: int):
    """A published conference of ``count`` invitees with phones, the sms plugin configured."""
    import datetime as dt
    import tempfile

    from core import clock
    from core.access import Actor
    from core.config import reset_settings
    from core.plugins import build_plugin_host
    from core.services import audiences, conferences

    import plugins.sms.hooks
    from bench import data

    lines = ["[plugins.sms]", 'default = "on"', "", "[plugins.sms.settings]"]
    for key, value in settings.items():
        lines.append(f"{key} = {value}" if isinstance(value, int) else f'{key} = "{value}"')
    toml = Path(tempfile.mkdtemp()) / "plugins.toml"
    toml.write_text("\n".join(lines) + "\n")
    os.environ["HOINGHI_PLUGINS_TOML"] = str(toml)
    reset_settings()
    host = build_plugin_host(plugins_toml=toml, extra=[("sms", plugins.sms.hooks)], discover=False)
    tree = await data.unit_tree(10)
    await data.people(count, [unit["id"] for unit in tree])
    system = Actor.system_actor("bench")
    audience = await audiences.create_audience(system, unit_id=1, name="Toàn tỉnh", rules={"categories": data.CATEGORIES})
    start = dt.datetime(2030, 3, 12, 1, tzinfo=dt.timezone.utc)
    conference = await conferences.create_conference(
        system, unit_id=1, title="Hội nghị", kind="all_member", format="in_person", starts_at=start,
        ends_at=start + dt.timedelta(hours=3), venues=[{"name": "Hội trường", "address": "Số 1"}], audience_ids=[audience["id"]])
    await conferences.publish_conference(system, conference["id"])
    clock.set_now(None)
    return host, toml, conference["id"]


async def notifications_queue(host, conference_id):
    from core import notifications
    from core.access import Actor

    return await notifications.queue_conference_messages(Actor.system_actor("bench"), host, kind="free_message", urgent=True,
                                                         conference_id=conference_id, text="Hop luc 8h tai hoi truong so 1")


async def _dispatch(host, toml: Path, conference_id: int, count: int, arrivals) -> dict:
    """Start the worker, queue the campaign, wait until ``arrivals()`` (the server's count and its
    first and last arrival times) says every message arrived."""
    from core.tables import Message

    with _worker(toml) as worker:
        await asyncio.sleep(3)  # started, migrated nothing, idle: the baseline
        assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
        before, cpu_before = _rss_mb(worker.pid), _cpu_seconds(worker.pid)
        peak = before
        counts = await notifications_queue(host, conference_id)
        assert counts["queued"] == count, counts
        deadline = time.monotonic() + count / RATE * 3 + 120
        while arrivals()[0] < count:
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, f"{arrivals()[0]} of {count} arrived in time"
            peak = max(peak, _rss_mb(worker.pid))
            await asyncio.sleep(0.5)
        cpu = _cpu_seconds(worker.pid) - cpu_before
        _, first, last = arrivals()
        await asyncio.sleep(1)  # the last results recorded
    sent = await Message.count().where(Message.status.is_in(["sent", "delivered"]))
    assert sent == count, f"{sent} of {count} sent"
    rate = (count - 1) / (last - first)
    grown = peak - before
    load = os.getloadavg()[0]
    ok = abs(rate - RATE) <= RATE * TOLERANCE and grown < 100
    return {"measured": f"{rate:.1f}/s, +{grown:.0f} MB, CPU {cpu / count * 1000:.2f} ms/msg ({count}, load {load:.1f})",
            "target": f"{RATE}/s ±5%, < 100 MB", "ok": ok}


async def sms_http_gateway_at_200_per_second() -> dict:
    """SMS campaign by the worker, local HTTP gateway, paced (rate; worker RSS growth)"""
    from tests.plugins.sms.gateway import running_gateway

    count = _count()
    with running_gateway() as gateway:
        gateway.keep_requests = gateway.record_bodies = False
        host, toml, conference_id = await _campaign(
            {"preset": "esms_json", "url": f"{gateway.url}/esms", "api_key": "bench-key", "sender_id": "BENCH",
             "rate_per_second": RATE}, count)
        return await _dispatch(host, toml, conference_id, count, lambda: (gateway.count, gateway.first_at, gateway.last_at))


async def sms_smpp_at_200_per_second() -> dict:
    """SMS campaign by the worker, local SMSC (SMPP, window 10), paced (rate; worker RSS)"""
    from tests.plugins.sms.smsc import running_smsc

    count = _count()
    with running_smsc(receipts=False) as smsc:
        smsc.record_submits = False
        host, toml, conference_id = await _campaign(
            {"backend": "smpp", "smpp_host": "127.0.0.1", "smpp_port": smsc.port, "smpp_system_id": "bench", "smpp_password": "bench",
             "sender_id": "BENCH", "rate_per_second": RATE, "smpp_window": 10}, count)
        return await _dispatch(host, toml, conference_id, count, lambda: (smsc.accepted, smsc.first_at, smsc.last_at))


async def smpp_window_throughput() -> dict:
    """SMPP session alone: 20,000 submit_sm in a window of 10, unpaced (per second)"""
    import asyncio

    from plugins.sms.smpp import SmppBackend, SmppConfig, encode_parts
    from tests.plugins.sms.smsc import running_smsc

    with running_smsc(receipts=False) as smsc:
        backend = SmppBackend(SmppConfig(host="127.0.0.1", port=smsc.port, system_id="bench", password="bench", window=10,
                                         rate_per_second=1_000_000))
        part = encode_parts("Hop luc 8h tai hoi truong so 1")[0]
        await backend.connect()
        gate = asyncio.Semaphore(50)

        async def one(i):
            async with gate:
                return await backend.submit_part(part, to=f"+8491{i:07d}", sender="BENCH")

        started = time.perf_counter()
        ids = await asyncio.gather(*(one(i) for i in range(20_000)))
        rate = len(ids) / (time.perf_counter() - started)
        await backend.aclose()
    return {"measured": f"{rate:.0f}/s", "target": ">= 1000/s", "ok": rate >= 1000}


ALL = [sms_http_gateway_at_200_per_second, sms_smpp_at_200_per_second, smpp_window_throughput]
