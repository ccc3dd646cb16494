"""The Karp–Miller coverability graph of a P/T net: finite even when the net is unbounded,
with ``ω`` (:data:`OMEGA`) for token counts that can grow without limit.

A place with a capacity is never given ω (it cannot grow past its capacity); markings are
compared for acceleration only when they agree on those places, which keeps firing monotone
and the construction sound with capacities.
"""

from __future__ import annotations

from math import inf
from typing import TYPE_CHECKING, Any

from ..errors import AnalysisError
from .omega import OMEGA
from .structure import firing_rules

if TYPE_CHECKING:
    import networkx
    from matplotlib.figure import Figure

    from ..net import Net

__all__ = ["CoverabilityGraph", "coverability"]

Counts = tuple[float, ...]  # ints, or math.inf for ω


class CoverabilityGraph:
    """Nodes are markings with ω; an edge is a transition firing between them.

    ``markings`` are ``{place: count or OMEGA}`` dicts in discovery order (0 is the initial
    marking); ``edges`` are ``(source, transition, target)`` triples of node numbers.

    Examples
    --------
    >>> net = (dipen.Net("pump").place("on", tokens=1).place("water")
    ...        .transition("pump", take="on", give=["on", "water"]))
    >>> graph = dipen.analysis.coverability(net)
    >>> graph.markings, graph.edges
    ([{'on': 1, 'water': 0}, {'on': 1, 'water': ω}], [(0, 'pump', 1), (1, 'pump', 1)])
    >>> graph.is_bounded(), graph.bounds()
    (False, {'on': 1, 'water': ω})
    """

    def __init__(self, net: Net, nodes: list[Counts], edges: list[tuple[int, int, int]],
                 incomplete: bool, max_states: int) -> None:
        self.net = net
        self.places = tuple(net.places)
        self.incomplete = incomplete
        self.max_states = max_states
        self._nodes = nodes
        self._edges = edges

    def __repr__(self) -> str:
        extra = f", incomplete (max_states={self.max_states})" if self.incomplete else ""
        return (f"CoverabilityGraph({self.net.name!r}, markings={len(self._nodes)}, "
                f"edges={len(self._edges)}{extra})")

    def __len__(self) -> int:
        return len(self._nodes)

    @property
    def markings(self) -> list[dict[str, Any]]:
        """Every node's marking, ``OMEGA`` where a place is unbounded."""
        return [self._marking(node) for node in self._nodes]

    @property
    def edges(self) -> list[tuple[int, str, int]]:
        """``(source, transition, target)`` for every edge."""
        names = tuple(self.net.transitions)
        return [(source, names[fired], target) for source, fired, target in self._edges]

    def bounds(self) -> dict[str, Any]:
        """The most tokens each place can hold: an int, or ``OMEGA`` if it has no bound."""
        self._need_complete("bounds()")
        highest = [0.0] * len(self.places)
        for node in self._nodes:
            highest = [max(a, b) for a, b in zip(highest, node)]
        return {place: OMEGA if value == inf else int(value)
                for place, value in zip(self.places, highest)}

    def is_bounded(self) -> bool:
        """Whether every place has a bound."""
        return all(bound is not OMEGA for bound in self.bounds().values())

    def dead_transitions(self) -> list[str]:
        """The transitions that can never fire (none of the graph's edges fires them)."""
        self._need_complete("dead_transitions()")
        fired = {number for _, number, _ in self._edges}
        return [name for number, name in enumerate(self.net.transitions) if number not in fired]

    def to_networkx(self) -> networkx.MultiDiGraph:
        """The graph as a :class:`networkx.MultiDiGraph` (nodes: ``label``, ``marking``,
        ``initial``, ``deadlock``; edges: ``transition``)."""
        import networkx

        graph = networkx.MultiDiGraph(net=self.net.name, incomplete=self.incomplete)
        sources = {source for source, _, _ in self._edges}
        for number, node in enumerate(self._nodes):
            marking = self._marking(node)
            label = " ".join(f"{p}={n}" for p, n in marking.items() if n) or "∅"
            graph.add_node(number, label=label, marking=marking, initial=number == 0,
                           deadlock=not self.incomplete and number not in sources)
        names = tuple(self.net.transitions)
        for source, fired, target in self._edges:
            graph.add_edge(source, target, transition=names[fired])
        return graph

    def draw(self, **options: Any) -> Figure:
        """A matplotlib figure of the graph (see :func:`dipen.viz.state_graph.draw`)."""
        from ..viz.state_graph import draw

        return draw(self, **options)

    def _marking(self, node: Counts) -> dict[str, Any]:
        return {place: OMEGA if value == inf else int(value) for place, value in zip(self.places, node)}

    def _need_complete(self, question: str) -> None:
        if self.incomplete:
            raise AnalysisError(
                f"net {self.net.name!r}: {question} needs the whole coverability graph, but it "
                f"stopped at max_states={self.max_states}; call coverability(net, "
                "max_states=...) with a larger bound"
            )


