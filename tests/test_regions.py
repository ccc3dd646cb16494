"""Regions on one shared MemoryStore: concurrent runners, standbys, fencing, crash recovery,
and the clock that runners sharing a store share."""

from __future__ import annotations

import asyncio

import pytest
from support import eventually

import dipen
from dipen.events import FiringFinished, FiringStarted, MarkingChanged
from dipen.state import Commit


def pipeline_net(name="pipeline", jobs=3):
    """a --(r1: prepare)--> b --(r2: process)--> c"""
    net = dipen.Net(name).place("a", tokens=[{"job": n} for n in range(jobs)]).place("b").place("c")

    @net.transition(take="a", give="b", region="r1")
    async def prepare(token):
        await asyncio.sleep(0)
        return token.update(prepared=True)

    @net.transition(take="b", give="c", region="r2")
    async def process(token):
        await asyncio.sleep(0)
        return token.update(processed=True)

    return net


def fired(runner):
    return [f.transition for f in runner.history.firings()]


def held_firings(store):
    return dict(store.live().firings)


def all_ids(marking):
    return [token.id for _, token in marking.tokens()]


# -- several regions, one store ------------------------------------------------------------------


def test_two_regions_pass_tokens_between_them():
    async def main():
        store = dipen.MemoryStore()
        net = pipeline_net()
        first = dipen.Runner(net, store=store, region="r1")
        second = dipen.Runner(net, store=store, region="r2")
        await first.open()
        ids = [t.id for t in first.marking["a"]]
        one, two = await asyncio.wait_for(asyncio.gather(first.run(), second.run()), 10)
        assert one.reason == two.reason == "quiescent"
        assert one.firings == 3 and two.firings == 3
        assert fired(first) == ["prepare"] * 3
        assert fired(second) == ["process"] * 3
        marking = await store.marking()
        assert marking.counts() == {"a": 0, "b": 0, "c": 3}
        assert sorted(t.id for t in marking["c"]) == sorted(ids)
        assert all(t["prepared"] and t["processed"] for t in marking["c"])
        assert held_firings(store) == {}
        # each runner saw the other's changes
        assert any(e.change.region == "r2" for e in first.history.of(MarkingChanged))
        assert any(e.change.region == "r1" for e in second.history.of(MarkingChanged))
        # both runners see the same marking
        assert first.marking == second.marking == marking

    asyncio.run(main())


def test_ping_pong_between_regions():
    net = dipen.Net("ping-pong").place("ping", tokens=[{"n": 0}]).place("pong")

    @net.transition(take="ping", give="pong", region="left")
    async def hit(token):
        await asyncio.sleep(0)
        return token.update(n=token["n"] + 1)

    @net.transition(take="pong", give="ping", region="right", guard=lambda token: token["n"] < 10)
    async def back(token):
        return token.update(n=token["n"] + 1)

    async def main():
        store = dipen.MemoryStore()
        left = dipen.Runner(net, store=store, region="left")
        right = dipen.Runner(net, store=store, region="right")
        results = await asyncio.wait_for(asyncio.gather(left.run(), right.run()), 10)
        assert [r.reason for r in results] == ["quiescent", "quiescent"]
        # hit at n = 0, 2, ..., 10; back at n = 1, 3, ..., 9 (its guard stops it at 11)
        marking = store.marking_now()
        assert marking.counts() == {"ping": 0, "pong": 1}
        assert marking["pong"][0]["n"] == 11
        assert fired(left) == ["hit"] * 6
        assert fired(right) == ["back"] * 5
        starts = sorted(
            [(e.revision, e.firing.transition) for e in left.history.of(FiringStarted)]
            + [(e.revision, e.firing.transition) for e in right.history.of(FiringStarted)]
        )
        assert [name for _, name in starts] == ["hit", "back"] * 5 + ["hit"]

    asyncio.run(main())


def test_runner_for_unknown_region_is_refused():
    net = pipeline_net()
    with pytest.raises(dipen.RunnerError, match="nope"):
        dipen.Runner(net, region="nope")
    with pytest.raises(dipen.RunnerError, match="nope"):
        dipen.Runner(net, region=["r1", "nope"])


