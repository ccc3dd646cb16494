"""The live view: its synced state after firings, the commands and traits a browser sends,
errors, coalescing of events, several runners on one store, the static SVG fallback, closing,
and the JavaScript view (rendered against a small fake DOM in node, when node is installed).

Commands go through the widget's message path exactly as the kernel delivers a browser's
``model.send(...)`` (a ``custom`` comm message), and traits through ``set_state``.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import re
import shutil
import subprocess
import sys
import time

import pytest
import traitlets

import dipen
from dipen.viz.esm import bundle
from dipen.viz.widgets import LiveView

VIEW_JS = pathlib.Path(dipen.__file__).parent / "viz" / "view.js"


# -- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def make_view():
    """Build views and close them all afterwards (warnings are errors here)."""
    views = []

    def make(*args, **kwargs):
        view = LiveView(*args, **kwargs)
        views.append(view)
        return view

    yield make
    for view in views:
        view.close()


def browser_send(view, content):
    """Deliver ``content`` as the kernel delivers a browser's ``model.send(content)``."""
    view._handle_msg({"content": {"data": {"method": "custom", "content": content}},
                      "buffers": []})


def browser_set(view, **state):
    """Deliver a state update as the kernel delivers a browser's ``model.save_changes()``."""
    view._handle_msg({"content": {"data": {"method": "update", "state": state,
                                           "buffer_paths": []}}, "buffers": []})


def line(tokens=1):
    net = dipen.Net("line").place("a", tokens=tokens).place("b")
    return net.transition("t", take="a", give="b")


def regions_net():
    net = dipen.Net("regions").place("a", tokens=1).place("b").place("c")
    net.transition("t1", take="a", give="b", region="left")
    net.transition("t2", take="b", give="c", region="right")
    return net


def failing_net():
    net = dipen.Net("failing").place("a", tokens=2).place("b")

    @net.transition(take="a", give="b")
    async def bad(token):
        raise ValueError("boom")

    return net


# -- state after firings ---------------------------------------------------------------------------


def test_state_shows_the_marking_after_a_firing(make_view):
    runner = dipen.Runner(line(2))
    view = make_view(runner)
    assert view.get_state()["marking"] == {"a": 2, "b": 0}
    assert view.get_state()["states"] == {"t": "enabled"}
    runner.step_sync("t")
    view.flush()
    state = view.get_state()
    assert state["marking"] == {"a": 1, "b": 1}
    assert state["stats"]["total"] == 1 and state["stats"]["firings"] == {"t": 1}
    assert state["status"]["revision"] == runner.marking.revision
    json.dumps(state)  # everything the browser gets is JSON


def test_the_timer_sends_the_state_on_a_running_loop(make_view):
    runner = dipen.Runner(line(3))

    async def main():
        view = make_view(runner)
        flushes = view.profile["flushes"]
        await runner.run()
        events = view.profile["events"]
        await asyncio.sleep(0.3)
        return view, flushes, events

    view, flushes, events = asyncio.run(main())
    assert events == 6  # started and finished, three times
    assert view.marking == {"a": 0, "b": 3}
    assert view.profile["flushes"] > flushes


def test_taken_tokens_and_running_firings_are_shown(make_view):
    net = dipen.Net("slow").place("a", tokens=[1, 2]).place("b")

    @net.transition(take="a", give="b")
    async def work(token):
        await dipen.sleep(10)
        return token

    runner = dipen.Runner(net, clock="simulated")

    async def main():
        view = make_view(runner)
        task = runner.start()
        await asyncio.sleep(0.05)  # ten simulated seconds at one a second: still asleep
        view.flush()
        running = (dict(view.firing), dict(view.states), dict(view.marking))
        runner.stop()  # cancels the firing: its token goes back
        await task
        return running

    runner.clock.speed = 1
    firing, states, marking = asyncio.run(main())
    assert firing == {"transitions": {"work": 1}, "taken": {"a": 1}, "elsewhere": {}}  # its own
    assert states == {"work": "firing"}
    assert marking == {"a": 2, "b": 0}


# -- commands --------------------------------------------------------------------------------------


