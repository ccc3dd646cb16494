"""Error policies (block, retry, error place, stop) and cancellation of running firings."""

from __future__ import annotations

import asyncio
import time

import pytest

import dipen
from dipen.events import (
    FiringCancelled,
    FiringFailed,
    FiringFinished,
    TransitionBlocked,
    TransitionUnblocked,
)


@pytest.fixture(params=["immediate", "after_await"])
def suspend(request):
    """What a transition does before it fails: nothing (it fails while the engine drives it
    inline) or ``await asyncio.sleep(0)`` (it fails later, as a task)."""

    async def maybe_suspend() -> None:
        if request.param == "after_await":
            await asyncio.sleep(0)

    return maybe_suspend


def free_tokens(marking, place):
    """``(id, data)`` of the tokens in ``place``, asserting none is held by a firing."""
    tokens = marking[place]
    assert all(token.firing is None for token in tokens), tokens
    return [(token.id, token.data) for token in tokens]


def running_firings(store):
    return dict(store.live().firings)


# -- block (the default) ---------------------------------------------------------------------------


def test_block_is_the_default_and_returns_the_tokens(suspend):
    net = dipen.Net("block").place("a", tokens=[{"n": 1}]).place("b")
    behaviour = {"fail": True}
    attempts = []

    @net.transition(take="a", give="b")
    async def work(token):
        attempts.append(token.id)
        await suspend()
        if behaviour["fail"]:
            raise ValueError("boom")
        return token

    runner = dipen.Runner(net)
    before = free_tokens(runner.marking, "a")
    summary = runner.run_sync()

    assert summary.reason == "quiescent"
    assert summary.firings == 0
    assert attempts == [before[0][0]]
    # the tokens are back where they were, free, and nothing was placed
    assert free_tokens(runner.marking, "a") == before
    assert free_tokens(runner.store.marking_now(), "a") == before
    assert runner.marking["b"] == ()
    assert running_firings(runner.store) == {}
    # blocked, and the error is visible
    blocked = runner.blocked()
    assert list(blocked) == ["work"]
    assert "ValueError" in blocked["work"] and "boom" in blocked["work"]
    explanation = runner.explain("work")
    assert "not enabled" in explanation and "blocked" in explanation and "boom" in explanation
    assert runner.enabled() == []
    # events
    failed = runner.history.of(FiringFailed)
    assert len(failed) == 1
    event = failed[0]
    assert isinstance(event.error, ValueError) and str(event.error) == "boom"
    assert event.firing.transition == "work"
    assert event.firing.state == "failed"
    assert event.firing.error is event.error
    assert "block" in event.action and "returned" in event.action
    blocked_events = runner.history.of(TransitionBlocked)
    assert [e.transition for e in blocked_events] == ["work"]
    assert "boom" in blocked_events[0].reason
    assert runner.stats.failures == {"work": 1}

    # blocked: running again does not try again
    assert runner.run_sync().firings == 0
    assert len(attempts) == 1

    # unblock lets it fire again
    behaviour["fail"] = False
    runner.unblock("work")
    assert runner.blocked() == {}
    assert [e.transition for e in runner.history.of(TransitionUnblocked)] == ["work"]
    assert runner.enabled() == ["work"]
    summary = runner.run_sync()
    assert summary.firings == 1
    assert len(attempts) == 2
    assert free_tokens(runner.marking, "b") == before
    assert runner.marking["a"] == ()


@pytest.mark.parametrize("policy", ["block", dipen.Block()])
def test_block_spelled_explicitly(policy, suspend):
    net = dipen.Net("block2").place("a", tokens=2).place("b")

    @net.transition(take="a", give="b", on_error=policy)
    async def work(token):
        await suspend()
        raise RuntimeError("nope")

    runner = dipen.Runner(net)
    runner.run_sync()
    # only one attempt: after the first failure the transition is blocked
    assert len(runner.history.of(FiringFailed)) == 1
    assert runner.marking.counts(free_only=True) == {"a": 2, "b": 0}
    assert "work" in runner.blocked()