def test_a_runner_only_fires_its_own_region():
    net = pipeline_net()
    runner = dipen.Runner(net, region="r1")
    summary = runner.run_sync()
    assert summary.firings == 3
    assert runner.marking.counts() == {"a": 0, "b": 3, "c": 0}
    assert runner.enabled() == []
    assert "r2" in runner.explain("process")
    with pytest.raises(dipen.NotEnabledError):
        runner.step_sync("process")


def test_one_runner_for_several_regions():
    net = pipeline_net()
    runner = dipen.Runner(net, region=["r1", "r2"])
    assert runner.run_sync().firings == 6
    assert runner.marking.counts() == {"a": 0, "b": 0, "c": 3}


# -- leaders and standbys ----------------------------------------------------------------------------


def standby_net():
    net = dipen.Net("standby").place("a").place("b")
    net.transition("move", take="a", give="b", region="r1")
    return net


async def put(store, place, data=None):
    token = dipen.Token(store.new_token_id(), data)
    await store.commit(Commit("put", None, None, None, add=((place, token),), note="test"))
    return token


async def is_waiting(task):
    done, _ = await asyncio.wait({task}, timeout=0.05)
    return not done


async def leader_and_second() -> tuple[dipen.MemoryStore, dipen.Runner, dipen.Runner]:
    """A store whose region r1 runner ``first`` leads (after one run), and a second runner
    of r1, ``second``, not started."""
    store = dipen.MemoryStore()
    net = standby_net()
    first = dipen.Runner(net, store=store, region="r1", node="first")
    second = dipen.Runner(net, store=store, region="r1", node="second")
    assert (await first.run()).reason == "quiescent"  # leads r1 from now on
    assert store.leader("r1").node == "first"
    return store, first, second


@pytest.mark.parametrize("handover", ["close", "depose"])
def test_standby_takes_over(handover):
    async def main():
        store, first, second = await leader_and_second()

        standby = asyncio.create_task(second.run())
        assert await is_waiting(standby), "a second runner for a led region must wait"
        token = await put(store, "a", {"x": 1})
        assert await is_waiting(standby)
        assert store.marking_now().counts() == {"a": 1, "b": 0}  # nobody fired it

        old = store.leader("r1")
        if handover == "close":
            await first.close()
        else:
            assert store.depose("r1") is old
        assert old.lost
        summary = await asyncio.wait_for(standby, 5)
        assert summary.reason == "quiescent"
        assert summary.firings == 1
        assert store.leader("r1").node == "second"
        marking = store.marking_now()
        assert [(t.id, t.data) for t in marking["b"]] == [(token.id, {"x": 1})]
        assert fired(first) == [] and fired(second) == ["move"]

    asyncio.run(main())


@pytest.mark.parametrize("forever", [False, True], ids=["run", "service"])
def test_a_standby_stops_when_asked_while_it_waits(forever):
    async def main():
        store, first, second = await leader_and_second()
        standby = asyncio.create_task(second.run(forever=forever))
        assert await is_waiting(standby)
        second.stop()
        summary = await asyncio.wait_for(standby, 5)
        assert summary.reason == "stopped" and summary.firings == 0
        assert store.leader("r1").node == "first"
        assert (await store.candidates()) == {"r1": [("first", store.leader("r1").fence)]}
        await put(store, "a", {"x": 1})  # the leader still fires, the stopped standby is gone
        assert (await first.run()).firings == 1
        # a stop asked while nothing runs does not end the next run
        second.stop()
        await first.close()
        assert (await asyncio.wait_for(second.run(), 5)).reason == "quiescent"

    asyncio.run(main())


