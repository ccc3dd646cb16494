"""Leaders, standbys and other runners' firings, in the live view and in ``runner.draw()``, on
every store: a runner outside the view leads and fires, the view's runner stands by, sees
that firing through its store and takes over when the leader resigns."""

from __future__ import annotations

import asyncio

import pytest

import dipen
from dipen.viz.widgets import LiveView
from test_widgets import FAKE_DOM, run_view_js


def gated_net(gate: asyncio.Event) -> dipen.Net:
    net = dipen.Net("gated").place("a", tokens=[1, 2]).place("b")

    @net.transition(take="a", give="b")
    async def work(token):
        await gate.wait()
        return token

    return net


async def until(condition, what: str, seconds: float = 10.0) -> None:
    try:
        async with asyncio.timeout(seconds):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"waited {seconds} s in vain for {what}") from None


def texts(figure, prefix):
    return {t.get_gid(): t.get_text() for t in figure.axes[0].texts
            if (t.get_gid() or "").startswith(prefix)}


def test_the_view_shows_the_leader_its_standby_their_firings_and_the_takeover(store_factory):
    store = store_factory()
    gate = asyncio.Event()
    net = gated_net(gate)
    there = dipen.Runner(net, store=store, node="there")
    here = dipen.Runner(net, store=store_factory.peer(store), node="here")
    seen = {}

    async def main():
        view = LiveView(here, leaders_interval=0.05)
        try:
            leading = there.start(forever=True)
            await until(lambda: there.firing, "there fires")
            standing_by = here.start(forever=True)

            def standby_seen():
                view.flush()
                return len((view.status["candidates"] or {}).get("default", [])) == 2 and \
                    view.firing["elsewhere"]

            await until(standby_seen, "the view sees the standby and there's firing")
            seen["status"], seen["firing"] = dict(view.status), dict(view.firing)
            seen["states"] = dict(view.states)
            seen["svg"] = view.to_svg()
            figure = here.draw()
            seen["drawn"] = texts(figure, "region-label:"), texts(figure, "elsewhere")
            seen["asked"] = texts(here.draw(leaders=False), "region-label:")
            there.stop()  # its firing is cancelled, its token goes back
            await leading
            await there.close()  # resigns: here takes over

            def taken_over():
                view.flush()
                return [node for node, _ in (view.status["candidates"] or {}).get("default", [])] \
                    == ["here"]

            await until(taken_over, "the view sees the takeover")
            gate.set()
            await until(lambda: here.marking.counts() == {"a": 0, "b": 2}, "here fires both")
            view.flush()
            seen["after"] = dict(view.status), dict(view.firing), dict(view.marking)
            here.stop()
            await standing_by
        finally:
            view.close()

    dipen.notebook.run_blocking(main())
    status, firing = seen["status"], seen["firing"]
    (leader, fence), (standby, later) = status["candidates"]["default"]
    assert (leader, standby) == ("there", "here") and fence < later
    assert status["leaders"] == {"default": "there"}
    assert firing["elsewhere"] == {"work": {"there": 1}}  # a firing of a runner outside the view
    assert firing["transitions"] == {} and seen["states"]["work"] != "firing"  # not its own
    assert firing["taken"] == {"a": 1}
    assert 'id="elsewhere:work"' in seen["svg"] and "on there" in seen["svg"]
    assert "default · leader there · standby here" in seen["svg"]
    labels, elsewhere = seen["drawn"]
    assert labels == {"region-label:default": "default · leader there · standby here"}
    assert elsewhere == {"elsewhere-label:work": "on there"}
    assert seen["asked"] == {}  # leaders=False: no hull, no label
    status, firing, marking = seen["after"]
    assert [node for node, _ in status["candidates"]["default"]] == ["here"]
    assert status["leaders"] == {"default": "here"}
    assert firing["elsewhere"] == {} and marking == {"a": 0, "b": 2}


