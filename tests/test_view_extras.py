"""The live view's state graph panel (issue 6) and its history slider (issue 5): the traits
after commands and settings as a browser sends them, ``ReachabilityGraph.find``, and the
JavaScript of both rendered against the fake DOM of ``test_widgets``.
"""

from __future__ import annotations

import asyncio
import shutil

import pytest
import test_widgets
from test_widgets import FAKE_DOM, browser_send, browser_set, run_view_js

import dipen
from dipen.analysis.bench import dining_philosophers
from dipen.viz.widgets import LiveView

make_view = test_widgets.make_view  # the fixture: views closed after each test


def philosophers(count=2):
    """Each philosopher takes the left fork, then the right one: all left forks is a deadlock."""
    return dining_philosophers(count)


def step(view, transition):
    view.handle({"action": "step", "transition": transition})
    assert view.notice["ok"], view.notice["text"]


# -- the state graph -------------------------------------------------------------------------------


def test_the_state_graph_follows_the_run(make_view):
    net = philosophers()
    graph = dipen.analysis.reachability(net)
    runner = dipen.Runner(net)
    view = make_view(runner, state_graph=True)
    assert view.show_state_graph
    described = view.state_graph
    assert described["count"] == len(graph) == len(described["states"]) and not described["message"]
    assert [s["label"] for s in described["states"]] == [s.label() for s in graph.states]
    deadlocks = [d.state.index for d in graph.deadlocks()]
    assert deadlocks and [i for i, s in enumerate(described["states"]) if s["deadlock"]] == deadlocks
    assert view.state_now["live"] == 0 and view.state_now["shown"] == 0

    step(view, "take_left0")
    step(view, "take_right0")
    eating = graph.find({"eat0": 1, "think1": 1, "fork1": 0, "fork0": 0})
    assert view.state_now["live"] == eating.index == graph.find(runner.marking).index
    assert "eat0=1" in view.state_now["text"]
    edge = {"source": 0, "target": graph.find({"left0": 1, "think1": 1, "fork1": 1}).index}
    assert any(e["source"] == edge["source"] and e["target"] == edge["target"]
               and e["transitions"] == ["take_left0"] for e in described["edges"])

    step(view, "put_down0")
    assert view.state_now["live"] == 0  # back at the start
    step(view, "take_left0")
    step(view, "take_left1")
    live = view.state_now["live"]
    assert live in deadlocks and view.state_graph["states"][live]["deadlock"]
    assert view.state_now["text"].endswith("(deadlock)")


def test_the_browser_shows_and_hides_the_state_graph(make_view):
    runner = dipen.Runner(philosophers())
    view = make_view(runner)
    assert not view.show_state_graph and view.state_graph == {} and view.state_now == {}
    browser_set(view, show_state_graph=True)
    assert view.state_graph["count"] > 1 and view.state_now["live"] == 0
    browser_set(view, show_state_graph=False)
    step(view, "take_left0")
    assert view.state_now["live"] == 0  # hidden: no longer followed
    browser_set(view, show_state_graph=True)
    assert view.state_now["live"] == 1


def test_a_net_with_code_gets_a_message_or_a_graph_declared_pure(make_view):
    net = dipen.Net("code").place("a", tokens=[1, 2]).place("b")

    @net.transition(take="a", give="b")
    async def double(token):
        return token.replace(token.data * 2)

    view = make_view(dipen.Runner(net), state_graph=True)
    message = view.state_graph["message"]
    assert view.state_graph["states"] == [] and "no state graph" in message and "pure" in message
    assert view.state_now["live"] is None and view.state_now["text"] == message

    runner = dipen.Runner(net)
    graph = dipen.analysis.reachability(net, pure=True)
    view = make_view(runner, state_graph=graph)
    assert view.state_graph["count"] == len(graph) == 4 and view.state_now["live"] == 0
    step(view, "double")
    assert view.state_now["live"] == graph.find(runner.marking).index != 0
    view.handle({"action": "add", "place": "a", "data": 99})  # a state the net cannot reach
    assert view.notice["ok"], view.notice["text"]
    assert view.state_now["live"] is None
    assert "in no reachable state" in view.state_now["text"]


def test_an_incomplete_graph_and_one_too_large(make_view):
    net = dipen.Net("grow").place("a", tokens=1).transition("t", read="a", give="a")
    view = make_view(dipen.Runner(net), state_graph=dipen.analysis.reachability(net, max_states=5))
    assert view.state_graph["incomplete"] and view.state_graph["count"] == 5
    for _ in range(5):
        step(view, "t")
    assert view.state_now["live"] is None and "outside the 5 states" in view.state_now["text"]
    big = dipen.analysis.reachability(net, max_states=400)
    view = make_view(dipen.Runner(net), state_graph=big)
    assert "too many to draw" in view.state_graph["message"]


def test_find_maps_markings_to_states():
    net = dipen.Net("n").place("a", tokens=["x", {"k": [1, 2]}]).place("b")
    net.transition("t", take="a", give="b")
    graph = dipen.analysis.reachability(net)
    runner = dipen.Runner(net)
    assert graph.find(runner.marking) == graph.initial
    assert graph.find({"a": [{"k": [1, 2]}, "x"]}) == graph.initial  # order does not matter
    assert graph.find({"a": ["x"], "b": [{"k": [1, 2]}]}).label() == "a=['x'] b=[{'k': [1, 2]}]"
    assert graph.find({"a": ["y", "x"]}) is None and graph.find({"a": [{1, 2}]}) is None
    counts = dipen.analysis.reachability(philosophers())
    assert counts.find({"think0": 1, "think1": 1, "fork0": 1, "fork1": 1}) == counts.initial