def test_block_and_unblock_round_trip(make_view):
    runner = dipen.Runner(line())
    view = make_view(runner)
    browser_send(view, {"action": "block", "transition": "t"})
    assert view.states == {"t": "blocked"}
    assert view.notice["ok"] and view.notice["text"] == "blocked 't'"
    # through the store: a standing control every runner obeys, by the runner's node
    assert runner.standing_controls()["block/transition/t"]["by"] == runner.node
    assert view.controls["held"] == {"t": f"blocked by {runner.node} (transition 't'): "
                                          "no reason given"}
    browser_send(view, {"action": "step", "transition": "t"})
    assert not view.notice["ok"] and "blocked" in view.notice["text"]
    assert view.marking == {"a": 1, "b": 0}
    browser_send(view, {"action": "unblock", "transition": "t"})
    assert view.states == {"t": "enabled"} and runner.standing_controls() == {}
    assert view.controls == {"transitions": {}, "regions": {}, "held": {}, "requests": {}}


def test_manual_fire_with_data_and_the_token_panel(make_view):
    net = dipen.Net("source").place("out").transition("make", give="out")
    runner = dipen.Runner(net)
    view = make_view(runner)
    browser_send(view, {"action": "fire", "transition": "make", "data": {"n": 1}})
    assert view.notice["ok"], view.notice
    assert view.marking == {"out": 1}
    browser_set(view, selected_place="out")
    assert view.selected_place == "out"
    assert view.tokens["place"] == "out" and view.tokens["total"] == 1
    assert [token["data"] for token in view.tokens["shown"]] == [{"n": 1}]
    assert runner.marking["out"][0].data == {"n": 1}


def test_fire_when_not_enabled_shows_why(make_view):
    runner = dipen.Runner(line(0))
    view = make_view(runner)
    browser_send(view, {"action": "fire", "transition": "t", "data": None})
    assert view.notice["ok"] is False
    assert view.notice["text"] == runner.explain("t")
    assert "place 'a' has 0 free tokens" in view.notice["text"]
    browser_send(view, {"action": "step"})
    assert view.notice["text"] == "nothing is enabled"


def test_explain_says_why_in_words(make_view):
    runner = dipen.Runner(line())
    view = make_view(runner)
    browser_send(view, {"action": "explain", "transition": "t"})
    assert view.notice == {"seq": view.notice["seq"], "action": "explain", "transition": "t",
                           "ok": True, "text": "'t' is enabled: it would take 1 from 'a'"}


def test_bad_commands_are_reported_not_raised(make_view):
    view = make_view(dipen.Runner(line()))
    browser_send(view, {"action": "jump"})
    assert not view.notice["ok"] and "unknown command 'jump'" in view.notice["text"]
    browser_send(view, {"action": "block", "transition": "nope"})
    assert not view.notice["ok"] and "no transition 'nope'" in view.notice["text"]
    browser_send(view, {"action": "block"})
    assert not view.notice["ok"] and "needs a transition" in view.notice["text"]
    browser_send(view, {"action": "run"})  # no running loop: start() cannot work
    assert not view.notice["ok"] and "running event loop" in view.notice["text"]
    seq = view.notice["seq"]
    browser_send(view, {"action": "fire"})
    assert view.notice["seq"] == seq + 1 and "needs a transition" in view.notice["text"]


def test_step_and_reset(make_view):
    runner = dipen.Runner(line(2))
    view = make_view(runner)
    browser_send(view, {"action": "step"})
    browser_send(view, {"action": "step"})
    assert view.marking == {"a": 0, "b": 2}
    browser_send(view, {"action": "reset"})
    assert view.notice["ok"], view.notice
    assert view.marking == {"a": 2, "b": 0}
    assert runner.marking.counts() == {"a": 2, "b": 0}


def test_run_pause_and_stop_on_a_running_loop(make_view):
    net = dipen.Net("timed").place("a", tokens=list(range(50))).place("b")

    @net.transition(take="a", give="b")
    async def slow(token):
        await dipen.sleep(1)
        return token

    runner = dipen.Runner(net, clock="simulated")

    async def until(condition):
        for _ in range(300):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("timed out")

    async def main():
        view = make_view(runner)
        browser_set(view, speed=50)  # 50 simulated seconds a second: 20 ms per firing
        view.handle({"action": "run"})
        await until(lambda: runner.running)
        await until(lambda: runner.stats.total >= 3)
        view.flush()
        running = view.status["running"]
        view.handle({"action": "pause"})
        await until(lambda: not runner.running)
        await view.wait()
        paused = view.notice["text"]
        view.handle({"action": "run"})
        await until(lambda: runner.running)
        view.handle({"action": "stop"})
        await until(lambda: not runner.running)
        await view.wait()
        return view, running, paused

    view, running, paused = asyncio.run(main())
    assert running is True
    assert paused.startswith(f"run of {runner.node} ended (paused)")
    assert "ended (stopped)" in view.notice["text"]
    assert view.status["running"] is False
    assert sum(view.marking.values()) == 50 and view.firing["taken"] == {}


