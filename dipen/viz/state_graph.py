"""Drawings of state graphs: a reachability or coverability graph as a matplotlib figure or SVG.

States are rounded boxes labelled with their marking (places that hold tokens), laid out in
layers by their distance from the initial state (drawn with a thick edge); deadlocks are red.
Edges are arrows labelled with the transition that fires (two states that reach each other are
joined by two arrows bending to opposite sides); a firing that leaves the state unchanged is
listed under the state (``↺ name``). Labels may be given (``labels=``) and are cut at
``max_label`` characters. As in :mod:`dipen.viz.draw`, figures are built on
:class:`matplotlib.figure.Figure` with the Agg canvas (no pyplot) and every artist has a
``gid`` (``state:<n>``, ``edge:<source>:<target>:<k>``, ``edge-label:...``, ``loops:<n>``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
_BOX_WIDTH, _BOX_HEIGHT, _LINE = 1.9, 0.5, 0.17  # a state's box; more per extra line of label
_CHARACTER = 0.062  # data units a character of a label takes, at the natural size
_INCH = 0.9  # inches per data unit at the natural size


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


def draw(
    graph: Any,
    *,
    labels: Callable[[Any], str] | Mapping[Any, str] | None = None,
    max_label: int | None = 28,
    ax: Axes | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Draw a :class:`~dipen.analysis.ReachabilityGraph` or
    :class:`~dipen.analysis.CoverabilityGraph` and return the matplotlib figure.

    Parameters
    ----------
    graph
        The state graph.
    labels
        The text of each state's box instead of its marking: a function of the state (a
        :class:`~dipen.analysis.State` of a reachability graph, the marking dict of a
        coverability graph), or a mapping from state index (or ``State``) to text; states a
        mapping leaves out keep their marking. Lines may be split with ``"\\n"``.
    max_label
        Cut each line of a label to this many characters (``…`` marks the cut); ``None``
        keeps labels whole. Boxes grow to fit the longest line shown.
    ax
        Draw into this matplotlib Axes instead of a new figure.
    figsize
        Size in inches of a new figure; by default it grows with the graph (up to 16 × 12).

    Raises
    ------
    AnalysisError
        If the graph has more than ``DRAW_LIMIT`` states, or ``max_label`` is below 2.

    Examples
    --------
    >>> net = (dipen.Net("n").place("a", tokens=1).place("b")
    ...        .transition("t", take="a", give="b").transition("u", read="a"))
    >>> graph = dipen.analysis.reachability(net)
    >>> figure = graph.draw()
    >>> sorted(p.get_gid() for p in figure.axes[0].patches if p.get_gid().startswith("state"))
    ['state:0', 'state:1']
    >>> [t.get_text() for t in figure.axes[0].texts if t.get_gid() == "loops:0"]
    ['↺ u']
    >>> figure = graph.draw(labels=lambda state: "start" if state.index == 0 else "end")
    >>> [t.get_text() for t in figure.axes[0].texts if t.get_gid().startswith("state-label")]
    ['start', 'end']
    >>> figure = graph.draw(labels={1: "a long name for the final state"}, max_label=10)
    >>> [t.get_text() for t in figure.axes[0].texts if t.get_gid().startswith("state-label")]
    ['a=1', 'a long na…']
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
    if max_label is not None and max_label < 2:
        raise AnalysisError(f"net {graph.net.name!r}: max_label is at least 2 characters (or "
                            f"None for whole labels), not {max_label!r}")
    texts = _labels(graph, nx_graph, labels, max_label)
    longest = max((len(line) for text in texts.values() for line in text.split("\n")), default=1)
    lines = max((text.count("\n") + 1 for text in texts.values()), default=1)
    box_width = max(_BOX_WIDTH, longest * _CHARACTER + 0.3)
    box_height = _BOX_HEIGHT + _LINE * (lines - 1)
    across, down = max(_WIDTH, box_width + 0.3), max(_HEIGHT, box_height + 0.6)
    positions = {node: (x * across / _WIDTH, y * down / _HEIGHT)
                 for node, (x, y) in layout(graph).items()}
    xs = [x for x, _ in positions.values()] or [0.0]
    ys = [y for _, y in positions.values()] or [0.0]
    bounds = (min(xs) - box_width / 2 - 0.25, max(xs) + box_width / 2 + 0.25,
              min(ys) - box_height / 2 - 0.45, max(ys) + box_height / 2 + 0.25)
    width, height = bounds[1] - bounds[0], bounds[3] - bounds[2]
    if ax is None:
        if figsize is None:
            shrink = min(1.0, 16 / (width * _INCH), 12 / (height * _INCH))
            figsize = (max(2.5, width * _INCH * shrink), max(1.6, height * _INCH * shrink) + 0.3)
        figure = Figure(figsize=figsize)
        FigureCanvasAgg(figure)
        ax = figure.add_axes((0.0, 0.0, 1.0, 1.0 - 0.3 / figsize[1]))
        extra = ", incomplete" if graph.incomplete else ""
        figure.text(0.01, 0.99, f"{graph.net.name}: {len(nx_graph)} states{extra}", ha="left",
                    va="top", fontsize=9, color="#444444", gid="title", parse_math=False)
    figure = ax.figure.figure
    inches = _fit(ax, bounds)
    font = max(4.0, min(7.0, 7.0 * inches / _INCH))  # smaller only when the figure is shrunk
    boxes = {}
    for node, attributes in nx_graph.nodes(data=True):
        x, y = positions[node]
        fill, edge = _DEADLOCK if attributes["deadlock"] else (_FILL, _EDGE)
        boxes[node] = FancyBboxPatch(
            (x - box_width / 2, y - box_height / 2), box_width, box_height,
            boxstyle="round,pad=0.02,rounding_size=0.12", facecolor=fill, edgecolor=edge,
            linewidth=2.2 if attributes["initial"] else 1.0, gid=f"state:{node}", zorder=2,
        )
        ax.add_patch(boxes[node])
        ax.text(x, y, texts[node], ha="center", va="center", fontsize=font, linespacing=1.1,
                gid=f"state-label:{node}", zorder=3, parse_math=False)
    pairs = {(source, target) for source, target in nx_graph.edges() if source != target}
    half = (box_width / 2 + 0.05, box_height / 2 + 0.05)
    bends: dict[tuple[int, int], float] = {}
    drawn: dict[tuple[int, int], int] = {}
    loops: dict[int, list[str]] = {}
    for source, target, attributes in nx_graph.edges(data=True):
        if source == target:
            loops.setdefault(source, []).append(attributes["transition"])
            continue
        k = drawn[(source, target)] = drawn.get((source, target), -1) + 1
        start, end = positions[source], positions[target]
        pair = (min(source, target), max(source, target))
        if pair not in bends:  # both directions bend alike: seen along each, opposite sides
            bends[pair] = _bend(positions[pair[0]], positions[pair[1]], positions, pair, half,
                                (target, source) in pairs)
        # the same curve the other way round has the opposite rad; edges both ways keep the
        # same rad, and so bend to opposite sides
        rad = bends[pair] if source < target or (target, source) in pairs else -bends[pair]
        rad += 0.15 * k * (1 if rad >= 0 else -1)
        ax.add_patch(FancyArrowPatch(
            start, end, connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
            mutation_scale=font * 1.4, patchA=boxes[source], patchB=boxes[target],
            shrinkA=1.0, shrinkB=1.0, color="#555555", linewidth=0.8,
            gid=f"edge:{source}:{target}:{k}", zorder=1,
        ))
        others = [at for node, at in positions.items() if node not in (source, target)]
        middle = next((point for t in (0.5, 0.4, 0.6, 0.3, 0.7)
                       if _clear_of(point := _curve(start, end, rad, t), others, half)),
                      _curve(start, end, rad, 0.5))
        ax.text(*middle, attributes["transition"], ha="center", va="center", fontsize=font - 1,
                color="#1b7837", gid=f"edge-label:{source}:{target}:{k}", zorder=3,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.8},
                parse_math=False)
    for node, names in loops.items():
        x, y = positions[node]
        ax.text(x, y - box_height / 2 - 0.11, "↺ " + ", ".join(names), ha="center", va="top",
                fontsize=font - 1, color="#1b7837", gid=f"loops:{node}", zorder=3,
                parse_math=False)
    return figure


def _bend(start: tuple[float, float], end: tuple[float, float],
          positions: dict[int, tuple[float, float]], ends: tuple[int, int],
          half: tuple[float, float], paired: bool) -> float:
    """The curvature (matplotlib's ``arc3`` rad) of the edge from ``start`` to ``end``: the
    first of straight, then more and more bent either way, that passes by every other state's
    box (``half``: half its width and height); edges both ways are never straight."""
    low, high = min(start[1], end[1]) - half[1], max(start[1], end[1]) + half[1]
    left, right = min(start[0], end[0]) - 3 * half[0], max(start[0], end[0]) + 3 * half[0]
    near = [(x, y) for node, (x, y) in positions.items()
            if node not in ends and low <= y <= high and left <= x <= right]
    choices = (0.3, 0.5, 0.8) if paired else (0.0, 0.3, -0.3, 0.5, -0.5, 0.8, -0.8)
    for rad in choices:
        if all(_clear(start, end, bent, near, half) for bent in ((rad, -rad) if paired else (rad,))):
            return rad
    return choices[0]


def _clear(start: tuple[float, float], end: tuple[float, float], rad: float,
           boxes: list[tuple[float, float]], half: tuple[float, float]) -> bool:
    """Whether the ``arc3`` curve from ``start`` to ``end`` misses the boxes at ``boxes``."""
    return all(_clear_of(_curve(start, end, rad, step / 20), boxes, half)
               for step in range(1, 20))


def _clear_of(point: tuple[float, float], boxes: list[tuple[float, float]],
              half: tuple[float, float]) -> bool:
    return all(abs(point[0] - x) >= half[0] or abs(point[1] - y) >= half[1] for x, y in boxes)


def _curve(start: tuple[float, float], end: tuple[float, float], rad: float,
           t: float) -> tuple[float, float]:
    """The point at ``t`` (0 to 1) of matplotlib's ``arc3`` curve from ``start`` to ``end``."""
    (x1, y1), (x2, y2) = start, end
    cx, cy = (x1 + x2) / 2 + rad * (y2 - y1), (y1 + y2) / 2 - rad * (x2 - x1)
    return ((1 - t) ** 2 * x1 + 2 * (1 - t) * t * cx + t ** 2 * x2,
            (1 - t) ** 2 * y1 + 2 * (1 - t) * t * cy + t ** 2 * y2)


def _fit(ax: Axes, bounds: tuple[float, float, float, float]) -> float:
    """Set limits that show ``bounds`` at equal aspect in ``ax``'s box (the box's own aspect,
    so that matplotlib needs to adjust nothing); return the inches per data unit."""
    figure = ax.figure.figure
    box = ax.get_position()
    box_width, box_height = box.width * figure.get_figwidth(), box.height * figure.get_figheight()
    width, height = bounds[1] - bounds[0], bounds[3] - bounds[2]
    inches = min(box_width / width, box_height / height)
    grow_x, grow_y = (box_width / inches - width) / 2, (box_height / inches - height) / 2
    ax.set_axis_off()
    ax.set_xlim(bounds[0] - grow_x, bounds[1] + grow_x)
    ax.set_ylim(bounds[2] - grow_y, bounds[3] + grow_y)
    ax.set_aspect("equal", adjustable="box")
    return inches


def _labels(graph: Any, nx_graph: Any, labels: Callable[[Any], str] | Mapping[Any, str] | None,
            limit: int | None) -> dict[int, str]:
    """The text of each state's box: the marking, or what ``labels`` gives, cut to ``limit``."""
    if labels is None:
        found = dict(nx_graph.nodes(data="label"))
    else:
        states = getattr(graph, "states", None)  # a coverability graph has markings instead
        subjects = list(states) if states is not None else graph.markings
        found = {}
        for node, default in nx_graph.nodes(data="label"):
            subject = subjects[node]
            if callable(labels):
                found[node] = str(labels(subject))
            elif node in labels:
                found[node] = str(labels[node])
            elif states is not None and subject in labels:
                found[node] = str(labels[subject])
            else:
                found[node] = default
    return {node: "\n".join(_shorten(line, limit) for line in text.split("\n"))
            for node, text in found.items()}


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


def _shorten(label: str, limit: int | None) -> str:
    return label if limit is None or len(label) <= limit else label[: limit - 1] + "…"
