"""Manual control through the store, on every store: blocks (transition, region) that every
runner obeys and that survive a restart, cancels, manual transitions with request and answer,
and audited edits that never race with running firings. Plus ``dipen ctl`` from another
process against a running ``dipen run`` service.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

import dipen
from dipen.notebook import run_blocking
from support import eventually, start, state, stop, wait_for, write_net


def pipeline(name: str = "pipe") -> dipen.Net:
    net = dipen.Net(name).place("inbox", tokens=[{"n": i} for i in range(3)]).place("mid")
    net.place("done")

    @net.transition(take="inbox", give="mid")
    async def work(token):
        await asyncio.sleep(0.01)
        return token

    net.transition("pack", take="mid", give="done", region="packing")
    return net


def test_a_block_from_another_client_holds_every_runner_until_unblocked(store_factory):
    store = store_factory()
    net = pipeline()
    runner = dipen.Runner(net, store=store, node="worker")
    control = dipen.Control(store_factory.peer(store), by="ann")

    async def scenario():
        await runner.open()
        await control.block("work", why="inventory")
        await control.block(region="packing", why="no boxes")
        assert await control.blocked() == {
            "transition work": "inventory (by ann)", "region packing": "no boxes (by ann)"}
        task = runner.start(forever=True)
        await asyncio.sleep(0.2)
        assert runner.marking.counts() == {"inbox": 3, "mid": 0, "done": 0}
        assert "blocked by ann (transition 'work'): inventory" in runner.explain("work")
        await control.unblock("work")
        await eventually(lambda: runner.marking.counts()["mid"] == 3)
        assert runner.marking.counts()["done"] == 0  # packing is still blocked
        # a runner that starts now (a restart) still sees the standing block
        again = dipen.Runner(net, store=store_factory.peer(store), node="late")
        await again.open()
        assert "no boxes" in again.explain("pack")
        await control.unblock(region="packing", why="boxes came")
        await eventually(lambda: runner.marking.counts()["done"] == 3)
        runner.stop()
        await task

    run_blocking(scenario())
    history = run_blocking(store.changes(0))
    controls = [(c.node, c.note["action"]) for c in history if c.kind == "control"]
    assert controls == [("ann", "block"), ("ann", "block"), ("ann", "unblock"), ("ann", "unblock")]


def test_cancel_stops_running_firings_and_returns_their_tokens(store_factory):
    store = store_factory()
    net = dipen.Net("slow").place("a", tokens=2).place("b")

    @net.transition(take="a", give="b", concurrency=2)
    async def crawl(token):
        await asyncio.sleep(60)
        return token

    runner = dipen.Runner(net, store=store)
    control = dipen.Control(store_factory.peer(store), by="ops")

    async def scenario():
        await runner.open()
        await control.block("crawl")  # so that the returned tokens are not taken again at once
        await control.unblock("crawl")
        task = runner.start(forever=True)
        await eventually(lambda: len(runner.firing) == 2)
        await control.block("crawl", why="stop it")
        await control.cancel("crawl", why="too slow")
        await eventually(lambda: not runner.firing)
        assert runner.marking.counts() == {"a": 2, "b": 0}
        runner.stop()
        await task

    run_blocking(scenario())
    cancelled = [e for e in runner.history if isinstance(e, dipen.events.FiringCancelled)]
    assert len(cancelled) == 2


def test_a_manual_transition_fires_only_on_request_and_answers_it(store_factory):
    store = store_factory()
    net = dipen.Net("approvals").place("claims", tokens=[{"claim": 7}]).place("paid")

    @net.transition(take="claims", give="paid", manual=True)
    async def approve(token):
        return token.update(amount=dipen.current_firing().input["amount"])

    runner = dipen.Runner(net, store=store, node="leader")
    control = dipen.Control(store_factory.peer(store), by="clerk")

    async def scenario():
        await runner.open()
        task = runner.start(forever=True)
        await asyncio.sleep(0.1)
        assert runner.marking.counts() == {"claims": 1, "paid": 0}  # nobody asked yet
        assert "manual" in runner.explain("approve")
        answer = await control.fire("approve", {"amount": 20}, timeout=10)
        assert answer.state == "finished" and answer.transition == "approve"
        assert [data for _, data in answer.placed["paid"]] == [{"claim": 7, "amount": 20}]
        assert runner.marking.data() == {"claims": [], "paid": [{"claim": 7, "amount": 20}]}
        # no claim left: the next request waits, times out and is withdrawn
        with pytest.raises(TimeoutError, match="withdrawn"):
            await control.fire("approve", {"amount": 1}, timeout=0.3)
        assert not [k for k in (await store.snapshot()).controls if k.startswith("request/")]
        runner.stop()
        await task

    run_blocking(scenario())


def test_edits_are_audited_and_never_touch_held_tokens(store_factory):
    store = store_factory()
    net = dipen.Net("edit").place("a", tokens=[{"n": 1}]).place("b").place("c")

    @net.transition(take="a", give="b")
    async def hold(token):
        await asyncio.sleep(60)
        return token

    runner = dipen.Runner(net, store=store)
    control = dipen.Control(store_factory.peer(store), by="ann")

    async def scenario():
        await runner.open()
        task = runner.start(forever=True)
        await eventually(lambda: len(runner.firing) == 1)
        held = runner.firing[0].pairs[0][1]
        with pytest.raises(dipen.ConflictError, match="held by firing"):
            await control.remove("a", held, why="try")
        extra = await control.add("c", {"n": 2}, why="found one")
        await control.update("c", extra.id, {"n": 3}, why="typo")
        await control.move(extra.id, "c", "b", why="belongs there")
        await eventually(lambda: [t.data for t in runner.marking["b"]] == [{"n": 3}])
        with pytest.raises(dipen.StoreError, match="no token 'nope'"):
            await control.remove("b", "nope")
        with pytest.raises(dipen.NetError, match="no place 'x'"):
            await control.add("x")
        await control.remove("b", extra.id, why="done with it")
        runner.stop()
        await task

    run_blocking(scenario())
    edits = [(c.node, c.note) for c in run_blocking(store.changes(0)) if c.kind == "edit"]
    assert edits == [("ann", "add: found one"), ("ann", "update: typo"),
                     ("ann", "move: belongs there"), ("ann", "remove: done with it")]


def test_edits_during_a_busy_run_lose_nothing(store_factory):
    store = store_factory()
    net = dipen.Net("busy").place("a", tokens=[{"n": i} for i in range(20)]).place("b")

    @net.transition(take="a", give="b", concurrency=4)
    async def move(token):
        await asyncio.sleep(0.005)
        return token

    runner = dipen.Runner(net, store=store)
    control = dipen.Control(store_factory.peer(store))

    async def scenario():
        await runner.open()
        task = runner.start(forever=True)
        for i in range(20, 30):
            await control.add("a", {"n": i}, why="more work")
        await eventually(lambda: len(runner.marking["b"]) == 30, seconds=15)
        runner.stop()
        await task

    run_blocking(scenario())
    assert sorted(t["n"] for t in runner.marking["b"]) == list(range(30))


@pytest.mark.etcd
def test_dipen_ctl_from_another_process_controls_a_running_service(tmp_path, etcd_endpoints):
    prefix = "ctl-service/"
    target = write_net(tmp_path, 40, 0.05)
    service = start(target, etcd_endpoints, prefix, "worker")

    def ctl(*words: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dipen", "ctl", "service", "--etcd", etcd_endpoints[0],
             "--prefix", prefix, "--by", "ops", *words],
            capture_output=True, text=True, timeout=60)

    try:
        wait_for(lambda: len(state(etcd_endpoints, prefix).places["done"]) >= 2)
        out = ctl("block", "--transition", "work", "--why", "pause please")
        assert out.returncode == 0, out.stderr
        blocked_at = len(state(etcd_endpoints, prefix).places["done"])
        wait_for(lambda: not state(etcd_endpoints, prefix).firings)  # running ones end, none start
        stuck = len(state(etcd_endpoints, prefix).places["done"])
        assert stuck <= blocked_at + 1
        listed = ctl("blocked")
        assert "transition work: pause please (by ops)" in listed.stdout
        unknown = ctl("block", "--transition", "nope")
        assert unknown.returncode == 1 and "no transition 'nope'" in unknown.stderr
        token = next(iter(state(etcd_endpoints, prefix).places["inbox"].free))
        moved = ctl("move", token, "inbox", "done", "--why", "done by hand")
        assert moved.returncode == 0, moved.stderr
        assert ctl("unblock", "--transition", "work").returncode == 0
        wait_for(lambda: len(state(etcd_endpoints, prefix).places["done"]) == 40, timeout=60)
        done = state(etcd_endpoints, prefix).places["done"].free.values()
        assert sorted(t["job"] for t in done) == list(range(40))
        assert stop(service) and service.returncode == 0
    finally:
        if service.poll() is None:
            service.kill()
            service.communicate(timeout=10)
    history = run_blocking(_changes(etcd_endpoints, prefix))
    assert [(c.node, c.note) for c in history if c.kind == "edit"] == [("ops", "move: done by hand")]
    assert json.dumps([c.note["action"] for c in history if c.kind == "control"]) == json.dumps(
        ["block", "unblock"])


async def _changes(endpoints, prefix):
    store = dipen.EtcdStore(endpoints, prefix=prefix)
    try:
        return await store.changes(0)
    finally:
        await store.close()


def test_a_runner_with_subscribers_answers_manual_requests_and_reports_store_blocks():
    store = dipen.MemoryStore()
    net = dipen.Net("approvals").place("claims", tokens=[{"claim": 1}, {"claim": 2}]).place("paid")
    net.transition("approve", take="claims", give="paid", manual=True)
    runner = dipen.Runner(net, store=store)
    seen = []
    runner.subscribe(seen.append)  # a live view does this
    control = dipen.Control(store, by="clerk")

    async def scenario():
        await runner.open()
        task = runner.start(forever=True)
        answer = await control.fire("approve", {"ok": True}, timeout=5)
        assert answer.state == "finished"
        await control.block("approve", why="audit")
        assert runner.states() == {"approve": "blocked"}
        assert runner.blocked() == {"approve": "blocked by clerk (transition 'approve'): audit"}
        with pytest.raises(dipen.RunnerError, match="runner.control.unblock"):
            runner.unblock("approve")
        await control.unblock("approve")
        runner.stop()
        await task
        # step serves a waiting request and answers it at once
        request = await control.request("approve", {"ok": False})
        firing = await runner.step("approve")
        assert firing.input == {"ok": False}
        assert not [k for k in (await store.snapshot()).controls if k.startswith("request/")]
        return request

    request = run_blocking(scenario())
    answers = [c.note for c in run_blocking(store.changes(0))
               if c.kind == "control" and c.note["action"] == "answer"]
    assert [a["state"] for a in answers] == ["finished", "finished"]
    assert answers[1]["id"] == request
    assert any(isinstance(e, dipen.events.FiringFinished) for e in seen)
