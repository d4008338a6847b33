"""Virtual time for paced code (``core.pacing.Pacer`` takes ``monotonic`` and ``sleep``): the
clock moves only when the code under test sleeps, so pacing is checked exactly, however loaded
the machine is, and a test never waits for real."""

from __future__ import annotations

import asyncio
import threading


class VirtualTime:
    def __init__(self, start: float = 1000.0):
        self.now = start
        self.slept: list[float] = []
        # lateness to add to coming sleeps, one value a sleep (a busy machine wakes a sleeper late)
        self.late: list[float] = []
        self._lock = threading.Lock()  # read from a server thread in the same test

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    async def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds + (self.late.pop(0) if self.late else 0.0)
        await asyncio.sleep(0)  # a real turn of the loop: other tasks run meanwhile

    def advance(self, seconds: float) -> None:
        """Time passing while nothing is paced (an idle gateway)."""
        with self._lock:
            self.now += seconds