def test_speed_is_set_by_the_browser(make_view):
    runner = dipen.Runner(line(), clock="simulated")
    view = make_view(runner)
    assert view.status["clock"] == "simulated" and view.speed is None
    browser_set(view, speed=5)
    assert runner.clock.speed == 5.0
    browser_set(view, speed=None)  # "max"
    assert runner.clock.speed is None
    for bad in (0, -1, float("inf")):
        with pytest.raises(traitlets.TraitError, match="positive number"):
            view.set_state({"speed": bad})
    assert runner.clock.speed is None


def test_speed_needs_a_simulated_clock(make_view):
    view = make_view(dipen.Runner(line()))
    assert view.status["clock"] == "real"
    with pytest.raises(traitlets.TraitError, match="simulated clock"):
        view.set_state({"speed": 2})


def test_selected_place_is_checked_and_tokens_are_limited(make_view):
    net = dipen.Net("many").place("a", tokens=[{"i": i} for i in range(30)]).place("b")
    view = make_view(dipen.Runner(net.transition("t", take="a", give="b")))
    with pytest.raises(traitlets.TraitError, match="no place 'zz'"):
        view.set_state({"selected_place": "zz"})
    browser_set(view, selected_place="a")
    assert view.tokens["total"] == 30 and len(view.tokens["shown"]) == 20
    assert view.tokens["shown"][0] == {"id": view.tokens["shown"][0]["id"], "data": {"i": 0},
                                       "firing": None}
    view.token_limit = 5
    assert len(view.tokens["shown"]) == 5
    with pytest.raises(traitlets.TraitError):
        view.token_limit = 0
    browser_set(view, selected_place="")
    assert view.tokens == {}


def test_history_slider_round_trip(make_view):
    runner = dipen.Runner(line(2))
    runner.run_sync()
    view = make_view(runner)
    browser_send(view, {"action": "history"})
    assert view.history["revisions"] == [1, 2, 3]
    assert view.history["kinds"][0] == "init" and view.history["count"] == 3
    browser_set(view, position=1)
    assert view.marking == {"a": 2, "b": 0}
    assert view.status["position"] == 1
    browser_set(view, selected_place="b")
    assert view.tokens["total"] == 0  # the panel shows the tokens of then, too
    browser_set(view, position=2)
    assert view.marking == {"a": 1, "b": 1}
    browser_set(view, position=None)
    assert view.marking == {"a": 0, "b": 2} and view.tokens["total"] == 2
    with pytest.raises(traitlets.TraitError):
        view.set_state({"position": -1})


def test_history_on_a_running_loop(make_view):
    runner = dipen.Runner(line(2))

    async def main():
        view = make_view(runner)
        await runner.run()
        task = view.handle({"action": "history"})
        assert isinstance(task, asyncio.Task)
        browser_set(view, position=2)
        await view.wait()
        return view

    view = asyncio.run(main())
    assert view.history["revisions"] == [1, 2, 3]
    assert view.marking == {"a": 1, "b": 1}


# -- errors ----------------------------------------------------------------------------------------


def test_errors_of_a_failing_transition_are_shown(make_view):
    runner = dipen.Runner(failing_net())
    view = make_view(runner)
    runner.run_sync()
    view.flush()
    assert view.states == {"bad": "failed"}
    assert view.errors["bad"].startswith("ValueError: boom")
    assert view.stats["failures"] == {"bad": 1}
    browser_send(view, {"action": "unblock", "transition": "bad"})
    assert view.errors == {} and view.states == {"bad": "enabled"}


