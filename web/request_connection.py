"""A request's statements share one pooled PostgreSQL connection (core.db.one_connection): taken
at its first statement, given back when its answer starts, so a stream (the live page's
server-sent events) holds none while it runs. Nothing changes on SQLite."""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.db import one_connection


def one_connection_per_request(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        async with one_connection() as slot:
            if slot is None:  # already inside a block (an in-process test client)
                await app(scope, receive, send)
                return

            async def send_after_giving_back(message: Message) -> None:
                if message["type"] == "http.response.start":
                    await slot.close()
                await send(message)

            await app(scope, receive, send_after_giving_back)

    return middleware
