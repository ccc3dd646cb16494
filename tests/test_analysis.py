"""dipen.analysis: reachability, deadlocks, bounds, coverability on classic nets.

Reference results are derived independently of the code under test:

- dining philosophers: the reachable markings are the assignments of (thinking, holding the
  left fork, eating) to the philosophers in which no fork is held twice; counting them with a
  3×3 transfer matrix around the table gives trace(T^n) = 6, 14, 34, 82 for n = 2..5, the
  companion Pell numbers (OEIS A002203). ``_brute_force`` below re-derives the state space
  from the firing rule written out separately, and ``_replay`` checks every state against the
  in-memory runner;
- producer–consumer with a buffer of k slots: 2 (producer) × 2 (consumer) × (k + 1) (buffer)
  markings, all reachable; hand-counted;
- mutual exclusion, the unbounded and the dead-transition nets are small enough to list by hand.
"""

from __future__ import annotations

from collections import deque

import pytest

import dipen
from dipen.analysis import OMEGA, coverability, reachability
from dipen.analysis.bench import bench_reachability, dining_philosophers
from dipen.errors import AnalysisError, DipenError
from dipen.elements import ArcKind

# -- independent references -----------------------------------------------------------------------


def _pell_companion(n: int) -> int:
    """trace(T^n) for the philosophers' transfer matrix (rows: left neighbour's state)."""
    transfer = [[1, 1, 1], [1, 1, 1], [1, 0, 0]]  # an eating neighbour holds my left fork
    power = [[int(i == j) for j in range(3)] for i in range(3)]
    for _ in range(n):
        power = [[sum(power[i][k] * transfer[k][j] for k in range(3)) for j in range(3)]
                 for i in range(3)]
    return sum(power[i][i] for i in range(3))


def _brute_force(net: dipen.Net) -> tuple[set[tuple[int, ...]], int]:
    """Every reachable marking and the number of (marking, transition) firings, from the arcs."""
    names = list(net.places)

    def fire(marking: dict[str, int], transition: dipen.Transition) -> dict[str, int] | None:
        after = dict(marking)
        for arc in transition.arcs:
            if arc.kind in (ArcKind.IN, ArcKind.IN_OUT, ArcKind.COND, ArcKind.OUT_COND):
                if marking[arc.place] < arc.weight:
                    return None
            if arc.kind in (ArcKind.IN, ArcKind.IN_OUT):
                after[arc.place] -= arc.weight
        for arc in transition.arcs:
            if arc.kind in (ArcKind.OUT, ArcKind.IN_OUT, ArcKind.OUT_COND):
                after[arc.place] += arc.weight
                capacity = net.places[arc.place].capacity
                if capacity is not None and after[arc.place] > capacity:
                    return None
        return after

    start = {name: len(place.initial) for name, place in net.places.items()}
    seen = {tuple(start[n] for n in names)}
    queue = deque([start])
    firings = 0
    while queue:
        marking = queue.popleft()
        for transition in net.transitions.values():
            after = fire(marking, transition)
            if after is not None:
                firings += 1
                key = tuple(after[n] for n in names)
                if key not in seen:
                    seen.add(key)
                    queue.append(after)
    return seen, firings


def _replay(net: dipen.Net, graph: dipen.analysis.ReachabilityGraph) -> None:
    """Reach every state with the in-memory runner along ``path_to`` and compare the marking
    and the enabled transitions with the graph's."""
    for state in graph.states:
        runner = dipen.Runner(net)
        for edge in graph.path_to(state):
            assert runner.step_sync(edge.transition) is not None
        assert runner.marking.counts() == state.counts()
        assert sorted(runner.enabled()) == sorted({e.transition for e in graph.successors(state)})


# -- dining philosophers ----------------------------------------------------------------------------


@pytest.mark.parametrize("n, expected", [(2, 6), (3, 14), (4, 34), (5, 82)])
def test_philosophers_state_count_and_the_one_deadlock(n, expected):
    net = dining_philosophers(n)
    graph = reachability(net)
    assert _pell_companion(n) == expected
    assert len(graph.states) == expected and not graph.incomplete
    states, firings = _brute_force(net)
    assert {tuple(s.counts().values()) for s in graph.states} == states
    assert len(graph.edges) == firings
    (deadlock,) = graph.deadlocks()
    assert deadlock.state.counts() == {
        place: int(place.startswith("left")) for place in net.places
    }
    assert sorted(edge.transition for edge in deadlock.path) == sorted(
        f"take_left{i}" for i in range(n))
    assert deadlock.why.startswith(" ".join(f"left{i}=1" for i in range(n)))
    assert "take_left0" in deadlock.why
    runner = dipen.Runner(net)  # the path really leads the runner into the deadlock
    for edge in deadlock.path:
        runner.step_sync(edge.transition)
    assert runner.enabled() == [] and runner.marking.counts() == deadlock.state.counts()
    assert graph.bounds() == dict.fromkeys(net.places, 1) and graph.is_bounded()
    assert graph.dead_transitions() == []
    assert not graph.is_reversible()
    assert graph.home_states() == [deadlock.state]


