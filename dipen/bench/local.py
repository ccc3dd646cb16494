"""``dipen bench local``: the engine on the memory store. It prints figures; they
are never asserted in tests.

``local``: N independent two-place rings on the memory store. Place ``p1`` of each ring
holds one token carrying a counter; ``t1`` moves it to ``p2`` and decrements it, ``t2``
moves it back and decrements it; both are ``async def`` code with the guard
``counter > 0``. N=1 makes 10,000 firings, N=64 makes 64,000. The runner keeps its last
1,000 events; N=64 runs once more with the runner's default of 100,000 (see
:mod:`dipen.flat_firings`).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Sequence

from ..net import Net
from ..runner import Runner

__all__ = ["local", "ring_net"]


def ring_net(copies: int, firings_per_ring: int) -> Net:
    """``copies`` independent rings whose tokens allow ``firings_per_ring`` firings each."""
    net = Net(f"rings-{copies}")

    async def step(token):  # type: ignore[no-untyped-def]
        return token.update(counter=token["counter"] - 1)

    def positive(token):  # type: ignore[no-untyped-def]
        return token["counter"] > 0

    for i in range(copies):
        net.place(f"p1_{i}", tokens=[{"counter": firings_per_ring}]).place(f"p2_{i}")
        net.transition(f"t1_{i}", take=f"p1_{i}", give=f"p2_{i}", run=step, guard=positive)
        net.transition(f"t2_{i}", take=f"p2_{i}", give=f"p1_{i}", run=step, guard=positive)
    return net


async def _measure(copies: int, total: int, history: int | None = 1000) -> tuple[float, int]:
    runner = Runner(ring_net(copies, total // copies), history=history)
    await runner.open()
    start = time.perf_counter()
    summary = await runner.run()
    elapsed = time.perf_counter() - start
    return summary.firings / elapsed, summary.firings


async def _bare_ring(total: int, yielding: bool) -> float:
    """Firings/s of a hand-written loop doing only the ring's own work (guard, the async step
    driven inline, moving the token between two dicts): no store, no events, no checks; with
    ``yielding``, one ``await asyncio.sleep(0)`` per firing as well (the issue's reference: a
    bare asyncio loop, 354k/s where it was measured). The ceilings any engine in this
    interpreter could reach on this machine, without and with a turn of the event loop."""
    from ..tokens import Token

    async def step(token):  # type: ignore[no-untyped-def]
        return token.update(counter=token["counter"] - 1)

    places: list[dict[str, Token]] = [{"t": Token("t", {"counter": total})}, {}]
    side = fired = 0
    start = time.perf_counter()
    while True:
        token = next(iter(places[side].values()))
        if not token["counter"] > 0:
            break
        coroutine = step(token)
        try:
            coroutine.send(None)
        except StopIteration as stop:
            moved = stop.value
        del places[side][token.id]
        places[1 - side][moved.id] = moved
        side = 1 - side
        fired += 1
        if yielding:
            await asyncio.sleep(0)
    return fired / (time.perf_counter() - start)


def _best(copies: int, total: int, repeat: int, history: int | None = 1000) -> tuple[float, float]:
    """The best and the median firings/s of ``repeat`` runs of ``copies`` rings."""
    rates = []
    for _ in range(repeat):
        # the runner, store and history of the run before are garbage in reference cycles:
        # collect them now, so that no run pays for the one before it
        gc.collect()
        rate, fired = asyncio.run(_measure(copies, total, history))
        if fired != total:
            raise AssertionError(f"N={copies}: expected {total} firings, got {fired}")
        rates.append(rate)
    return max(rates), sorted(rates)[len(rates) // 2]


def local(sizes: Sequence[tuple[int, int]] = ((1, 10_000), (64, 64_000)), repeat: int = 5) -> dict[int, float]:
    """Run the ring benchmark and print the best firings/s of ``repeat`` runs per size."""
    results = {}
    for copies, total in sizes:
        best, median = _best(copies, total, repeat)
        results[copies] = best
        print(f"local  N={copies:<3} {total:>7,} firings  {best:>10,.0f} firings/s "
              f"(best of {repeat}; median {median:,.0f})")
    if 1 in results and 64 in results:
        print(f"local  N=64 / N=1 = {results[64] / results[1]:.2f}")
    copies, total = sizes[-1]
    best, _ = _best(copies, total, repeat, history=100_000)
    print(f"local  N={copies}, the runner keeping its default 100,000 events instead of 1,000: "
          f"{best:,.0f} firings/s")
    bare = max(asyncio.run(_bare_ring(sizes[0][1], False)) for _ in range(repeat))
    print(f"bare   the same work without store, events or checks: {bare:,.0f} firings/s "
          "(the interpreter's ceiling)")
    bare = max(asyncio.run(_bare_ring(sizes[0][1], True)) for _ in range(repeat))
    print(f"bare   and one asyncio.sleep(0) per firing: {bare:,.0f} firings/s "
          "(the issue measured 354,000 where it set the targets)")
    return results
