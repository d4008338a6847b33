"""web/read_reuse.py: a GET or HEAD keeps its reads until its answer starts; an unsafe request
never keeps one; a stream (the live page) reads afresh once it has started."""

import pytest

from core.reads import read_once
from web.read_reuse import reuse_reads_on_safe_requests


def counting_app(loads: list[str]):
    """An ASGI app that reads one value twice before its answer starts and once after."""

    async def load():
        loads.append("read")
        return {"value": len(loads)}

    async def app(scope, receive, send):
        await read_once("key", load)
        await read_once("key", load)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await read_once("key", load)  # a stream's later access check
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


async def run(method: str) -> int:
    loads: list[str] = []
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message["type"])

    await reuse_reads_on_safe_requests(counting_app(loads))({"type": "http", "method": method}, receive, send)
    assert sent == ["http.response.start", "http.response.body"]
    return len(loads)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_a_safe_request_reads_once_before_its_answer_and_afresh_after(method):
    assert await run(method) == 2


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_an_unsafe_request_reads_every_time(method):
    assert await run(method) == 3
