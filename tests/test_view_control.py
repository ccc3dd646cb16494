"""Manual control from the live view, through the store (``dipen.viz.view_control``): blocks
of a transition or a region that every runner of the store obeys (also runners outside the
view, also with their own etcd store on one prefix), how blocks by hand are shown, cancels of
running firings, manual transitions fired with data and their answers, tokens added by hand,
and the side panel of the JavaScript view that sends these commands.

Commands go through ``view.handle`` as the browser's clicks do (see test_widgets).
"""

from __future__ import annotations

import asyncio
import re

import pytest
import test_widgets
from test_leaders_view import until
from test_widgets import FAKE_DOM, run_view_js

import dipen
from dipen.notebook import run_blocking

make_view = test_widgets.make_view  # the fixture: views closed after each test


def two_regions(tokens: int = 2) -> dipen.Net:
    net = dipen.Net("regions").place("a", tokens=list(range(tokens))).place("b").place("c")
    net.transition("t1", take="a", give="b", region="left")
    net.transition("t2", take="b", give="c", region="right")
    return net


def approvals() -> dipen.Net:
    net = dipen.Net("approvals").place("claims", tokens=[{"claim": 7}]).place("paid")

    @net.transition(take="claims", give="paid", manual=True)
    async def approve(token):
        amount = dipen.current_firing().input["amount"]
        if amount < 0:
            raise ValueError("a negative amount")
        return token.update(amount=amount)

    return net


async def command(view, message):
    """Click: hand the view ``message`` and wait until it is done; the notice."""
    view.handle(message)
    await view.wait()
    return dict(view.notice)


# -- blocks through the store, on every store -------------------------------------------------------


def test_a_block_from_the_view_stops_a_runner_outside_it(store_factory, make_view):
    """The view shows the left runner only; the right one runs elsewhere (with its own etcd
    store on the same prefix, for etcd). A block clicked in the view holds it too."""
    store = store_factory()
    net = two_regions()
    left = dipen.Runner(net, store=store, region="left", node="machine-1")
    right = dipen.Runner(net, store=store_factory.peer(store), region="right", node="machine-2")
    seen = {}

    async def main():
        await left.open()
        view = make_view(left, by="ann")
        elsewhere = right.start(forever=True)
        notice = await command(view, {"action": "block", "transition": "t2",
                                      "why": "audit first"})
        assert notice["ok"] and notice["text"] == "blocked 't2': audit first", notice
        await until(lambda: "audit first" in right.explain("t2"), "the other runner obeys")
        await left.run()  # t1 puts both tokens in b; the blocked t2 leaves them there
        await asyncio.sleep(0.2)
        view.flush()
        seen["blocked"] = dict(view.marking), dict(view.states), dict(view.controls)
        notice = await command(view, {"action": "unblock", "transition": "t2"})
        assert notice["ok"] and notice["text"] == "unblocked 't2'", notice
        await until(lambda: right.marking.counts()["c"] == 2, "the other runner fires again")
        right.stop()
        await elsewhere
        view.flush()
        seen["after"] = dict(view.marking), dict(view.controls)

    run_blocking(main())
    marking, states, controls = seen["blocked"]
    assert marking == {"a": 0, "b": 2, "c": 0}
    assert states["t2"] == "blocked"
    assert controls["transitions"]["t2"]["by"] == "ann"
    assert controls["transitions"]["t2"]["why"] == "audit first"
    assert controls["held"] == {"t2": "blocked by ann (transition 't2'): audit first"}
    assert seen["after"] == ({"a": 0, "b": 0, "c": 2},
                             {"transitions": {}, "regions": {}, "held": {}, "requests": {}})
    history = run_blocking(store.changes(0))
    assert [(c.node, c.note["action"], c.note["name"]) for c in history if c.kind == "control"] \
        == [("ann", "block", "t2"), ("ann", "unblock", "t2")]


# -- the rest on a memory store ---------------------------------------------------------------------


