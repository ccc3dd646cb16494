"""``dipen status``: what a net stored in etcd (or any store) looks like right now.

Read-only: the marking, the running firings with the node that runs each, and who leads
each region. Any machine that reaches the store can ask.
"""

from __future__ import annotations

import time
from typing import Any

from .stores.base import Store

__all__ = ["describe", "read_status"]


async def read_status(store: Store) -> dict[str, Any]:
    """The store's state as plain data: ``revision``, ``marking`` (``{place: [free, taken]}``),
    ``firings`` (a list of dicts) and ``leaders`` (``{region: [node, fence]}``)."""
    state = await store.snapshot()
    return {
        "revision": state.revision,
        "marking": {name: [len(p.free), len(p.taken)] for name, p in state.places.items()},
        "firings": [
            {"firing": record.id, "transition": record.transition, "region": record.region,
             "node": record.node, "since": record.time,
             "taken": [f"{place}:{token}" for place, token in record.taken]}
            for record in state.firings.values()
        ],
        "leaders": {region: list(lead) for region, lead in (await store.leaders()).items()},
    }


def describe(status: dict[str, Any], title: str) -> str:
    """``status`` (from :func:`read_status`) as text for people.

    Examples
    --------
    >>> print(dipen.status.describe({"revision": 3, "marking": {"a": [1, 0], "b": [0, 1]},
    ...     "firings": [], "leaders": {"default": ["n1", 2]}}, "net 'x'"))
    net 'x' at revision 3
    places:
      a  1
      b  1 (1 taken)
    running firings: none
    leaders:
      default  n1 (fence 2)
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
        for region, (node, fence) in status["leaders"].items():
            lines.append(f"  {region}  {node} (fence {fence})")
    else:
        lines.append("leaders: none (no runner leads a region now)")
    return "\n".join(lines)