def test_runner_draw_labels_leaders_only_when_several_runners_campaign():
    net = dipen.Net("regions").place("a", tokens=1).place("b").place("c")
    net.transition("t1", take="a", give="b", region="left")
    net.transition("t2", take="b", give="c", region="right")
    alone = dipen.Runner(net, node="alone")
    alone.run_sync()
    assert texts(alone.draw(), "region-label:") == {}  # one runner leads everything
    assert texts(alone.draw(leaders=True), "region-label:") == {
        "region-label:left": "left · leader alone", "region-label:right": "right · leader alone"}
    store = dipen.MemoryStore()
    left = dipen.Runner(net, store=store, region="left", node="n1")
    right = dipen.Runner(net, store=store, region="right", node="n2")

    async def main():
        await asyncio.gather(left.run(), right.run())

    asyncio.run(main())
    assert texts(left.draw(), "region-label:") == {
        "region-label:left": "left · leader n1", "region-label:right": "right · leader n2"}
    given = {"left": [("n1", 1)], "right": []}
    assert texts(left.draw(leaders=given), "region-label:") == {
        "region-label:left": "left · leader n1", "region-label:right": "right · no leader"}
    with pytest.raises(dipen.NetError, match="leaders= names region 'middle'"):
        left.draw(leaders={"middle": ["n1"]})
    with pytest.raises(dipen.NetError, match="elsewhere= names 'a', which is not a transition"):
        dipen.viz.draw(net, elsewhere={"a": ["n1"]})


def test_a_drawing_with_leaders_keeps_their_labels_inside_the_figure():
    net = dipen.Net("wide").place("a", tokens=1).place("b")
    net.transition("t", take="a", give="b", region="only-here")
    figure = dipen.viz.draw(net, leaders={"only-here": ["a-long-node-name-1", "another-node-2",
                                                         "a-third-node-3"]},
                            elsewhere={"t": ["a-long-node-name-1"]})
    figure.canvas.draw()
    frame = figure.bbox
    for text in figure.axes[0].texts:
        if text.get_gid().startswith(("region-label", "elsewhere-label")):
            box = text.get_window_extent()
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1, text.get_text()
    handles = figure.axes[0].get_legend().get_texts()
    assert [h.get_text() for h in handles] == ["idle", "firing elsewhere"]


_LEADERS_SCRIPT = FAKE_DOM + r"""
const out = {};
const label = () => el.all((n) => n.tag === "text" && n.attrs["font-style"] === "italic")
  .map((n) => n.textContent);
out.before = label();
change("status", { ...state.status, candidates: { left: [["n1", 3], ["n2", 7], ["n3", 9]], right: [] } });
out.labels = label();
out.panel = el.all((n) => n.attrs["data-region"]).map((n) => n.textContent);
change("firing", { transitions: {}, taken: { a: 1 }, elsewhere: { t1: { "n9": 1 } } });
const group = el.all((n) => n.attrs["data-transition"] === "t1")[0];
out.outline = group.all((n) => n.attrs.class === "dl-elsewhere")[0].attrs.visibility;
out.where = group.textContent;
out.marked = group.classes.has("dl-firing-elsewhere");
group.fire("click");
out.info = el.all((n) => n.tag === "div" && n.text.startsWith("idle")).map((n) => n.text);
change("firing", { transitions: {}, taken: {}, elsewhere: {} });
out.cleared = group.all((n) => n.attrs.class === "dl-elsewhere")[0].attrs.visibility;
cleanup();
console.log(JSON.stringify(out));
"""


def test_the_javascript_view_shows_leaders_standbys_and_firings_elsewhere(tmp_path):
    net = dipen.Net("regions").place("a", tokens=1).place("b").place("c")
    net.transition("t1", take="a", give="b", region="left")
    net.transition("t2", take="b", give="c", region="right")
    view = LiveView(dipen.Runner(net, store=dipen.MemoryStore(), node="n1"))
    try:
        state = {key: value for key, value in view.get_state().items() if not key.startswith("_")}
    finally:
        view.close()
    state["status"]["candidates"] = None  # not asked yet: the events' guess shows
    state["states"] = {"t1": "idle", "t2": "idle"}
    out = run_view_js(state, _LEADERS_SCRIPT, tmp_path)
    assert out["before"] == ["left · n1", "right · n1"]
    assert out["labels"] == ["left · leader n1 · standbys n2, n3", "right · no leader"]
    assert out["panel"] == ["left: n1 (fence 3); standbys: n2, n3", "right: no leader"]
    assert out["outline"] == "visible" and out["marked"] and "on n9" in out["where"]
    assert out["info"] == ["idle · firing on n9 · region left led by n1, standbys n2, n3 · 0 firings"]
    assert out["cleared"] == "hidden"
