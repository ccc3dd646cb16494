"""Static drawings of a net: a networkx graph, a deterministic layout, a matplotlib figure, SVG.

Places are circles showing their tokens (dots for one to four, the number beyond), transitions
are boxes coloured by state, arcs are styled by kind::

    IN        place ──▶ transition         solid
    OUT       transition ──▶ place         solid
    COND      place - -▶ transition        dashed (read only)
    IN_OUT    place ◀──▶ transition        solid, both heads
    OUT_COND  place ◀- -▶ transition       dashed, both heads

matplotlib and networkx are imported inside the functions, so ``import dipen`` stays light.
Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas, never through
pyplot, so drawing works headless and leaves no global figure state behind. They are
:class:`NetFigure` objects, which show themselves as a PNG image in Jupyter without
``%matplotlib inline`` (with it, the inline backend's own formatter shows them, once).

Every artist carries a ``gid`` (``place:<name>``, ``transition:<name>``, ``label:<name>``,
``arc:<place>:<transition>``, ``weight:<place>:<transition>``, ``tokens:<place>``,
``token:<place>:<i>``, ``capacity:<place>``, ``data:<place>``, ``region:<region>``,
``region-label:<region>``, ``elsewhere:<transition>``, ``elsewhere-label:<transition>``,
``legend``); the gids become element ids in the SVG.

With ``leaders=`` the region hulls are labelled with the node that leads each region and the
standbys that would take over; with ``elsewhere=`` transitions that other runners are firing
get a dashed outline and the names of those runners' nodes (:meth:`dipen.Runner.draw` fills
both in from its store).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import NetError
from ..elements import ArcKind
from ..net import Net
from ..tokens import Marking
from .layout import (
    _BOX, _RADIUS, REGION_COLOURS, arc_path, layout, region_hulls, resolve_positions,
)

if TYPE_CHECKING:
    import networkx
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["ELSEWHERE", "STATES", "draw", "draw_marking", "layout", "leader_text", "to_networkx",
           "to_svg"]  # and NetFigure

#: Transition states the drawing knows, with their (fill, edge) colours.
STATES: dict[str, tuple[str, str]] = {
    "idle": ("#eeeeee", "#555555"),
    "enabled": ("#a6dba0", "#1b7837"),
    "firing": ("#fdb863", "#b35806"),
    "blocked": ("#c2a5cf", "#542788"),
    "failed": ("#f4a582", "#b2182b"),
}
_INCH = 0.85  # inches per data unit at the natural size
_DATA_SHOWN, _DATA_WIDTH = 3, 28  # token data written beside a place: tokens, characters each
_LABEL_HEIGHT, _DATA_LINE = 0.22, 0.15  # data units taken by a name label / a line of data
#: The dashed outline of a transition that another runner is firing.
ELSEWHERE = "#b35806"


# -- the figure -----------------------------------------------------------------------------------


def __getattr__(name: str) -> Any:
    """``NetFigure`` is made on first use, so that importing this module loads no matplotlib."""
    if name == "NetFigure":
        return _net_figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _net_figure_class() -> type[Figure]:
    figure_class = globals().get("NetFigure")
    if figure_class is not None:
        return figure_class  # type: ignore[no-any-return]
    from matplotlib.figure import Figure

    class NetFigure(Figure):
        """The :class:`matplotlib.figure.Figure` that :func:`draw` returns: it shows itself as a
        PNG image in Jupyter (``_repr_png_``), with or without ``%matplotlib inline``.

        Without pyplot a plain figure has no image representation and a notebook prints
        ``<Figure size ... with 1 Axes>``. With the inline backend on, IPython's formatter for
        figures takes precedence over ``_repr_png_``, so the figure still shows once. It is
        not registered with pyplot, so ``plt.show()`` never shows it a second time.

        Examples
        --------
        >>> figure = dipen.Net("n").place("a", tokens=1).draw()
        >>> type(figure).__name__, figure._repr_png_()[:4]
        ('NetFigure', b'\\x89PNG')
        """

        def _repr_png_(self) -> bytes:
            import io

            buffer = io.BytesIO()
            self.savefig(buffer, format="png")
            return buffer.getvalue()

    NetFigure.__module__, NetFigure.__qualname__ = __name__, "NetFigure"
    globals()["NetFigure"] = NetFigure  # also what pickle finds under this module's name
    return NetFigure


# -- graph ----------------------------------------------------------------------------------------


def to_networkx(net: Net, marking: Mapping[str, Any] | None = None) -> networkx.DiGraph:
    """The net as a :class:`networkx.DiGraph` with one node per place and per transition.

    Nodes are keyed by the element's plain name (dipen names are unique across places and
    transitions, so they cannot collide). Node attributes: ``kind`` (``"place"`` or
    ``"transition"``); for places ``capacity`` and ``tokens`` (the count in ``marking`` if
    given, else the initial count); for transitions ``region`` and ``behaviour``
    (:attr:`dipen.Transition.kind`). Edges follow the token flow: place → transition for
    ``IN``/``COND`` arcs, transition → place for ``OUT``, both directions for
    ``IN_OUT``/``OUT_COND``; each carries ``arc`` (the :class:`dipen.ArcKind` value),
    ``weight`` and ``name``.

    Parameters
    ----------
    net
        The net.
    marking
        A :class:`dipen.Marking` or a mapping of place name to tokens or to a count; places
        it does not mention hold no tokens.

    Raises
    ------
    NetError
        If ``marking`` names a place the net does not have.

    Examples
    --------
    >>> from dipen.viz import to_networkx
    >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
    >>> graph = to_networkx(net)
    >>> graph.nodes["a"]
    {'kind': 'place', 'capacity': None, 'tokens': 2}
    >>> sorted(graph.edges(data="arc"))
    [('a', 't', 'in'), ('t', 'b', 'out')]
    """
    import networkx as nx

    counts = _counts(net, marking)
    graph = nx.DiGraph(name=net.name)
    for place in net.places.values():
        graph.add_node(place.name, kind="place", capacity=place.capacity,
                       tokens=counts[place.name][0])
    for transition in net.transitions.values():
        graph.add_node(transition.name, kind="transition", region=transition.region,
                       behaviour=transition.kind)
    for arc in net.arcs:
        attributes = {"arc": arc.kind.value, "weight": arc.weight, "name": arc.name}
        if arc.kind.inputs:
            graph.add_edge(arc.place, arc.transition, **attributes)
        if arc.kind.gives:
            graph.add_edge(arc.transition, arc.place, **attributes)
    return graph


def _counts(net: Net, marking: Mapping[str, Any] | None) -> dict[str, tuple[int, int]]:
    """(tokens, taken tokens) per place, from ``marking`` or the initial marking."""
    if marking is None:
        return {name: (len(place.initial), 0) for name, place in net.places.items()}
    unknown = [name for name in marking if name not in net.places]
    if unknown:
        raise NetError(
            f"net {net.name!r}: the marking has place {unknown[0]!r}, which the net does not "
            f"have (places: {', '.join(net.places) or 'none'}); draw it with its own net"
        )
    counts = {}
    for name in net.places:
        tokens = marking.get(name, ())
        if isinstance(tokens, int):
            counts[name] = (tokens, 0)
        else:
            tokens = tuple(tokens)
            taken = sum(1 for token in tokens if getattr(token, "firing", None) is not None)
            counts[name] = (len(tokens), taken)
    return counts


# -- drawing --------------------------------------------------------------------------------------


def draw(
    net: Net,
    marking: Mapping[str, Any] | None = None,
    *,
    layout: Mapping[str, tuple[float, float]] | str | None = None,
    ax: Axes | None = None,
    states: Mapping[str, str] | None = None,
    regions: bool = False,
    figsize: tuple[float, float] | None = None,
    token_data: bool = False,
    leaders: Mapping[str, Sequence[Any]] | None = None,
    elsewhere: Mapping[str, Sequence[str]] | None = None,
) -> Figure:
    """Draw the net and return the matplotlib figure (a :class:`NetFigure`, which a notebook
    shows as an image).

    Parameters
    ----------
    net
        The net to draw.
    marking
        The tokens to show (a :class:`dipen.Marking` or a mapping of place to tokens or to
        a count); the initial marking by default. Tokens held by a firing are drawn hollow.
    layout
        ``"layered"`` (default), ``"spring"`` or a dict ``{name: (x, y)}`` covering every
        place and transition (see :func:`layout`; about 1.6 units between layers suits the
        node sizes).
    ax
        Draw into this existing matplotlib Axes (its root figure is returned) instead of a
        new figure.
    states
        ``{transition: state}`` with states from ``"enabled"``, ``"firing"``, ``"blocked"``,
        ``"failed"`` and ``"idle"`` (the default for transitions not listed); sets the box
        colours and adds a legend of the states shown.
    regions
        Draw a light hull around the transitions of each region (and the places only they
        use), labelled with the region's name.
    figsize
        Size in inches of a new figure; by default it grows with the net (up to 16 × 12).
    token_data
        Write the data of each place's tokens under its name, shortened: the oldest
        three, each cut to 28 characters, and how many more there are. Places whose
        tokens have no data (plain P/T tokens) get nothing.
    leaders
        ``{region: [leader, standby, ...]}``, each a node name or a ``(node, fence)`` pair
        as :meth:`dipen.Store.candidates` gives them: draws the region hulls and labels each
        with its leader and standbys (``"shipping · leader n1 · standbys n2"``); regions
        left out are labelled ``"no leader"``.
    elsewhere
        ``{transition: [node, ...]}``: transitions that other runners are firing now (the
        store's running firings that are not this runner's), drawn with a dashed outline
        and ``"on <node>"`` above the box, apart from this runner's own firings.

    Raises
    ------
    NetError
        If ``states``, ``layout``, ``marking``, ``leaders`` or ``elsewhere`` name unknown
        elements, or ``states`` an unknown state.

    Examples
    --------
    >>> from dipen.viz import draw
    >>> net = dipen.Net("n").place("a", tokens=3, capacity=5).place("b")
    >>> net = net.transition("t", take="a", give="b")
    >>> figure = draw(net, states={"t": "enabled"})
    >>> sorted(a.get_gid() for a in figure.axes[0].patches if a.get_gid().startswith("place"))
    ['place:a', 'place:b']
    >>> [t.get_text() for t in figure.axes[0].texts if t.get_gid() == "capacity:a"]
    ['3/5']
    >>> orders = dipen.Net("orders").place("new", tokens=[{"item": "tea", "qty": 2}, {"qty": None}])
    >>> figure = draw(orders, token_data=True)
    >>> print(*[t.get_text() for t in figure.axes[0].texts if t.get_gid() == "data:new"])
    {"item": "tea", "qty": 2}
    {"qty": null}

    Who leads each region, and firings that other runners run:

    >>> figure = draw(net, leaders={"default": [("n1", 3), ("n2", 5)]}, elsewhere={"t": ["n1"]})
    >>> [t.get_text() for t in figure.axes[0].texts if t.get_gid().startswith(("region-", "else"))]
    ['default · leader n1 · standby n2', 'on n1']
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    positions = resolve_positions(net, layout)
    counts = _counts(net, marking)
    data = _data(net, marking) if token_data else {}
    shown = _states(net, states)
    candidates = _candidates(net, leaders)
    remote = _elsewhere(net, elsewhere)
    xs = [x for x, _ in positions.values()] or [0.0]
    ys = [y for _, y in positions.values()] or [0.0]
    bounds = [min(xs) - 0.9, max(xs) + 0.9, min(ys) - 0.85, max(ys) + 0.7]
    hulls = region_hulls(net, positions) if regions or candidates is not None else {}
    arcs = [(arc, *arc_path(arc, positions)) for arc in net.arcs]
    extra = [point for parts in hulls.values() for hull in parts for point in hull]
    extra += [(mx, my + 0.2 * sign) for *_, (mx, my) in arcs for sign in (-1, 1)]
    extra += [(positions[name][0], positions[name][1] - _data_offset(len(lines)) - 0.05)
              for name, lines in data.items()]
    extra += [(positions[name][0], positions[name][1] - _BOX[1] / 2 - 0.55) for name in remote]
    labels = {region: region if candidates is None else
              leader_text(region, candidates.get(region, [])) for region in hulls}
    for region, parts in hulls.items():
        if candidates is not None and parts:  # the leaders' label is longer than the name
            x, y = _label_corner(parts[0])
            extra.append((x + 0.08 * len(labels[region]), y))
    for x, y in extra:
        bounds = [min(bounds[0], x - 0.1), max(bounds[1], x + 0.1),
                  min(bounds[2], y - 0.1), max(bounds[3], y + 0.35)]
    width, height = bounds[1] - bounds[0], bounds[3] - bounds[2]
    legend = (states is not None or bool(remote)) and bool(net.transitions)
    if ax is None:
        if figsize is None:
            shrink = min(1.0, 16 / (width * _INCH), 12 / (height * _INCH))
            figsize = (max(2.5, width * _INCH * shrink),
                       max(1.6, height * _INCH * shrink) + 0.3 + 0.35 * legend)
        figure = _net_figure_class()(figsize=figsize)
        FigureCanvasAgg(figure)
        title, foot = 0.3 / figsize[1], (0.35 * legend) / figsize[1]
        ax = figure.add_axes((0.0, foot, 1.0, 1.0 - foot - title))
        figure.text(0.01, 0.99, net.name, ha="left", va="top", fontsize=9, color="#444444",
                    gid="title", parse_math=False)
    figure = ax.figure.figure  # the root figure, also when ax is in a subfigure
    box = ax.get_position()
    box_width, box_height = box.width * figure.get_figwidth(), box.height * figure.get_figheight()
    inches = min(box_width / width, box_height / height)  # per data unit
    grow_x, grow_y = (box_width / inches - width) / 2, (box_height / inches - height) / 2
    font = max(5.0, min(11.0, 9.5 * inches / _INCH))
    ax.set_axis_off()
    ax.set_xlim(bounds[0] - grow_x, bounds[1] + grow_x)  # limits with the box's aspect, so
    ax.set_ylim(bounds[2] - grow_y, bounds[3] + grow_y)  # that equal aspect changes nothing
    ax.set_aspect("equal", adjustable="box")
    if not positions:
        ax.text(0.5, 0.5, f"net {net.name!r} is empty", transform=ax.transAxes,
                ha="center", va="center", color="#777777", fontsize=font, gid="empty",
                parse_math=False)
    for number, (region, parts) in enumerate(hulls.items()):
        _draw_region(ax, region, labels[region], parts,
                     REGION_COLOURS[number % len(REGION_COLOURS)], font)
    nodes = {name: _draw_place(ax, name, positions[name], counts[name], net.places[name].capacity,
                               font) for name in net.places}
    for name, lines in data.items():
        _draw_data(ax, name, positions[name], lines, font)
    for name, transition in net.transitions.items():
        nodes[name] = _draw_transition(ax, name, positions[name], shown[name], font)
        if name in remote:
            _draw_elsewhere(ax, name, positions[name], remote[name], font)
    for arc, source, target, rad, middle in arcs:
        _draw_arc(ax, arc, (source, target), positions, nodes, rad, middle, font)
    if legend:
        _draw_legend(ax, shown, bool(remote), font)
    return figure


