"""The worker loop: delivers events (and, later, scheduled jobs) until stopped.

On SQLite exactly one process may run it: a file lock under var/ decides, so however many web
workers `serve` starts only one delivers. On PostgreSQL any number may run.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from pathlib import Path

from core import clock
from core.config import get_settings
from core.jobs import all_job_handlers, ensure_periodic_jobs, run_once
from core.plugins import PluginHost

log = logging.getLogger("hoinghi.worker")
IDLE_SECONDS = float(os.environ.get("HOINGHI_WORKER_IDLE_SECONDS", "1"))
HEARTBEAT_FILE = "worker.heartbeat"


class WorkerLock:
    """An exclusive, non-blocking file lock; released when the process exits."""

    def __init__(self, path: Path):
        self.path = path
        self._handle = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def worker_lock() -> WorkerLock:
    return WorkerLock(get_settings().var_dir / "worker.lock")


def write_heartbeat() -> None:
    path = get_settings().var_dir / HEARTBEAT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(clock.now().isoformat())


async def run_worker(host: PluginHost, stop: asyncio.Event) -> None:
    """Deliver until ``stop`` is set; sleeps only when there was nothing to do."""
    await ensure_periodic_jobs()
    handlers = all_job_handlers(host)
    while not stop.is_set():
        try:
            outcome = await run_once(host, handlers)
            write_heartbeat()
        except Exception:  # the loop survives a database hiccup; the error is logged
            log.exception("worker pass failed")
            outcome = {}
        busy = outcome.get("dispatched", 0) or outcome.get("delivered", 0) or outcome.get("jobs_done", 0) or outcome.get("jobs_rescheduled", 0)
        if not busy:
            try:
                await asyncio.wait_for(stop.wait(), timeout=IDLE_SECONDS)
            except asyncio.TimeoutError:
                pass
