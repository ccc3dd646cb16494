"""The Runner: run/step/stop, questions about the net, events, history, statistics, simulated
time, capacity, concurrency and logging."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

import dipen
from dipen import events

# -- nets ------------------------------------------------------------------------------------------


def ring() -> dipen.Net:
    return (
        dipen.Net("ring").place("a", tokens=1).place("b")
        .transition("go", take="a", give="b").transition("back", take="b", give="a")
    )


def line(tokens: int = 3) -> dipen.Net:
    return dipen.Net("line").place("a", tokens=tokens).place("b").transition("t", take="a", give="b")


def sleepers(seconds: float = 10, tokens: int = 3, concurrency: int = 1, capacity=None) -> dipen.Net:
    net = dipen.Net("sleepers").place("a", tokens=list(range(tokens))).place("b", capacity=capacity)

    async def slow(token):
        await dipen.sleep(seconds)
        return token

    net.transition("slow", take="a", give="b", run=slow, concurrency=concurrency)
    return net


def record_events(runner):
    seen = []
    runner.subscribe(seen.append)
    return seen


def max_overlap(seen) -> int:
    running = peak = 0
    for event in seen:
        if isinstance(event, events.FiringStarted):
            running += 1
            peak = max(peak, running)
        elif isinstance(event, (events.FiringFinished, events.FiringFailed, events.FiringCancelled)):
            running -= 1
    return peak


# -- run() and its reasons ------------------------------------------------------------------------------


def test_run_until_quiescent_returns_a_summary():
    runner = dipen.Runner(line(3))
    before = time.time()
    summary = runner.run_sync()
    assert isinstance(summary, dipen.RunSummary)
    assert summary.reason == "quiescent"
    assert summary.firings == 3
    assert summary.elapsed >= 0
    assert before <= summary.time <= time.time()
    assert runner.marking.counts() == {"a": 0, "b": 3}
    # a second run has nothing to do
    again = runner.run_sync()
    assert (again.reason, again.firings) == ("quiescent", 0)


def test_run_async_form():
    runner = dipen.Runner(line(2))
    summary = asyncio.run(runner.run())
    assert summary.reason == "quiescent"
    assert summary.firings == 2


@pytest.mark.parametrize("limit", [1, 4, 7])
def test_run_max_firings(limit):
    runner = dipen.Runner(ring())
    summary = runner.run_sync(max_firings=limit)
    assert summary.reason == "max_firings"
    assert summary.firings == limit
    assert runner.stats.total == limit
    expected = {"a": 0, "b": 1} if limit % 2 else {"a": 1, "b": 0}
    assert runner.marking.counts() == expected


def test_run_until_a_marking_predicate():
    runner = dipen.Runner(ring())
    calls = []

    def six_done(marking):
        calls.append(marking)
        return runner.stats.total >= 6

    summary = runner.run_sync(until=six_done)
    assert summary.reason == "until"
    assert summary.firings == 6
    assert runner.stats.firings == {"go": 3, "back": 3}
    assert all(isinstance(m, dipen.Marking) for m in calls)


def test_run_until_predicate_on_the_marking_content():
    net = dipen.Net("count").place("n", tokens=[0])

    @net.transition(take="n", give="n")
    async def inc(token):
        return token.replace(token.data + 1)

    runner = dipen.Runner(net)
    summary = runner.run_sync(until=lambda marking: marking["n"][0].data >= 5)
    assert summary.reason == "until"
    assert runner.marking.data() == {"n": [5]}
    assert summary.firings == 5


def test_run_until_clock_time_and_continue():
    runner = dipen.Runner(sleepers(seconds=100, tokens=1), clock="simulated")
    summary = runner.run_sync(until=50)
    assert summary.reason == "until"
    assert summary.time == 50.0
    assert runner.now == 50.0
    assert summary.firings == 0
    assert [f.transition for f in runner.firing] == ["slow"]
    (token,) = runner.marking["a"]
    assert token.firing == runner.firing[0].id  # still held by the paused firing

    summary = runner.run_sync()
    assert summary.reason == "quiescent"
    assert summary.firings == 1
    assert runner.now == 100.0
    assert runner.firing == []
    assert runner.marking["b"] == (dipen.Token(token.id, token.data),)
    assert runner.history.firings()[0].duration == 100.0


def test_run_until_clock_time_and_continue_in_one_loop():
    runner = dipen.Runner(sleepers(seconds=30, tokens=3), clock="simulated")

    async def main():
        first = await runner.run(until=50)
        paused = list(runner.firing)
        second = await runner.run()
        return first, paused, second

    first, paused, second = asyncio.run(main())
    assert (first.reason, first.firings, first.time) == ("until", 1, 50.0)
    assert len(paused) == 1
    assert (second.reason, second.firings, second.time) == ("quiescent", 2, 90.0)
    assert runner.marking.counts() == {"a": 0, "b": 3}


def test_run_timeout_cancels_and_returns_tokens():
    net = dipen.Net("slow").place("a", tokens=1).place("b")

    @net.transition(take="a", give="b")
    async def forever(token):
        await asyncio.sleep(30)
        return token

    runner = dipen.Runner(net)
    (token,) = runner.marking["a"]
    started = time.perf_counter()
    summary = runner.run_sync(timeout=0.2)
    assert time.perf_counter() - started < 10
    assert summary.reason == "timeout"
    assert summary.firings == 0
    assert summary.elapsed >= 0.2
    assert runner.marking["a"] == (token,)
    assert runner.marking["a"][0].firing is None
    assert runner.firing == []
    (cancelled,) = runner.history.of(events.FiringCancelled)
    assert cancelled.firing.state == "cancelled"
    assert runner.stats.cancellations == {"forever": 1}


def test_stop_from_inside_a_transition():
    net = dipen.Net("stop").place("a", tokens=1).place("b")
    holder = {}

    @net.transition(take="a", give="b")
    async def go(token):
        holder["runner"].stop()
        return token

    net.transition("back", take="b", give="a")
    runner = holder["runner"] = dipen.Runner(net)
    summary = runner.run_sync()
    assert summary.reason == "stopped"
    assert summary.firings == 1
    assert runner.marking.counts() == {"a": 0, "b": 1}


def test_stop_from_a_subscriber():
    runner = dipen.Runner(ring())

    def after_three(event):
        if isinstance(event, events.FiringFinished) and runner.stats.total >= 3:
            runner.stop()

    unsubscribe = runner.subscribe(after_three)
    summary = runner.run_sync()
    assert summary.reason == "stopped"
    assert summary.firings == 3
    # the runner can run again afterwards
    unsubscribe()
    again = runner.run_sync(max_firings=2)
    assert (again.reason, again.firings) == ("max_firings", 2)


def test_stop_cancels_running_firings():
    runner = dipen.Runner(sleepers(seconds=30, tokens=2, concurrency=2))

    async def main():
        task = asyncio.ensure_future(runner.run())
        for _ in range(100):
            await asyncio.sleep(0.01)
            if len(runner.firing) == 2:
                break
        running = len(runner.firing)
        runner.stop()
        return running, await task

    running, summary = asyncio.run(main())
    assert running == 2
    assert summary.reason == "stopped"
    assert summary.firings == 0
    assert runner.marking.counts() == {"a": 2, "b": 0}
    assert all(t.firing is None for t in runner.marking["a"])
    assert len(runner.history.of(events.FiringCancelled)) == 2


def test_running_twice_at_once_raises():
    runner = dipen.Runner(sleepers(seconds=30, tokens=1))

    async def main():
        task = asyncio.ensure_future(runner.run())
        await asyncio.sleep(0.05)
        errors = []
        for again in (runner.run, runner.step):
            try:
                await again()
            except dipen.RunnerError as exc:
                errors.append(exc)
        runner.stop()
        return errors, await task

    errors, summary = asyncio.run(main())
    assert len(errors) == 2
    assert all("already running" in str(e) for e in errors)
    assert summary.reason == "stopped"
    assert runner.marking.counts() == {"a": 1, "b": 0}


# -- step() ------------------------------------------------------------------------------------------------


def test_step_by_name_returns_the_finished_firing():
    runner = dipen.Runner(sleepers(seconds=7, tokens=2), clock="simulated")
    first = runner.marking["a"][0]
    firing = runner.step_sync("slow")
    assert isinstance(firing, dipen.Firing)
    assert firing.state == "finished"
    assert firing.transition == "slow"
    assert firing.taken == {"a": (dipen.Token(first.id, first.data, firing.id),)}
    assert firing.placed == {"b": (dipen.Token(first.id, first.data),)}
    assert firing.duration == 7.0
    assert firing.started == 0.0
    assert firing.finished == 7.0
    assert runner.now == 7.0
    assert runner.marking.counts() == {"a": 1, "b": 1}


def test_step_async_form():
    runner = dipen.Runner(line(1))
    firing = asyncio.run(runner.step("t"))
    assert firing.state == "finished"
    assert runner.marking.counts() == {"a": 0, "b": 1}


def test_step_without_name_fires_the_first_enabled_in_net_order():
    net = (
        dipen.Net("order").place("empty").place("x", tokens=1).place("y", tokens=1).place("out")
        .transition("first", take="empty", give="out")
        .transition("second", take="x", give="out")
        .transition("third", take="y", give="out")
    )
    runner = dipen.Runner(net)
    assert runner.enabled() == ["second", "third"]
    assert runner.step_sync().transition == "second"
    assert runner.step_sync().transition == "third"
    assert runner.step_sync() is None
    assert runner.marking.counts() == {"empty": 0, "x": 0, "y": 0, "out": 2}


def test_step_on_a_disabled_transition_raises_with_the_explanation():
    runner = dipen.Runner(line(0))
    with pytest.raises(dipen.NotEnabledError) as info:
        runner.step_sync("t")
    assert str(info.value) == runner.explain("t")
    assert "place 'a' has 0 free tokens" in str(info.value)
    assert info.value.transition == "t"
    assert isinstance(info.value, dipen.DipenError)


def test_step_unknown_transition_raises():
    runner = dipen.Runner(line(1))
    with pytest.raises(dipen.DipenError, match="nope"):
        runner.step_sync("nope")
    with pytest.raises(dipen.DipenError, match="nope"):
        runner.explain("nope")
    with pytest.raises(dipen.DipenError, match="nope"):
        runner.block("nope")
    assert runner.marking.counts() == {"a": 1, "b": 0}


def test_step_returns_none_when_nothing_is_enabled():
    runner = dipen.Runner(line(1))
    assert runner.step_sync() is not None
    assert runner.step_sync() is None


def test_step_of_a_failing_firing_returns_it_failed():
    net = dipen.Net("f").place("a", tokens=1).place("b")

    @net.transition(take="a", give="b")
    async def boom(token):
        raise RuntimeError("no")

    runner = dipen.Runner(net)
    firing = runner.step_sync("boom")
    assert firing.state == "failed"
    assert isinstance(firing.error, RuntimeError)
    assert runner.marking.counts() == {"a": 1, "b": 0}
    assert "boom" in runner.blocked()


# -- questions: marking, enabled, explain, block -------------------------------------------------------------


def test_marking_is_a_snapshot():
    runner = dipen.Runner(line(2))
    before = runner.marking
    assert isinstance(before, dipen.Marking)
    runner.step_sync("t")
    assert before.counts() == {"a": 2, "b": 0}
    assert runner.marking.counts() == {"a": 1, "b": 1}


def test_enabled_lists_the_transitions_that_could_fire():
    runner = dipen.Runner(ring())
    assert runner.enabled() == ["go"]
    runner.step_sync("go")
    assert runner.enabled() == ["back"]


def test_explain_enabled():
    runner = dipen.Runner(line(2))
    assert runner.explain("t") == "'t' is enabled: it would take 1 from 'a'"


def test_explain_empty_place():
    runner = dipen.Runner(line(0))
    assert runner.explain("t") == "'t' is not enabled: place 'a' has 0 free tokens, needs 1 token"


def test_explain_guard_said_no():
    net = dipen.Net("g").place("a", tokens=[1]).place("b")

    def positive_even(token):
        return token.data % 2 == 0

    net.transition("t", take="a", give="b", run=_identity, guard=positive_even)
    runner = dipen.Runner(net)
    text = runner.explain("t")
    assert text.startswith("'t' is not enabled")
    assert "positive_even" in text
    assert "said no" in text


async def _identity(token):
    return token


def test_block_unblock_and_blocked():
    runner = dipen.Runner(line(2))
    seen = record_events(runner)
    runner.block("t")
    assert runner.blocked() == {"t": "blocked by hand"}
    assert runner.enabled() == []
    assert "blocked" in runner.explain("t")
    assert runner.run_sync().firings == 0
    with pytest.raises(dipen.NotEnabledError, match="blocked"):
        runner.step_sync("t")
    runner.unblock("t")
    assert runner.blocked() == {}
    assert runner.enabled() == ["t"]
    assert runner.run_sync().firings == 2
    kinds = [type(e) for e in seen]
    assert kinds[:2] == [events.TransitionBlocked, events.TransitionUnblocked]


def test_explain_full_place():
    net = dipen.Net("cap").place("a", tokens=2).place("b", tokens=1, capacity=1).transition(
        "t", take="a", give="b"
    )
    runner = dipen.Runner(net)
    assert runner.enabled() == []
    assert "place 'b' is full" in runner.explain("t")
    summary = runner.run_sync()
    assert summary.firings == 0
    assert runner.marking.counts() == {"a": 2, "b": 1}
    with pytest.raises(dipen.NotEnabledError, match="full"):
        runner.step_sync("t")


def test_capacity_counts_the_tokens_a_firing_takes_from_the_same_place():
    net = dipen.Net("cap").place("p", tokens=1, capacity=1).transition("spin", take="p", give="p")
    runner = dipen.Runner(net)
    assert runner.enabled() == ["spin"]
    assert runner.run_sync(max_firings=3).firings == 3


def test_capacity_lets_firings_continue_once_there_is_room():
    net = (
        dipen.Net("cap").place("a", tokens=4).place("b", capacity=1).place("c")
        .transition("fill", take="a", give="b").transition("drain", take="b", give="c")
    )
    runner = dipen.Runner(net)
    assert runner.run_sync().firings == 8
    assert runner.marking.counts() == {"a": 0, "b": 0, "c": 4}


def test_capacity_reserved_by_concurrent_firings():
    net = sleepers(seconds=10, tokens=3, concurrency=3, capacity=2)
    net.transition("drain", take="b")
    runner = dipen.Runner(net, clock="simulated")
    seen = record_events(runner)

    async def main():
        first = await runner.run(until=5)
        running = len(runner.firing)
        text = runner.explain("slow")
        return first, running, text, await runner.run()

    first, running, text, summary = asyncio.run(main())
    assert first.reason == "until"
    assert running == 2  # the third would overflow b once the two place their tokens
    assert "place 'b' is full" in text
    assert "2 reserved" in text
    assert summary.reason == "quiescent"
    assert runner.now == 20.0
    slow = [e for e in seen if getattr(e, "firing", None) is not None and e.firing.transition == "slow"]
    assert max_overlap(slow) == 2
    assert runner.stats.firings == {"slow": 3, "drain": 3}


@pytest.mark.parametrize("awaits", [False, True], ids=["inline", "awaiting"])
def test_run_placing_more_than_the_room_fails(awaits):
    net = dipen.Net("cap").place("a", tokens=[1]).place("b", capacity=2)

    @net.transition(take="a", give="b")
    async def burst(token):
        if awaits:
            await asyncio.sleep(0)
        return {"b": [1, 2, 3]}

    runner = dipen.Runner(net)
    original = runner.marking["a"]
    assert runner.enabled() == ["burst"]
    assert runner.run_sync().firings == 0
    (failed,) = runner.history.of(events.FiringFailed)
    assert isinstance(failed.error, dipen.ExecutorError)
    assert "room" in str(failed.error)
    assert runner.marking["a"] == original
    assert runner.marking.counts()["b"] == 0
    assert "burst" in runner.blocked()


def test_run_placing_exactly_the_room_succeeds():
    net = dipen.Net("cap").place("a", tokens=[1]).place("b", capacity=2)

    @net.transition(take="a", give="b")
    async def pair(token):
        return {"b": [1, 2]}

    runner = dipen.Runner(net)
    assert runner.run_sync().firings == 1
    assert runner.marking.data()["b"] == [1, 2]


def test_explain_already_firing():
    runner = dipen.Runner(sleepers(seconds=10, tokens=2), clock="simulated")

    async def main():
        await runner.run(until=1)
        text = runner.explain("slow")
        enabled = runner.enabled()
        await runner.run()
        return text, enabled

    text, enabled = asyncio.run(main())
    assert "already firing (1 of 1 allowed at once)" in text
    assert enabled == []
    assert runner.marking.counts() == {"a": 0, "b": 2}


def test_explain_retry_wait():
    net = dipen.Net("retry").place("a", tokens=1).place("b")

    @net.transition(take="a", give="b", on_error=dipen.Retry(times=2, backoff=30))
    async def flaky(token):
        raise RuntimeError("not yet")

    runner = dipen.Runner(net, clock="simulated")
    summary = runner.run_sync(max_firings=1)
    assert summary.firings == 0
    text = runner.explain("flaky")
    assert "waits until t=30" in text
    assert "RuntimeError" in text
    assert runner.enabled() == []
    # after the retries, the default `then` blocks it
    runner.run_sync()
    assert runner.now == 90.0  # 30 + 60
    assert runner.stats.failures == {"flaky": 3}
    assert "flaky" in runner.blocked()
    assert runner.marking.counts() == {"a": 1, "b": 0}


def test_now_real_and_simulated():
    real = dipen.Runner(line(1))
    assert abs(real.now - time.time()) < 5
    simulated = dipen.Runner(line(1), clock="simulated")
    assert simulated.now == 0.0
    simulated.run_sync()
    assert simulated.now == 0.0  # nothing slept


def test_reset_goes_back_to_the_initial_marking():
    net = dipen.Net("reset").place("a", tokens=["x", "y"]).place("b").transition(
        "t", take="a", give="b"
    )
    runner = dipen.Runner(net)
    runner.run_sync()
    assert runner.marking.data() == {"a": [], "b": ["x", "y"]}
    runner.reset()
    assert runner.marking.data() == {"a": ["x", "y"], "b": []}
    assert len(runner.history) == 0
    assert runner.run_sync().firings == 2
    assert runner.marking.data() == {"a": [], "b": ["x", "y"]}


def test_reset_while_running_raises():
    runner = dipen.Runner(sleepers(seconds=30, tokens=1))

    async def main():
        task = asyncio.ensure_future(runner.run())
        await asyncio.sleep(0.05)
        try:
            runner.reset()
        except dipen.RunnerError as exc:
            error = exc
        else:
            error = None
        runner.stop()
        await task
        return error

    assert isinstance(asyncio.run(main()), dipen.RunnerError)
    assert runner.marking.counts() == {"a": 1, "b": 0}


# -- concurrency ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("concurrency", "end", "overlap"), [(1, 30.0, 1), (3, 10.0, 3), (5, 10.0, 3)])
def test_concurrent_sleepers_overlap_in_simulated_time(concurrency, end, overlap):
    runner = dipen.Runner(sleepers(seconds=10, tokens=3, concurrency=concurrency), clock="simulated")
    seen = record_events(runner)
    in_flight = []
    runner.subscribe(
        lambda e: in_flight.append(len(runner.firing)) if isinstance(e, events.FiringStarted) else None
    )
    summary = runner.run_sync()
    assert summary.firings == 3
    assert summary.time == end
    assert runner.now == end
    assert max_overlap(seen) == overlap
    assert max(in_flight) == overlap
    assert sorted(f.finished for f in runner.history.firings()) == (
        [10.0, 20.0, 30.0] if concurrency == 1 else [10.0] * 3
    )


def test_default_concurrency_is_one():
    net = sleepers(seconds=1, tokens=2)
    assert net.transitions["slow"].concurrency == 1
    runner = dipen.Runner(net, clock="simulated")
    seen = record_events(runner)
    runner.run_sync()
    assert max_overlap(seen) == 1
    assert runner.now == 2.0


def test_concurrency_with_real_time():
    net = dipen.Net("real").place("a", tokens=3).place("b")
    peak = []
    running = [0]

    @net.transition(take="a", give="b", concurrency=3)
    async def work(token):
        running[0] += 1
        peak.append(running[0])
        await asyncio.sleep(0.05)
        running[0] -= 1
        return token

    runner = dipen.Runner(net)
    summary = runner.run_sync()
    assert summary.firings == 3
    assert max(peak) == 3


# -- events, history, stats -------------------------------------------------------------------------------


@pytest.mark.parametrize("clock", ["real", "simulated"])
def test_subscribers_see_started_and_finished_in_order(clock):
    runner = dipen.Runner(sleepers(seconds=1, tokens=3, concurrency=1), clock=clock)
    seen = record_events(runner)
    runner.run_sync()
    assert [type(e) for e in seen] == [events.FiringStarted, events.FiringFinished] * 3
    revisions = [e.revision for e in seen]
    assert revisions == sorted(revisions)
    assert len(set(revisions)) == len(revisions)  # awaiting firings: start and finish commit apart
    for started, finished in zip(seen[::2], seen[1::2], strict=True):
        assert started.firing is finished.firing
        assert started.time <= finished.time


def test_inline_firings_have_ordered_revisions():
    runner = dipen.Runner(line(3))
    seen = record_events(runner)
    runner.run_sync()
    assert [type(e) for e in seen] == [events.FiringStarted, events.FiringFinished] * 3
    finished = [e.revision for e in seen if isinstance(e, events.FiringFinished)]
    assert finished == sorted(set(finished))
    assert [e.revision for e in seen] == sorted(e.revision for e in seen)


def test_unsubscribe_stops_the_events():
    runner = dipen.Runner(line(2))
    seen = []
    unsubscribe = runner.subscribe(seen.append)
    runner.step_sync("t")
    assert len(seen) == 2
    unsubscribe()
    runner.step_sync("t")
    assert len(seen) == 2
    unsubscribe()  # twice is harmless
    assert len(runner.history) == 4


def test_a_subscriber_that_raises_does_not_break_the_run(caplog):
    runner = dipen.Runner(line(3))

    def broken(event):
        raise RuntimeError("observer bug")

    runner.subscribe(broken)
    seen = record_events(runner)
    with caplog.at_level(logging.ERROR, logger="dipen.runner"):
        summary = runner.run_sync()
    assert summary.reason == "quiescent"
    assert summary.firings == 3
    assert len(seen) == 6
    assert runner.marking.counts() == {"a": 0, "b": 3}
    assert any("observer bug" in (r.exc_text or str(r.exc_info)) for r in caplog.records)


def test_history_is_bounded():
    runner = dipen.Runner(ring(), history=5)
    runner.run_sync(max_firings=10)
    assert runner.history.limit == 5
    assert len(runner.history) == 5
    assert len(list(runner.history)) == 5
    last = runner.history[-1]
    assert isinstance(last, events.FiringFinished)
    assert last.firing.id == "f10"


def test_history_unbounded_and_queries():
    net = dipen.Net("h").place("a", tokens=[1, 2, 3]).place("b")

    @net.transition(take="a", give="b")
    async def odd_only(token):
        if token.data == 2:
            raise ValueError("even")
        return token

    runner = dipen.Runner(net, history=None)
    assert runner.history.limit is None
    runner.run_sync()
    firings = runner.history.firings()
    assert [f.transition for f in firings] == ["odd_only"]
    assert all(f.state == "finished" for f in firings)
    assert [f.taken["a"][0].data for f in firings] == [1]
    (failed,) = runner.history.of(events.FiringFailed)
    assert isinstance(failed.error, ValueError)
    assert len(runner.history.of(events.FiringFinished)) == 1
    assert runner.history.of(events.TransitionBlocked)[0].transition == "odd_only"
    # blocked after the failure: the third token stays
    assert runner.marking.data() == {"a": [2, 3], "b": [1]}


def test_stats():
    runner = dipen.Runner(sleepers(seconds=4, tokens=3), clock="simulated")
    assert runner.stats.total == 0
    assert runner.stats.mean_duration("slow") is None
    runner.run_sync()
    stats = runner.stats
    assert stats.firings == {"slow": 3}
    assert stats.failures == {}
    assert stats.total == 3
    assert stats.rate > 0
    assert stats.mean_duration("slow") == 4.0
    assert stats.as_dict()["total"] == 3


def test_stats_count_failures():
    net = dipen.Net("s").place("a", tokens=2).place("b")

    @net.transition(take="a", give="b", on_error=dipen.Retry(times=5, backoff=0))
    async def half(token):
        if dipen.current_firing().id in ("f1", "f3"):
            raise RuntimeError("odd firing")
        return token

    runner = dipen.Runner(net)
    runner.run_sync()
    assert runner.stats.failures == {"half": 2}
    assert runner.stats.firings == {"half": 2}
    assert runner.stats.total == 2
    assert runner.marking.counts() == {"a": 0, "b": 2}


# -- simulated time ---------------------------------------------------------------------------------------


def test_a_hundred_hours_in_a_moment():
    net = dipen.Net("long").place("a", tokens=1).place("b")

    @net.transition(take="a", give="b")
    async def hours(token):
        for _ in range(100):
            await dipen.sleep(3600)
        return token

    runner = dipen.Runner(net, clock="simulated")
    started = time.perf_counter()
    summary = runner.run_sync()
    assert time.perf_counter() - started < 0.9
    assert summary.firings == 1
    assert summary.time == 360_000.0
    assert runner.now == 360_000.0
    assert runner.history.firings()[0].duration == 360_000.0


def test_recheck_after_in_simulated_time():
    checks = []

    class Opens(dipen.Executor):
        def check_start(self, ctx):
            checks.append(ctx.now)
            if not ctx.count("a"):
                return dipen.Disabled("empty", wait_for="a")
            if ctx.now < 5:
                return dipen.Disabled("too early", recheck_after=5)
            return dipen.Enabled({"a": ctx.tokens("a")[:1]})

        async def run(self, ctx):
            return {"b": list(ctx.taken["a"])}

    net = dipen.Net("later").place("a", tokens=1).place("b").transition(
        "t", take="a", give="b", executor=Opens
    )
    runner = dipen.Runner(net, clock="simulated")
    assert runner.explain("t") == "'t' is not enabled: too early"
    checks.clear()
    summary = runner.run_sync()
    assert summary.firings == 1
    assert runner.now == 5.0
    assert checks[0] == 0.0
    assert 5.0 in checks
    assert all(c in (0.0, 5.0) for c in checks)
    assert runner.history.firings()[0].started == 5.0
    assert runner.marking.counts() == {"a": 0, "b": 1}


def test_simulated_timers_and_sleepers_mix():
    net = dipen.Net("mix").place("a", tokens=2).place("b")

    @net.transition(take="a", give="b", concurrency=2)
    async def staggered(token):
        firing = dipen.current_firing()
        await dipen.sleep(3 if firing.id == "f1" else 8)
        return token

    runner = dipen.Runner(net, clock="simulated")
    runner.run_sync()
    assert sorted(f.finished for f in runner.history.firings()) == [3.0, 8.0]
    assert runner.now == 8.0


# -- logging ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("awaits", [True, False], ids=["awaiting", "inline"])
def test_firing_start_and_finish_are_logged_at_debug(caplog, awaits):
    net = dipen.Net("log").place("a", tokens=["x"]).place("b")

    @net.transition(take="a", give="b")
    async def move(token):
        if awaits:
            await dipen.sleep(1)
        return token

    runner = dipen.Runner(net, clock="simulated")
    (token,) = runner.marking["a"]
    with caplog.at_level(logging.DEBUG, logger="dipen.engine"):
        firing = runner.step_sync("move")
    records = [
        r for r in caplog.records
        if r.name == "dipen.engine" and r.levelno == logging.DEBUG
        and getattr(r, "firing", None) == firing.id
    ]
    assert len(records) == 2, [r.getMessage() for r in records]
    start, finish = records
    for record in records:
        assert record.transition == "move"
        assert record.tokens == [token.id]
    assert start.getMessage().startswith("start")
    assert finish.getMessage().startswith("finish")


def test_logging_turned_on_during_a_run_logs_from_the_next_turn_of_the_event_loop(caplog):
    net = dipen.Net("log").place("a", tokens=1).place("b").place("c")

    @net.transition(take="a", give="b")
    async def wait(token):
        await gate.wait()
        return token

    @net.transition(take="b", give="c")
    async def go_on(token):
        return token

    gate = None

    async def main():
        nonlocal gate
        gate = asyncio.Event()
        runner = dipen.Runner(net)
        task = asyncio.create_task(runner.run())
        while not len(runner.history):  # until "wait" has started
            await asyncio.sleep(0)
        caplog.set_level(logging.DEBUG, logger="dipen.engine")  # while "wait" waits
        gate.set()
        return await task

    assert asyncio.run(main()).firings == 2
    messages = [r.getMessage().split()[:2] for r in caplog.records if r.name == "dipen.engine"]
    assert messages == [["finish", "wait"], ["start", "go_on"], ["finish", "go_on"]]


def test_nothing_logged_above_debug_for_a_clean_run(caplog):
    with caplog.at_level(logging.DEBUG, logger="dipen"):
        dipen.Runner(line(2)).run_sync()
    assert [r for r in caplog.records if r.levelno > logging.DEBUG] == []


# -- background runs, pausing, pacing, time travel, manual data ----------------------------------


def _slow_ring(clock="simulated"):
    net = dipen.Net("bg").place("a", tokens=3).place("b")

    @net.transition(take="a", give="b")
    async def work(token):
        await dipen.sleep(10)
        return token

    return dipen.Runner(net, clock=clock)


def test_start_runs_in_the_background_and_pause_keeps_firings():
    runner = _slow_ring(clock="real")

    async def scenario():
        task = runner.start()
        await asyncio.sleep(0.05)
        assert runner.running and len(runner.firing) == 1
        runner.pause()
        summary = await task
        return summary

    summary = asyncio.run(scenario())
    assert summary.reason == "paused"
    assert not runner.running
    assert runner.marking.counts(free_only=True) == {"a": 2, "b": 0}  # one token still held


def test_start_takes_the_run_options(capsys):
    runner = _slow_ring()

    async def scenario():
        until = await runner.start(until=15, progress=True)
        more = await runner.start(max_firings=1)
        return until, more

    until, more = asyncio.run(scenario())
    assert (until.reason, until.firings, until.time) == ("until", 1, 15.0)
    assert "bg" in capsys.readouterr().err  # the progress line names the net
    # the firing left running at t=15 finishes, and one more starts
    assert (more.reason, more.firings, more.time) == ("max_firings", 2, 30.0)
    assert runner.marking.counts() == {"a": 0, "b": 3}


def test_start_forever_waits_for_tokens_from_other_runners():
    net = dipen.Net("relay").place("a", tokens=1).place("b").place("c")
    net.transition("give", take="a", give="b", region="left")
    net.transition("pass", take="b", give="c", region="right")
    store = dipen.MemoryStore()
    left = dipen.Runner(net, store=store, region="left")
    right = dipen.Runner(net, store=store, region="right")

    async def scenario():
        idle = await asyncio.wait_for(right.start(), 1)  # alone and nothing to do: it ends
        waiting = right.start(forever=True)
        await asyncio.sleep(0.05)
        assert not waiting.done() and right.running
        await left.run()
        while right.marking.counts()["c"] == 0:
            await asyncio.sleep(0.01)
        assert not waiting.done()
        right.stop()
        return idle, await waiting

    idle, summary = asyncio.run(scenario())
    assert (idle.reason, idle.firings) == ("quiescent", 0)
    assert (summary.reason, summary.firings) == ("stopped", 1)
    assert right.marking.counts() == {"a": 0, "b": 0, "c": 1}


@pytest.mark.parametrize("form", ["run", "step", "guard"])
def test_now_reads_the_runner_clock_inside_a_transition(form):
    net = dipen.Net("clocked").place("a", tokens=2).place("b")
    seen = []

    def not_before_five(token):
        seen.append(("guard", dipen.now()))
        return dipen.now() >= 5

    async def stamp(token):
        seen.append(("start", dipen.now()))
        await dipen.sleep(7)
        seen.append(("end", dipen.now()))
        return {"at": dipen.now()}

    guard = not_before_five if form == "guard" else None
    net.transition("stamp", take="a", give="b", run=stamp, guard=guard)
    runner = dipen.Runner(net, clock=dipen.SimulatedClock(start=5))
    if form == "step":
        runner.step_sync("stamp")
        assert seen == [("start", 5.0), ("end", 12.0)]
    else:
        runner.run_sync()
        expected = [("start", 5.0), ("end", 12.0), ("start", 12.0), ("end", 19.0)]
        assert [entry for entry in seen if entry[0] != "guard"] == expected
        assert (form == "guard") == (("guard", 5.0) in seen and ("guard", 12.0) in seen)
    assert runner.marking.data()["b"][0] == {"at": 12.0}


def test_now_outside_a_runner_says_what_to_do():
    with pytest.raises(dipen.RunnerError, match="runner.now"):
        dipen.now()

    async def plain_task():
        return dipen.now()

    with pytest.raises(dipen.RunnerError, match="no runner is firing"):
        asyncio.run(plain_task())


def test_start_outside_a_loop_says_what_to_do():
    with pytest.raises(dipen.RunnerError, match="run_sync"):
        _slow_ring().start()


def test_paced_simulated_clock_takes_wall_time():
    runner = _slow_ring()
    runner.clock.speed = 300.0  # 30 simulated seconds take about 0.1 s
    started = time.perf_counter()
    summary = runner.run_sync()
    elapsed = time.perf_counter() - started
    assert summary.firings == 3 and runner.now == 30.0
    assert elapsed >= 0.09


def test_marking_at_travels_back_in_time():
    net = dipen.Net("tt").place("a", tokens=2).place("b").transition("t", take="a", give="b")
    runner = dipen.Runner(net)
    runner.run_sync()

    async def look():
        revisions = await runner.revisions()
        return revisions, [await runner.marking_at(r) for r, _, _ in revisions]

    revisions, markings = asyncio.run(look())
    assert [kind for _, _, kind in revisions] == ["init", "fire", "fire"]
    assert [m.counts() for m in markings] == [{"a": 2, "b": 0}, {"a": 1, "b": 1}, {"a": 0, "b": 2}]
    assert markings[-1] == runner.marking


def test_step_with_data_gives_it_to_new_tokens_and_to_code():
    net = dipen.Net("manual").place("cars").place("log")
    net.transition("arrive", give="cars")
    seen = []

    @net.transition(take="cars", give="log")
    async def record(token):
        seen.append(dipen.current_firing().input)
        return token

    runner = dipen.Runner(net)
    runner.step_sync("arrive", data={"plate": "AB-123"})
    assert runner.marking.data()["cars"] == [{"plate": "AB-123"}]
    runner.step_sync("record", data=[1, 2])
    assert seen == [[1, 2]]
    with pytest.raises(dipen.TokenError, match="arrive"):
        runner.step_sync("arrive", data={1, 2})
    assert runner.marking.counts() == {"cars": 0, "log": 1}


def test_reset_starts_history_stats_and_simulated_time_afresh():
    runner = _slow_ring()
    runner.run_sync()
    assert runner.now == 30.0 and runner.stats.total == 3 and len(runner.history)
    runner.reset()
    assert runner.marking.counts() == {"a": 3, "b": 0}
    assert runner.now == 0.0 and runner.stats.total == 0 and len(runner.history) == 0
    runner.run_sync()
    assert runner.now == 30.0 and runner.stats.firings == {"work": 3}
    assert runner.stats.mean_duration("work") == 10.0 and runner.stats.mean_duration("none") is None


def test_progress_as_text_and_as_a_widget(capsys):
    net = dipen.Net("long").place("a", tokens=50).place("b")

    @net.transition(take="a", give="b")
    async def tick(token):
        await dipen.sleep(1)
        return token

    runner = dipen.Runner(net, clock="simulated")
    runner.run_sync(max_firings=20, progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("long: 0 of 20 firings (0%)")
    assert lines[-1] == "long: 20 of 20 firings (100%), t=20"

    from dipen.viz.progress import RunProgress

    progress = RunProgress(runner, until=40.0, widget=True)
    runner.run_sync(until=40.0)
    progress.close("until")
    assert progress._bar.value == 1.0 and progress._bar.bar_style == "success"
    assert "20 firings, 100% of the time, t=40" in progress._label.value
    progress._bar.close()
    progress._label.close()


@pytest.mark.parametrize("where", ["inline", "after_await"])
def test_an_interrupt_stops_the_run_cleanly(where):
    """A KeyboardInterrupt (a kernel interrupt lands in whatever code runs) ends the run, gives
    the tokens back and reaches the caller."""
    net = dipen.Net("interrupted").place("a", tokens=[1, 2]).place("b")

    @net.transition(take="a", give="b")
    async def work(token):
        if where == "after_await":
            await asyncio.sleep(0)
        raise KeyboardInterrupt

    runner = dipen.Runner(net)
    with pytest.raises(KeyboardInterrupt):
        runner.run_sync()
    assert runner.marking.counts(free_only=True) == {"a": 2, "b": 0}
    assert not runner.running and runner.firing == []
    summary = runner.run_sync(max_firings=0)
    assert summary.reason == "max_firings"


def test_explain_enabled_and_states_log_and_record_nothing(caplog):
    import logging

    net = dipen.Net("f").place("a", tokens=1).place("b")
    net.transition("t", take="a", give="b", guard=lambda token: 1 / 0)
    runner = dipen.Runner(net)
    runner.run_sync()
    caplog.clear()  # the run itself logged the guard's error once
    with caplog.at_level(logging.DEBUG, logger="dipen"):
        assert "ZeroDivisionError" in runner.explain("t")
        assert runner.enabled() == [] and runner.states() == {"t": "idle"}
    assert [r.getMessage() for r in caplog.records] == []
    assert len(runner.history.of(dipen.events.GuardFailed)) == 1