def test_philosophers_states_match_the_runner():
    net = dining_philosophers(3)
    _replay(net, reachability(net))


# -- producer / consumer, mutual exclusion ------------------------------------------------------------


def _producer_consumer(slots: int, *, capacity: bool) -> dipen.Net:
    net = (dipen.Net("producer-consumer").place("ready", tokens=1).place("made")
           .place("buffer", capacity=slots if capacity else None)
           .place("waiting", tokens=1).place("eating"))
    if not capacity:
        net.place("free", tokens=slots)
    net.transition("produce", take="ready", give="made")
    net.transition("deliver", take=["made"] if capacity else ["made", "free"], give=["ready", "buffer"])
    net.transition("fetch", take=["waiting", "buffer"], give="eating" if capacity else ["eating", "free"])
    net.transition("consume", take="eating", give="waiting")
    return net


@pytest.mark.parametrize("slots", [1, 2, 3])
@pytest.mark.parametrize("capacity", [True, False], ids=["capacity", "free-place"])
def test_producer_consumer_with_a_bounded_buffer(slots, capacity):
    net = _producer_consumer(slots, capacity=capacity)
    graph = reachability(net)
    assert len(graph.states) == 2 * 2 * (slots + 1)
    assert graph.bounds()["buffer"] == slots
    assert graph.deadlocks() == [] and graph.dead_transitions() == []
    assert graph.is_reversible() and len(graph.home_states()) == len(graph.states)
    full = [s for s in graph.states if s.counts()["buffer"] == slots and s.counts()["made"]]
    assert full and all("deliver" not in {e.transition for e in graph.successors(s)} for s in full)
    _replay(net, graph)


def test_mutual_exclusion_never_lets_both_in():
    net = (dipen.Net("mutex").place("idle1", tokens=1).place("critical1")
           .place("idle2", tokens=1).place("critical2").place("lock", tokens=1)
           .transition("enter1", take=["idle1", "lock"], give="critical1")
           .transition("leave1", take="critical1", give=["idle1", "lock"])
           .transition("enter2", take=["idle2", "lock"], give="critical2")
           .transition("leave2", take="critical2", give=["idle2", "lock"]))
    graph = reachability(net)
    assert sorted(s.label() for s in graph.states) == [
        "critical1=1 idle2=1", "idle1=1 critical2=1", "idle1=1 idle2=1 lock=1"]
    assert not any(s.counts()["critical1"] and s.counts()["critical2"] for s in graph.states)
    assert graph.is_reversible() and graph.deadlocks() == []
    assert [e.transition for e in graph.successors(graph.initial)] == ["enter1", "enter2"]


# -- arc kinds, weights and capacities against the runner -------------------------------------------


def test_reads_weights_in_out_and_capacity_fire_as_the_runner_does():
    net = (dipen.Net("kinds").place("source", tokens=4).place("flag").place("gate", tokens=1)
           .place("sink", capacity=3).place("loop", tokens=1, capacity=1)
           .transition("raise", take="gate", give="flag")
           .transition("move", take={"source": 2}, read="flag", give="sink")
           .transition("spin", take="loop", give="loop")
           .transition("note", read="flag", give={"sink": 2})
           .transition("drain", take={"sink": 3}))
    graph = reachability(net)
    _replay(net, graph)
    states, firings = _brute_force(net)
    assert {tuple(s.counts().values()) for s in graph.states} == states
    assert len(graph.edges) == firings
    assert graph.bounds() == {"source": 4, "flag": 1, "gate": 1, "sink": 3, "loop": 1}
    spins = [e for e in graph.edges if e.transition == "spin"]
    assert spins and all(e.source == e.target for e in spins)  # IN_OUT at capacity: enabled


# -- unbounded nets, coverability ------------------------------------------------------------------


def _pump() -> dipen.Net:
    return (dipen.Net("pump").place("on", tokens=1).place("water").place("spilled")
            .transition("pump", take="on", give=["on", "water"])
            .transition("spill", take={"water": 2}, give="spilled"))


