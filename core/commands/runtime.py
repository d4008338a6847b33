"""Running an async command body against the configured database, always closing it."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from core.db import bind_engine, close_engine, open_engine, process_engine


class CommandError(Exception):
    """A failure the user can fix: printed without a traceback, exit status 2."""


def run_with_database(body: Callable[[], Awaitable[Any]]) -> Any:
    """Open the engine of the settings, bind every table to it, run ``body``, close the engine.

    Closing matters: an open aiosqlite connection keeps a non-daemon thread alive and the
    process would never exit.
    """

    async def runner() -> Any:
        import core.tables  # noqa: F401  (register the tables before binding)

        engine = process_engine()
        await open_engine(engine)
        bind_engine(engine)
        try:
            return await body()
        finally:
            await close_engine(engine)

    return asyncio.run(runner())