def test_deposed_leader_cannot_write():
    async def main():
        store = dipen.MemoryStore()
        net = standby_net().place("c", tokens=1)
        runner = dipen.Runner(net, store=store, region="r1")
        await runner.run()
        leadership = store.leader("r1")
        token = store.marking_now()["c"][0]
        # while it leads, a fenced write goes through
        change = await store.commit(Commit(
            "put", None, None, "r1", remove=(("c", token.id),),
            add=(("a", dipen.Token(token.id)),), fence=leadership))
        assert change.revision == store.revision
        deposed = store.depose("r1")
        assert deposed is leadership and leadership.lost
        assert store.leader("r1") is None
        revision, marking = store.revision, store.marking_now()
        with pytest.raises(dipen.FencingError, match="r1"):
            await store.commit(Commit(
                "put", None, None, "r1", add=(("b", dipen.Token(store.new_token_id())),),
                fence=leadership))
        lead = await store.campaign("r1", "ghost")
        with pytest.raises(dipen.FencingError):
            store.commit_now(Commit(
                "start", "fx", "move", "r1", take=(("a", token.id),), fence=leadership))
        assert store.revision == revision
        assert store.marking_now() == marking
        assert held_firings(store) == {}
        # the new leader can
        await store.commit(Commit(
            "start", "fx", "move", "r1", take=(("a", token.id),), fence=lead))
        assert "fx" in held_firings(store)

    asyncio.run(main())


def test_deposed_runner_mid_firing_cannot_finish_and_the_new_leader_fires_again():
    calls = []
    gates = []
    net = dipen.Net("failover").place("a", tokens=[{"job": "x"}]).place("b")

    @net.transition(take="a", give="b", region="r1")
    async def work(token):
        calls.append((dipen.current_firing().id, token.id))
        if len(calls) == 1:
            await gates[0].wait()
        return token.update(by=len(calls))

    async def until(condition):
        for _ in range(1000):
            if condition():
                return
            await asyncio.sleep(0.001)
        raise AssertionError("condition never held")

    async def main():
        gates.append(asyncio.Event())
        store = dipen.MemoryStore()
        first = dipen.Runner(net, store=store, region="r1", node="first")
        second = dipen.Runner(net, store=store, region="r1", node="second")
        await first.open()
        original = first.marking["a"][0]
        leading = asyncio.create_task(first.run())
        await until(lambda: calls)
        standby = asyncio.create_task(second.run())
        assert await is_waiting(standby)
        store.depose("r1")  # as if first's lease expired mid-firing
        # the new leader returns the tokens of the unfinished firing and fires again
        await until(lambda: len(calls) == 2)
        assert calls[0][1] == calls[1][1] == original.id
        assert calls[0][0] != calls[1][0]  # a new firing id
        gates[0].set()  # now the old leader's firing ends: its finish must be fenced off
        summary_one, summary_two = await asyncio.wait_for(asyncio.gather(leading, standby), 5)
        assert summary_two.firings == 1
        assert summary_one.firings == 0
        marking = store.marking_now()
        assert marking.counts() == {"a": 0, "b": 1}
        assert [(t.id, t.data) for t in marking["b"]] == [(original.id, {"job": "x", "by": 2})]
        assert held_firings(store) == {}
        assert len(calls) == 2

    asyncio.run(main())


# -- crash recovery ------------------------------------------------------------------------------------


def recovery_net(calls, hang_first=False):
    net = dipen.Net("recovery").place("a", tokens=[{"job": 1}, {"job": 2}]).place("b").place("other")

    @net.transition(take="a", give="b", region="r1")
    async def work(token):
        calls.append(token.id)
        if hang_first and len(calls) == 1:
            await asyncio.Event().wait()  # forever
        return token.update(done=True)

    net.transition("elsewhere", take="other", give="other", region="r2")
    return net


def check_recovered(store, runner, originals, calls):
    marking = store.marking_now()
    assert marking.counts() == {"a": 0, "b": 2, "other": 0}
    assert sorted(t.id for t in marking["b"]) == sorted(t.id for t in originals)
    assert all(t.firing is None and t["done"] for t in marking["b"])
    assert sorted(t["job"] for t in marking["b"]) == [1, 2]
    ids = all_ids(marking)
    assert len(ids) == len(set(ids))
    assert held_firings(store) == {}
    assert sorted(calls) == sorted([originals[0].id] + [t.id for t in originals])
    assert runner.stats.firings == {"work": 2}


