"""Benchmarks of the sms plugin: a campaign dispatched through the core's send path to a local
HTTP gateway and a local SMSC (both on 127.0.0.1, see tests/plugins/sms/), paced at a configured
rate. ``HOINGHI_BENCH_SMS_COUNT`` sets how many messages (default 100,000: 500 s per database at
200 messages/s; a shorter run measures the same rate, and the memory figure is then per that
many messages)."""

from __future__ import annotations

import os
import time
from pathlib import Path

RATE = int(os.environ.get("HOINGHI_BENCH_SMS_RATE", "200"))
TOLERANCE = 0.05


def _count() -> int:
    return int(os.environ.get("HOINGHI_BENCH_SMS_COUNT", "100000"))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


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
    counts = await notifications_queue(host, conference["id"])
    assert counts["queued"] == count, counts
    return host


async def notifications_queue(host, conference_id):
    from core import notifications
    from core.access import Actor

    return await notifications.queue_conference_messages(Actor.system_actor("bench"), host, kind="free_message", urgent=True,
                                                         conference_id=conference_id, text="Hop luc 8h tai hoi truong so 1")


async def _dispatch(host, count: int) -> dict:
    import gc

    from core import notifications
    from core.tables import Message

    gc.collect()
    before = _rss_mb()
    started = time.perf_counter()
    while await notifications.send_due(host, limit=500):
        pass
    elapsed = time.perf_counter() - started
    gc.collect()
    grown = _rss_mb() - before
    sent = await Message.count().where(Message.status.is_in(["sent", "delivered"]))
    assert sent == count, f"{sent} of {count} sent"
    rate = count / elapsed
    ok = abs(rate - RATE) <= RATE * TOLERANCE and grown < 100
    return {"measured": f"{rate:.1f}/s, +{grown:.0f} MB ({count})", "target": f"{RATE}/s ±5%, < 100 MB", "ok": ok}


async def sms_http_gateway_at_200_per_second() -> dict:
    """SMS campaign, local HTTP gateway, paced (rate; RSS growth)"""
    from tests.plugins.sms.gateway import running_gateway

    count = _count()
    with running_gateway() as gateway:
        gateway.keep_requests = False
        host = await _campaign({"preset": "esms_json", "url": f"{gateway.url}/esms", "api_key": "bench-key", "sender_id": "BENCH",
                                "rate_per_second": RATE}, count)
        figure = await _dispatch(host, count)
        assert gateway.count == count
    from plugins.sms.channel import gateway_for, settings_values

    await gateway_for(settings_values()).aclose()
    return figure


async def sms_smpp_at_200_per_second() -> dict:
    """SMS campaign, local SMSC (SMPP, window 10), paced (rate; RSS)"""
    from plugins.sms.channel import close_backends
    from tests.plugins.sms.smsc import running_smsc

    count = _count()
    with running_smsc(receipts=False) as smsc:
        host = await _campaign({"backend": "smpp", "smpp_host": "127.0.0.1", "smpp_port": smsc.port, "smpp_system_id": "bench",
                                "smpp_password": "bench", "sender_id": "BENCH", "rate_per_second": RATE, "smpp_window": 10}, count)
        figure = await _dispatch(host, count)
        assert len(smsc.submits) == count
        smsc.submits.clear()
        await close_backends()
    return figure


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
