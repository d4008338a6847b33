"""A real ``hoinghi serve`` process on 127.0.0.1 for HTTP tests: started, awaited, stopped.

Stops gracefully (SIGINT, then SIGTERM) and kills after a bound, so a hung worker never hangs
the suite. The server's output (its access log too) goes to a temporary file, never to a pipe
that nobody reads: a full pipe blocks the server's event loop on its next log line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import httpx

STARTUP_SECONDS = 30
SHUTDOWN_SECONDS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(env: dict[str, str], *, cwd: str, workers: int = 1, python: str = sys.executable, port: int | None = None):
    """Yields the base URL of a server started with ``env`` layered over this process's env (on
    ``port``, to restart a server at the same origin; else on a free one)."""
    port = port or free_port()
    with tempfile.TemporaryFile("w+", encoding="utf-8", prefix="hoinghi-serve-") as output:
        process = subprocess.Popen(
            [python, "-m", "core.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env={**os.environ, **env},
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(process, base_url, output)
            yield base_url
        finally:
            _stop(process)


def _wait_until_up(process: subprocess.Popen, base_url: str, output) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output.seek(0)
            raise RuntimeError(f"server exited with {process.returncode}:\n{output.read()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not answer /healthz in time")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        process.send_signal(sig)
        try:
            process.wait(timeout=SHUTDOWN_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue
    process.kill()
    process.wait(timeout=SHUTDOWN_SECONDS)
