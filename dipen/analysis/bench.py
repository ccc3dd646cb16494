"""How fast :func:`dipen.analysis.reachability` explores: the dining philosophers with 13
philosophers have 94,642 reachable states (the companion Pell number Q(13), OEIS A002203).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..net import Net
from .reachability import reachability

__all__ = ["bench_reachability", "dining_philosophers"]


def dining_philosophers(count: int) -> Net:
    """The dining philosophers as a P/T net: philosopher ``i`` thinks (``think{i}``), takes
    the fork on the left (``fork{i}``, to ``left{i}``), then the fork on the right
    (``fork{i+1}``, to ``eat{i}``), and puts both back. All holding their left fork is the
    only deadlock.

    Examples
    --------
    >>> from dipen.analysis.bench import dining_philosophers
    >>> net = dining_philosophers(3)
    >>> net, len(dipen.analysis.reachability(net).states)
    (Net('philosophers-3', places=12, transitions=9, arcs=30), 14)
    """
    net = Net(f"philosophers-{count}")
    for i in range(count):
        net.place(f"think{i}", tokens=1).place(f"left{i}").place(f"eat{i}").place(f"fork{i}", tokens=1)
    for i in range(count):
        right = f"fork{(i + 1) % count}"
        net.transition(f"take_left{i}", take=[f"think{i}", f"fork{i}"], give=f"left{i}")
        net.transition(f"take_right{i}", take=[f"left{i}", right], give=f"eat{i}")
        net.transition(f"put_down{i}", take=f"eat{i}", give=[f"think{i}", f"fork{i}", right])
    return net


def bench_reachability(
    philosophers: int = 13, *, repeat: int = 3, report: Callable[[str], Any] | None = print
) -> dict[str, float]:
    """Time :func:`reachability` on :func:`dining_philosophers` (``philosophers=13``: 94,642
    states, 795,353 edges); the best of ``repeat`` runs.

    Returns ``{"states", "edges", "seconds", "states_per_second"}`` and, unless ``report`` is
    ``None``, prints one line with them.

    Examples
    --------
    >>> from dipen.analysis.bench import bench_reachability
    >>> result = bench_reachability(4, repeat=1, report=None)
    >>> result["states"], result["edges"]
    (34, 88)
    """
    net = dining_philosophers(philosophers)
    best = None
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        graph = reachability(net, max_states=10_000_000)
        seconds = time.perf_counter() - started
        if best is None or seconds < best[1]:
            best = (graph, seconds)
    assert best is not None
    graph, seconds = best
    result = {
        "states": len(graph.states),
        "edges": len(graph.edges),
        "seconds": seconds,
        "states_per_second": len(graph.states) / seconds,
    }
    if report is not None:
        report(
            f"reachability: {net.name}: {result['states']:,} states, {result['edges']:,} edges "
            f"in {seconds:.2f} s ({result['states_per_second']:,.0f} states/s)"
        )
    return result
