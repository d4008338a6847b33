"""Pacing: at most ``rate`` calls start per second among the callers sharing one pacer.

Channels pace their requests with it (an SMS gateway's contracted rate, an SMTP relay's). The
rule: callers take their turn one at a time, and the k-th start is scheduled at an absolute
time, one interval (``1 / rate``) after the (k-1)-th slot, never earlier.

* **Small delays are made up, a stall is not.** A busy event loop wakes a sleeper late: by the
  loop's millisecond rounding, or by a few milliseconds of other work in the same turn (at
  200/s one interval is 5 ms, so that happens every second on a loaded machine). A caller woken
  at most ``slack`` after its slot (``SLACK``, 25 ms, or one interval when that is longer)
  keeps the schedule, and the callers behind it whose slots have passed start at once: the
  long-run rate is the configured one, with no drift from sleep granularity. A caller woken
  later than that (a stalled process) starts the schedule again from its own start: the lost
  time is lost, not made up in a burst. An idle pacer earns nothing either.
* Hence in any window of ``T`` seconds at most ``rate * (T + slack) + 1`` calls start (at 200/s:
  206 in any second), and never two closer than one interval unless catching up on that slack.
* The clock (``monotonic``) and the ``sleep`` are injectable: a test paces on virtual time, so
  the rule is checked exactly, whatever the machine's load.
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref
from typing import Awaitable, Callable

SLACK = 0.025


class Pacer:
    """At most ``rate`` starts per second for the callers of one pacer (one process)."""

    def __init__(self, rate: float, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, slack: float = SLACK):
        if rate <= 0:
            raise ValueError("a pacer needs a positive rate")
        self.interval = 1.0 / rate
        self.slack = max(slack, self.interval)
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
            slot = self._next
            if slot > now:
                await self.sleep(slot - now)
            started = self.monotonic()
            # within the slack the schedule holds (slot stays absolute); past it, or idle, it
            # starts again from now
            self._next = (slot if started - slot <= self.slack else started) + self.interval
