"""``dipen status``: what a net stored in etcd (or any store) looks like right now.

Read-only: the marking, the running firings with the node that runs each, and who leads
each region and who stands by for it. Any machine that reaches the store can ask.
"""

from __future__ import annotations

import time
from typing import Any

from .stores.base import Store

__all__ = ["describe", "read_status"]


async def read_status(store: Store) -> dict[str, Any]:
    """The store's state as plain data: ``revision``, ``marking`` (``{place: [free, taken]}``),
    ``firings`` (a list of dicts), ``leaders`` (``{region: [node, fence]}``) and
    ``candidates`` (``{region: [[node, fence], ...]}``: the leader, then the standbys in the
    order they would take over).

    Examples
    --------
    >>> import asyncio
    >>> store = dipen.MemoryStore()
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> async def main():
    ...     runner, standby = dipen.Runner(net, store=store, node="n1"), dipen.Runner(
    ...         net, store=store, node="n2")
    ...     await runner.step()
    ...     waiting = asyncio.ensure_future(standby.run())
    ...     await asyncio.sleep(0.05)  # n2 stands by
    ...     status = await dipen.status.read_status(store)
    ...     await runner.close()
    ...     await waiting
    ...     return status
    >>> status = asyncio.run(main())
    >>> status["leaders"], status["candidates"]
    ({'default': ['n1', 1]}, {'default': [['n1', 1], ['n2', 2]]})
    """
    state = await store.snapshot()
    candidates = await store.candidates()
    return {
        "revision": state.revision,
        "marking": {name: [len(p.free), len(p.taken)] for name, p in state.places.items()},
        "firings": [
            {"firing": record.id, "transition": record.transition, "region": record.region,
             "node": record.node, "since": record.time,
             "taken": [f"{place}:{token}" for place, token in record.taken]}
            for record in state.firings.values()
        ],
        "leaders": {region: list(nodes[0]) for region, nodes in candidates.items() if nodes},
        "candidates": {region: [list(node) for node in nodes]
                       for region, nodes in candidates.items()},
    }


def describe(status: dict[str, Any], title: str) -> str:
    """``status`` (from :func:`read_status`) as text for people.

    Examples
    --------
    >>> print(dipen.status.describe({"revision": 3, "marking": {"a": [1, 0], "b": [0, 1]},
    ...     "firings": [], "leaders": {"default": ["n1", 2], "audit": ["n3", 4]},
    ...     "candidates": {"default": [["n1", 2], ["n2", 5], ["n4", 7]], "audit": [["n3", 4]]}},
    ...     "net 'x'"))
    net 'x' at revision 3
    places:
      a  1
      b  1 (1 taken)
    running firings: none
    leaders:
      default  n1 (fence 2); standbys: n2, n4
      audit    n3 (fence 4); standbys: none

    A status without ``candidates`` (from an older dipen) lists the leaders alone.
    """
    width = max((len(name) for name in status["marking"]), default=0)
    lines = [f"{title} at revision {status['revision']}", "places:"]
    for name, (free, taken) in status["marking"].items():
        lines.append(f"  {name:<{width}}  {free + taken}" + (f" ({taken} taken)" if taken else ""))
    if status["firings"]:
        lines.append("running firings:")
        for firing in status["firings"]:
            since = time.strftime("%H:%M:%S", time.localtime(firing["since"]))
            lines.append(f"  {firing['transition']} {firing['firing']} on node {firing['node']} "
                         f"since {since}, holding {', '.join(firing['taken']) or 'nothing'}")
    else:
        lines.append("running firings: none")
    if status["leaders"]:
        lines.append("leaders:")
        candidates = status.get("candidates")
        width = max(len(region) for region in status["leaders"])
        for region, (node, fence) in status["leaders"].items():
            line = f"  {region:<{width}}  {node} (fence {fence})"
            if candidates is not None:
                standbys = [name for name, _ in candidates.get(region, [])[1:]]
                line += f"; standbys: {', '.join(standbys) or 'none'}"
            lines.append(line)
    else:
        lines.append("leaders: none (no runner leads a region now)")
    return "\n".join(lines)