def test_an_error_goes_once_a_retry_succeeds(make_view):
    net = dipen.Net("flaky").place("a", tokens=1).place("b")
    attempts = []

    @net.transition(take="a", give="b", on_error=dipen.Retry(times=2, backoff=0))
    async def flaky(token):
        attempts.append(token)
        if len(attempts) == 1:
            raise ValueError("first try")
        return token

    runner = dipen.Runner(net)
    view = make_view(runner)
    during = []

    def after_the_failure(event):  # the view saw the event first: it subscribed first
        if isinstance(event, dipen.events.FiringFailed):
            view.flush()
            during.append(dict(view.errors))

    runner.subscribe(after_the_failure)
    runner.run_sync()
    view.flush()
    assert len(attempts) == 2
    assert [list(errors) for errors in during] == [["flaky"]]
    assert during[0]["flaky"].startswith("ValueError: first try")
    assert view.errors == {} and view.marking == {"a": 0, "b": 1}


def test_a_raising_guard_is_shown(make_view):
    net = dipen.Net("guarded").place("a", tokens=1).place("b")
    net.transition("t", take="a", give="b", guard=lambda token: 1 / 0)
    runner = dipen.Runner(net)
    view = make_view(runner)
    runner.run_sync()
    view.flush()
    assert view.errors["t"].startswith("guard raised ZeroDivisionError")


# -- coalescing ------------------------------------------------------------------------------------


class _Sent:
    """Records what the widget would send to the browser."""

    def __init__(self):
        self.updates = []

    def send(self, data=None, metadata=None, buffers=None):
        if data.get("method") == "update":
            self.updates.append(data["state"])


def test_a_thousand_events_make_a_handful_of_flushes(make_view):
    runner = dipen.Runner(line(500))

    async def main():
        view = make_view(runner)
        sent = _Sent()
        view.comm.send = sent.send
        before = view.profile
        await runner.run()
        await asyncio.sleep(0.3)
        return view, before, sent

    view, before, sent = asyncio.run(main())
    after = view.profile
    assert after["events"] - before["events"] == 1000
    assert 1 <= after["flushes"] - before["flushes"] <= 3
    assert 1 <= len([u for u in sent.updates if "marking" in u]) <= 3
    assert view.marking == {"a": 0, "b": 500}
    assert all("net" not in update for update in sent.updates)  # no re-render


def test_flushes_are_spaced_while_events_flow(make_view):
    net = dipen.Net("busy").place("a", tokens=list(range(400))).place("b")

    @net.transition(take="a", give="b", concurrency=20)
    async def work(token):
        await asyncio.sleep(0.02)
        return token

    runner = dipen.Runner(net)

    async def main():
        view = make_view(runner)
        before = view.profile["flushes"]
        started = time.perf_counter()
        await runner.run()
        elapsed = time.perf_counter() - started
        return view.profile["flushes"] - before, elapsed, view.profile["events"]

    flushes, elapsed, events = asyncio.run(main())
    assert events == 800
    assert elapsed > 0.3  # 400 firings of 20 ms, 20 at a time
    assert flushes >= 2  # the view kept up while it ran ...
    assert flushes <= elapsed / 0.095 + 2  # ... and never sent more often than its interval


# -- several runners -------------------------------------------------------------------------------


def test_two_runners_on_one_store_show_both_regions(make_view):
    store = dipen.MemoryStore()
    net = regions_net()
    left = dipen.Runner(net, store=store, region="left")
    standby = dipen.Runner(net, store=store, region="right")
    right = dipen.Runner(net, store=store, region="right")
    view = make_view([left, standby, right])
    regions = {r["name"]: r for r in view.net["regions"]}
    assert regions["left"]["runners"] == [left.node]
    assert regions["right"]["runners"] == [standby.node, right.node]
    assert all(regions[name]["hulls"] for name in regions)
    assert {t["name"]: t["region"] for t in view.net["transitions"]} == {"t1": "left",
                                                                          "t2": "right"}
    assert view.states == {"t1": "enabled", "t2": "idle"}

    async def main():
        await asyncio.gather(left.run(), right.run())

    asyncio.run(main())
    view.flush()
    assert view.marking == {"a": 0, "b": 0, "c": 1}
    assert view.status["leaders"] == {"left": left.node, "right": right.node}
    assert view.stats["firings"] == {"t1": 1, "t2": 1}
    browser_send(view, {"action": "block", "transition": "t2", "why": "audit"})
    for runner in (left, standby, right):  # through the store: every runner obeys
        assert "blocked by " in runner.explain("t2") and "audit" in runner.explain("t2")
    assert view.states["t2"] == "blocked"