# -- the history slider ----------------------------------------------------------------------------


def test_the_history_shows_the_marking_at_a_revision(make_view):
    net = philosophers()
    graph = dipen.analysis.reachability(net)
    runner = dipen.Runner(net)
    view = make_view(runner, state_graph=graph)
    for name in ("take_left0", "take_right0", "put_down0", "take_left1"):
        step(view, name)
    live = runner.marking
    browser_send(view, {"action": "history"})
    revisions = view.history["revisions"]
    assert revisions == [r for r, _, _ in asyncio.run(runner.revisions())] and len(revisions) >= 5
    for revision in revisions:
        browser_set(view, position=revision)
        then = asyncio.run(runner.marking_at(revision))
        assert view.marking == then.counts()
        assert view.status["position"] == revision and view.status["time"] == then.time
        assert view.state_now["shown"] == graph.find(then).index
        assert view.state_now["live"] == graph.find(live).index  # the run stays where it is
        assert view.state_now["position"] == revision
        assert view.state_now["text"].startswith(f"revision {revision} is in state")
        assert runner.marking.counts() == live.counts()  # looking back changes nothing
    browser_set(view, position=None)
    assert view.marking == live.counts() and view.state_now["position"] is None
    assert view.state_now["shown"] == view.state_now["live"]


def test_the_net_runs_on_while_the_view_shows_the_past(make_view):
    runner = dipen.Runner(philosophers())

    async def main():
        view = make_view(runner, state_graph=True)
        await view.handle({"action": "step", "transition": "take_left0"})
        await view.handle({"action": "history"})
        first = view.history["revisions"][0]
        browser_set(view, position=first)
        await view.wait()
        await view.handle({"action": "step", "transition": "take_right0"})
        await view.wait()
        return view, first

    view, first = asyncio.run(main())
    assert view.marking == asyncio.run(runner.marking_at(first)).counts()  # still the past
    assert runner.marking["eat0"] and view.status["revision"] > first
    assert view.state_now["shown"] == 0 and view.state_now["live"] not in (0, 1)


# -- the JavaScript ---------------------------------------------------------------------------------

_SCRIPT = FAKE_DOM + r"""
const out = {};
const button = (label) => el.all((n) => n.tag === "button" && n.textContent === label)[0];
const states = () => el.all((n) => n.classes.has("dl-state"));
const panel = el.all((n) => n.classes.has("dl-states"))[0];
const banner = el.all((n) => n.classes.has("dl-past-banner"))[0];
out.boxes = states().length;
out.edges = el.all((n) => n.classes.has("dl-state-edge")).length;
out.live = states().filter((g) => g.attrs["data-live"] === "true").map((g) => g.attrs["data-state"]);
out.deadlocks = states().filter((g) => g.attrs["data-deadlock"] === "true").map((g) => g.attrs["data-state"]);
out.panelShown = panel.style.display;
out.text = el.all((n) => n.classes.has("dl-states-now"))[0].textContent;
change("state_now", { live: 1, shown: 0, position: 2, text: "revision 2 is in state 0" });
out.moved = states().filter((g) => g.attrs["data-live"] === "true").map((g) => g.attrs["data-state"]);
out.shown = states().filter((g) => g.attrs["data-shown"] === "true").map((g) => g.attrs["data-state"]);
out.bannerHidden = banner.style.display;
change("status", { ...state.status, position: 2, time: 1.5, revision: 7 });
out.banner = banner.textContent;
out.bannerShown = banner.style.display;
button("Back to live").fire("click");
button("Hide states").fire("click");
out.saved = saved;
change("show_state_graph", false);
out.panelHidden = panel.style.display;
out.toggle = el.all((n) => n.attrs["data-action"] === "states")[0].textContent;
change("state_graph", { states: [], edges: [], message: "no state graph: it runs code" });
out.message = panel.textContent.includes("no state graph: it runs code");
cleanup();
out.listenersLeft = Object.values(listeners).reduce((n, l) => n + l.length, 0);
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the view's JavaScript")
def test_the_javascript_draws_the_state_graph_and_the_history_banner(make_view, tmp_path):
    net = philosophers()
    view = make_view(dipen.Runner(net, clock="simulated"), state_graph=True)
    state = {key: value for key, value in view.get_state().items() if not key.startswith("_")}
    out = run_view_js(state, _SCRIPT, tmp_path)
    graph = dipen.analysis.reachability(net)
    assert out["boxes"] == len(graph) and out["edges"] == len(view.state_graph["edges"])
    assert out["live"] == ["0"] and out["panelShown"] == ""
    assert out["deadlocks"] == [str(d.state.index) for d in graph.deadlocks()]
    assert out["text"] == view.state_now["text"]
    assert out["moved"] == ["1"] and out["shown"] == ["0"]
    assert out["bannerHidden"] == "none" and out["bannerShown"] == ""
    assert "history at revision 2, t = 1.50" in out["banner"] and "live: revision 7" in out["banner"]
    assert ["position", None] in out["saved"] and ["show_state_graph", False] in out["saved"]
    assert out["panelHidden"] == "none" and out["toggle"] == "States"
    assert out["message"] and out["listenersLeft"] == 0


def test_the_widget_ships_one_module():
    assert 'from "./' not in LiveView._esm and "function mountStateGraph(" in LiveView._esm