def test_recovery_of_a_firing_left_by_a_vanished_leader():
    calls = []
    net = recovery_net(calls)

    async def main():
        store = dipen.MemoryStore()
        await store.connect(net)
        originals = list(store.marking_now()["a"])
        ghost = await store.campaign("r1", "ghost")
        await store.commit(Commit(
            "start", "ghost-f1", "work", "r1", take=(("a", originals[0].id),), fence=ghost,
            node="ghost"))
        calls.append(originals[0].id)  # the ghost ran it once, then vanished
        held = {t.id: t.firing for t in store.marking_now()["a"]}
        assert held == {originals[0].id: "ghost-f1", originals[1].id: None}
        store.depose("r1")  # its lease expired

        runner = dipen.Runner(net, store=store, region="r1", node="heir")
        summary = await asyncio.wait_for(runner.run(), 5)
        assert summary.reason == "quiescent"
        assert summary.firings == 2
        check_recovered(store, runner, originals, calls)
        recovered = [c for c in await store.changes() if c.kind == "return"]
        assert [(c.firing, c.node, c.note) for c in recovered] == [("ghost-f1", "heir", "recovered")]

    asyncio.run(main())


def test_recovery_after_a_runner_was_cut_off_mid_firing():
    calls = []
    net = recovery_net(calls, hang_first=True)

    async def main():
        store = dipen.MemoryStore()
        lost = dipen.Runner(net, store=store, region="r1", node="lost")
        await lost.open()
        originals = list(lost.marking["a"])
        task = asyncio.create_task(lost.run())
        while not calls:
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert held_firings(store)  # its start is in the store
        store.depose("r1")  # it can no longer write: its cleanup will be fenced off
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the firing is still recorded, its token still taken
        assert len(held_firings(store)) == 1
        assert store.marking_now().counts(free_only=True)["a"] == 1

        heir = dipen.Runner(net, store=store, region="r1", node="heir")
        summary = await asyncio.wait_for(heir.run(), 5)
        assert summary.reason == "quiescent"
        check_recovered(store, heir, originals, calls)

    asyncio.run(main())


def test_recovery_leaves_other_regions_alone():
    calls = []
    net = recovery_net(calls)

    async def main():
        store = dipen.MemoryStore()
        await store.connect(net)
        await store.commit(Commit("put", None, None, None,
                                  add=(("other", dipen.Token("o1")),)))
        lead = await store.campaign("r2", "ghost")
        await store.commit(Commit("start", "g2", "elsewhere", "r2", take=(("other", "o1"),),
                                  fence=lead))
        runner = dipen.Runner(net, store=store, region="r1")
        await asyncio.wait_for(runner.run(), 5)
        # r2's firing is not r1's to recover: it is still running as far as the store knows
        assert list(held_firings(store)) == ["g2"]
        assert store.marking_now()["other"][0].firing == "g2"
        assert store.marking_now().counts()["b"] == 2

    asyncio.run(main())


# -- clocks --------------------------------------------------------------------------------------------


def test_runners_on_one_store_share_the_simulated_clock():
    store = dipen.MemoryStore()
    net = pipeline_net()
    one = dipen.Runner(net, store=store, region="r1", clock="simulated")
    two = dipen.Runner(net, store=store, region="r2", clock="simulated")
    assert isinstance(one.clock, dipen.SimulatedClock)
    assert one.clock is two.clock
    other = dipen.Runner(net, store=dipen.MemoryStore(), region="r1", clock="simulated")
    assert other.clock is not one.clock


def test_given_simulated_clock_is_shared_and_not_mixed():
    clock = dipen.SimulatedClock(start=5)
    store = dipen.MemoryStore()
    net = pipeline_net()
    one = dipen.Runner(net, store=store, region="r1", clock=clock)
    assert one.clock is clock
    assert dipen.Runner(net, store=store, region="r2", clock="simulated").clock is clock
    with pytest.raises(dipen.RunnerError):
        dipen.Runner(net, store=store, region="r2", clock=dipen.SimulatedClock())
    with pytest.raises(dipen.RunnerError):
        dipen.Runner(net, store=store, region="r2", clock="real")
    # a store that already runs on its own simulated clock refuses another one
    other_store = dipen.MemoryStore()
    dipen.Runner(net, store=other_store, region="r1", clock="simulated")
    with pytest.raises(dipen.RunnerError):
        dipen.Runner(net, store=other_store, region="r2", clock=clock)