def test_block_only_blocks_the_failing_transition(suspend):
    net = dipen.Net("block3").place("a", tokens=1).place("c", tokens=2).place("b").place("d")

    @net.transition(take="a", give="b")
    async def bad(token):
        await suspend()
        raise ValueError("bad")

    net.transition("good", take="c", give="d")
    runner = dipen.Runner(net)
    runner.run_sync()
    assert runner.marking.counts() == {"a": 1, "c": 0, "b": 0, "d": 2}
    assert list(runner.blocked()) == ["bad"]


def test_block_by_hand_and_unblock():
    net = dipen.Net("manual").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    runner = dipen.Runner(net)
    runner.block("t")
    assert "t" in runner.blocked()
    assert runner.run_sync().firings == 0
    assert runner.marking.counts() == {"a": 1, "b": 0}
    runner.unblock("t")
    assert runner.run_sync().firings == 1
    assert runner.marking.counts() == {"a": 0, "b": 1}


# -- retry -----------------------------------------------------------------------------------------


def test_retry_waits_the_backoff_and_succeeds(suspend):
    net = dipen.Net("retry").place("a", tokens=[{"job": 1}]).place("b")
    attempts = []

    @net.transition(take="a", give="b", on_error=dipen.Retry(times=3, backoff=1, factor=2))
    async def work(token):
        attempts.append(runner.now)
        await suspend()
        if len(attempts) < 4:
            raise ConnectionError(f"attempt {len(attempts)}")
        return token

    runner = dipen.Runner(net, clock="simulated")
    token_id = runner.marking["a"][0].id
    summary = runner.run_sync()

    assert summary.reason == "quiescent"
    # delays 1, 2, 4 after failures 1, 2, 3
    assert attempts == [0.0, 1.0, 3.0, 7.0]
    assert summary.time == 7.0
    assert free_tokens(runner.marking, "b") == [(token_id, {"job": 1})]
    assert runner.blocked() == {}
    actions = [e.action for e in runner.history.of(FiringFailed)]
    assert len(actions) == 3 and all(action.startswith("retry") for action in actions)
    assert [e.time for e in runner.history.of(FiringFailed)] == [0.0, 1.0, 3.0]
    assert runner.stats.failures == {"work": 3}
    assert runner.stats.firings == {"work": 1}


def test_retry_failures_reset_after_a_success(suspend):
    net = dipen.Net("retry-reset").place("a", tokens=[{"job": 1}, {"job": 2}]).place("b")
    attempts: list[float] = []

    # attempts 1-3 fail, 4 works, 5-7 fail, 8 works: 3 retries in a row are allowed, so this
    # only gets through if the failure counter starts again after the success
    @net.transition(take="a", give="b", on_error=dipen.Retry(times=3, backoff=1, factor=2))
    async def work(token):
        attempts.append(runner.now)
        await suspend()
        if len(attempts) % 4:
            raise ConnectionError("not yet")
        return token

    runner = dipen.Runner(net, clock="simulated")
    summary = runner.run_sync()

    assert runner.blocked() == {}, "the failure counter was not reset after a success"
    assert attempts == [0.0, 1.0, 3.0, 7.0, 7.0, 8.0, 10.0, 14.0]
    assert sorted(t["job"] for t in runner.marking["b"]) == [1, 2]
    assert summary.firings == 2


def test_failed_firing_keeps_the_order_of_the_tokens(suspend):
    """A returned token goes back to its place as it was: same id, same data, same position
    (places hand out their oldest token first)."""
    net = dipen.Net("order").place("a", tokens=[{"job": 1}, {"job": 2}, {"job": 3}]).place("b")
    tried = []

    @net.transition(take="a", give="b")
    async def work(token):
        tried.append(token["job"])
        await suspend()
        raise ValueError("boom")

    runner = dipen.Runner(net)
    before = free_tokens(runner.marking, "a")
    runner.run_sync()
    assert tried == [1]
    assert free_tokens(runner.marking, "a") == before
    assert free_tokens(runner.store.marking_now(), "a") == before
    # so after unblocking, the oldest token is tried first again
    runner.unblock("work")
    runner.run_sync()
    assert tried == [1, 1]