def test_a_region_is_blocked_and_unblocked_from_the_view(make_view):
    store = dipen.MemoryStore()
    net = two_regions()
    left = dipen.Runner(net, store=store, region="left")
    right = dipen.Runner(net, store=store, region="right")
    view = make_view([left, right])
    view.handle({"action": "block", "region": "left", "why": "maintenance"})
    assert view.notice["ok"] and view.notice["text"] == "blocked region 'left': maintenance"
    assert view.states == {"t1": "blocked", "t2": "idle"}
    assert view.controls["regions"]["left"]["why"] == "maintenance"
    assert view.controls["held"] == {
        "t1": f"blocked by {left.node} (region 'left'): maintenance"}
    assert left.run_sync().firings == 0
    # unblocking the transition leaves the region's block: the notice says so
    view.handle({"action": "unblock", "transition": "t1"})
    assert view.notice["ok"]
    assert view.notice["text"] == (f"unblocked 't1'; its region 'left' is still blocked by "
                                   f"{left.node} (maintenance)")
    view.handle({"action": "unblock", "region": "left"})
    assert view.notice["text"] == "unblocked region 'left'"
    assert view.states == {"t1": "enabled", "t2": "idle"} and view.controls["held"] == {}
    assert left.run_sync().firings == 2
    view.handle({"action": "block", "region": "nowhere"})
    assert not view.notice["ok"] and "has no region 'nowhere'" in view.notice["text"]
    view.handle({"action": "block", "transition": "t1", "region": "left"})
    assert not view.notice["ok"] and "needs a transition or a region" in view.notice["text"]
    view.handle({"action": "block", "transition": "t1", "why": 3})
    assert not view.notice["ok"] and "'why' is a reason in words" in view.notice["text"]


def test_an_error_policy_block_and_a_block_by_hand_are_both_undone(make_view):
    net = dipen.Net("failing").place("a", tokens=2).place("b")

    @net.transition(take="a", give="b")
    async def bad(token):
        raise ValueError("boom")

    runner = dipen.Runner(net)
    view = make_view(runner)
    runner.run_sync()
    view.handle({"action": "block", "transition": "bad"})
    view.flush()
    assert view.states == {"bad": "failed"} and "bad" in view.controls["held"]
    view.handle({"action": "unblock", "transition": "bad"})
    assert view.states == {"bad": "enabled"} and view.errors == {}
    assert runner.blocked() == {} and runner.standing_controls() == {}


def test_cancel_from_the_view_returns_the_tokens(make_view):
    net = dipen.Net("slow").place("a", tokens=[1, 2]).place("b")

    @net.transition(take="a", give="b", concurrency=2)
    async def work(token):
        await asyncio.sleep(60)
        return token

    runner = dipen.Runner(net, node="worker")
    seen = {}

    async def main():
        view = make_view(runner)
        task = runner.start(forever=True)
        await until(lambda: len(runner.firing) == 2, "two firings")
        view.handle({"action": "block", "transition": "work"})  # or they start again
        seen["notice"] = await command(view, {"action": "cancel", "transition": "work",
                                              "why": "stuck"})
        await until(lambda: not runner.firing, "the firings end")
        view.flush()
        seen["marking"], seen["firing"] = dict(view.marking), dict(view.firing)
        seen["nothing"] = await command(view, {"action": "cancel", "region": "default"})
        runner.stop()
        await task

    run_blocking(main())
    assert seen["notice"]["ok"]
    assert seen["notice"]["text"] == ("asked to cancel the running firings of 'work' "
                                      "(2 on worker); their tokens go back")
    assert seen["marking"] == {"a": 2, "b": 0}
    assert seen["firing"]["transitions"] == {} and seen["firing"]["taken"] == {}
    assert seen["nothing"]["text"] == ("asked to cancel the firings of region 'default' (none "
                                       "was running as the view saw it)")
    cancelled = [e for e in runner.history if isinstance(e, dipen.events.FiringCancelled)]
    assert len(cancelled) == 2


