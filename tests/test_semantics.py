"""One behavioural suite, every store: the semantics a runner keeps, whatever holds the state."""

from __future__ import annotations

import asyncio

import pytest

import dipen
from dipen import events
from dipen.notebook import run_blocking


def ring(tokens: int = 1, counter: int = 10) -> dipen.Net:
    net = dipen.Net("ring").place("p1", tokens=[{"counter": counter}] * tokens).place("p2")

    async def step(token):
        return token.update(counter=token["counter"] - 1)

    def positive(token):
        return token["counter"] > 0

    net.transition("t1", take="p1", give="p2", run=step, guard=positive)
    net.transition("t2", take="p2", give="p1", run=step, guard=positive)
    return net


def test_a_coloured_ring_runs_down_its_counter(store_factory):
    runner = dipen.Runner(ring(counter=10), store=store_factory())
    summary = runner.run_sync()
    assert summary.firings == 10 and summary.reason == "quiescent"
    assert runner.marking.data() == {"p1": [{"counter": 0}], "p2": []}
    finished = runner.history.of(events.FiringFinished)
    assert [e.firing.transition for e in finished] == ["t1", "t2"] * 5
    revisions = [e.revision for e in finished]
    assert revisions == sorted(revisions) and len(set(revisions)) == 10


def test_pt_weights_and_capacity(store_factory):
    net = (dipen.Net("pt").place("a", tokens=6).place("b", capacity=2).place("c")
           .transition("t", take={"a": 2}, give="b").transition("u", take="b", give="c"))
    runner = dipen.Runner(net, store=store_factory())
    runner.block("u")
    runner.run_sync()
    assert runner.marking.counts() == {"a": 2, "b": 2, "c": 0}
    assert "place 'b' is full (2 of 2)" in runner.explain("t")
    runner.unblock("u")
    runner.run_sync()
    assert runner.marking.counts() == {"a": 0, "b": 0, "c": 3}


def test_awaiting_firings_start_and_finish_in_two_steps(store_factory):
    net = dipen.Net("two").place("a", tokens=[1, 2, 3]).place("b")
    seen_taken = []

    @net.transition(take="a", give="b", concurrency=3)
    async def slow(token):
        await dipen.sleep(5)
        seen_taken.append(token.firing)
        return token.update if False else token

    store = store_factory()
    runner = dipen.Runner(net, store=store, clock="simulated")
    runner.run_sync()
    assert runner.now == 5.0
    assert runner.marking.data() == {"a": [], "b": [1, 2, 3]}
    kinds = [c.kind for c in run_blocking(store.changes(0))]
    assert kinds == ["init", "start", "start", "start", "finish", "finish", "finish"]
    assert all(seen_taken)


def test_failure_returns_tokens_and_blocks(store_factory):
    net = dipen.Net("fail").place("a", tokens=[1, 2]).place("b")

    @net.transition(take="a", give="b")
    async def boom(token):
        await asyncio.sleep(0)
        raise ValueError("no")

    runner = dipen.Runner(net, store=store_factory())
    runner.run_sync()
    assert runner.marking.data() == {"a": [1, 2], "b": []}
    assert runner.marking.counts(free_only=True) == {"a": 2, "b": 0}
    assert "ValueError" in runner.blocked()["boom"]


def test_timeout_cancels_and_returns_tokens(store_factory):
    net = dipen.Net("cancel").place("a", tokens=2).place("b")
    cancelled = []

    @net.transition(take="a", give="b", concurrency=2)
    async def forever(token):
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(token.id)
            raise
        return token

    runner = dipen.Runner(net, store=store_factory())
    summary = runner.run_sync(timeout=0.1)
    assert summary.reason == "timeout" and len(cancelled) == 2
    assert runner.marking.counts(free_only=True) == {"a": 2, "b": 0}


def test_two_regions_share_one_store(store_factory):
    store = store_factory()
    net = (dipen.Net("regions").place("a", tokens=4).place("b").place("c")
           .transition("produce", take="a", give="b", region="left")
           .transition("consume", take="b", give="c", region="right"))
    left = dipen.Runner(net, store=store, region="left")
    right = dipen.Runner(net, store=store, region="right")

    async def both():
        return await asyncio.gather(left.run(), right.run())

    summaries = run_blocking(both())
    assert [s.firings for s in summaries] == [4, 4]
    assert left.marking.counts() == right.marking.counts() == {"a": 0, "b": 0, "c": 4}


