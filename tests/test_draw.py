"""Static drawing: the networkx graph, layouts, the matplotlib figure (found by gid), SVG, and a
pixel comparison against a reference picture.

Set ``DIPEN_UPDATE_IMAGES=1`` to rewrite the reference image after a deliberate change of the
drawing (then look at it before committing it).
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.patches import ArrowStyle

import dipen
from dipen.viz import STATES, draw, draw_marking, layout, to_networkx, to_svg

HERE = pathlib.Path(__file__).parent
REFERENCE = HERE / "images" / "draw_reference.png"


def reference_net():
    """Every arc kind, weights, a capacity, 0/1/3/7 tokens, two regions, a side loop."""
    net = (
        dipen.Net("orders")
        .place("inbox", tokens=3)
        .place("stock", tokens=7, capacity=10)
        .place("config", tokens=1)
        .place("busy", capacity=1)
        .place("packed")
        .place("shipped")
        .place("log")
    )
    net.transition("pack", take={"inbox": 1, "stock": 2}, give="packed", read="config")
    net.transition("ship", take="packed", give=["shipped", "log"], read="log", region="shipping")
    net.transition("work", take="busy", give="busy")
    net.transition("restock", give={"stock": 5}, region="shipping")
    return net


REFERENCE_STATES = {"pack": "enabled", "ship": "firing", "restock": "blocked"}


def chain(length, name="chain"):
    """p0 -> t0 -> p1 -> t1 -> ... -> p<length>."""
    net = dipen.Net(name).place("p0", tokens=1)
    for i in range(length):
        net.place(f"p{i + 1}").transition(f"t{i}", take=f"p{i}", give=f"p{i + 1}")
    return net


def one_arc(kind, weight=1, name=None):
    return dipen.Net("one").place("p").transition("t").arc("p", "t", kind, name=name, weight=weight)


def artists(figure, prefix):
    """The artists whose gid starts with ``prefix``, by gid."""
    found = figure.findobj(lambda a: (a.get_gid() or "").startswith(prefix))
    return {a.get_gid(): a for a in found}


def texts(figure, prefix):
    return {gid: a.get_text() for gid, a in artists(figure, prefix).items()}


def png(figure, dpi=80):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    return imread(buffer, format="png")


# -- to_networkx -----------------------------------------------------------------------------------


def test_graph_nodes_carry_kind_capacity_tokens_region_and_behaviour():
    net = reference_net()

    @net.transition(take="shipped", region="shipping")
    async def archive(token):
        return None

    graph = to_networkx(net)
    assert graph.graph["name"] == "orders"
    assert set(graph) == {*net.places, *net.transitions}
    assert graph.nodes["stock"] == {"kind": "place", "capacity": 10, "tokens": 7}
    assert graph.nodes["busy"] == {"kind": "place", "capacity": 1, "tokens": 0}
    assert graph.nodes["ship"] == {"kind": "transition", "region": "shipping", "behaviour": "P/T"}
    assert graph.nodes["archive"]["behaviour"] == "code"
    assert graph.nodes["pack"]["region"] == "default"


def test_graph_tokens_come_from_the_marking_when_given():
    net = reference_net()
    marking = dipen.Marking({"inbox": (), "stock": (dipen.Token("a"), dipen.Token("b"))})
    graph = to_networkx(net, marking)
    assert graph.nodes["inbox"]["tokens"] == 0
    assert graph.nodes["stock"]["tokens"] == 2
    assert graph.nodes["config"]["tokens"] == 0  # not in the marking: empty
    assert to_networkx(net, {"packed": 4}).nodes["packed"]["tokens"] == 4


@pytest.mark.parametrize(
    ("kind", "edges"),
    [
        ("in", [("p", "t")]),
        ("out", [("t", "p")]),
        ("cond", [("p", "t")]),
        ("in_out", [("p", "t"), ("t", "p")]),
        ("out_cond", [("p", "t"), ("t", "p")]),
    ],
)
def test_graph_edges_follow_each_arc_kind(kind, edges):
    graph = to_networkx(one_arc(kind, weight=3, name="x"))
    assert sorted(graph.edges) == edges
    for edge in edges:
        assert graph.edges[edge] == {"arc": kind, "weight": 3, "name": "x"}


def test_graph_rejects_a_marking_of_another_net():
    with pytest.raises(dipen.NetError, match="'orders'.*'elsewhere'"):
        to_networkx(reference_net(), {"elsewhere": 1})


# -- layout ----------------------------------------------------------------------------------------


def test_layout_runs_left_to_right_along_the_flow():
    positions = layout(chain(5))
    flow = ["p0", "t0", "p1", "t1", "p2", "t2", "p3", "t3", "p4", "t4", "p5"]
    xs = [positions[n][0] for n in flow]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert {y for _, y in positions.values()} == {0.0}


def test_layout_handles_cycles_disconnected_parts_and_tiny_nets():
    ring = (
        dipen.Net("ring").place("a", tokens=1).place("b")
        .transition("forth", take="a", give="b").transition("back", take="b", give="a")
        .place("alone").place("c").transition("solo", give="c")
    )
    positions = layout(ring)
    assert set(positions) == {"a", "b", "forth", "back", "alone", "c", "solo"}
    assert len(set(positions.values())) == len(positions)
    assert positions["a"][0] < positions["forth"][0] < positions["b"][0] < positions["back"][0]
    ring_ys = {positions[n][1] for n in ("a", "b", "forth", "back")}
    assert ring_ys.isdisjoint({positions[n][1] for n in ("alone", "c", "solo")})
    assert layout(dipen.Net("one").place("a")) == {"a": (0.0, 0.0)}
    assert layout(dipen.Net("none")) == {}
    assert layout(dipen.Net("one").place("a"), "spring") == {"a": (0.0, 0.0)}


def test_layout_wraps_a_long_chain_into_rows_that_snake():
    net = chain(30)
    positions = layout(net)
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    assert len(set(positions.values())) == len(positions)
    assert 1 < (max(xs) - min(xs)) / (max(ys) - min(ys)) < 4
    for arc in net.arcs:  # every arc joins neighbours, also from one row to the next
        (x1, y1), (x2, y2) = positions[arc.place], positions[arc.transition]
        assert np.hypot(x2 - x1, y2 - y1) < 2, arc


@pytest.mark.parametrize("method", ["layered", "spring"])
def test_layout_is_deterministic_across_calls_and_processes(method):
    net = reference_net()
    first = layout(net, method)
    assert layout(reference_net(), method) == first
    code = (
        f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import test_draw; "
        f"from dipen.viz import layout; "
        f"print(json.dumps(layout(test_draw.reference_net(), {method!r})))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    assert json.loads(out.stdout) == json.loads(json.dumps(first))


def test_layout_rejects_unknown_methods_and_incomplete_positions():
    net = reference_net()
    with pytest.raises(dipen.NetError, match="'orders'.*unknown layout 'circle'"):
        layout(net, "circle")
    with pytest.raises(dipen.NetError, match="unknown layout 'circle'"):
        draw(net, layout="circle")
    partial = {name: (0.0, float(i)) for i, name in enumerate(net.places)}
    with pytest.raises(dipen.NetError, match="no position for 'pack'"):
        draw(net, layout=partial)


# -- the figure ------------------------------------------------------------------------------------


def test_figure_has_one_artist_per_place_transition_arc_and_label():
    net = reference_net()
    figure = draw(net)
    assert isinstance(figure, Figure)
    assert set(artists(figure, "place:")) == {f"place:{p}" for p in net.places}
    assert set(artists(figure, "transition:")) == {f"transition:{t}" for t in net.transitions}
    assert set(artists(figure, "arc:")) == {f"arc:{a.place}:{a.transition}" for a in net.arcs}
    labels = texts(figure, "label:")
    assert labels == {f"label:{n}": n for n in [*net.places, *net.transitions]}
    assert texts(figure, "title") == {"title": "orders"}


def test_places_show_dots_up_to_four_tokens_then_the_number_and_their_capacity():
    net = dipen.Net("n").place("zero").place("one", tokens=1).place("four", tokens=4)
    net = net.place("five", tokens=5, capacity=8).place("full", tokens=2, capacity=2)
    figure = draw(net)
    dots = artists(figure, "token:")
    assert sorted(dots) == ["token:four:0", "token:four:1", "token:four:2", "token:four:3",
                            "token:full:0", "token:full:1", "token:one:0"]
    assert texts(figure, "tokens:") == {"tokens:five": "5"}
    assert texts(figure, "capacity:") == {"capacity:five": "5/8", "capacity:full": "2/2"}
    centre = artists(figure, "place:four")["place:four"].center
    for i in range(4):  # the dots sit inside their place
        x, y = dots[f"token:four:{i}"].center
        assert np.hypot(x - centre[0], y - centre[1]) < 0.3


def test_the_marking_replaces_the_initial_tokens_and_taken_tokens_are_hollow():
    net = reference_net()
    marking = dipen.Marking({
        "inbox": (dipen.Token("a"), dipen.Token("b", firing="f1")),
        "stock": tuple(dipen.Token(str(i)) for i in range(9)),
    })
    figure = draw(net, marking)
    dots = artists(figure, "token:")
    assert sorted(dots) == ["token:inbox:0", "token:inbox:1"]
    assert tuple(dots["token:inbox:0"].get_facecolor()[:3]) != (1.0, 1.0, 1.0)
    assert tuple(dots["token:inbox:1"].get_facecolor()[:3]) == (1.0, 1.0, 1.0)
    assert texts(figure, "tokens:") == {"tokens:stock": "9"}
    assert texts(figure, "capacity:") == {"capacity:stock": "9/10", "capacity:busy": "0/1"}


@pytest.mark.parametrize(
    ("kind", "dashed", "both_heads", "from_place"),
    [
        ("in", False, False, True),
        ("out", False, False, False),
        ("cond", True, False, True),
        ("in_out", False, True, True),
        ("out_cond", True, True, True),
    ],
)
def test_arc_style_follows_its_kind(kind, dashed, both_heads, from_place):
    net = one_arc(kind)
    positions = layout(net)
    arrow = artists(draw(net), "arc:")["arc:p:t"]
    assert (arrow.get_linestyle() == "--") is dashed
    style = arrow.get_arrowstyle()
    assert isinstance(style, ArrowStyle.CurveFilledAB if both_heads else ArrowStyle.CurveFilledB)
    start, end = arrow._posA_posB
    assert tuple(start) == (positions["p"] if from_place else positions["t"])
    assert tuple(end) == (positions["t"] if from_place else positions["p"])


def test_weights_above_one_are_labelled_on_their_arc():
    figure = draw(reference_net())
    assert texts(figure, "weight:") == {"weight:stock:pack": "2", "weight:stock:restock": "5"}


def test_states_colour_the_transitions_and_fill_the_legend():
    net = dipen.Net("n")
    for state in STATES:
        net.transition(state)
    figure = draw(net, states={s: s for s in STATES})
    faces = {gid: tuple(a.get_facecolor()) for gid, a in artists(figure, "transition:").items()}
    assert len(set(faces.values())) == len(STATES)
    legend = artists(figure, "legend")["legend"]
    assert [t.get_text() for t in legend.get_texts()] == list(STATES)
    some = draw(reference_net(), states=REFERENCE_STATES)
    legend = artists(some, "legend")["legend"]
    assert [t.get_text() for t in legend.get_texts()] == ["idle", "enabled", "firing", "blocked"]
    assert artists(draw(reference_net()), "legend") == {}  # all idle: nothing to explain


def test_states_must_name_transitions_and_known_states():
    with pytest.raises(dipen.NetError, match="'inbox', which is not a transition"):
        draw(reference_net(), states={"inbox": "enabled"})
    with pytest.raises(dipen.NetError, match="transition 'pack': unknown state 'busy'"):
        draw(reference_net(), states={"pack": "busy"})


def test_regions_draw_a_labelled_hull_around_their_transitions():
    net = dipen.Net("regions").place("p0", tokens=1).place("p1").place("p2").place("p3")
    net.transition("t0", take="p0", give="p1", region="a").transition("t1", take="p1", give="p2",
                                                                       region="a")
    net.transition("t2", take="p2", give="p3", region="b")
    positions = layout(net)
    figure = draw(net, regions=True)
    hulls = artists(figure, "region:")
    assert set(hulls) == {"region:a", "region:b"}
    assert texts(figure, "region-label:") == {"region-label:a": "a", "region-label:b": "b"}
    inside_a = [n for n in net.transitions if hulls["region:a"].get_path().contains_point(
        positions[n])]
    inside_b = [n for n in net.transitions if hulls["region:b"].get_path().contains_point(
        positions[n])]
    assert (inside_a, inside_b) == (["t0", "t1"], ["t2"])
    assert artists(draw(net), "region") == {}


def test_draws_into_a_given_axes_and_with_given_positions():
    figure = Figure(figsize=(4, 3))
    ax = figure.add_subplot()
    net = chain(1)
    spots = {"p0": (0.0, 0.0), "t0": (2.0, 1.0), "p1": (4.0, 0.0)}
    assert draw(net, layout=spots, ax=ax) is figure
    assert tuple(artists(figure, "transition:t0")["transition:t0"].get_center()) == pytest.approx(
        (2.0, 1.0))
    assert artists(figure, "place:p1")["place:p1"].center == (4.0, 0.0)
    assert len(figure.axes) == 1
    root = Figure(figsize=(8, 3))
    assert draw(net, ax=root.subfigures(1, 2)[1].add_subplot()) is root


def test_empty_and_single_place_nets_draw():
    assert texts(draw(dipen.Net("void")), "empty") == {"empty": "net 'void' is empty"}
    figure = draw(dipen.Net("one").place("a", tokens=2))
    assert set(artists(figure, "token:")) == {"token:a:0", "token:a:1"}
    png(figure)
    odd = draw(dipen.Net("$\\x$").place("cost $\\5 or $6", tokens=1), regions=True)
    assert texts(odd, "label:") == {"label:cost $\\5 or $6": "cost $\\5 or $6"}
    png(odd)  # rendered as plain text: as mathtext "$\\5 or $" would not parse


def test_a_sixty_node_net_draws_legibly_sized():
    net = dipen.Net("big")
    for i in range(30):
        net.place(f"p{i}", tokens=1 if i % 10 == 0 else 0)
    for i in range(30):
        branch = [f"p{(i + 1) % 30}"] + ([f"p{(i + 7) % 30}"] if i % 5 == 0 else [])
        net.transition(f"t{i}", take=f"p{i}", give=branch)
    positions = layout(net)
    assert len(set(positions.values())) == 60
    figure = draw(net, states={"t3": "firing"}, regions=True)
    assert len(artists(figure, "place:")) == 30 and len(artists(figure, "transition:")) == 30
    width, height = figure.get_size_inches()
    assert 4 <= width <= 16 and 3 <= height <= 12.7
    assert png(figure, dpi=40).shape[2] == 4


def test_draw_marking_shows_places_without_a_net():
    marking = dipen.Marking({"a": (dipen.Token("1"),), "b": (), "c": (dipen.Token("2"),) * 6})
    figure = draw_marking(marking)
    assert set(artists(figure, "place:")) == {"place:a", "place:b", "place:c"}
    assert texts(figure, "tokens:") == {"tokens:c": "6"}
    assert artists(figure, "transition:") == {}


# -- SVG -------------------------------------------------------------------------------------------


def test_svg_is_deterministic_text_with_element_ids():
    svg = to_svg(reference_net(), states=REFERENCE_STATES, regions=True)
    assert svg.startswith("<?xml") and svg.rstrip().endswith("</svg>")
    for gid in ("place:inbox", "transition:pack", "arc:stock:pack", "region:shipping", "legend"):
        assert f'id="{gid}"' in svg
    assert ">restock<" in svg  # text stays text
    assert to_svg(reference_net(), states=REFERENCE_STATES, regions=True) == svg
    marking_svg = to_svg(dipen.Marking({"a": (dipen.Token("1"),)}))
    assert 'id="place:a"' in marking_svg and 'id="token:a:0"' in marking_svg


def test_drawing_uses_no_pyplot_and_importing_viz_loads_nothing_heavy():
    code = (
        "import sys, dipen; import dipen.viz as viz; "
        "light = not {'matplotlib', 'networkx'} & set(sys.modules); "
        "net = dipen.Net('n').place('a', tokens=1).place('b').transition('t', take='a', give='b'); "
        "svg = viz.to_svg(net); "
        "print(light, 'matplotlib.pyplot' in sys.modules, 'id=\"transition:t\"' in svg)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False", "True"]


# -- the picture -----------------------------------------------------------------------------------


def render_reference(**changes):
    options = {"states": REFERENCE_STATES, "regions": True, "figsize": (8.0, 5.0), **changes}
    return png(draw(reference_net(), **options), dpi=80)


def differs(image, reference):
    """(mean absolute difference, share of pixels that changed clearly)."""
    assert image.shape == reference.shape
    delta = np.abs(image[..., :3] - reference[..., :3])
    return float(delta.mean()), float((delta.max(axis=2) > 0.25).mean())


def test_reference_picture_matches():
    image = render_reference()
    if os.environ.get("DIPEN_UPDATE_IMAGES"):
        REFERENCE.parent.mkdir(exist_ok=True)
        from matplotlib.image import imsave

        imsave(REFERENCE, image)
    reference = imread(REFERENCE)
    assert reference.shape == (400, 640, 4)
    mean, changed = differs(image, reference)
    assert mean < 0.002 and changed < 0.001, (mean, changed)


def test_the_picture_comparison_sees_small_changes():
    reference = imread(REFERENCE)
    for changes in ({"states": {**REFERENCE_STATES, "work": "failed"}}, {"regions": False},
                    {"marking": {"inbox": 2}}):
        mean, changed = differs(render_reference(**changes), reference)
        assert mean >= 0.002 or changed >= 0.001, changes


# -- the display hooks on Net, Marking and Runner ------------------------------------------------


def test_net_marking_and_runner_display_themselves_as_svg():
    net = (dipen.Net("shown").place("a", tokens=2).place("b")
           .transition("t", take="a", give="b").transition("u", take="b", give="a"))
    runner = dipen.Runner(net)
    runner.block("u")
    for shown in (net, runner.marking, runner):
        svg = shown._repr_svg_()
        assert svg.startswith("<?xml") and 'id="place:a"' in svg
    assert 'id="transition:t"' in net._repr_svg_()
    assert runner.states() == {"t": "enabled", "u": "blocked"}
    figure = runner.draw()
    boxes = {a.get_gid(): a for a in figure.axes[0].patches if (a.get_gid() or "").startswith("transition:")}
    assert boxes["transition:t"].get_facecolor() != boxes["transition:u"].get_facecolor()


def test_net_to_networkx_matches_viz():
    net = dipen.Net("g").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    graph = net.to_networkx()
    assert graph.nodes["a"]["kind"] == "place" and graph.nodes["t"]["kind"] == "transition"
    assert set(graph.edges) == {("a", "t"), ("t", "b")}
    assert len(net.draw().axes) == 1


# -- Graphviz export ------------------------------------------------------------------------------


def test_to_dot_writes_every_place_transition_and_arc_style():
    net = (dipen.Net('quote "me"').place("a", tokens=2).place("b", capacity=3).place("c")
           .place("d").transition("t", take={"a": 2}, give="b", read="c", region="r1")
           .transition("u", take="b", give="b", region="r2")
           .transition("v", give="d", read="d", region="r2"))
    dot = net.to_dot()
    assert dot.startswith('digraph "quote \\"me\\"" {') and dot.rstrip().endswith("}")
    assert '"a" [shape=circle, label="a\\n2"];' in dot
    assert '"b" [shape=circle, label="b\\n0/3"];' in dot
    assert 'subgraph "cluster_r1"' in dot and 'subgraph "cluster_r2"' in dot
    assert '"a" -> "t" [label="2"];' in dot
    assert '"c" -> "t" [style=dashed];' in dot
    assert '"b" -> "u" [dir=both];' in dot
    assert '"d" -> "v" [style=dashed, dir=both];' in dot
    assert '"t" -> "b";' in dot
    assert dot.count("->") == len(net.arcs)
    marked = net.to_dot({"a": 0, "b": 1})
    assert '"a" [shape=circle, label="a"];' in marked and 'label="b\\n1/3"' in marked


def test_to_dot_is_valid_for_networkx_pydot_free_parsers():
    """Balanced braces and quotes: a cheap structural check of the DOT text."""
    net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    dot = net.to_dot()
    assert dot.count("{") == dot.count("}") == 1
    assert all(line.count('"') % 2 == 0 for line in dot.splitlines())


# -- display in a notebook without %matplotlib inline ------------------------------------------------


def test_figures_display_themselves_as_png_without_pyplot():
    from IPython.core.formatters import DisplayFormatter

    net = dipen.Net("shown").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    for figure in (draw(net), net.draw(), dipen.Runner(net).draw(), draw_marking({"a": 2})):
        assert isinstance(figure, Figure)
        data, _ = DisplayFormatter().format(figure)
        assert data["image/png"].startswith(b"\x89PNG\r\n\x1a\n")
        assert imread(io.BytesIO(data["image/png"]), format="png").shape[:2] == (
            round(figure.get_figheight() * figure.dpi), round(figure.get_figwidth() * figure.dpi))
        assert not {"image/svg+xml", "image/jpeg"} & set(data)  # one image, not several


def test_the_inline_backend_formatter_shows_a_figure_once():
    from IPython.core.formatters import DisplayFormatter

    formatter = DisplayFormatter()
    inline = []
    formatter.formatters["image/png"].for_type(Figure, lambda figure: inline.append(figure) or b"inline")
    figure = draw(dipen.Net("n").place("a", tokens=1))
    data, _ = formatter.format(figure)
    assert data["image/png"] == b"inline" and inline == [figure]


def test_a_drawn_figure_pickles_and_still_displays():
    import pickle

    figure = draw(reference_net(), states=REFERENCE_STATES)
    copied = pickle.loads(pickle.dumps(figure))
    assert type(copied) is type(figure)
    assert copied._repr_png_().startswith(b"\x89PNG")


# -- token data beside places ---------------------------------------------------------------------------


def coloured_net():
    orders = [{"item": "tea", "qty": 2}, {"item": "a very long name of a thing", "qty": 1},
              {"qty": None}, 4, "five"]
    net = dipen.Net("coloured").place("new", tokens=orders).place("done").place("permits", tokens=2)
    return net.transition("pick", take="new", give="done", read="permits")


def test_token_data_is_written_under_places_with_coloured_tokens():
    net = coloured_net()
    assert texts(draw(net), "data:") == {}  # off by default
    assert texts(draw(net, token_data=True), "data:") == {
        "data:new": '{"item": "tea", "qty": 2}\n{"item": "a very long name …\n{"qty": null}\n+2 more'
    }
    runner = dipen.Runner(net)
    runner.step_sync("pick")
    shown = texts(runner.draw(token_data=True), "data:")
    assert shown == {"data:new": '{"item": "a very long name …\n{"qty": null}\n4\n+1 more',
                     "data:done": '{"item": "tea", "qty": 2}'}
    assert texts(draw(net, {"new": 3, "done": 0}, token_data=True), "data:") == {}  # counts only


def test_token_data_fits_in_the_figure():
    figure = draw(coloured_net(), token_data=True)
    renderer = figure.canvas.get_renderer()
    box = artists(figure, "data:new")["data:new"].get_window_extent(renderer)
    assert box.y0 >= 0 and box.x0 >= 0 and box.x1 <= figure.bbox.width
    label = artists(figure, "label:new")["label:new"].get_window_extent(renderer)
    assert box.y1 <= label.y0 + 1  # under the place's name, not over it
