"""Reachability: every state a net can reach from its initial marking, fired the way the
in-memory runner fires it.

Plain P/T nets (no code anywhere, no token data) are explored on count vectors by a
successor function generated for the net (one ``if`` per transition, with its weights,
reads and capacities written in as constants), which is what makes ~100,000 states take a
few seconds in pure Python. Everything else goes through :mod:`dipen.analysis.coloured`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import AnalysisError
from .coloured import explore_coloured
from .graph import ReachabilityGraph
from .structure import FiringRule, firing_rules

if TYPE_CHECKING:
    from ..elements import Transition
    from ..net import Net

__all__ = ["reachability"]


def reachability(
    net: Net, *, max_states: int = 100_000, pure: bool | Iterable[str] = ()
) -> ReachabilityGraph:
    """Explore every state reachable from the initial marking of ``net``.

    A state is the multiset of token data in every place (token ids do not matter).
    Transitions fire one at a time, as the in-memory runner fires them:

    - P/T transitions take ``weight`` tokens through every ``IN``/``IN_OUT`` arc, need
      ``weight`` tokens (not taken) on every ``COND``/``OUT_COND`` arc, and place ``weight``
      tokens through every ``OUT``/``IN_OUT``/``OUT_COND`` arc; a firing whose outputs would
      overflow a place's capacity is not enabled. Taken tokens carry their data to the outputs
      when their numbers match (otherwise new tokens have no data).
    - Transitions with code (``run=``, ``guard=`` or ``executor=``) fire only if declared
      deterministic and pure in ``pure``: their ``guard``/``run`` are called (``run`` must
      finish without awaiting anything that suspends) and what they return is placed.

    Where the runner takes the oldest tokens, the analysis tries every choice of tokens with
    different data (a state does not record token age), so the graph holds every firing the
    runner can make. A custom :class:`dipen.Executor` sees its tokens in a fixed order and
    fires the tokens its ``check_start`` picks.

    Parameters
    ----------
    net
        The net.
    max_states
        Stop after this many states; the graph is then marked ``incomplete``.
    pure
        ``True`` to declare every transition with code pure, or the names of those that are.

    Raises
    ------
    AnalysisError
        If a transition runs code that ``pure`` does not declare, ``pure`` names an unknown
        transition, or pure code fails (raises, awaits, returns tokens it did not take).

    Examples
    --------
    >>> net = (dipen.Net("buffer").place("free", tokens=2).place("full")
    ...        .transition("put", take="free", give="full")
    ...        .transition("get", take="full", give="free"))
    >>> graph = dipen.analysis.reachability(net)
    >>> len(graph.states), graph.incomplete, [str(s.label()) for s in graph.states]
    (3, False, ['free=2', 'free=1 full=1', 'full=2'])
    """
    if type(max_states) is not int or max_states < 1:
        raise AnalysisError(f"net {net.name!r}: max_states must be an int >= 1, not {max_states!r}")
    declared = _declared_pure(net, pure)
    for transition in net.transitions.values():
        if _runs_code(transition) and transition.name not in declared:
            raise AnalysisError(
                f"net {net.name!r}, transition {transition.name!r}: it runs code "
                f"({_behaviour(transition)}), which the analysis can only run if it is "
                f"deterministic and pure (no side effects, no clock, no randomness); if it "
                f"is, pass pure={{{transition.name!r}}} (or pure=True)"
            )
    plain = not any(_runs_code(t) for t in net.transitions.values()) and all(
        data is None for place in net.places.values() for data in place.initial
    )
    if plain:
        return _explore_counts(net, max_states)
    return explore_coloured(net, max_states, declared)


def _runs_code(transition: Transition) -> bool:
    return (transition.run is not None or transition.executor is not None
            or transition.guard is not None)


def _behaviour(transition: Transition) -> str:
    parts = []
    for label, function in (("executor", transition.executor), ("run", transition.run),
                            ("guard", transition.guard)):
        if function is not None:
            parts.append(f"{label}={getattr(function, '__qualname__', function)}")
    return ", ".join(parts)


def _declared_pure(net: Net, pure: bool | Iterable[str]) -> frozenset[str]:
    if pure is True:
        return frozenset(net.transitions)
    if pure is False:
        return frozenset()
    if isinstance(pure, str):
        pure = (pure,)
    names = frozenset(pure)
    unknown = sorted(names - set(net.transitions))
    if unknown:
        raise AnalysisError(
            f"net {net.name!r}: pure= names unknown transition {unknown[0]!r} "
            f"(transitions: {', '.join(net.transitions) or 'none'})"
        )
    return names


# -- P/T nets on count vectors ---------------------------------------------------------------------


def _explore_counts(net: Net, max_states: int) -> ReachabilityGraph:
    capacities = [place.capacity for place in net.places.values()]
    explore = _compile(firing_rules(net), capacities)
    initial = tuple(len(place.initial) for place in net.places.values())
    started = time.perf_counter()
    keys, parent, source, fired, target, explored, incomplete = explore(initial, max_states)
    seconds = time.perf_counter() - started
    return ReachabilityGraph(
        net, keys, parent, (source, fired, target), explored=explored, incomplete=incomplete,
        max_states=max_states, seconds=seconds,
    )


def _compile(rules: list[FiringRule], capacities: list[int | None]) -> Any:
    """Generate ``explore(initial, max_states)``: breadth-first search with every
    transition's enabling test and successor written out for this net (only integers from
    the net go into the source, never names)."""
    count = len(capacities)
    names = [f"m{i}" for i in range(count)]
    lines = [
        "def explore(initial, max_states):",
        "    index = {initial: 0}",
        "    keys = [initial]",
        "    parent = [-1]",
        "    source = []",
        "    fired = []",
        "    target = []",
        "    i = 0",
        "    n = 1",
        "    while i < n:",
        f"        {', '.join(names) + ',' if names else '_'} = keys[i]",
    ]
    for number, rule in enumerate(rules):
        delta = [0] * count
        tests = []
        for place, weight in rule.takes:
            delta[place] -= weight
            tests.append(f"m{place} >= {weight}")
        for place, weight in rule.reads:
            tests.append(f"m{place} >= {weight}")
        for place, weight in rule.gives:
            delta[place] += weight
        for place, _ in rule.gives:
            capacity = capacities[place]
            if capacity is not None:
                tests.append(f"m{place} + {delta[place]} <= {capacity}")
        after = [names[p] if not delta[p] else f"{names[p]} + {delta[p]}" for p in range(count)]
        successor = f"({', '.join(after)},)" if after else "()"
        lines += [
            f"        if {' and '.join(dict.fromkeys(tests)) or 'True'}:",
            f"            s = {successor}",
            "            j = index.get(s)",
            "            if j is None:",
            "                if n >= max_states:",
            "                    return keys, parent, source, fired, target, i, True",
            "                j = n",
            "                index[s] = n",
            "                keys.append(s)",
            "                parent.append(len(source))",
            "                n += 1",
            "            source.append(i)",
            f"            fired.append({number})",
            "            target.append(j)",
        ]
    lines += [
        "        i += 1",
        "    return keys, parent, source, fired, target, n, False",
    ]
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<dipen.analysis reachability>", "exec"), namespace)
    return namespace["explore"]