def test_a_manual_transition_is_fired_with_data_and_its_answer_shown(make_view):
    """The view shows a clerk's runner that stands by; the leader of the region runs outside
    the view (as on another machine) and serves the requests."""
    store = dipen.MemoryStore()
    net = approvals()
    desk = dipen.Runner(net, store=store, node="desk")
    leader = dipen.Runner(net, store=store, node="leader")
    seen: dict[str, object] = {}

    async def main():
        view = make_view(desk, by="clerk")
        notices = []
        view.observe(lambda change: notices.append(dict(change["new"])), "notice")
        task = leader.start(forever=True)
        await until(lambda: (view.flush(), view.status["candidates"].get("default"))[1],
                    "the view sees the leader")
        seen["answer"] = await command(view, {"action": "fire", "transition": "approve",
                                              "json": '{"amount": 20}'})
        seen["progress"] = notices[0]
        seen["marking"] = desk.marking.data()
        seen["bad json"] = await command(view, {"action": "fire", "transition": "approve",
                                                "json": "{amount: 1"})
        seen["bad timeout"] = await command(view, {"action": "fire", "transition": "approve",
                                                   "timeout": "soon"})
        # no claim left: the request waits, shows as waiting, times out and is withdrawn
        view.handle({"action": "fire", "transition": "approve", "data": {"amount": 1},
                     "timeout": 0.5})
        await until(lambda: (view.flush(), view.controls["requests"])[1], "a waiting request")
        seen["waiting"] = dict(view.controls["requests"])
        await view.wait()
        seen["timeout"] = dict(view.notice)
        seen["after"] = dict(view.controls["requests"])
        # a claim by hand, and a firing that fails: the error is the answer
        view.handle({"action": "add", "place": "claims", "data": {"claim": 8}})
        seen["failed"] = await command(view, {"action": "fire", "transition": "approve",
                                              "data": {"amount": -5}})
        leader.stop()
        await task

    run_blocking(main())
    progress, answer = seen["progress"], seen["answer"]
    assert progress["ok"] and progress["action"] == "fire"
    assert progress["text"] == ("asked for a firing of 'approve'; waiting for the leader of "
                                "region 'default'")
    assert answer["ok"] and answer["transition"] == "approve", answer
    assert re.fullmatch(r"'approve' finished \(firing \S+\): placed paid: \S+ "
                        r'\{"claim": 7, "amount": 20\}', answer["text"]), answer["text"]
    assert seen["marking"] == {"claims": [], "paid": [{"claim": 7, "amount": 20}]}
    bad = seen["bad json"]
    assert not bad["ok"] and bad["text"] == ("data for transition 'approve' is not JSON: "
                                             "Expecting property name enclosed in double quotes "
                                             "(line 1, column 2)")
    assert "'timeout' is a positive number of seconds" in seen["bad timeout"]["text"]
    assert seen["waiting"] == {"approve": 1}
    assert not seen["timeout"]["ok"]
    assert seen["timeout"]["text"] == ("no answer to the request to fire 'approve' within 0.5s "
                                       "(withdrawn)")
    assert seen["after"] == {}
    failed = seen["failed"]
    assert not failed["ok"] and failed["text"].startswith("'approve' failed (firing ")
    assert "ValueError: a negative amount" in failed["text"]


def test_a_request_nobody_serves_says_so(make_view):
    runner = dipen.Runner(approvals())

    async def main():
        view = make_view(runner)  # nobody runs the region: the request waits in vain
        return await command(view, {"action": "fire", "transition": "approve",
                                    "data": {"amount": 5}, "timeout": 0.2})

    idle = run_blocking(main())
    assert not idle["ok"] and idle["text"] == (
        "no answer to the request to fire 'approve' within 0.2s (withdrawn) (no runner of this "
        "view is running region 'default': press Run, or a runner elsewhere must lead it)")


def test_the_runner_the_view_follows_serves_a_request(make_view):
    runner = dipen.Runner(approvals())

    async def main():
        view = make_view(runner)
        task = runner.start(forever=True)
        try:
            return await command(view, {"action": "fire", "transition": "approve",
                                        "data": {"amount": 5}, "timeout": 2})
        finally:
            runner.stop()
            await task

    answer = run_blocking(main())
    assert answer["ok"], answer


def test_manual_transitions_are_described_and_explained(make_view):
    runner = dipen.Runner(approvals())
    view = make_view(runner)
    assert [(t["name"], t["manual"]) for t in view.net["transitions"]] == [("approve", True)]
    assert view.states == {"approve": "idle"}
    view.handle({"action": "explain", "transition": "approve"})
    assert "manual: fires only when asked" in view.notice["text"]


def test_a_token_is_added_with_data_as_an_audited_edit(make_view):
    store = dipen.MemoryStore()
    runner = dipen.Runner(approvals(), store=store)
    view = make_view(runner, by="ann")
    view.handle({"action": "add", "place": "claims", "json": '{"claim": 8}',
                 "why": "phoned in"})
    assert view.notice["ok"] and view.notice["text"].endswith("to 'claims': phoned in")
    assert view.marking == {"claims": 2, "paid": 0}
    view.handle({"action": "add", "place": "paid"})  # no data, no reason
    assert view.notice["ok"] and view.marking == {"claims": 2, "paid": 1}
    assert [t.data for t in runner.marking["claims"]] == [{"claim": 7}, {"claim": 8}]
    edits = [(c.node, c.note) for c in run_blocking(store.changes(0)) if c.kind == "edit"]
    assert edits == [("ann", "add: phoned in"), ("ann", "add")]
    view.handle({"action": "add", "place": "nowhere", "data": 1})
    assert not view.notice["ok"] and "'add' needs a place of net 'approvals'" in view.notice["text"]
    view.handle({"action": "add", "place": "claims", "json": "[1,"})
    assert not view.notice["ok"] and "token data for place 'claims' is not JSON" in \
        view.notice["text"]
    view.handle({"action": "add", "place": "claims", "data": {1, 2}})
    assert not view.notice["ok"] and view.marking == {"claims": 2, "paid": 1}


