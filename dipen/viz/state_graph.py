"""Drawings of state graphs: a reachability or coverability graph as a matplotlib figure or SVG.

States are rounded boxes labelled with their marking (places that hold tokens), laid out in
layers by their distance from the initial state (drawn with a thick edge); deadlocks are red.
Edges are labelled with the transition that fires; a firing that leaves the state unchanged is
listed under the state (``↺ name``). As in :mod:`dipen.viz.draw`, figures are built on
:class:`matplotlib.figure.Figure` with the Agg canvas (no pyplot) and every artist has a
``gid`` (``state:<n>``, ``edge:<source>:<target>:<k>``, ``edge-label:...``, ``loops:<n>``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import AnalysisError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["DRAW_LIMIT", "draw", "layout", "to_svg"]

#: The most states a drawing shows; larger graphs are refused (they would be unreadable).
DRAW_LIMIT = 300
_FILL, _EDGE = "#eeeeee", "#555555"
_DEADLOCK = ("#f4a582", "#b2182b")
_WIDTH, _HEIGHT = 2.2, 1.1  # data units between columns and between layers


def layout(graph: Any) -> dict[int, tuple[float, float]]:
    """Positions ``{state: (x, y)}``: one row per breadth-first layer from the initial state,
    centred, in state order.

    Examples
    --------
    >>> from dipen.viz.state_graph import layout
    >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
    >>> layout(dipen.analysis.reachability(net))
    {0: (0.0, 0.0), 1: (0.0, -1.1), 2: (0.0, -2.2)}
    """
    nx_graph = graph.to_networkx()
    depth = {0: 0} if len(nx_graph) else {}
    frontier = [0] if depth else []
    while frontier:
        following = []
        for node in frontier:
            for successor in sorted(nx_graph.successors(node)):
                if successor not in depth:
                    depth[successor] = depth[node] + 1
                    following.append(successor)
        frontier = following
    for node in nx_graph.nodes:  # unreachable in the drawing only if the graph is cut off
        depth.setdefault(node, max(depth.values(), default=-1) + 1)
    rows: dict[int, list[int]] = {}
    for node in sorted(depth):
        rows.setdefault(depth[node], []).append(node)
    positions = {}
    for level, nodes in rows.items():
        for column, node in enumerate(nodes):
            positions[node] = ((column - (len(nodes) - 1) / 2) * _WIDTH, -level * _HEIGHT)
    return positions


def draw(graph: Any, *, ax: Axes | None = None, figsize: tuple[float, float] | None = None) -> Figure:
    """Draw a :class:`~dipen.analysis.ReachabilityGraph` or
    :class:`~dipen.analysis.CoverabilityGraph` and return the matplotlib figure.

    Raises
    ------
    AnalysisError
        If the graph has more than ``DRAW_LIMIT`` states.

    Examples
    --------
    >>> net = (dipen.Net("n").place("a", tokens=1).place("b")
    ...        .transition("t", take="a", give="b").transition("u", read="a"))
    >>> figure = dipen.analysis.reachability(net).draw()
    >>> sorted(p.get_gid() for p in figure.axes[0].patches if p.get_gid().startswith("state"))
    ['state:0', 'state:1']
    >>> [t.get_text() for t in figure.axes[0].texts if t.get_gid() == "loops:0"]
    ['↺ u']
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    nx_graph = graph.to_networkx()
    if len(nx_graph) > DRAW_LIMIT:
        raise AnalysisError(
            f"net {graph.net.name!r}: {len(nx_graph)} states are too many to draw (limit "
            f"{DRAW_LIMIT}); ask the graph questions instead, or draw graph.to_networkx() yourself"
        )
    positions = layout(graph)
    xs = [x for x, _ in positions.values()] or [0.0]
    ys = [y for _, y in positions.values()] or [0.0]
    bounds = (min(xs) - 1.2, max(xs) + 1.2, min(ys) - 0.7, max(ys) + 0.5)
    width, height = bounds[1] - bounds[0], bounds[3] - bounds[2]
    if ax is None:
        if figsize is None:
            shrink = min(1.0, 16 / (width * 0.9), 12 / (height * 0.9))
            figsize = (max(2.5, width * 0.9 * shrink), max(1.6, height * 0.9 * shrink) + 0.3)
        figure = Figure(figsize=figsize)
        FigureCanvasAgg(figure)
        ax = figure.add_axes((0.0, 0.0, 1.0, 1.0 - 0.3 / figsize[1]))
        extra = ", incomplete" if graph.incomplete else ""
        figure.text(0.01, 0.99, f"{graph.net.name}: {len(nx_graph)} states{extra}", ha="left",
                    va="top", fontsize=9, color="#444444", gid="title", parse_math=False)
    figure = ax.figure.figure
    ax.set_axis_off()
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_ylim(bounds[2], bounds[3])
    ax.set_aspect("equal", adjustable="datalim")
    font = 7.0
    loops: dict[int, list[str]] = {}
    for node, attributes in nx_graph.nodes(data=True):
        x, y = positions[node]
        fill, edge = _DEADLOCK if attributes["deadlock"] else (_FILL, _EDGE)
        ax.add_patch(FancyBboxPatch(
            (x - 0.95, y - 0.25), 1.9, 0.5, boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=fill, edgecolor=edge, linewidth=2.2 if attributes["initial"] else 1.0,
            gid=f"state:{node}", zorder=2,
        ))
        ax.text(x, y, _shorten(attributes["label"]), ha="center", va="center", fontsize=font,
                gid=f"state-label:{node}", zorder=3, parse_math=False)
    drawn: dict[tuple[int, int], int] = {}
    for source, target, attributes in nx_graph.edges(data=True):
        if source == target:
            loops.setdefault(source, []).append(attributes["transition"])
            continue
        k = drawn[(source, target)] = drawn.get((source, target), -1) + 1
        rad = 0.15 + 0.15 * k if (target, source) in drawn or k else 0.0
        start, end = positions[source], positions[target]
        ax.add_patch(FancyArrowPatch(
            start, end, connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>", mutation_scale=9,
            shrinkA=12, shrinkB=12, color="#555555", linewidth=0.8,
            gid=f"edge:{source}:{target}:{k}", zorder=1,
        ))
        middle = ((start[0] + end[0]) / 2 + rad * (end[1] - start[1]) / 2,
                  (start[1] + end[1]) / 2 - rad * (end[0] - start[0]) / 2)
        ax.text(*middle, attributes["transition"], ha="center", va="center", fontsize=font - 1,
                color="#1b7837", gid=f"edge-label:{source}:{target}:{k}", zorder=3,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.8},
                parse_math=False)
    for node, names in loops.items():
        x, y = positions[node]
        ax.text(x, y - 0.36, "↺ " + ", ".join(names), ha="center", va="top", fontsize=font - 1,
                color="#1b7837", gid=f"loops:{node}", zorder=3, parse_math=False)
    return figure


def to_svg(graph: Any, **options: Any) -> str:
    """The drawing of a state graph as SVG text (see :func:`draw`).

    Examples
    --------
    >>> from dipen.viz.state_graph import to_svg
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> svg = to_svg(dipen.analysis.reachability(net))
    >>> svg.startswith("<?xml") and 'id="state:1"' in svg
    True
    """
    import io

    import matplotlib

    figure = draw(graph, **options)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "dipen"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _shorten(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