def test_runners_of_one_view_share_one_store():
    net = line()
    with pytest.raises(dipen.RunnerError, match="two MemoryStore objects, each with a state of its own"):
        LiveView([dipen.Runner(net), dipen.Runner(net)])
    with pytest.raises(dipen.RunnerError, match="needs a runner"):
        LiveView([])
    other = dipen.Net("line").place("a", tokens=1).place("b").transition("t", take="b", give="a")
    store = dipen.MemoryStore()
    with pytest.raises(dipen.RunnerError, match="must run one net: .*transition 't': arcs"):
        LiveView([dipen.Runner(net, store=store), dipen.Runner(other, store=store)])
    with pytest.raises(dipen.RunnerError, match="uses a EtcdStore, runner .* a MemoryStore"):
        LiveView([dipen.Runner(net, store=store), dipen.Runner(net, store=dipen.EtcdStore())])


@pytest.mark.etcd
def test_runners_with_their_own_etcd_store_on_one_prefix_share_one_view(make_view, etcd_endpoints):
    from dipen.notebook import run_blocking

    net = regions_net()
    prefix = f"dipen-test/view-{time.time_ns()}/"
    stores = [dipen.EtcdStore(etcd_endpoints, prefix=prefix, lease_ttl=5) for _ in range(2)]
    left = dipen.Runner(net, store=stores[0], region="left", node="machine-1")
    right = dipen.Runner(net, store=stores[1], region="right", node="machine-2")
    elsewhere = dipen.EtcdStore(etcd_endpoints, prefix="dipen-test/elsewhere", lease_ttl=5)
    other_etcd = dipen.EtcdStore(["127.0.0.1:1"], prefix=prefix, lease_ttl=5)
    try:
        view = make_view([left, right])
        assert view.runners == [left, right]
        with pytest.raises(dipen.RunnerError, match="runner machine-3 uses etcd prefix "
                           "'dipen-test/elsewhere/', runner machine-1 uses prefix 'dipen-test/view-"):
            LiveView([left, dipen.Runner(net, store=elsewhere, node="machine-3")])
        with pytest.raises(dipen.RunnerError, match="runner machine-4 uses etcd at 127.0.0.1:1, "
                           "runner machine-1 at .*no endpoint in common"):
            LiveView([left, dipen.Runner(net, store=other_etcd, node="machine-4")])

        async def main():  # as on two machines: the right waits for tokens from the left
            waiting = right.start(forever=True)
            await left.run()
            for _ in range(250):
                view.flush()
                if view.marking["c"] == 1:
                    break
                await asyncio.sleep(0.02)
            right.stop()
            await waiting
            view.flush()
            return view.marking, view.status["leaders"], view.stats["firings"]

        marking, leaders, firings = run_blocking(main())
        assert marking == {"a": 0, "b": 0, "c": 1}
        assert leaders == {"left": "machine-1", "right": "machine-2"}
        assert firings == {"t1": 1, "t2": 1}
    finally:
        for store in (*stores, elsewhere, other_etcd):
            run_blocking(store.close())


# -- display, closing, packaging -------------------------------------------------------------------


def test_mimebundle_keeps_the_widget_and_adds_an_svg(make_view):
    runner = dipen.Runner(line())
    view = make_view(runner)
    data, _ = view._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == view.model_id
    svg = data["image/svg+xml"]
    assert svg.startswith("<?xml") and 'id="place:a"' in svg and 'id="transition:t"' in svg
    assert dipen.viz.STATES["enabled"][0] in svg
    runner.step_sync("t")
    svg = view._repr_mimebundle_()[0]["image/svg+xml"]
    assert dipen.viz.STATES["enabled"][0] not in svg  # now idle: the picture is current
    assert data["text/plain"] == repr(view) == f"LiveView(net='line', runners=[{runner.node!r}])"


