"""The state graph panel of the live view (issue 6): the reachability graph of the net, drawn
in the browser (``view_states.js``), with the state the run is in now.

The graph is computed once, when the panel is first shown, bounded by ``max_states`` (300, as
many as :func:`dipen.viz.state_graph.draw` draws); only nets the analysis can explore have one
(P/T nets, or nets whose code is declared pure: pass the graph made with
``dipen.analysis.reachability(net, pure=...)``). For any other net the panel says why there
is no graph. Two JSON values go to the browser:

``state_graph``
    The static drawing: ``states`` (``label``: the marking, which the browser cuts to fit its
    box and shows whole as a tooltip; ``at`` in layout units; ``deadlock``,
    ``loops``: the transitions that fire without changing the state), ``edges`` (``source``,
    ``target``, ``transitions``, ``both``: the states reach each other), ``incomplete``,
    ``max_states``, ``count`` and ``message`` (why there is no graph, or ``""``).
``state_now``
    ``live`` (the index of the state the live marking is in, ``None`` if it is in none),
    ``shown`` (the state of the marking shown: a past one at a history position), ``position``
    and a ``text`` that says it in words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..analysis import ReachabilityGraph, reachability
from ..errors import AnalysisError, RunnerError
from .state_graph import DRAW_LIMIT, _shorten, layout

if TYPE_CHECKING:
    from ..net import Net
    from ..tokens import Marking
    from .widget_state import LiveState

__all__ = ["MAX_STATES", "StateGraphPanel", "describe_state_graph"]

#: The states the live view explores at most when it computes the graph itself.
MAX_STATES = DRAW_LIMIT
_LABEL = 60  # characters of a state's label in words


def describe_state_graph(graph: ReachabilityGraph) -> dict[str, Any]:
    """The ``state_graph`` value of ``graph``: states with positions (see
    :func:`dipen.viz.state_graph.layout`), labels, deadlocks, and the edges between different
    states (firings that keep the state are ``loops``).

    Examples
    --------
    >>> from dipen.viz.state_panel import describe_state_graph
    >>> net = (dipen.Net("ring").place("a", tokens=1).place("b")
    ...        .transition("go", take="a", give="b").transition("back", take="b", give="a"))
    >>> described = describe_state_graph(dipen.analysis.reachability(net))
    >>> [(s["label"], s["at"], s["deadlock"]) for s in described["states"]]
    [('a=1', [0.0, 0.0], False), ('b=1', [0.0, -1.1], False)]
    >>> described["edges"][0]
    {'source': 0, 'target': 1, 'transitions': ['go'], 'both': True}
    """
    positions = layout(graph)
    outgoing = graph._outgoing()
    complete = not graph.incomplete
    states: list[dict[str, Any]] = []
    for state in graph.states:
        x, y = positions[state.index]
        states.append({
            "label": state.label(), "at": [round(x, 3), round(y, 3)],
            "deadlock": (complete or state.index < graph._explored) and not outgoing[state.index],
            "loops": [],
        })
    pairs: dict[tuple[int, int], list[str]] = {}
    for edge in graph.edges:
        source, target = edge.source.index, edge.target.index
        if source == target:
            found: list[str] = states[source]["loops"]
        else:
            found = pairs.setdefault((source, target), [])
        if edge.transition not in found:
            found.append(edge.transition)
    edges = [{"source": source, "target": target, "transitions": names,
              "both": (target, source) in pairs}
             for (source, target), names in pairs.items()]
    return {"name": graph.net.name, "states": states, "edges": edges,
            "incomplete": graph.incomplete, "max_states": graph.max_states,
            "count": len(graph), "message": ""}


class StateGraphPanel:
    """The state graph of a live view's net, made once, and where the run is in it.

    Parameters
    ----------
    net
        The net of the view.
    graph
        A :class:`dipen.analysis.ReachabilityGraph` of ``net`` to show (e.g. one explored with
        ``pure=...``), or ``None`` to explore ``net`` when the panel is first shown.
    max_states
        The most states to explore (and to draw).

    Examples
    --------
    >>> from dipen.viz.state_panel import StateGraphPanel
    >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
    >>> panel = StateGraphPanel(net)
    >>> panel.describe()["count"], panel.where({"a": 1, "b": 1})
    (3, 1)
    """

    def __init__(self, net: Net, graph: ReachabilityGraph | None = None, *,
                 max_states: int = MAX_STATES) -> None:
        if graph is not None and graph.net is not net and graph.places != tuple(net.places):
            raise AnalysisError(f"the state graph is of net {graph.net.name!r}, whose places "
                                f"differ from those of net {net.name!r}")
        self.net = net
        self.graph = graph
        self.max_states = max_states
        self._description: dict[str, Any] | None = None

    def describe(self) -> dict[str, Any]:
        """The ``state_graph`` value; the graph is explored the first time. A net the analysis
        cannot explore (or a graph too large to draw) gets a ``message`` instead of states."""
        if self._description is None:
            name = self.net.name
            try:
                if self.graph is None:
                    self.graph = reachability(self.net, max_states=self.max_states)
                if len(self.graph) > DRAW_LIMIT:
                    raise AnalysisError(
                        f"net {name!r} has more than {DRAW_LIMIT} states ({len(self.graph)} "
                        f"found), too many to draw; pass a smaller graph")
                self._description = describe_state_graph(self.graph)
            except AnalysisError as exc:
                self.graph = None
                self._description = {"name": name, "states": [], "edges": [],
                                     "incomplete": False, "max_states": self.max_states,
                                     "count": 0, "message": f"no state graph: {exc}"}
        return self._description

    def where(self, marking: Any) -> int | None:
        """The index of the state ``marking`` is in (see
        :meth:`dipen.analysis.ReachabilityGraph.find`), ``None`` if none (or no graph)."""
        if marking is None or self.graph is None:
            return None
        found = self.graph.find(marking)
        return None if found is None else found.index

    def state_now(self, state: LiveState, position: int | None) -> dict[str, Any]:
        """The ``state_now`` value for the view of ``state`` at history ``position``."""
        self.describe()
        try:
            live: Marking | None = state.runners[0].marking
        except RunnerError:  # not connected yet
            live = None
        past = state.past if position is not None else None
        now = self.where(live)
        shown = self.where(past) if past is not None else now
        return {"live": now, "shown": shown, "position": position if past is not None else None,
                "text": self._text(now, shown, past)}

    def _text(self, now: int | None, shown: int | None, past: Marking | None) -> str:
        description = self.describe()
        if self.graph is None:
            return description["message"]
        states = description["states"]

        def say(index: int | None, what: str) -> str:
            if index is None:
                where = (f"outside the {len(states)} states explored" if description["incomplete"]
                         else "in no reachable state (edited by hand?)")
                return f"{what} is {where}"
            state = states[index]
            return f"{what} is in state {index}: {_shorten(state['label'], _LABEL)}" + (
                " (deadlock)" if state["deadlock"] else "")

        text = say(now, "the run")
        if past is not None:
            text = say(shown, f"revision {past.revision}") + "; " + text
        return text
