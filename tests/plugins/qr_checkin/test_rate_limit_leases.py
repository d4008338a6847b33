"""The scanners' rate limit counted in Redis by leases (plugins/qr_checkin/rate_limit.py), against
a real Redis: never more than the limit in a window across processes, one round trip per lease."""

from __future__ import annotations

import asyncio

import pytest
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from plugins.qr_checkin import rate_limit
from tests.web.test_multiprocess import REDIS_URL, needs_redis, redis_namespace

pytestmark = needs_redis


@pytest.fixture
async def store():
    with redis_namespace() as namespace:
        client = Redis.from_url(REDIS_URL)
        round_trips = []
        execute = client.pipeline

        def counted_pipeline(*args, **kwargs):
            round_trips.append(1)
            return execute(*args, **kwargs)

        client.pipeline = counted_pipeline
        rate_limit.forget_leases()
        yield RedisStore(client, namespace=namespace), round_trips
        rate_limit.forget_leases()
        await client.aclose()


async def _numbers(store, key: str, requests: int, limit: int, window: int = 1) -> list[int]:
    return [(await rate_limit._count(store[0], store[0]._make_key(key), window, limit))[0] for _ in range(requests)]


async def test_one_process_counts_a_tenth_of_the_limit_per_round_trip(store):
    numbers = await _numbers(store, "device-a", 105, limit=100)
    assert numbers[:100] == list(range(1, 101))  # each request its own number: the headers' "remaining"
    assert all(number > 100 for number in numbers[100:])  # refused
    assert len(store[1]) == 10 + 5  # a lease of 10 per round trip; past the limit each asks again
    assert (await rate_limit._count(store[0], store[0]._make_key("device-b"), 1, 3))[0] == 1  # another device: its own window


async def test_a_small_limit_is_counted_exactly(store):
    assert await _numbers(store, "device-a", 5, limit=3) == [1, 2, 3, 4, 5]
    assert len(store[1]) == 5  # below 20 a second: a lease of one, as without leases


async def test_processes_sharing_a_device_never_pass_more_than_the_limit(store):
    own: dict = {}
    other: dict = {}
    passed = 0
    for turn in range(120):  # two processes answer the same device in turn
        rate_limit._leases = own if turn % 2 else other
        number, _ = await rate_limit._count(store[0], store[0]._make_key("device-a"), 1, 100)
        passed += number <= 100
    rate_limit._leases = {}
    assert 90 <= passed <= 100  # what a process leased and did not use is lost, never given twice


async def test_a_new_window_starts_after_the_old_one_ends(store):
    assert await _numbers(store, "device-a", 4, limit=3) == [1, 2, 3, 4]
    _, reset_in = await rate_limit._count(store[0], store[0]._make_key("device-a"), 1, 3)
    assert 0 < reset_in <= 1
    await asyncio.sleep(reset_in + 0.05)
    assert await _numbers(store, "device-a", 1, limit=3) == [1]