def _data(net: Net, marking: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """The lines of token data to write under each place that has tokens with data."""
    if marking is None:
        found = {name: list(place.initial) for name, place in net.places.items()}
    else:
        found = {name: [getattr(token, "data", None) for token in tokens]
                 for name, tokens in marking.items() if not isinstance(tokens, int)}
    lines = {}
    for name, values in found.items():
        if all(value is None for value in values):
            continue
        shown = [_shorten(value) for value in values[:_DATA_SHOWN]]
        if len(values) > _DATA_SHOWN:
            shown.append(f"+{len(values) - _DATA_SHOWN} more")
        lines[name] = shown
    return lines


def _shorten(value: Any) -> str:
    """``value`` as compact JSON, cut to :data:`_DATA_WIDTH` characters."""
    import json

    try:
        text = json.dumps(value, separators=(", ", ": "), ensure_ascii=False, default=repr)
    except ValueError:  # NaN or a circular structure
        text = repr(value)
    return text if len(text) <= _DATA_WIDTH else text[:_DATA_WIDTH - 1] + "…"


def _data_offset(lines: int) -> float:
    """How far below its place's centre the data of ``lines`` lines reaches (data units)."""
    return _RADIUS + 0.06 + _LABEL_HEIGHT + lines * _DATA_LINE


def _states(net: Net, states: Mapping[str, str] | None) -> dict[str, str]:
    shown = dict.fromkeys(net.transitions, "idle")
    for name, state in (states or {}).items():
        if name not in net.transitions:
            raise NetError(
                f"net {net.name!r}: states= names {name!r}, which is not a transition "
                f"(transitions: {', '.join(net.transitions) or 'none'})"
            )
        if state not in STATES:
            raise NetError(
                f"net {net.name!r}, transition {name!r}: unknown state {state!r} "
                f"(states: {', '.join(STATES)})"
            )
        shown[name] = state
    return shown


def _candidates(net: Net, leaders: Mapping[str, Sequence[Any]] | None
                ) -> dict[str, list[str]] | None:
    """``leaders`` as ``{region: [node, ...]}`` (node names only), checked against the net."""
    if leaders is None:
        return None
    found = {}
    for region, nodes in leaders.items():
        if region not in net.regions:
            raise NetError(
                f"net {net.name!r}: leaders= names region {region!r}, which the net does not "
                f"have (regions: {', '.join(net.regions) or 'none'})"
            )
        found[region] = [node if isinstance(node, str) else str(node[0]) for node in nodes]
    return found


def _elsewhere(net: Net, elsewhere: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    found = {}
    for name, nodes in (elsewhere or {}).items():
        if name not in net.transitions:
            raise NetError(
                f"net {net.name!r}: elsewhere= names {name!r}, which is not a transition "
                f"(transitions: {', '.join(net.transitions) or 'none'})"
            )
        if nodes:
            found[name] = sorted(set(nodes))
    return found


def leader_text(region: str, nodes: Sequence[str]) -> str:
    """A region's label with its leader and standbys (leader first in ``nodes``).

    Examples
    --------
    >>> from dipen.viz.draw import leader_text
    >>> leader_text("left", ["n1", "n2", "n3"]), leader_text("right", [])
    ('left · leader n1 · standbys n2, n3', 'right · no leader')
    """
    if not nodes:
        return f"{region} · no leader"
    text = f"{region} · leader {nodes[0]}"
    if len(nodes) > 1:
        text += f" · standby{'s' if len(nodes) > 2 else ''} {', '.join(nodes[1:])}"
    return text


def _draw_place(ax: Axes, name: str, at: tuple[float, float], count: tuple[int, int],
                capacity: int | None, font: float) -> Any:
    from matplotlib.patches import Circle

    x, y = at
    circle = Circle(at, _RADIUS, facecolor="white", edgecolor="#222222", linewidth=1.4,
                    zorder=2, gid=f"place:{name}")
    ax.add_patch(circle)
    tokens, taken = count
    if 1 <= tokens <= 4:
        spots: list[tuple[float, float]] = {1: [(0.0, 0.0)], 2: [(-1, 0), (1, 0)], 3: [(-1, -0.8), (1, -0.8), (0, 0.9)],
                 4: [(-1, -1), (1, -1), (-1, 1), (1, 1)]}[tokens]  # type: ignore[assignment]
        for i, (dx, dy) in enumerate(spots):
            hollow = i >= tokens - taken
            ax.add_patch(Circle((x + dx * 0.09, y + dy * 0.09), 0.055, zorder=3,
                                facecolor="white" if hollow else "#222222", edgecolor="#222222",
                                linewidth=1.0, gid=f"token:{name}:{i}"))
    elif tokens > 4:
        ax.text(x, y, str(tokens), ha="center", va="center", fontsize=font * 1.15,
                fontweight="bold", color="#222222", zorder=3, gid=f"tokens:{name}")
    if capacity is not None:
        ax.text(x + _RADIUS * 0.75, y + _RADIUS * 0.8, f"{tokens}/{capacity}", ha="left",
                va="bottom", fontsize=font * 0.8, zorder=4, gid=f"capacity:{name}",
                color="#b2182b" if tokens >= capacity else "#555555",
                bbox={"boxstyle": "round,pad=0.1", "facecolor": (1, 1, 1, 0.85), "edgecolor": "none"})
    ax.text(x, y - _RADIUS - 0.06, name, ha="center", va="top", fontsize=font, zorder=4,
            gid=f"label:{name}", parse_math=False)
    return circle


def _draw_data(ax: Axes, name: str, at: tuple[float, float], lines: list[str],
               font: float) -> None:
    ax.text(at[0], at[1] - _data_offset(0), "\n".join(lines), ha="center", va="top",
            fontsize=font * 0.75, color="#2b4c7e", zorder=4, gid=f"data:{name}",
            parse_math=False, linespacing=1.15,
            bbox={"boxstyle": "round,pad=0.1", "facecolor": (1, 1, 1, 0.8), "edgecolor": "none"})


def _draw_transition(ax: Axes, name: str, at: tuple[float, float], state: str,
                     font: float) -> Any:
    from matplotlib.patches import Rectangle

    width, height = _BOX
    face, edge = STATES[state]
    box = Rectangle((at[0] - width / 2, at[1] - height / 2), width, height, facecolor=face,
                    edgecolor=edge, linewidth=2.2 if state != "idle" else 1.4, zorder=2,
                    gid=f"transition:{name}")
    ax.add_patch(box)
    ax.text(at[0], at[1] - height / 2 - 0.06, name, ha="center", va="top", fontsize=font,
            zorder=4, gid=f"label:{name}", parse_math=False)
    return box


def _draw_elsewhere(ax: Axes, name: str, at: tuple[float, float], nodes: list[str],
                    font: float) -> None:
    from matplotlib.patches import Rectangle

    width, height = _BOX
    ax.add_patch(Rectangle((at[0] - width / 2 - 0.05, at[1] - height / 2 - 0.05), width + 0.1,
                           height + 0.1, facecolor="none", edgecolor=ELSEWHERE, linewidth=1.6,
                           linestyle=(0, (3, 2)), zorder=3, gid=f"elsewhere:{name}"))
    ax.text(at[0], at[1] - height / 2 - 0.06 - _LABEL_HEIGHT, "on " + ", ".join(nodes),
            ha="center", va="top", fontsize=font * 0.8, color=ELSEWHERE, zorder=4,
            parse_math=False,
            gid=f"elsewhere-label:{name}",
            bbox={"boxstyle": "round,pad=0.1", "facecolor": (1, 1, 1, 0.85), "edgecolor": "none"})


def _draw_arc(ax: Axes, arc: Any, ends: tuple[str, str],
              positions: dict[str, tuple[float, float]], nodes: dict[str, Any], rad: float,
              middle: tuple[float, float], font: float) -> None:
    from matplotlib.patches import FancyArrowPatch

    source, target = ends
    both = arc.kind in (ArcKind.IN_OUT, ArcKind.OUT_COND)
    ax.add_patch(FancyArrowPatch(
        positions[source], positions[target], arrowstyle="<|-|>" if both else "-|>",
        mutation_scale=font * 1.3, patchA=nodes[source], patchB=nodes[target],
        shrinkA=1.5, shrinkB=1.5, connectionstyle=f"arc3,rad={rad}",
        linestyle="--" if arc.kind.reads else "-", linewidth=1.2, color="#333333",
        zorder=1, gid=f"arc:{arc.place}:{arc.transition}",
    ))
    if arc.weight > 1:
        ax.text(*middle, str(arc.weight), ha="center", va="center", fontsize=font * 0.85,
                zorder=4, gid=f"weight:{arc.place}:{arc.transition}",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})


def _draw_region(ax: Axes, region: str, label: str, hulls: list[list[tuple[float, float]]],
                 colour: str, font: float) -> None:
    from matplotlib.colors import to_rgba
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    path = Path.make_compound_path(*(Path([*hull, hull[0]], closed=True) for hull in hulls))
    ax.add_patch(PathPatch(path, facecolor=to_rgba(colour, 0.08), edgecolor=to_rgba(colour, 0.6),
                           linewidth=1.0, joinstyle="round", zorder=0, gid=f"region:{region}"))
    for number, hull in enumerate(hulls):
        left, top = _label_corner(hull)
        ax.text(left + 0.05, top + 0.04, label if number == 0 else region, ha="left",
                va="bottom", fontsize=font * 0.85,
                fontstyle="italic", color=colour, zorder=4, parse_math=False,
                gid=f"region-label:{region}" + (f":{number + 1}" if number else ""))


def _label_corner(hull: list[tuple[float, float]]) -> tuple[float, float]:
    """The top left corner of a region's hull, where its label goes."""
    top = max(y for _, y in hull)
    return min(x for x, y in hull if y == top), top


def _draw_legend(ax: Axes, shown: dict[str, str], elsewhere: bool, font: float) -> None:
    from matplotlib.patches import Patch

    used = [state for state in STATES if state in shown.values()]
    handles = [Patch(facecolor=STATES[s][0], edgecolor=STATES[s][1], label=s) for s in used]
    if elsewhere:
        handles.append(Patch(facecolor="none", edgecolor=ELSEWHERE, linestyle=(0, (3, 2)),
                             label="firing elsewhere"))
    legend = ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                       ncol=len(handles), frameon=False, fontsize=font * 0.85,
                       handlelength=1.2, columnspacing=1.2, borderaxespad=0.2)
    legend.set_gid("legend")