def test_unbounded_net_is_cut_off_and_covered_with_omega():
    graph = reachability(_pump(), max_states=50)
    assert graph.incomplete and len(graph.states) == 50
    assert "incomplete" in repr(graph)
    assert graph.bounds() == {"on": 1, "water": OMEGA, "spilled": OMEGA}
    assert not graph.is_bounded()
    assert repr(graph.bounds()["water"]) == "ω"
    covering = coverability(_pump())
    assert covering.markings == [
        {"on": 1, "water": 0, "spilled": 0},
        {"on": 1, "water": OMEGA, "spilled": 0},
        {"on": 1, "water": OMEGA, "spilled": OMEGA},
    ]
    assert sorted(covering.edges) == [
        (0, "pump", 1), (1, "pump", 1), (1, "spill", 2), (2, "pump", 2), (2, "spill", 2)]
    assert covering.dead_transitions() == []
    with pytest.raises(AnalysisError, match="whole state space"):
        graph.deadlocks()
    assert graph.deadlocks(partial=True) == []


def test_coverability_agrees_with_reachability_on_bounded_nets():
    net = dining_philosophers(3)
    covering = coverability(net)
    graph = reachability(net)
    assert len(covering) == len(graph.states)
    assert covering.bounds() == graph.bounds()
    capped = coverability(_producer_consumer(2, capacity=True))
    assert capped.is_bounded() and capped.bounds()["buffer"] == 2


def test_coverability_refuses_code():
    net = dipen.Net("code").place("a", tokens=1).place("b")

    @net.transition(take="a", give="b")
    async def work(token):
        return token

    with pytest.raises(AnalysisError, match="'code', transition 'work'"):
        coverability(net)


# -- dead transitions, home states -----------------------------------------------------------------


def test_dead_transition_found_and_confirmed_by_the_runner():
    net = (dipen.Net("dead").place("a", tokens=1).place("b").place("c").place("d", tokens=1)
           .transition("go", take="a", give="b")
           .transition("back", take="b", give="a")
           .transition("stuck", take=["b", "c"], give="d")
           .transition("both", take={"d": 2}, give="a"))
    graph = reachability(net)
    assert graph.dead_transitions() == ["stuck", "both"]
    assert [s.label() for s in graph.home_states()] == ["a=1 d=1", "b=1 d=1"]
    assert graph.is_reversible()
    for state in graph.states:
        runner = dipen.Runner(net)
        for edge in graph.path_to(state):
            runner.step_sync(edge.transition)
        assert "stuck" not in runner.enabled() and "both" not in runner.enabled()


def test_a_net_that_starts_dead():
    net = dipen.Net("still").place("a").transition("t", take="a")
    graph = reachability(net)
    (deadlock,) = graph.deadlocks()
    assert deadlock.path == [] and "before anything fires" in deadlock.why
    assert graph.dead_transitions() == ["t"] and graph.is_reversible()


# -- the incomplete flag ----------------------------------------------------------------------------


def test_max_states_stops_with_a_flag_never_silently():
    net = dining_philosophers(4)
    graph = reachability(net, max_states=10)
    assert graph.incomplete and len(graph.states) == 10
    assert graph.states[-1].index == 9
    for question in (graph.deadlocks, graph.is_reversible, graph.home_states):
        with pytest.raises(AnalysisError, match="max_states=10"):
            question()
    assert graph.dead_transitions() == []  # answered from the coverability graph
    assert graph.bounds() == dict.fromkeys(net.places, 1)
    assert not reachability(net, max_states=34).incomplete
    assert reachability(net, max_states=33).incomplete
    with pytest.raises(AnalysisError, match="max_states must be an int"):
        reachability(net, max_states=0)


# -- graph objects ----------------------------------------------------------------------------------


def test_graph_objects_and_networkx():
    net = _producer_consumer(1, capacity=True)
    graph = reachability(net)
    assert graph.initial == graph.states[0] and graph.initial.index == 0
    assert graph.initial["ready"] == (None,) and graph.initial["buffer"] == ()
    assert graph.states[-1] == graph.states[len(graph.states) - 1]
    assert len(graph.states[1:3]) == 2
    with pytest.raises(IndexError):
        graph.states[len(graph.states)]
    with pytest.raises(KeyError, match="no place 'nowhere'"):
        graph.initial["nowhere"]
    for edge in graph.edges:
        assert edge.target.index in {e.target.index for e in graph.successors(edge.source)}
        path = graph.path_to(edge.target)
        assert len(path) <= len(graph.path_to(edge.source)) + 1
    g = graph.to_networkx()
    assert g.number_of_nodes() == len(graph.states)
    assert g.number_of_edges() == len(graph.edges)
    assert g.nodes[0]["initial"] and g.nodes[0]["counts"] == graph.initial.counts()
    assert {t for _, _, t in g.edges(data="transition")} == set(net.transitions)
    assert graph.rate > 0
    with pytest.raises(AnalysisError, match="not a state"):
        graph.path_to(10_000)