def test_retry_max_backoff(suspend):
    net = dipen.Net("retry-max").place("a", tokens=1).place("b")
    attempts = []

    policy = dipen.Retry(times=4, backoff=1, factor=10, max_backoff=5)

    @net.transition(take="a", give="b", on_error=policy)
    async def work(token):
        attempts.append(runner.now)
        await suspend()
        raise ValueError("always")

    runner = dipen.Runner(net, clock="simulated")
    runner.run_sync()
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [1.0, 5.0, 5.0, 5.0]
    assert attempts == [0.0, 1.0, 6.0, 11.0, 16.0]
    assert "work" in runner.blocked()  # then=Block() by default
    assert runner.marking.counts(free_only=True) == {"a": 1, "b": 0}


def test_retry_then_block_and_unblock_starts_over(suspend):
    net = dipen.Net("retry-block").place("a", tokens=1).place("b")
    attempts = []

    @net.transition(take="a", give="b", on_error=dipen.Retry(times=2, backoff=1, factor=2))
    async def work(token):
        attempts.append(runner.now)
        await suspend()
        raise ValueError("always")

    runner = dipen.Runner(net, clock="simulated")
    runner.run_sync()
    # the first attempt and `times` retries, then the `then` policy (block)
    assert attempts == [0.0, 1.0, 3.0]
    assert "work" in runner.blocked()
    actions = [e.action for e in runner.history.of(FiringFailed)]
    assert actions[:2] == ["retry 1 of 2 in 1s", "retry 2 of 2 in 2s"]
    assert "block" in actions[2]
    assert [e.transition for e in runner.history.of(TransitionBlocked)] == ["work"]
    assert runner.marking.counts(free_only=True) == {"a": 1, "b": 0}

    runner.unblock("work")
    runner.run_sync()
    # after unblocking, the backoff starts again from the first delay
    assert attempts == [0.0, 1.0, 3.0, 3.0, 4.0, 6.0]
    assert "work" in runner.blocked()


def test_retry_then_to_place(suspend):
    net = dipen.Net("retry-place").place("a", tokens=[{"k": "v"}]).place("b").place("errors")
    attempts = []

    @net.transition(take="a", give="b",
                    on_error=dipen.Retry(times=2, backoff=0.5, then=dipen.ToPlace("errors")))
    async def work(token):
        attempts.append(runner.now)
        await suspend()
        raise ValueError("always")

    runner = dipen.Runner(net, clock="simulated")
    before = free_tokens(runner.marking, "a")
    runner.run_sync()
    assert attempts == [0.0, 0.5, 1.5]
    assert free_tokens(runner.marking, "errors") == before
    assert runner.marking["a"] == () and runner.marking["b"] == ()
    assert runner.blocked() == {}


def test_retry_then_stop(suspend):
    net = dipen.Net("retry-stop").place("a", tokens=1).place("b")
    attempts = []

    @net.transition(take="a", give="b", on_error=dipen.Retry(times=1, backoff=2, then=dipen.Stop()))
    async def work(token):
        attempts.append(runner.now)
        await suspend()
        raise KeyError("gone")

    runner = dipen.Runner(net, clock="simulated")
    with pytest.raises(dipen.FiringError) as info:
        runner.run_sync()
    assert attempts == [0.0, 2.0]
    assert isinstance(info.value.__cause__, KeyError)
    assert runner.marking.counts(free_only=True) == {"a": 1, "b": 0}


def test_retry_short_form(suspend):
    net = dipen.Net("retry-short").place("a", tokens=1).place("b")
    attempts = []

    @net.transition(take="a", give="b", on_error="retry")
    async def work(token):
        attempts.append(runner.now)
        await suspend()
        if len(attempts) < 3:
            raise ValueError("flaky")
        return token

    runner = dipen.Runner(net, clock="simulated")
    runner.run_sync()
    default = dipen.Retry()
    assert attempts == pytest.approx([0.0, default.delay(1), default.delay(1) + default.delay(2)])
    assert runner.marking.counts() == {"a": 0, "b": 1}


