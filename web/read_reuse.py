"""A safe request (GET, HEAD) reads each conference, unit and home-unit list once while it builds
its answer (see core/reads.py): a page asks several services for one conference, and each
service checks access by reading it again.

The reads are kept only until the answer starts (a stream, the live page's server-sent events,
re-checks access while it runs and must read afresh) or until the request opens a write
transaction. Unsafe requests change rows, so this middleware opens no block for them (the
conference editor, drawn again after a refused change, opens its own).
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.reads import reads_reused, stop_reusing_reads

SAFE_METHODS = frozenset({"GET", "HEAD"})


def reuse_reads_on_safe_requests(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in SAFE_METHODS:
            await app(scope, receive, send)
            return

        async def send_and_stop_reusing(message: Message) -> None:
            if message["type"] == "http.response.start":
                stop_reusing_reads()
            await send(message)

        with reads_reused():
            await app(scope, receive, send_and_stop_reusing)

    return middleware
