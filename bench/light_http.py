"""A keep-alive HTTP/1.1 client light enough for a load generator to measure the server, not itself.

httpx costs the load generator 1.5–2 ms of CPU per request, as much as a third of what the
server spends on a scan; on a 2-core machine the client then takes the cores the server needs.
Here a request is bytes built before the clock starts, written on an open connection, and the
answer is parsed by httptools (uvicorn's C parser, installed with the server): a few tens of
microseconds per request. One request at a time per connection; no TLS, no redirects, no
cookies — only what a benchmark against 127.0.0.1 needs.
"""

from __future__ import annotations

import asyncio

import httptools


def request_bytes(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One HTTP/1.1 request, ready to write (keep-alive; ``Content-Length`` when there is a body)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{name}: {value}" for name, value in headers.items())]
    if body or method in ("POST", "PUT", "PATCH"):
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Answer:
    __slots__ = ("status", "body")

    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body


class Connection(asyncio.Protocol):
    """One keep-alive connection; :meth:`send` writes a request and waits for its whole answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiting: asyncio.Future | None = None
        self.chunks: list[bytes] = []
        self.lost: BaseException | None = None

    @classmethod
    async def open(cls, host: str, port: int) -> "Connection":
        _, connection = await asyncio.get_running_loop().create_connection(cls, host, port)
        return connection

    # asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(error)

    def connection_lost(self, exc) -> None:
        self._fail(exc or ConnectionError("the server closed the connection"))

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(Answer(self.parser.get_status_code(), b"".join(self.chunks)))
        self.chunks = []

    def _fail(self, error: BaseException) -> None:
        self.lost = error
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_exception(error)

    async def send(self, request: bytes) -> Answer:
        if self.lost is not None:
            raise ConnectionError("connection closed") from self.lost
        self.waiting = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiting

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