@pytest.mark.parametrize("kwargs", [
    {"times": 0}, {"backoff": -1}, {"factor": 0.5}, {"max_backoff": -1},
    {"then": dipen.Retry()},
])
def test_retry_rejects_bad_parameters(kwargs):
    with pytest.raises(dipen.NetError):
        dipen.Retry(**kwargs)


# -- to an error place -----------------------------------------------------------------------------


def test_to_place_moves_the_tokens_and_goes_on(suspend):
    jobs = [{"n": 1, "bad": True}, {"n": 2}, {"n": 3, "bad": True}, {"n": 4}]
    net = dipen.Net("to-place").place("a", tokens=jobs).place("b").place("errors")

    @net.transition(take="a", give="b", on_error=dipen.ToPlace("errors"))
    async def work(token):
        await suspend()
        if token.get("bad"):
            raise ValueError(f"bad job {token['n']}")
        return token.update(done=True)

    runner = dipen.Runner(net)
    before = dict(free_tokens(runner.marking, "a"))
    summary = runner.run_sync()

    assert summary.reason == "quiescent"
    assert summary.firings == 2
    assert runner.blocked() == {}
    errors = free_tokens(runner.marking, "errors")
    assert errors == [(tid, data) for tid, data in before.items() if data.get("bad")]
    done = free_tokens(runner.marking, "b")
    assert [tid for tid, _ in done] == [tid for tid, data in before.items() if not data.get("bad")]
    assert all(data["done"] for _, data in done)
    assert runner.marking["a"] == ()
    assert running_firings(runner.store) == {}
    failed = runner.history.of(FiringFailed)
    assert len(failed) == 2
    assert all(e.action == "tokens moved to 'errors'" for e in failed)
    assert runner.history.of(TransitionBlocked) == []


def test_to_place_moves_tokens_from_every_input(suspend):
    net = (
        dipen.Net("to-place2")
        .place("a", tokens=[{"x": 1}])
        .place("c", tokens=[{"y": 2}])
        .place("b")
        .place("errors")
    )

    @net.transition(take=["a", "c"], give="b", on_error=dipen.ToPlace("errors"))
    async def join(tokens):
        await suspend()
        raise ValueError("cannot join")

    runner = dipen.Runner(net)
    ids = {t.id: t.data for place in ("a", "c") for t in runner.marking[place]}
    runner.run_sync()
    assert {tid: data for tid, data in free_tokens(runner.marking, "errors")} == ids
    assert runner.marking.counts() == {"a": 0, "c": 0, "b": 0, "errors": 2}


def test_to_unknown_place_is_a_net_error():
    net = dipen.Net("to-nowhere").place("a").place("b")
    with pytest.raises(dipen.NetError, match="nowhere"):
        net.transition("t", take="a", give="b", on_error=dipen.ToPlace("nowhere"))


# -- stop -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["stop", dipen.Stop()])
def test_stop_raises_firing_error_and_returns_tokens(policy, suspend):
    net = dipen.Net("stop").place("a", tokens=[{"n": 1}]).place("b")
    raised = []
    behaviour = {"fail": True}

    @net.transition(take="a", give="b", on_error=policy)
    async def work(token):
        await suspend()
        if behaviour["fail"]:
            error = OSError("disk on fire")
            raised.append(error)
            raise error
        return token

    runner = dipen.Runner(net)
    before = free_tokens(runner.marking, "a")
    with pytest.raises(dipen.FiringError) as info:
        runner.run_sync()
    assert info.value.__cause__ is raised[0]
    assert info.value.transition == "work"
    assert "work" in str(info.value)
    assert free_tokens(runner.marking, "a") == before
    assert free_tokens(runner.store.marking_now(), "a") == before
    assert running_firings(runner.store) == {}
    failed = runner.history.of(FiringFailed)
    assert len(failed) == 1 and "stop" in failed[0].action
    # the runner is usable again
    behaviour["fail"] = False
    assert runner.run_sync().firings == 1
    assert free_tokens(runner.marking, "b") == before