def test_standby_recovers_an_unfinished_firing(store_factory):
    store = store_factory()
    net = dipen.Net("recover").place("a", tokens=[{"job": 1}]).place("b")
    attempts = []

    @net.transition(take="a", give="b")
    async def work(token):
        firing = dipen.current_firing()
        attempts.append((firing.id, firing.key))
        if len(attempts) == 1:
            await asyncio.sleep(60)  # the first leader dies in here
        return token

    first = dipen.Runner(net, store=store, node="first")
    second = dipen.Runner(net, store=store_factory.peer(store), node="second")

    async def scenario():
        task = asyncio.get_running_loop().create_task(first.run())
        for _ in range(500):  # until the first leader is inside its firing
            await asyncio.sleep(0.01)
            if first.firing:
                break
        assert len(first.firing) == 1
        # the first runner vanishes: its leadership ends, its firing record stays behind
        await store_factory.crash(store, "default")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return await second.run()

    summary = run_blocking(scenario())
    assert summary.firings == 1
    assert len(attempts) == 2 and attempts[0][0] != attempts[1][0]  # a new firing id ...
    assert attempts[0][1] == attempts[1][1]  # ... but the same key: the same work again
    assert second.marking.data() == {"a": [], "b": [{"job": 1}]}
    recovered = [c for c in run_blocking(store.changes(0)) if c.note == "recovered"]
    assert len(recovered) == 1


@pytest.mark.parametrize("weights", [1, 2])
def test_no_token_is_lost_or_duplicated(store_factory, weights):
    net = (dipen.Net("conserve").place("a", tokens=6).place("b").place("c")
           .transition("split", take={"a": weights}, give={"b": weights})
           .transition("join", take={"b": weights}, give={"c": weights}))
    runner = dipen.Runner(net, store=store_factory())
    runner.run_sync()
    ids = [t.id for _, t in runner.marking.tokens()]
    assert len(ids) == len(set(ids)) == 6
    assert runner.marking.counts() == {"a": 0, "b": 0, "c": 6}


def test_a_replica_reloads_after_missing_changes():
    """A subscription that lost changes (compaction) makes the runner reload a snapshot and
    carry on; the interruption is an event."""
    from conftest import ReplicaMemoryStore

    class GappyStore(ReplicaMemoryStore):
        """Its first subscription (the watcher's) can be made to miss changes."""

        dropping = False

        def __init__(self):
            super().__init__()
            self.troubles = []

        def subscribe(self, callback, after, on_error=None):  # type: ignore[override]
            first = not self.troubles
            self.troubles.append(on_error)

            def maybe(change):
                if not (first and self.dropping):
                    callback(change)

            return super().subscribe(maybe, after, on_error)

    store = GappyStore()
    net = (dipen.Net("gap").place("a", tokens=3).place("b").place("c")
           .transition("left", take="a", give="b", region="l")
           .transition("right", take="b", give="c", region="r"))
    watcher = dipen.Runner(net, store=store, region="r")
    worker = dipen.Runner(net, store=store, region="l")
    watcher.block("right")
    assert watcher.marking.counts() == {"a": 3, "b": 0, "c": 0}
    store.dropping = True  # the watcher's subscription silently misses what comes now
    worker.run_sync()
    assert watcher.marking.counts() == {"a": 3, "b": 0, "c": 0}  # stale
    store.dropping = False
    store.troubles[0](dipen.CompactedError("revision 2 was compacted"))
    watcher.unblock("right")
    summary = watcher.run_sync()
    assert summary.firings == 3
    assert watcher.marking.counts() == {"a": 0, "b": 0, "c": 3}
    interrupted = watcher.history.of(events.StoreInterrupted)
    assert [e.action for e in interrupted] == ["reloaded"]


def test_a_replica_that_never_sees_its_write_reloads(monkeypatch):
    """If its own change never arrives through the subscription, a runner reads a snapshot
    after a while instead of hanging."""
    from conftest import ReplicaMemoryStore

    import dipen.engine

    class Deaf(ReplicaMemoryStore):
        def subscribe(self, callback, after, on_error=None):  # type: ignore[override]
            return super().subscribe(lambda change: None, after, on_error)

    monkeypatch.setattr(dipen.engine, "CATCH_UP_TIMEOUT", 0.05)
    net = dipen.Net("deaf").place("a", tokens=2).place("b").transition("t", take="a", give="b")
    runner = dipen.Runner(net, store=Deaf())
    summary = runner.run_sync(timeout=5)
    assert summary.firings == 2 and summary.reason == "quiescent"
    assert runner.marking.counts() == {"a": 0, "b": 2}