def test_close_unsubscribes_and_cancels(make_view):
    runner = dipen.Runner(line(3))

    timers = []

    async def main():
        view = make_view(runner)
        view._timer = lambda: timers.append("flush timer ran")  # noqa: SLF001
        await runner.step("t")  # within the interval: its flush waits on a timer
        flushes = view.profile["flushes"]
        task = view.handle({"action": "history"})
        view.close()
        await asyncio.sleep(0.25)
        return view, flushes, task

    view, flushes, task = asyncio.run(main())
    assert task.cancelled()
    assert timers == [] and view.profile["flushes"] == flushes  # the timer was cancelled
    events = view.profile["events"]
    runner.step_sync("t")  # the runner goes on, unobserved
    assert view.profile["events"] == events
    assert runner.marking.counts() == {"a": 1, "b": 2}


def test_import_dipen_stays_free_of_widgets():
    code = "import sys, dipen, dipen.viz; print('ipywidgets' in sys.modules, 'anywidget' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_the_javascript_module_exports_render(make_view):
    text = VIEW_JS.read_text()
    assert re.search(r"^export default \{\s*render\s*\};?\s*$", text, re.MULTILINE)
    assert re.search(r"^function render\(\{ model, el \}\)", text, re.MULTILINE)
    view = make_view(dipen.Runner(line()))
    assert view._esm == bundle(VIEW_JS)  # the widget ships this file, its siblings inlined


# -- the JavaScript view, rendered against a fake DOM ----------------------------------------------

#: A fake DOM and model in node: ``state`` (from argv[2]), ``model``, ``change(key, value)``,
#: ``sent``/``saved`` and the widget's ``render`` (from argv[3]) rendered into ``el``.
FAKE_DOM = r"""
import { readFileSync } from "node:fs";
class Node {
  constructor(tag) { this.tag = tag; this.attrs = {}; this.children = []; this.listeners = {};
    this.style = {}; this.text = ""; this.value = ""; this.classes = new Set();
    this.classList = { toggle: (c, on) => (on ? this.classes.add(c) : this.classes.delete(c)),
      contains: (c) => this.classes.has(c) }; }
  setAttribute(k, v) { this.attrs[k] = String(v); if (k === "value") this.value = String(v);
    if (k === "class") this.classes = new Set(String(v).split(" ")); }
  set className(v) { this.setAttribute("class", v); }
  get className() { return [...this.classes].join(" "); }
  appendChild(c) { this.children.push(c); c.parent = this; return c; }
  set textContent(t) { this.children = []; this.text = String(t); }
  get textContent() { return this.text + this.children.map((c) => c.textContent).join(""); }
  addEventListener(type, f) { (this.listeners[type] ||= []).push(f); }
  fire(type) { for (const f of this.listeners[type] || []) f({ target: this }); }
  get options() { return this.children.filter((c) => c.tag === "option"); }
  all(test, out = []) { if (test(this)) out.push(this); for (const c of this.children) c.all(test, out); return out; }
}
globalThis.document = { createElement: (t) => new Node(t), createElementNS: (ns, t) => new Node(t) };
const state = JSON.parse(readFileSync(process.argv[2], "utf8"));
const listeners = {}, sent = [], saved = [];
const model = { get: (k) => state[k], set: (k, v) => { state[k] = v; saved.push([k, v]); },
  save_changes() {}, send: (m) => sent.push(m),
  on: (e, f) => (listeners[e] ||= []).push(f), off: (e, f) => { listeners[e] = listeners[e].filter((g) => g !== f); } };
const change = (k, v) => { state[k] = v; for (const f of listeners[`change:${k}`] || []) f(); };
const { default: widget } = await import(process.argv[3]);
const el = new Node("div");
const cleanup = widget.render({ model, el });
"""