def test_drawing_highlights_deadlocks():
    graph = reachability(dining_philosophers(2))
    figure = graph.draw()
    boxes = {p.get_gid(): p for p in figure.axes[0].patches if p.get_gid().startswith("state:")}
    assert len(boxes) == 6
    (deadlock,) = graph.deadlocks()
    red = boxes[f"state:{deadlock.state.index}"].get_facecolor()
    grey = boxes["state:0"].get_facecolor()
    assert red != grey and red[0] > red[2]
    svg = graph._repr_svg_()
    assert svg is not None and 'id="state:5"' in svg and "take_left0" in svg
    assert coverability(_pump()).draw().axes
    with pytest.raises(AnalysisError, match="too many to draw"):
        reachability(dining_philosophers(8)).draw()



def _ring():
    return (dipen.Net("ring").place("a", tokens=1).place("b")
            .transition("go", take="a", give="b").transition("back", take="b", give="a"))


def _edges_and_boxes(figure):
    figure.canvas.draw()
    patches = {p.get_gid(): p for p in figure.axes[0].patches}
    edges = {gid: p for gid, p in patches.items() if gid.startswith("edge:")}
    boxes = {gid: p.get_bbox() for gid, p in patches.items() if gid.startswith("state:")}
    return edges, boxes


def test_state_graph_edges_are_arrows_whose_heads_show_beside_their_target():
    edges, boxes = _edges_and_boxes(reachability(_ring()).draw())
    assert set(edges) == {"edge:0:1:0", "edge:1:0:0"}  # a two-state ring: two directed edges
    tips = {}
    for gid, edge in edges.items():
        _, source, target, _ = gid.split(":")
        assert edge.get_arrowstyle().__class__.__name__ == "CurveFilledB"  # "-|>"
        points = edge.get_path().vertices  # data coordinates, the head included
        for box in boxes.values():  # nothing of the arrow hides under a box
            assert not any(box.x0 < x < box.x1 and box.y0 < y < box.y1 for x, y in points)
        target_box = boxes[f"state:{target}"]
        gaps = [max(target_box.y0 - y, y - target_box.y1, 0.0) for _, y in points]
        assert min(gaps) < 0.1  # the head reaches its target (its rounded, padded outline)
        tips[gid] = sorted(round(x, 2) for x, _ in points)
    assert tips["edge:0:1:0"] != tips["edge:1:0:0"]  # they bend to opposite sides


def test_state_graph_labels_can_be_given_and_cut_where_asked():
    graph = reachability(dining_philosophers(2))

    def shown(figure):
        return {t.get_gid(): t.get_text() for t in figure.axes[0].texts
                if t.get_gid().startswith("state-label:")}

    default = shown(graph.draw())
    assert default["state-label:0"] == "think0=1 fork0=1 think1=1 f…"
    assert len(default["state-label:0"]) == 28
    whole = shown(graph.draw(max_label=None))
    assert whole["state-label:0"] == graph.initial.label()
    named = shown(graph.draw(labels=lambda state: f"S{state.index}: {len(state.label())}"))
    assert named["state-label:3"] == f"S3: {len(graph.states[3].label())}"
    mapped = shown(graph.draw(labels={0: "start", graph.states[1]: "one\nfork each side"},
                              max_label=8))
    assert mapped["state-label:0"] == "start" and mapped["state-label:1"] == "one\nfork ea…"
    assert mapped["state-label:2"] == graph.states[2].label()[:7] + "…"
    omega = coverability(_pump())
    counted = shown(omega.draw(labels=lambda marking: f"{sum(1 for n in marking.values() if n is OMEGA)} ω"))
    assert set(counted.values()) == {"0 ω", "1 ω", "2 ω"}
    with pytest.raises(AnalysisError, match="max_label is at least 2"):
        graph.draw(max_label=1)


def test_drawing_a_state_graph_logs_nothing(caplog):
    caplog.set_level("DEBUG", logger="matplotlib")
    for graph in (reachability(_ring()), reachability(dining_philosophers(2)),
                  coverability(_pump())):
        svg = graph._repr_svg_() if hasattr(graph, "_repr_svg_") else None
        figure = graph.draw(labels=lambda state: "a\nb")
        figure.savefig(__import__("io").BytesIO(), format="png")
        assert svg is None or svg.startswith("<?xml")
    assert [r.getMessage() for r in caplog.records if r.levelno >= 30] == []


def test_bench_reports_states_and_rate():
    lines = []
    result = bench_reachability(5, repeat=1, report=lines.append)
    assert result["states"] == 82 and result["states_per_second"] > 0
    assert "82 states" in lines[0] and "states/s" in lines[0]
