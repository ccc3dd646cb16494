"""Minimal siphons and traps of small nets.

A *siphon* is a set of places ``S`` such that every transition that puts tokens into ``S``
also needs tokens from ``S`` (``•S ⊆ S•``): once empty, it stays empty. A *trap* is the
opposite (``S• ⊆ •S``): once marked, it stays marked. A read arc (``COND``, ``OUT_COND``) counts
as a self-loop: the transition needs the place and gives its tokens back.

Minimal siphons are enumerated by problem partitioning (Cordone, Ferrarini & Piroddi, 2005):
find one minimal siphon inside a set of allowed places that contains a set of required places,
then split the rest of the search on which of its places is left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import AnalysisError

if TYPE_CHECKING:
    from ..net import Net

__all__ = ["siphons", "traps"]

#: How many places a net may have for siphon and trap enumeration.
PLACE_LIMIT = 60
#: How many sub-problems the enumeration may visit before giving up.
SEARCH_LIMIT = 50_000

Arcs = dict[str, tuple[frozenset[str], frozenset[str]]]  # transition -> (needs, fills)


def siphons(net: Net) -> list[frozenset[str]]:
    """The minimal siphons of ``net``, as sets of place names (sorted by size, then names).

    Raises
    ------
    AnalysisError
        If the net has more than ``PLACE_LIMIT`` places or the search grows too large.

    Examples
    --------
    >>> net = (dipen.Net("mutex").place("idle", tokens=2).place("busy").place("lock", tokens=1)
    ...        .transition("enter", take=["idle", "lock"], give="busy")
    ...        .transition("leave", take="busy", give=["idle", "lock"]))
    >>> [sorted(s) for s in dipen.analysis.siphons(net)]
    [['busy', 'idle'], ['busy', 'lock']]
    """
    return _minimal(net, _arcs(net, reverse=False), "siphons")


def traps(net: Net) -> list[frozenset[str]]:
    """The minimal traps of ``net``, as sets of place names (sorted by size, then names).

    Raises
    ------
    AnalysisError
        If the net has more than ``PLACE_LIMIT`` places or the search grows too large.

    Examples
    --------
    >>> net = (dipen.Net("n").place("a", tokens=1).place("b").place("c")
    ...        .transition("t", take="a", give="b").transition("u", take="b", give=["b", "c"]))
    >>> [sorted(s) for s in dipen.analysis.traps(net)]
    [['b'], ['c']]
    """
    return _minimal(net, _arcs(net, reverse=True), "traps")


def _arcs(net: Net, *, reverse: bool) -> Arcs:
    arcs = {}
    for transition in net.transitions.values():
        needs = frozenset(a.place for a in transition.arcs if a.kind.inputs)
        fills = frozenset(a.place for a in transition.arcs if a.kind.gives or a.kind.reads)
        arcs[transition.name] = (fills, needs) if reverse else (needs, fills)
    return arcs


def _largest(arcs: Arcs, allowed: frozenset[str], required: frozenset[str]) -> frozenset[str]:
    """The largest siphon inside ``allowed`` (the union of all of them), or the empty set if
    it does not contain every ``required`` place."""
    current = set(allowed)
    changed = True
    while changed:
        changed = False
        for needs, fills in arcs.values():
            if fills & current and not needs & current:
                current -= fills
                changed = True
    return frozenset(current) if required <= current else frozenset()


def _minimal(net: Net, arcs: Arcs, what: str) -> list[frozenset[str]]:
    if len(net.places) > PLACE_LIMIT:
        raise AnalysisError(
            f"net {net.name!r}: {len(net.places)} places are too many to enumerate {what} "
            f"(limit {PLACE_LIMIT}); the enumeration is exponential and meant for small nets"
        )
    found: set[frozenset[str]] = set()
    problems = [(frozenset(net.places), frozenset[str]())]
    visited = 0
    while problems:
        allowed, required = problems.pop()
        visited += 1
        if visited > SEARCH_LIMIT:
            raise AnalysisError(
                f"net {net.name!r}: the search for {what} visited more than {SEARCH_LIMIT} "
                "sub-problems; the net is too large for it"
            )
        candidate = _largest(arcs, allowed, required)
        if not candidate:
            continue
        for place in sorted(candidate - required):  # shrink to a minimal one containing required
            smaller = _largest(arcs, candidate - {place}, required)
            if smaller:
                candidate = smaller
        found.add(candidate)
        chosen = sorted(candidate - required)
        for number, place in enumerate(chosen):
            problems.append((allowed - {place}, required | frozenset(chosen[:number])))
    minimal = [s for s in found if not any(other < s for other in found)]
    return sorted(minimal, key=lambda s: (len(s), sorted(s)))
