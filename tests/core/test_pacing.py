"""core.pacing on virtual time: the schedule, concurrent callers, idle time and late wake-ups."""

from __future__ import annotations

import asyncio

import pytest

from core.pacing import Pacer
from tests.virtual_time import VirtualTime


def _pacer(rate: float) -> tuple[Pacer, VirtualTime]:
    virtual = VirtualTime()
    return Pacer(rate, monotonic=virtual.monotonic, sleep=virtual.sleep), virtual


async def _starts(pacer: Pacer, virtual: VirtualTime, *, callers: int, each: int) -> list[float]:
    starts: list[float] = []

    async def caller():
        for _ in range(each):
            await pacer.wait()
            starts.append(virtual.monotonic())
            await asyncio.sleep(0)  # the caller's own work: others take their turn meanwhile

    await asyncio.gather(*(caller() for _ in range(callers)))
    return starts


def _gaps(starts: list[float]) -> list[float]:
    return [round(later - earlier, 9) for earlier, later in zip(starts, starts[1:])]


async def test_concurrent_callers_start_one_interval_apart_from_the_first_call():
    pacer, virtual = _pacer(200)
    first = virtual.monotonic()
    starts = await _starts(pacer, virtual, callers=5, each=20)
    assert len(starts) == 100 and starts[0] == first  # the first goes at once
    assert set(_gaps(starts)) == {0.005}  # never two closer, never a slot lost
    assert starts[-1] - first == pytest.approx(99 / 200)


async def test_an_idle_pacer_earns_no_burst():
    pacer, virtual = _pacer(100)
    await _starts(pacer, virtual, callers=1, each=3)
    virtual.advance(60.0)  # nothing to send for a minute
    resumed = virtual.monotonic()
    starts = await _starts(pacer, virtual, callers=3, each=10)
    assert starts[0] == resumed and set(_gaps(starts)) == {0.01}


async def test_a_wake_up_late_by_less_than_an_interval_keeps_the_schedule():
    pacer, virtual = _pacer(200)
    virtual.late = [0.001, 0.004, 0.0, 0.002] * 5  # the loop's millisecond rounding, a busy machine
    first = virtual.monotonic()
    starts = await _starts(pacer, virtual, callers=4, each=11)
    # every start is within one interval after its slot, so the average rate is the configured one
    slots = [first + index / 200 for index in range(len(starts))]
    assert all(-1e-9 <= start - slot < 0.005 for start, slot in zip(starts, slots))
    assert starts[-1] - first == pytest.approx(43 / 200, abs=0.005)


async def test_a_busy_loop_waking_sleepers_up_to_the_slack_late_costs_no_rate():
    pacer, virtual = _pacer(200)  # 5 ms a slot; a busy turn of the loop easily takes longer
    virtual.late = [0.02, 0.0, 0.012, 0.007, 0.0, 0.0, 0.024, 0.001] * 25
    first = virtual.monotonic()
    starts = await _starts(pacer, virtual, callers=8, each=50)
    slots = [first + index / 200 for index in range(len(starts))]
    assert all(-1e-9 <= start - slot <= pacer.slack + 1e-9 for start, slot in zip(starts, slots))  # never early, at most the slack late
    assert starts[-1] - first == pytest.approx(399 / 200, abs=pacer.slack)  # the long-run rate is the configured one
    # the catching up stays within the documented bound: rate * (T + slack) + 1 starts in any T
    for window in (0.1, 0.5, 1.0):
        most = max(sum(1 for other in starts if start <= other < start + window) for start in starts)
        assert most <= 200 * (window + pacer.slack) + 1


async def test_a_stalled_process_does_not_make_up_the_lost_time_in_a_burst():
    pacer, virtual = _pacer(100)
    virtual.late = [0.0, 0.5]  # the second sleeper wakes half a second late
    starts = await _starts(pacer, virtual, callers=4, each=5)
    gaps = _gaps(starts)
    assert gaps[0] == 0.01 and gaps[1] == 0.51  # the stalled start
    assert set(gaps[2:]) == {0.01}  # then the rate again from there, no catch-up


def test_a_rate_must_be_positive():
    with pytest.raises(ValueError):
        Pacer(0)