_HARNESS = FAKE_DOM + r"""
const svg = el.all((n) => n.tag === "svg" && n.attrs.viewBox && n.attrs.width > 200)[0];
const out = {};
out.places = svg.all((n) => n.tag === "circle" && n.attrs.class === "dl-shape").length;
out.transitions = svg.all((n) => n.tag === "rect" && n.attrs.class === "dl-shape").length;
out.arcs = svg.all((n) => n.tag === "path" && n.attrs["marker-end"]).length;
out.fill = svg.all((n) => n.tag === "rect")[0].attrs.fill;
const buttons = Object.fromEntries(el.all((n) => n.tag === "button").map((b) => [b.textContent, b]));
buttons.Step.fire("click");
const place = svg.all((n) => n.classes.has("dl-place"))[1];
place.fire("click");
out.selectedPlace = state.selected_place;
change("marking", { a: 0, b: 1 });
out.tokensInB = place.all((n) => n.tag === "circle").length - 1;
const transition = svg.all((n) => n.classes.has("dl-transition"))[0];
transition.fire("click");
const panel = Object.fromEntries(el.all((n) => n.tag === "button").map((b) => [b.textContent, b]));
panel.Block.fire("click");
el.all((n) => n.tag === "textarea")[0].value = '{"n": 1}';
panel.Fire.fire("click");
el.all((n) => n.tag === "textarea")[0].value = "{oops";
panel.Fire.fire("click");  // Python parses the text and answers with a notice
change("notice", { seq: 8, action: "fire", transition: "t", ok: false, text: "data is not JSON: oops" });
out.parseError = el.textContent.includes("not JSON");
panel["Why (not) enabled?"].fire("click");
change("notice", { seq: 9, action: "explain", transition: "t", ok: true, text: "because" });
out.explained = el.textContent.includes("because");
change("states", { t: "blocked" });
out.blockedFill = svg.all((n) => n.tag === "rect")[0].attrs.fill;
out.unblockLabel = el.all((n) => n.tag === "button").some((b) => b.textContent === "Unblock");
change("errors", { t: "ValueError: boom" });
out.errorShown = el.textContent.includes("ValueError: boom");
change("stats", { total: 5, rate: 12.5, rates: [1, 5, 12.5], firings: { t: 5 }, failures: {} });
out.spark = el.all((n) => n.tag === "polyline")[0].attrs.points;
change("history", { revisions: [1, 2, 3], times: [0, 1, 2], kinds: ["init", "fire", "fire"],
  count: 3 });
const slider = el.all((n) => n.tag === "input")[0];
out.sliderMax = slider.max;
slider.value = "1";
slider.fire("input");
await new Promise((r) => setTimeout(r, 200));
out.sent = sent;
out.saved = saved;
cleanup();
out.listenersLeft = Object.values(listeners).reduce((n, l) => n + l.length, 0);
console.log(JSON.stringify(out));
"""


def run_view_js(state: dict, script: str, folder: pathlib.Path) -> dict:
    """Render the view on ``state`` in node and run ``script`` (:data:`FAKE_DOM` and more);
    what it prints as JSON."""
    (folder / "state.json").write_text(json.dumps(state))
    (folder / "view.mjs").write_text(bundle(VIEW_JS))
    (folder / "harness.mjs").write_text(script)
    result = subprocess.run(
        ["node", str(folder / "harness.mjs"), str(folder / "state.json"),
         (folder / "view.mjs").as_uri()],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the view's JavaScript")
def test_the_javascript_view_renders_and_sends_commands(make_view, tmp_path):
    view = make_view(dipen.Runner(line()))
    state = {key: value for key, value in view.get_state().items() if not key.startswith("_")}
    out = run_view_js(state, _HARNESS, tmp_path)
    assert (out["places"], out["transitions"], out["arcs"]) == (2, 1, 2)
    assert out["fill"] == dipen.viz.STATES["enabled"][0]
    assert out["blockedFill"] == dipen.viz.STATES["blocked"][0]
    assert out["selectedPlace"] == "b" and out["tokensInB"] == 1
    assert out["parseError"] and out["explained"] and out["unblockLabel"] and out["errorShown"]
    assert out["spark"].count(",") == 3
    assert out["sliderMax"] == 3
    assert out["sent"] == [
        {"action": "step"},
        {"action": "block", "transition": "t", "why": ""},
        {"action": "fire", "transition": "t", "json": '{"n": 1}'},
        {"action": "fire", "transition": "t", "json": "{oops"},
        {"action": "explain", "transition": "t"},
    ]
    assert ["selected_place", "b"] in out["saved"] and ["position", 2] in out["saved"]
    assert out["listenersLeft"] == 0


# -- the benchmark runs (its figures are printed, never asserted) ----------------------------------


def test_bench_viz_reports_its_figures(capsys):
    from dipen.viz.bench import bench_viz

    result = bench_viz(places=4, transitions=4, rate=200, seconds=0.5)
    assert result["events"] > 0 and result["flushes_per_second"] > 0
    assert 0 < result["view_cpu_share"] < 1
    assert "flushes/s" in capsys.readouterr().out