def test_shared_simulated_clock_across_regions():
    net = dipen.Net("timed").place("a", tokens=2).place("b").place("c")

    @net.transition(take="a", give="b", region="r1")
    async def slow(token):
        await dipen.sleep(60)
        return token

    @net.transition(take="b", give="c", region="r2")
    async def slower(token):
        await dipen.sleep(600)
        return token

    async def main():
        store = dipen.MemoryStore()
        one = dipen.Runner(net, store=store, region="r1", clock="simulated")
        two = dipen.Runner(net, store=store, region="r2", clock="simulated")
        results = await asyncio.wait_for(asyncio.gather(one.run(), two.run()), 10)
        assert [r.reason for r in results] == ["quiescent", "quiescent"]
        assert store.marking_now().counts() == {"a": 0, "b": 0, "c": 2}
        # slow at 0-60 and 60-120; slower at 60-660 and 660-1260
        assert one.now == two.now == 1260.0
        finished = sorted(e.time for e in two.history.of(FiringFinished))
        assert finished == [660.0, 1260.0]

    asyncio.run(main())


def late_store(kind):
    """A store seen as etcd is (awaited commits, a watch) that holds the first ``kind`` commit
    until ``written`` is set (``sending`` says it is on its way) and then writes it under the
    leadership it was sent with: etcd does that when a reply was lost and the lease outlived a
    restart, and the commit is sent again."""
    from conftest import ReplicaMemoryStore

    sending, written = asyncio.Event(), asyncio.Event()

    class Late(ReplicaMemoryStore):
        held = True

        async def commit(self, commit):  # type: ignore[override]
            if commit.kind == kind and self.held:
                self.held = False
                sending.set()
                await written.wait()
                return dipen.MemoryStore._write(self, commit)
            return await super().commit(commit)

    return Late(), sending, written


def one_slow_job():
    net = dipen.Net("late").place("a", tokens=1).place("b")
    finished = []

    @net.transition(take="a", give="b")
    async def work(token):
        await asyncio.sleep(0.01)
        finished.append(dipen.current_firing().id)
        return token

    return net, finished


def serve_through_a_lost_leadership(net, held):
    """A service runs ``net`` on a :func:`late_store` holding its first ``held`` commit; while
    that is on its way the region is taken away and the service wins it again; then the commit
    arrives. Ends once the token is in ``b``: the run's summary and the store."""
    async def main():
        store, sending, written = late_store(held)
        runner = dipen.Runner(net, store=store, node="solo")
        service = runner.start(forever=True)
        await sending.wait()
        lost = store.depose("default")
        await eventually(lambda: store.leader("default") not in (None, lost)
                         and not dipen.MemoryStore.live(store).firings)
        written.set()
        await eventually(lambda: store.marking_now().counts() == {"a": 0, "b": 1})
        runner.stop()
        return await service, store

    return asyncio.run(main())


def test_a_start_written_after_its_leadership_was_lost_does_not_run():
    """The firing does not run on, and its tokens go back at once: the recovery of the new
    leadership looked before the start was there."""
    net, finished = one_slow_job()
    summary, store = serve_through_a_lost_leadership(net, "start")
    assert summary.reason == "stopped" and not dipen.MemoryStore.live(store).firings
    changes = [(c.kind, c.firing, c.note) for c in asyncio.run(store.changes(1))]
    abandoned = changes[0][1]
    assert changes[0][0] == "start" and ("return", abandoned, "recovered") in changes
    assert len(finished) == 1 and finished[0] != abandoned  # it ran once: the second firing


def test_a_finish_refused_after_its_leadership_was_lost_does_not_stop_the_runner():
    """The new leadership's recovery gave the tokens back before the finish arrived: the store
    refuses it, and the runner goes on (the token fires again) instead of stopping with the
    store's error."""
    net, _ = one_slow_job()
    summary, store = serve_through_a_lost_leadership(net, "finish")
    assert summary.reason == "stopped"
    assert [c.kind for c in asyncio.run(store.changes(1))] == ["start", "return", "start", "finish"]