def test_the_static_picture_shows_a_block_by_hand(make_view):
    runner = dipen.Runner(two_regions())
    view = make_view(runner)
    view.handle({"action": "block", "transition": "t1"})
    svg = view.to_svg()
    assert dipen.viz.STATES["blocked"][0] in svg and dipen.viz.STATES["enabled"][0] not in svg


# -- the JavaScript side panel ----------------------------------------------------------------------

_HARNESS = FAKE_DOM + r"""
const out = {};
const svg = el.all((n) => n.tag === "svg" && n.attrs.viewBox && n.attrs.width > 200)[0];
const byName = (kind) => Object.fromEntries(svg.all((n) => n.classes.has(`dl-${kind}`))
  .map((n) => [n.attrs[`data-${kind}`], n]));
const transitions = byName("transition"), places = byName("place");
out.manual = Object.fromEntries(Object.entries(transitions).map(([k, n]) => [k, n.attrs["data-manual"]]));
out.manualLabel = transitions.approve.textContent.includes("✋ manual");
const click = (label) => el.all((n) => n.tag === "button" && n.textContent === label)[0].fire("click");
transitions.approve.fire("click");
out.panelTag = el.all((n) => n.classes.has("dl-tag"))[0].textContent;
el.all((n) => n.classes.has("dl-why"))[0].value = "checks";
click("Block");
click("Cancel firings");
click("Block region");
el.all((n) => n.tag === "textarea")[0].value = '{"amount": 2}';
click("Fire");
change("controls", { transitions: { approve: { by: "ann", why: "checks", time: 1 } },
  regions: { default: { by: "ann", why: "late", time: 2 } },
  held: { approve: "blocked by ann (transition 'approve'): checks" }, requests: { approve: 2 } });
change("states", { approve: "blocked", review: "blocked" });
out.held = el.textContent.includes("blocked by ann (transition 'approve'): checks");
out.requests = el.textContent.includes("manual: 2 requests waiting");
out.heldAttribute = transitions.approve.attrs["data-held"];
out.tip = transitions.approve.all((n) => n.tag === "title")[0].textContent;
out.labels = el.all((n) => n.tag === "button").map((b) => b.attrs["data-action"]);
click("Unblock");
click("Unblock region");
places.claims.fire("click");
el.all((n) => n.tag === "textarea")[0].value = '{"claim": 9}';
el.all((n) => n.classes.has("dl-why"))[0].value = "phoned in";
click("Add token");
svg.fire("click");  // back to the statistics: the blocks by hand are listed
out.listed = el.all((n) => n.attrs["data-held"] === "approve" && n.tag === "div").length;
out.sent = sent;
cleanup();
console.log(JSON.stringify(out));
"""


def test_the_side_panel_sends_control_commands_and_shows_blocks(make_view, tmp_path):
    net = approvals()
    net.transition("review", take="paid", give="claims")
    view = make_view(dipen.Runner(net))
    state = {key: value for key, value in view.get_state().items() if not key.startswith("_")}
    out = run_view_js(state, _HARNESS, tmp_path)
    assert out["manual"] == {"approve": "true", "review": "false"} and out["manualLabel"]
    assert out["panelTag"] == "✋ manual"
    assert out["held"] and out["requests"] and out["listed"] == 1
    assert out["heldAttribute"] == "blocked by ann (transition 'approve'): checks"
    assert out["tip"] == ("approve: blocked (blocked by ann (transition 'approve'): checks) · "
                          "manual, 2 requests waiting")
    assert {"unblock", "unblock-region", "cancel", "explain", "fire"} <= set(out["labels"])
    assert out["sent"] == [
        {"action": "block", "transition": "approve", "why": "checks"},
        {"action": "cancel", "transition": "approve", "why": "checks"},
        {"action": "block", "region": "default", "why": "checks"},
        {"action": "fire", "transition": "approve", "json": '{"amount": 2}'},
        {"action": "unblock", "transition": "approve", "why": "checks"},
        {"action": "unblock", "region": "default", "why": "checks"},
        {"action": "add", "place": "claims", "json": '{"claim": 9}', "why": "phoned in"},
    ]
