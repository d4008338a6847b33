"""Pacing: at most ``rate`` calls start per second among the callers sharing one pacer.

Channels pace their requests with it (an SMS gateway's contracted rate, an SMTP relay's). The
rule: callers take their turn one at a time, and each start is scheduled one interval
(``1 / rate``) after the previous start's slot, never earlier.

* **No burst, no catch-up beyond one interval.** A caller woken less than one interval after its
  slot (asyncio rounds timers to the millisecond: a fifth of an interval at 200/s) keeps the
  schedule, so the rate holds on average. A caller woken later than that (a stalled process)
  starts the schedule again from its own start: the lost time is lost, not made up in a burst.
  An idle pacer earns nothing either. In any window of ``T`` seconds at most ``rate * T + 2``
  calls start.
* The clock (``monotonic``) and the ``sleep`` are injectable: a test paces on virtual time, so
  the rule is checked exactly, whatever the machine's load.
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref
from typing import Awaitable, Callable


class Pacer:
    """At most ``rate`` starts per second for the callers of one pacer (one process)."""

    def __init__(self, rate: float, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        if rate <= 0:
            raise ValueError("a pacer needs a positive rate")
        self.interval = 1.0 / rate
        self.monotonic = monotonic
        self.sleep = sleep
        self._next = -math.inf
        # one turn at a time per event loop (an asyncio lock belongs to the loop that uses it)
        self._turns: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _turn(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        turn = self._turns.get(loop)
        if turn is None:
            turn = self._turns[loop] = asyncio.Lock()
        return turn

    async def wait(self) -> None:
        """Return when the caller may start."""
        async with self._turn():
            now = self.monotonic()
            slot = max(self._next, now)
            if slot > now:
                await self.sleep(slot - now)
            started = self.monotonic()
            late = started - slot
            self._next = (slot if late < self.interval else started) + self.interval