def coverability(net: Net, *, max_states: int = 100_000) -> CoverabilityGraph:
    """The Karp–Miller coverability graph of a P/T net (token data is ignored).

    Raises
    ------
    AnalysisError
        If a transition runs code (its outputs are not given by its arcs).

    Examples
    --------
    >>> net = (dipen.Net("n").place("a", tokens=1).place("b", capacity=2)
    ...        .transition("t", take="a", give=["a", "b"]))
    >>> dipen.analysis.coverability(net).bounds()
    {'a': 1, 'b': 2}
    """
    for transition in net.transitions.values():
        if transition.run is not None or transition.executor is not None or transition.guard is not None:
            raise AnalysisError(
                f"net {net.name!r}, transition {transition.name!r}: coverability works on P/T "
                "nets, and this transition runs code; use reachability(net, pure=...) instead"
            )
    capacities = tuple(place.capacity for place in net.places.values())
    bounded = tuple(number for number, capacity in enumerate(capacities) if capacity is not None)
    rules = firing_rules(net)
    initial: Counts = tuple(float(len(place.initial)) for place in net.places.values())
    nodes = [initial]
    parent = [-1]
    index = {initial: 0}
    edges: list[tuple[int, int, int]] = []
    incomplete = False
    current = 0
    while current < len(nodes) and not incomplete:
        marking = nodes[current]
        for number, rule in enumerate(rules):
            successor = _fire(marking, rule, capacities)
            if successor is None:
                continue
            successor = _accelerate(successor, current, nodes, parent, bounded)
            target = index.get(successor)
            if target is None:
                if len(nodes) >= max_states:
                    incomplete = True
                    break
                target = index[successor] = len(nodes)
                nodes.append(successor)
                parent.append(current)
            edges.append((current, number, target))
        else:
            current += 1
    return CoverabilityGraph(net, nodes, edges, incomplete, max_states)


def _fire(marking: Counts, rule: Any, capacities: tuple[int | None, ...]) -> Counts | None:
    for place, weight in (*rule.takes, *rule.reads):
        if marking[place] < weight:
            return None
    after = list(marking)
    for place, weight in rule.takes:
        after[place] -= weight
    for place, weight in rule.gives:
        after[place] += weight
    for place, _ in rule.gives:
        capacity = capacities[place]
        if capacity is not None and after[place] > capacity:
            return None
    return tuple(after)


def _accelerate(successor: Counts, node: int, nodes: list[Counts], parent: list[int],
                bounded: tuple[int, ...]) -> Counts:
    """Put ω where ``successor`` strictly covers an ancestor (same counts on bounded places)."""
    after = list(successor)
    while node >= 0:
        ancestor = nodes[node]
        if (all(ancestor[p] == after[p] for p in bounded)
                and all(a <= b for a, b in zip(ancestor, after)) and tuple(after) != ancestor):
            for place, (a, b) in enumerate(zip(ancestor, after)):
                if b > a:
                    after[place] = inf
        node = parent[node]
    return tuple(after)
