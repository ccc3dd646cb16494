"""The reachability graph: states (markings without token ids), edges (firings) and the
questions asked of them — deadlocks, bounds, dead transitions, reversibility, home states.

The graph is stored compactly (one key per state, three integer lists for the edges);
:class:`State` and :class:`Edge` objects are made when they are looked at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from ..errors import AnalysisError
from ..tokens import Token
from .components import components
from .omega import OMEGA

if TYPE_CHECKING:
    import networkx
    from matplotlib.figure import Figure

    from ..net import Net

__all__ = ["Deadlock", "Edge", "ReachabilityGraph", "State"]


class State(Mapping[str, tuple[Any, ...]]):
    """One reachable state: for every place, the data of its tokens (a multiset, in a fixed
    order; token ids are not part of a state).

    ``state[place]`` is the tuple of token data (``None`` for plain tokens), ``counts()`` the
    number of tokens per place; ``index`` is its position in :attr:`ReachabilityGraph.states`
    (0 is the initial state, and states are numbered in breadth-first order).

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
    >>> graph = dipen.analysis.reachability(net)
    >>> state = graph.states[1]
    >>> state, state.index, state["b"], state.counts()
    (State(a=1, b=1), 1, (None,), {'a': 1, 'b': 1})
    """

    __slots__ = ("_graph", "index")

    def __init__(self, graph: ReachabilityGraph, index: int) -> None:
        self._graph = graph
        self.index = index

    def __getitem__(self, place: str) -> tuple[Any, ...]:
        return self._graph._tokens(self.index, self._graph._place_index(place))

    def __iter__(self) -> Iterator[str]:
        return iter(self._graph.places)

    def __len__(self) -> int:
        return len(self._graph.places)

    def counts(self) -> dict[str, int]:
        """Number of tokens per place."""
        key = self._graph._keys[self.index]
        if self._graph.coloured:
            return {place: len(tokens) for place, tokens in zip(self._graph.places, key)}
        return dict(zip(self._graph.places, key))

    def data(self) -> dict[str, list[Any]]:
        """The data of the tokens per place."""
        return {place: list(self[place]) for place in self._graph.places}

    def label(self) -> str:
        """A short text: the places that hold tokens (``"a=1 b=[2, 3]"``), ``"∅"`` if none."""
        graph = self._graph
        key = graph._keys[self.index]
        parts = []
        for number, place in enumerate(graph.places):
            if graph.coloured:
                tokens = self[place]
                if tokens:
                    plain = all(data is None for data in tokens)
                    parts.append(f"{place}={len(tokens) if plain else list(tokens)}")
            elif key[number]:
                parts.append(f"{place}={key[number]}")
        return " ".join(parts) or "∅"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, State):
            return self._graph is other._graph and self.index == other.index
        return NotImplemented

    def __hash__(self) -> int:
        return hash((id(self._graph), self.index))

    def __repr__(self) -> str:
        graph = self._graph
        if not graph.coloured:
            inner = ", ".join(f"{p}={n}" for p, n in zip(graph.places, graph._keys[self.index]))
        else:
            shown = []
            for place in graph.places:
                tokens = self[place]
                plain = all(data is None for data in tokens)
                shown.append(f"{place}={len(tokens) if plain else list(tokens)}")
            inner = ", ".join(shown)
        return f"State({inner})"


class Edge(NamedTuple):
    """One firing between two states: ``transition`` with ``binding`` (the data of the tokens
    it took, ``{place: (data, ...)}``; empty for P/T nets, where any tokens are alike).

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=["x", "y"]).place("b").transition("t", take="a", give="b")
    >>> dipen.analysis.reachability(net).successors(0)
    [Edge(0 -[t {'a': ('x',)}]-> 1), Edge(0 -[t {'a': ('y',)}]-> 2)]
    """

    source: State
    transition: str
    binding: Mapping[str, tuple[Any, ...]]
    target: State

    def __repr__(self) -> str:
        binding = f" {dict(self.binding)!r}" if self.binding else ""
        return f"Edge({self.source.index} -[{self.transition}{binding}]-> {self.target.index})"


class Deadlock(NamedTuple):
    """A reachable state in which no transition is enabled, and the shortest firing sequence
    from the initial state that reaches it (``path``); ``why`` says it in words.

    Examples
    --------
    >>> net = (dipen.Net("n").place("a", tokens=1).place("b").place("c")
    ...        .transition("t", take="a", give="b").transition("u", take="b", give="c"))
    >>> dipen.analysis.reachability(net).deadlocks()
    [Deadlock(State(a=0, b=0, c=1), path=['t', 'u'])]
    """

    state: State
    path: list[Edge]

    def __repr__(self) -> str:
        return f"Deadlock({self.state!r}, path={[edge.transition for edge in self.path]!r})"

    @property
    def why(self) -> str:
        """The firing sequence that leads to the deadlock, in words."""
        fired = ", ".join(edge.transition for edge in self.path)
        how = f"firing {fired}" if fired else "in the initial state, before anything fires"
        return f"{self.state.label()} is reached by {how}; no transition is enabled there"


class _Lazy(Sequence[Any]):
    """A read-only sequence whose items are made on access."""

    __slots__ = ("_length", "_make")

    def __init__(self, length: int, make: Any) -> None:
        self._length = length
        self._make = make

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self._make(i) for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        return self._make(index)


class ReachabilityGraph:
    """The states reachable from a net's initial marking and the firings between them.

    Made by :func:`dipen.analysis.reachability`. ``incomplete`` is true when exploration
    stopped at ``max_states``; questions whose answer needs every state then raise
    :class:`dipen.AnalysisError` (P/T nets answer ``bounds``/``is_bounded``/
    ``dead_transitions`` from a coverability graph instead).

    Examples
    --------
    >>> net = (dipen.Net("ring").place("a", tokens=1).place("b")
    ...        .transition("forth", take="a", give="b").transition("back", take="b", give="a"))
    >>> graph = dipen.analysis.reachability(net)
    >>> graph
    ReachabilityGraph('ring', states=2, edges=2)
    >>> graph.initial, graph.is_reversible(), graph.deadlocks(), graph.bounds()
    (State(a=1, b=0), True, [], {'a': 1, 'b': 1})
    """

    def __init__(
        self, net: Net, keys: list[Any], parent: list[int], edges: tuple[list[int], list[int], list[int]],
        *, explored: int, incomplete: bool, max_states: int, seconds: float,
        coloured: bool = False, data: Mapping[str, Any] | None = None,
        bindings: list[Any] | None = None,
    ) -> None:
        self.net = net
        self.places: tuple[str, ...] = tuple(net.places)
        self.transitions: tuple[str, ...] = tuple(net.transitions)
        self.coloured = coloured
        self.incomplete = incomplete
        self.max_states = max_states
        self.seconds = seconds
        self._keys = keys
        self._parent = parent
        self._source, self._fired, self._target = edges
        self._explored = explored
        self._data = data or {}
        self._bindings = bindings
        self._places_at = {place: number for number, place in enumerate(self.places)}
        self._out: list[list[int]] | None = None
        self._lookup: dict[Any, int] | None = None  # key -> state index, made by find()

    # -- the graph --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        extra = f", incomplete (max_states={self.max_states})" if self.incomplete else ""
        return (f"ReachabilityGraph({self.net.name!r}, states={len(self._keys)}, "
                f"edges={len(self._source)}{extra})")

    @property
    def initial(self) -> State:
        """The initial state."""
        return State(self, 0)

    @property
    def states(self) -> Sequence[State]:
        """Every state found, in breadth-first order (``states[0]`` is the initial one)."""
        return _Lazy(len(self._keys), lambda index: State(self, index))

    @property
    def edges(self) -> Sequence[Edge]:
        """Every firing found, grouped by source state."""
        return _Lazy(len(self._source), self._edge)

    @property
    def rate(self) -> float:
        """States found per second of exploration."""
        return len(self._keys) / self.seconds if self.seconds > 0 else float("inf")

    def successors(self, state: State | int) -> list[Edge]:
        """The firings that leave ``state`` (a :class:`State` or its index).

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> dipen.analysis.reachability(net).successors(0)
        [Edge(0 -[t]-> 1)]
        """
        return [self._edge(number) for number in self._outgoing()[self._index(state)]]

    def path_to(self, state: State | int) -> list[Edge]:
        """The shortest firing sequence from the initial state to ``state``.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> graph = dipen.analysis.reachability(net)
        >>> [edge.transition for edge in graph.path_to(graph.states[-1])]
        ['t', 't']
        """
        index = self._index(state)
        path = []
        while self._parent[index] >= 0:
            edge = self._parent[index]
            path.append(self._edge(edge))
            index = self._source[edge]
        return path[::-1]

    def find(self, marking: Mapping[str, Any]) -> State | None:
        """The state of this graph that ``marking`` is in, or ``None`` if it is not one.

        ``marking`` is a :class:`dipen.Marking` (a runner's, or one from history: tokens held
        by running firings count where they lie, as the firing has not ended) or a mapping
        ``{place: number of tokens}`` or ``{place: [token data, ...]}``; places it leaves out
        hold no tokens. A P/T graph compares the numbers of tokens only, a coloured one the
        token data too.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> graph = dipen.analysis.reachability(net)
        >>> runner = dipen.Runner(net)
        >>> _ = runner.step_sync("t")
        >>> graph.find(runner.marking), graph.find({"b": 2}), graph.find({"a": 5})
        (State(a=1, b=1), State(a=0, b=2), None)
        """
        if self._lookup is None:
            self._lookup = {key: index for index, key in enumerate(self._keys)}
        key: list[Any] = []
        for place in self.places:
            value = marking.get(place, ())
            if isinstance(value, int):
                if self.coloured:
                    value = (None,) * value
                else:
                    key.append(value)
                    continue
            if not self.coloured:
                key.append(len(value))
                continue
            try:  # the canonical JSON text of each token's data, as the exploration keeps it
                codes = sorted(json.dumps(item.data if isinstance(item, Token) else item, sort_keys=True,
                                          separators=(",", ":")) for item in value)
            except (TypeError, ValueError):  # data that is not JSON is in no state
                return None
            key.append(tuple(codes))
        index = self._lookup.get(tuple(key))
        return None if index is None else State(self, index)

    # -- questions --------------------------------------------------------------------------

    def deadlocks(self, *, partial: bool = False) -> list[Deadlock]:
        """The reachable states where no transition is enabled, each with its firing sequence.

        With ``partial=True`` an incomplete graph answers with the deadlocks among the
        states explored so far (there may be more).

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> (deadlock,) = dipen.analysis.reachability(net).deadlocks()
        >>> deadlock.state, deadlock.why
        (State(a=0, b=1), 'b=1 is reached by firing t; no transition is enabled there')
        """
        if not partial:
            self._need_complete("deadlocks()", "pass partial=True for those found so far")
        outgoing = self._outgoing()
        return [
            Deadlock(State(self, index), self.path_to(index))
            for index in range(self._explored) if not outgoing[index]
        ]

    def bounds(self) -> dict[str, Any]:
        """The most tokens each place holds in any reachable state; ``OMEGA`` (shown ``ω``)
        for a place without bound (found with a coverability graph when the state space is
        cut off).

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give=["a", "b"])
        >>> dipen.analysis.reachability(net, max_states=20).bounds()
        {'a': 1, 'b': ω}
        """
        if self.incomplete:
            self._need_pt("bounds()")
            from .coverability import coverability

            return coverability(self.net).bounds()
        highest = [0] * len(self.places)
        for key in self._keys:
            for number, value in enumerate(key):
                count = len(value) if self.coloured else value
                if count > highest[number]:
                    highest[number] = count
        return dict(zip(self.places, highest))

    def is_bounded(self) -> bool:
        """Whether every place has a bound (see :meth:`bounds`).

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).transition("t", read="a", give="a")
        >>> dipen.analysis.reachability(net, max_states=10).is_bounded()
        False
        """
        return all(bound is not OMEGA for bound in self.bounds().values())

    def dead_transitions(self) -> list[str]:
        """The transitions that fire in no reachable state.

        Examples
        --------
        >>> net = (dipen.Net("n").place("a", tokens=1).place("b").place("c")
        ...        .transition("go", take="a", give="b").transition("never", take="c", give="a"))
        >>> dipen.analysis.reachability(net).dead_transitions()
        ['never']
        """
        if self.incomplete:
            self._need_pt("dead_transitions()")
            from .coverability import coverability

            return coverability(self.net).dead_transitions()
        fired = set(self._fired)
        return [name for number, name in enumerate(self.transitions) if number not in fired]

    def is_reversible(self) -> bool:
        """Whether the initial state can be reached again from every reachable state.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> dipen.analysis.reachability(net).is_reversible()
        False
        """
        self._need_complete("is_reversible()")
        home = self._home()
        return bool(home) and 0 in home

    def home_states(self) -> list[State]:
        """The states reachable from every reachable state (empty if there are none).

        Examples
        --------
        >>> net = (dipen.Net("n").place("a", tokens=1).place("b").place("c")
        ...        .transition("start", take="a", give="b")
        ...        .transition("spin", take="b", give="c").transition("back", take="c", give="b"))
        >>> dipen.analysis.reachability(net).home_states()
        [State(a=0, b=1, c=0), State(a=0, b=0, c=1)]
        """
        self._need_complete("home_states()")
        return [State(self, index) for index in sorted(self._home())]

    # -- conversions --------------------------------------------------------------------------

    def to_networkx(self) -> networkx.MultiDiGraph:
        """The graph as a :class:`networkx.MultiDiGraph`: nodes are state indices with
        ``label``, ``counts``, ``initial`` and ``deadlock`` attributes; edges carry
        ``transition`` and ``binding``.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> g = dipen.analysis.reachability(net).to_networkx()
        >>> list(g.edges(data="transition")), g.nodes[1]["deadlock"]
        ([(0, 1, 't')], True)
        """
        import networkx

        graph = networkx.MultiDiGraph(net=self.net.name, incomplete=self.incomplete)
        outgoing = self._outgoing()
        for index in range(len(self._keys)):
            state = State(self, index)
            graph.add_node(index, label=state.label(), counts=state.counts(), initial=index == 0,
                           deadlock=index < self._explored and not outgoing[index])
        for number in range(len(self._source)):
            graph.add_edge(self._source[number], self._target[number],
                           transition=self.transitions[self._fired[number]],
                           binding=self._binding(number))
        return graph

    def draw(self, **options: Any) -> Figure:
        """A matplotlib figure of the state graph (see :func:`dipen.viz.state_graph.draw`).

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> figure = dipen.analysis.reachability(net).draw()
        >>> [t.get_text() for t in figure.axes[0].texts if t.get_gid().startswith("state-label")]
        ['a=1', 'b=1']
        """
        from ..viz.state_graph import draw

        return draw(self, **options)

    def _repr_svg_(self) -> str | None:
        if len(self._keys) > 60:  # too many to read as a picture: let the repr speak
            return None
        from ..viz.state_graph import to_svg

        return to_svg(self)

    # -- internals ----------------------------------------------------------------------------

    def _index(self, state: State | int) -> int:
        index = state.index if isinstance(state, State) else state
        if not isinstance(index, int) or not 0 <= index < len(self._keys):
            raise AnalysisError(f"net {self.net.name!r}: {state!r} is not a state of this graph")
        return index

    def _place_index(self, place: str) -> int:
        try:
            return self._places_at[place]
        except KeyError:
            raise KeyError(f"no place {place!r} in net {self.net.name!r}") from None

    def _tokens(self, index: int, place: int) -> tuple[Any, ...]:
        value = self._keys[index][place]
        if self.coloured:
            return tuple(self._data[code] for code in value)
        return (None,) * value

    def _binding(self, number: int) -> Mapping[str, tuple[Any, ...]]:
        if self._bindings is None:
            return {}
        return {place: tuple(self._data[code] for code in codes)
                for place, codes in self._bindings[number]}

    def _edge(self, number: int) -> Edge:
        return Edge(State(self, self._source[number]), self.transitions[self._fired[number]],
                    self._binding(number), State(self, self._target[number]))

    def _outgoing(self) -> list[list[int]]:
        if self._out is None:
            out: list[list[int]] = [[] for _ in self._keys]
            for number, source in enumerate(self._source):
                out[source].append(number)
            self._out = out
        return self._out

    def _need_complete(self, question: str, hint: str = "") -> None:
        if self.incomplete:
            raise AnalysisError(
                f"net {self.net.name!r}: {question} needs the whole state space, but exploration "
                f"stopped at max_states={self.max_states}; call reachability(net, "
                f"max_states=...) with a larger bound" + (f", or {hint}" if hint else "")
            )

    def _need_pt(self, question: str) -> None:
        if self.coloured:
            self._need_complete(question)

    def _home(self) -> set[int]:
        """The states of the only bottom strongly connected component (none if several)."""
        outgoing = self._outgoing()
        successors = [[self._target[edge] for edge in edges] for edges in outgoing]
        component = components(successors)
        bottom = set(component)
        for source, targets in enumerate(successors):
            for target in targets:
                if component[target] != component[source]:
                    bottom.discard(component[source])
        if len(bottom) != 1:
            return set()
        (only,) = bottom
        return {index for index, number in enumerate(component) if number == only}