def draw_marking(marking: Mapping[str, Any], *, ax: Axes | None = None,
                 figsize: tuple[float, float] | None = None) -> Figure:
    """Draw a marking on its own: its places in a grid (up to 8 a row) with their tokens.

    A :class:`dipen.Marking` does not know its net's transitions; draw it with
    ``draw(net, marking)`` to see them.

    Examples
    --------
    >>> from dipen.viz import draw_marking
    >>> figure = draw_marking(dipen.Marking({"a": (dipen.Token("t1"),), "b": ()}))
    >>> [t.get_text() for t in figure.axes[0].texts if t.get_gid().startswith("label:")]
    ['a', 'b']
    """
    net = Net("marking")
    names = list(marking)
    for name in names:
        net.place(name)
    columns = max(1, min(8, len(names)))
    grid = {name: ((i % columns) * 1.3, -(i // columns) * 1.3) for i, name in enumerate(names)}
    return draw(net, marking, layout=grid, ax=ax, figsize=figsize)


def to_svg(net: Net | Marking, marking: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    """The drawing as SVG text (text kept as ``<text>``, gids as element ids, no date).

    ``net`` may also be a :class:`dipen.Marking`, drawn with :func:`draw_marking`. Other
    keyword arguments go to :func:`draw`.

    Examples
    --------
    >>> from dipen.viz import to_svg
    >>> svg = to_svg(dipen.Net("n").place("a", tokens=1))
    >>> svg.startswith("<?xml") and 'id="place:a"' in svg
    True
    """
    import io

    import matplotlib

    if isinstance(net, Marking):
        figure = draw_marking(net, **kwargs)
    else:
        figure = draw(net, marking, **kwargs)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "dipen"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
