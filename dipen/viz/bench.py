"""``dipen bench viz``: what a live view costs a busy runner.

A ring of ``transitions`` code transitions over ``places`` places (50 nodes by default) carries
one token per transition; every firing sleeps ``transitions / rate`` seconds on the real clock,
so that the ring fires about ``rate`` transitions a second. A :class:`LiveView` watches it
(its comm serialises each message to JSON, as a kernel would). The benchmark prints and returns
how often the view sent its state and the share of the process's CPU time spent in the view's
event handler and flushes. Figures are printed, never asserted in tests.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from ..net import Net
from ..runner import Runner

__all__ = ["bench_viz", "ring_of"]


def ring_of(places: int, transitions: int, delay: float) -> Net:
    """A ring: transition ``t{i}`` takes from ``p{i % places}`` and gives to
    ``p{(i + 1) % places}``, sleeping ``delay`` seconds; one token per transition, spread over
    the places."""
    if places < 1 or transitions < 1:
        raise ValueError("bench_viz needs at least one place and one transition")
    net = Net(f"ring-{places}x{transitions}")
    tokens = [0] * places
    for i in range(transitions):
        tokens[i % places] += 1
    for j in range(places):
        net.place(f"p{j}", tokens=[{"hops": 0}] * tokens[j])

    async def hop(token):  # type: ignore[no-untyped-def]
        await asyncio.sleep(delay)
        return token.update(hops=token["hops"] + 1)

    for i in range(transitions):
        net.transition(f"t{i}", take=f"p{i % places}", give=f"p{(i + 1) % places}", run=hop)
    return net


class _CountingComm:
    """Stands in for the kernel's comm: serialises every message to JSON and counts them."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    def send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        self.messages += 1
        self.bytes += len(json.dumps(data))


async def _measure(places: int, transitions: int, rate: float, seconds: float) -> dict[str, float]:
    from .widgets import LiveView

    runner = Runner(ring_of(places, transitions, transitions / rate), history=1000)
    await runner.open()
    view = LiveView(runner)
    comm = _CountingComm()
    view.comm.send = comm.send  # the DummyComm outside a kernel drops messages unseen
    try:
        before = view.profile
        cpu, wall = time.process_time(), time.perf_counter()
        summary = await runner.run(timeout=seconds)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        after = view.profile
    finally:
        view.close()
    flushes = after["flushes"] - before["flushes"]
    events = after["events"] - before["events"]
    in_events = after["event_seconds"] - before["event_seconds"]
    in_flushes = after["flush_seconds"] - before["flush_seconds"]
    spent = in_events + in_flushes
    return {
        "firings_per_second": summary.firings / wall,
        "events": events,
        "microseconds_per_event": in_events / events * 1e6 if events else 0.0,
        "milliseconds_per_flush": in_flushes / flushes * 1e3 if flushes else 0.0,
        "flushes_per_second": flushes / wall,
        "view_seconds": spent,
        "process_cpu_seconds": cpu,
        "view_cpu_share": spent / cpu if cpu else 0.0,
        "view_time_share": spent / wall if wall else 0.0,
        "bytes_per_flush": comm.bytes / comm.messages if comm.messages else 0.0,
        "seconds": wall,
    }


def bench_viz(places: int = 25, transitions: int = 25, rate: float = 1000,
              seconds: float = 3) -> dict[str, float]:
    """Run the ring with a live view for ``seconds`` and print and return its figures:
    ``flushes_per_second`` (target at least 10) and ``view_cpu_share`` (the view's handlers
    and flushes over the process's CPU time; target at most 5 %), with the firings per second
    reached, the events seen and the size of a state message."""
    result = asyncio.run(_measure(places, transitions, rate, seconds))
    print(f"viz  {places} places, {transitions} transitions, {result['seconds']:.1f} s: "
          f"{result['firings_per_second']:,.0f} firings/s, {result['events']:,} events")
    print(f"viz  {result['flushes_per_second']:.1f} flushes/s (target >= 10), "
          f"{result['milliseconds_per_flush']:.2f} ms and {result['bytes_per_flush']:,.0f} bytes "
          f"each; {result['microseconds_per_event']:.2f} us per event")
    print(f"viz  view CPU {result['view_seconds'] * 1000:.1f} ms of "
          f"{result['process_cpu_seconds'] * 1000:.0f} ms process CPU = "
          f"{result['view_cpu_share']:.1%}; of the kernel's time: "
          f"{result['view_time_share']:.2%} (target <= 5 %)")
    return result
