"""Deterministic layouts and shared geometry for drawing a net: positions ``{name: (x, y)}``
in data units, arc paths and region hulls (used by the static drawing and the live view).

The same net always gets the same positions, in every process: nothing depends on hashing
or on randomness left unseeded. networkx is imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import NetError
from ..elements import ArcKind
from ..net import Net

__all__ = ["REGION_COLOURS", "arc_path", "convex_hull", "layout", "region_hulls", "resolve_positions"]

_X_GAP, _Y_GAP = 1.6, 1.15  # distance between layers / between nodes of a layer (data units)
_RADIUS = 0.3  # place circle
_BOX = (0.3, 0.6)  # transition width, height
#: Colours of regions, in order of the net's regions.
REGION_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
_LAYOUTS = ("layered", "spring")


def layout(net: Net, method: str = "layered", *, seed: int = 1) -> dict[str, tuple[float, float]]:
    """Positions ``{name: (x, y)}`` for every place and transition, in data units.

    ``"layered"`` (the default) lays the net out left to right along the token flow: cycles
    are broken by a depth-first search from the source nodes and the initially marked places,
    nodes are put in layers by longest path and ordered within a layer to reduce crossings;
    a long net wraps into rows, and disconnected parts are stacked top to bottom. ``"spring"`` is a force-directed layout
    (networkx's, seeded). Both depend only on the net, never on hashing or randomness left
    unseeded, so the same net gets the same positions in every process.

    Raises
    ------
    NetError
        On an unknown ``method``.

    Examples
    --------
    >>> from dipen.viz import layout
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> layout(net)
    {'a': (0.0, 0.0), 'b': (3.2, 0.0), 't': (1.6, 0.0)}
    """
    if method == "layered":
        return _layered(net)
    if method == "spring":
        return _spring(net, seed)
    raise NetError(
        f"net {net.name!r}: unknown layout {method!r}; use one of {', '.join(_LAYOUTS)} "
        "or a dict of positions"
    )


def _layered(net: Net) -> dict[str, tuple[float, float]]:
    import networkx as nx

    flow = nx.DiGraph()  # the token flow: into a transition from its inputs, out to its outputs
    flow.add_nodes_from([*net.places, *net.transitions])
    for arc in net.arcs:
        out = arc.kind in (ArcKind.OUT, ArcKind.OUT_COND)
        flow.add_edge(*((arc.transition, arc.place) if out else (arc.place, arc.transition)))
    index = {node: i for i, node in enumerate(flow)}
    positions = {}
    top = 0.0
    for component in sorted(nx.weakly_connected_components(flow),
                            key=lambda nodes: min(map(index.__getitem__, nodes))):
        layer, offset, height = _layer_component(net, flow.subgraph(component))
        depth = max(layer.values()) + 1
        per_row, band = _fold(depth, height)
        for node in component:
            row, column = divmod(layer[node], per_row)
            if row % 2:  # rows snake back and forth, so the arc to the next row is short
                column = per_row - 1 - column
            positions[node] = (column * _X_GAP,
                               top - height / 2 - offset[node] * _Y_GAP - row * band)
        top -= height + _Y_GAP + band * ((depth - 1) // per_row)
    return {node: (float(x), float(y) + 0.0) for node, (x, y) in sorted(positions.items())}


def _fold(depth: int, height: float) -> tuple[int, float]:
    """How many layers to put in a row, and the distance between rows, so that a long net
    wraps into rows and its drawing stays about 16:10 instead of one long strip."""
    band = height + 1.5 * _Y_GAP
    if (depth - 1) * _X_GAP <= 17:  # up to 11 layers: one row, at most 16 inches wide
        return depth, band

    def misfit(per_row: int) -> float:
        rows = -(-depth // per_row)
        return abs(math.log(((per_row - 1) * _X_GAP + 2) / (rows * band) / 1.6))

    return min(range(depth, 3, -1), key=misfit), band


def _layer_component(net: Net, flow: Any) -> tuple[dict[str, int], dict[str, float], float]:
    """Layer (column) and offset in its layer of every node of one connected part of the flow
    graph, and the part's height."""
    import networkx as nx

    # 1. break cycles: depth-first search from sources, then marked places, then the rest
    marked = [n for n in flow if n in net.places and net.places[n].initial]
    state: dict[str, int] = {}  # 1 = on the search path, 2 = done
    order: list[str] = []  # discovery order: the first order within layers
    back: list[tuple[str, str]] = []
    for start in [n for n in flow if not flow.in_degree(n)] + marked + list(flow):
        if start in state:
            continue
        state[start] = 1
        order.append(start)
        stack = [(start, iter(flow.succ[start]))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in state:
                    state[child] = 1
                    order.append(child)
                    stack.append((child, iter(flow.succ[child])))
                    break
                if state[child] == 1:
                    back.append((node, child))
            else:
                state[node] = 2
                stack.pop()
    dag = nx.restricted_view(flow, [], back)
    # 2. longest-path layers; then each source moves up to just before the first node it
    #    feeds that has other inputs too, and the nodes only it feeds follow it
    rank = {node: i for i, node in enumerate(order)}
    topological = list(nx.lexicographical_topological_sort(dag, key=rank.__getitem__))
    layer: dict[str, int] = {}
    for node in topological:
        layer[node] = max((layer[p] + 1 for p in dag.pred[node]), default=0)
    for node in topological:
        if not dag.pred[node] and dag.succ[node]:
            shared = [c for c in dag.succ[node] if len(dag.pred[c]) > 1] or dag.succ[node]
            layer[node] = min(layer[c] for c in shared) - 1
    for node in topological:
        if dag.pred[node]:
            layer[node] = max(layer[p] + 1 for p in dag.pred[node])
    lowest = min(layer.values())
    layer = {node: number - lowest for node, number in layer.items()}
    layers: list[list[str]] = [[] for _ in range(max(layer.values()) + 1)]
    for node in order:
        layers[layer[node]].append(node)
    # 3. order within layers: barycentre sweeps down and up
    offset: dict[str, float] = {}

    def place(members: list[str]) -> None:
        for i, member in enumerate(members):
            offset[member] = i - (len(members) - 1) / 2

    def barycentre(member: str, number: int) -> tuple[float, float]:
        near = [offset[n] for n in nx.all_neighbors(flow, member) if abs(layer[n] - number) == 1]
        return (sum(near) / len(near) if near else offset[member], offset[member])

    for members in layers:
        place(members)
    for _ in range(4):
        for number in [*range(1, len(layers)), *range(len(layers) - 2, -1, -1)]:
            layers[number].sort(key=lambda member: barycentre(member, number))  # noqa: B023
            place(layers[number])
    return layer, offset, (max(map(len, layers)) - 1) * _Y_GAP


def _spring(net: Net, seed: int) -> dict[str, tuple[float, float]]:
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(sorted([*net.places, *net.transitions]))
    graph.add_edges_from(sorted((arc.place, arc.transition) for arc in net.arcs))
    if not graph:
        return {}
    scale = max(1.0, 0.6 * math.sqrt(len(graph))) * _X_GAP
    placed = nx.spring_layout(graph, seed=seed, scale=scale)
    return {node: (round(float(x), 6), round(float(y), 6)) for node, (x, y) in sorted(placed.items())}


def resolve_positions(net: Net, spec: Any) -> dict[str, tuple[float, float]]:
    """Positions from ``spec``: ``None`` (the nodes' own positions when every node has one,
    else the default layout), a layout name, or a dict."""
    if spec is None:
        return _given(net) or layout(net)
    if isinstance(spec, str):
        return layout(net, spec)
    if isinstance(spec, Mapping):
        missing = [n for n in [*net.places, *net.transitions] if n not in spec]
        if missing:
            raise NetError(
                f"net {net.name!r}: the layout has no position for {missing[0]!r}"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
        return {name: (float(spec[name][0]), float(spec[name][1])) for name in
                [*net.places, *net.transitions]}
    raise NetError(
        f"net {net.name!r}: layout must be {' or '.join(map(repr, _LAYOUTS))} or a dict of "
        f"positions, not {type(spec).__name__}"
    )


def _given(net: Net) -> dict[str, tuple[float, float]] | None:
    """The nodes' own positions (an editor's, y downwards) in data units, scaled so that nodes
    are as far apart as the layered layout puts them; None unless every node has one."""
    given = [(p.name, p.position) for p in net.places.values()] + [
        (t.name, t.position) for t in net.transitions.values()]
    points = {name: position for name, position in given if position is not None}
    if not points or len(points) < len(given):
        return None
    flipped = [(x, -y) for x, y in points.values()]
    nearest = sorted(min((math.dist(a, b) for b in flipped if b is not a), default=0.0)
                     for a in flipped)
    gap = nearest[len(nearest) // 2]  # the median distance to the nearest node
    scale = _X_GAP / gap if gap else 1.0
    left, top = min(x for x, _ in flipped), max(y for _, y in flipped)
    return {name: (round((x - left) * scale, 6) + 0.0, round((y - top) * scale, 6) + 0.0)
            for name, (x, y) in zip(points, flipped)}


# -- geometry shared by the static drawing and the live view ----------------------------------


def arc_path(arc: Any, positions: dict[str, tuple[float, float]]
              ) -> tuple[str, str, float, tuple[float, float]]:
    """Where an arc's arrow starts and ends, its curvature and the middle of its curve.

    Arcs between neighbouring columns are straight; arcs that would pass over other nodes
    curve, by at most about half a unit so that long arcs do not sweep across the drawing."""
    place, transition = arc.place, arc.transition
    source, target = (transition, place) if arc.kind is ArcKind.OUT else (place, transition)
    (x1, y1), (x2, y2) = positions[source], positions[target]
    straight = abs(x2 - x1) <= _X_GAP * 1.05 and (x1 != x2 or abs(y2 - y1) <= 2 * _Y_GAP)
    length = math.hypot(x2 - x1, y2 - y1)
    rad = 0.0 if straight or not length else round(min(0.25, 1.1 / length), 3)
    middle = ((x1 + x2) / 2 + rad / 2 * (y2 - y1), (y1 + y2) / 2 - rad / 2 * (x2 - x1))
    return source, target, rad, middle


def region_hulls(net: Net, positions: dict[str, tuple[float, float]]
           ) -> dict[str, list[list[tuple[float, float]]]]:
    """Convex hulls per region around its transitions and the places only they use: one hull
    per cluster of members that are neighbours in the layout, so that a region spread over
    the drawing does not swallow the nodes between its parts."""
    owner: dict[str, set[str]] = {}
    for arc in net.arcs:
        owner.setdefault(arc.place, set()).add(net.transitions[arc.transition].region)
    hulls: dict[str, list[list[tuple[float, float]]]] = {}
    for region, transitions in net.regions.items():
        members = [*transitions, *(p for p in net.places if owner.get(p) == {region})]
        clusters: list[list[str]] = []
        for node in members:  # single linkage: merge the clusters within reach of the node
            (x, y) = positions[node]
            near = [c for c in clusters if any(abs(positions[m][0] - x) <= _X_GAP * 1.05 and
                                               abs(positions[m][1] - y) <= _Y_GAP * 1.05
                                               for m in c)]
            clusters = [c for c in clusters if c not in near] + [sum(near, []) + [node]]
        hulls[region] = []
        for cluster in clusters:
            corners = []
            for node in cluster:
                x, y = positions[node]
                half_x, half_y = (_RADIUS,) * 2 if node in net.places else (_BOX[0] / 2, _BOX[1] / 2)
                left, right = x - half_x - 0.3, x + half_x + 0.3
                bottom, top = y - half_y - 0.32, y + half_y + 0.15  # room for the name below
                corners += [(left, bottom), (right, bottom), (left, top), (right, top)]
            hulls[region].append(convex_hull(corners))
    return hulls


def convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    points = sorted(set(points))
    if len(points) < 3:
        return points

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for chain, sequence in ((lower, points), (upper, points[::-1])):
        for point in sequence:
            while len(chain) >= 2 and cross(chain[-2], chain[-1], point) <= 0:
                chain.pop()
            chain.append(point)
    return lower[:-1] + upper[:-1]