def test_stop_from_step_async():
    net = dipen.Net("stop-async").place("a", tokens=1).place("b")

    @net.transition(take="a", give="b", on_error="stop")
    async def work(token):
        await asyncio.sleep(0)
        raise ValueError("x")

    async def main():
        runner = dipen.Runner(net)
        with pytest.raises(dipen.FiringError) as info:
            await runner.run()
        assert isinstance(info.value.__cause__, ValueError)
        return (await runner.store.marking()).counts(free_only=True)

    assert asyncio.run(main()) == {"a": 1, "b": 0}


# -- cancellation ------------------------------------------------------------------------------------


def slow_net(name, log, started=None):
    net = dipen.Net(name).place("a", tokens=[{"n": 1}]).place("b")

    @net.transition(take="a", give="b")
    async def slow(token):
        log.append("started")
        if started is not None:
            started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            log.append("cancelled")
            raise
        finally:
            log.append("finally")
        return token

    return net


def assert_returned(runner, before):
    assert free_tokens(runner.marking, "a") == before
    assert free_tokens(runner.store.marking_now(), "a") == before
    assert runner.marking["b"] == ()
    assert running_firings(runner.store) == {}
    assert runner.firing == []
    cancelled = runner.history.of(FiringCancelled)
    assert len(cancelled) == 1
    assert cancelled[0].firing.state == "cancelled"
    assert cancelled[0].firing.transition == "slow"
    assert runner.history.of(FiringFinished) == []


def test_timeout_cancels_running_firings():
    log = []
    runner = dipen.Runner(slow_net("timeout", log))
    before = free_tokens(runner.marking, "a")
    wall = time.perf_counter()
    summary = runner.run_sync(timeout=0.1)
    assert time.perf_counter() - wall < 5, "the firing was not cancelled"
    assert summary.reason == "timeout"
    assert summary.firings == 0
    assert log == ["started", "cancelled", "finally"]
    assert_returned(runner, before)
    assert runner.stats.cancellations == {"slow": 1}


def test_timeout_with_async_run():
    log = []

    async def main():
        runner = dipen.Runner(slow_net("timeout-async", log))
        await runner.open()
        before = free_tokens(runner.marking, "a")
        summary = await runner.run(timeout=0.1)
        assert summary.reason == "timeout"
        assert_returned(runner, before)
        # it can run again (and is cancelled again)
        summary = await runner.run(timeout=0.05)
        assert summary.reason == "timeout"
        assert free_tokens(runner.marking, "a") == before

    asyncio.run(main())
    assert log == ["started", "cancelled", "finally"] * 2


def test_cancelling_the_run_task_returns_tokens_and_reraises():
    log = []

    async def main():
        started = asyncio.Event()
        runner = dipen.Runner(slow_net("task-cancel", log, started))
        await runner.open()
        before = free_tokens(runner.marking, "a")
        task = asyncio.create_task(runner.run())
        await asyncio.wait_for(started.wait(), 5)
        assert [f.transition for f in runner.firing] == ["slow"]
        assert runner.store.marking_now()["a"][0].firing is not None  # taken in the store
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()
        assert_returned(runner, before)

    asyncio.run(main())
    assert log == ["started", "cancelled", "finally"]


def test_stop_from_another_task():
    log = []

    async def main():
        started = asyncio.Event()
        runner = dipen.Runner(slow_net("stop-task", log, started))
        await runner.open()
        before = free_tokens(runner.marking, "a")

        async def stopper():
            await started.wait()
            runner.stop()

        summary, _ = await asyncio.wait_for(asyncio.gather(runner.run(), stopper()), 5)
        assert summary.reason == "stopped"
        assert_returned(runner, before)

    asyncio.run(main())
    assert log == ["started", "cancelled", "finally"]
