"""A runner's long event history: its older events are kept flat, read back as equal events,
and cost the garbage collector nothing."""

import gc

import pytest

import dipen
from dipen import events
from dipen.bench.local import ring_net
from dipen.flat_firings import flatten, unflatten
from dipen.history import BATCH, RECENT, History


def same_firing(a, b):
    fields = ("id", "transition", "region", "started", "finished", "state", "committed", "input",
              "pairs", "taken", "reads", "placed")
    return all(getattr(a, name) == getattr(b, name) for name in fields)


def assorted_firings():
    """Finished firings with every shape of tokens: dict data (flat and nested), none, scalars,
    lists, several places and tokens, reads, data given by hand."""
    net = dipen.Net("assorted").place("a", tokens=[{"n": 1, "s": "x"}, {"deep": {"k": [1, 2]}}])
    net.place("b", tokens=[None, 7, "text", [1, [2]]]).place("flag", tokens=[{"on": True}])
    net.place("out").place("out2").place("empty")
    net.transition("pair", take={"a": 2}, read="flag", give="out")
    net.transition("four", take={"b": 4}, give={"out": 2, "out2": 2})

    @net.transition(take="out2", give="empty")
    async def by_hand(token):
        return token.replace(dipen.current_firing().input)

    runner = dipen.Runner(net)
    firings = [runner.step_sync("pair"), runner.step_sync("four")]
    firings.append(runner.step_sync("by_hand", {"given": [1, {"x": None}]}))
    assert [f.state for f in firings] == ["finished"] * 3
    return firings


def test_a_firing_reads_back_equal():
    for firing in assorted_firings():
        again = unflatten(flatten(firing))
        assert same_firing(again, firing), (firing, again)
        for name in ("taken", "reads", "placed"):
            for place, group in getattr(again, name).items():
                originals = getattr(firing, name)[place]
                assert [type(t) for t in group] == [dipen.Token] * len(originals)
                assert [type(t.data) for t in group] == [type(t.data) for t in originals]
    pair = unflatten(flatten(assorted_firings()[0]))
    assert pair.reads["flag"][0]["on"] is True
    assert list(pair.taken["a"][0].data) == ["n", "s"]  # key order kept
    with pytest.raises(TypeError, match="read-only"):
        pair.taken["a"][0].data["n"] = 2


def test_a_flat_record_of_plain_data_is_strings_and_numbers():
    firing = dipen.Runner(ring_net(1, 2)).step_sync()
    assert {type(cell) for cell in flatten(firing)} <= {str, int, float, bool, type(None)}


def long_run(limit, firings=3000):
    runner = dipen.Runner(ring_net(4, firings // 4), history=limit)
    seen = []
    runner.subscribe(seen.append)
    assert runner.run_sync().firings == firings
    return runner, seen


def test_a_long_history_reads_back_every_event():
    runner, seen = long_run(None)
    history = runner.history
    kept = list(history)
    assert len(history) == len(seen) == len(kept) == 6000
    assert BATCH * len(history._batches) > 6000 - RECENT - BATCH  # most of it was kept flat
    assert [type(e) for e in kept] == [type(e) for e in seen]
    assert [(e.time, e.revision) for e in kept] == [(e.time, e.revision) for e in seen]
    assert all(same_firing(a.firing, b.firing) for a, b in zip(kept, seen))
    # a firing's start and finish share one record; the recent ones are the events themselves
    firings = {}
    for event in kept:
        firings.setdefault(event.firing.id, []).append(event.firing)
    assert all(a is b for a, b in firings.values())
    assert all(a is b for a, b in zip(kept[-RECENT:], seen[-RECENT:]))
    # indexing, queries
    for index in (0, 1, 2999, -1, -RECENT - 1, -6000):
        assert (history[index].revision, type(history[index])) == (kept[index].revision, type(kept[index]))
        assert same_firing(history[index].firing, kept[index].firing)
    with pytest.raises(IndexError):
        history[6000]
    assert [f.id for f in history.firings()] == [e.firing.id for e in seen
                                                  if type(e) is events.FiringFinished]
    assert len(history.of(events.FiringStarted)) == 3000
    assert repr(history) == "History(6000 events)"
    history.clear()
    assert len(history) == 0 and list(history) == []


@pytest.mark.parametrize("limit", [2 * RECENT + 1, 2 * RECENT + 777, 3 * RECENT, 5000])
def test_a_long_bounded_history_keeps_exactly_its_last_events(limit):
    runner, seen = long_run(limit)
    kept = list(runner.history)
    assert len(runner.history) == len(kept) == limit
    assert [(type(e), e.revision) for e in kept] == [(type(e), e.revision) for e in seen[-limit:]]
    assert runner.history[0].revision == seen[-limit].revision
    for index in (0, 1, RECENT - 1, RECENT, limit // 2, -1):
        assert (type(runner.history[index]), runner.history[index].revision) == (
            type(kept[index]), kept[index].revision)


def test_firings_that_overlap_read_back_sharing_their_records():
    # starts and finishes interleave, so a firing's two events often fall in different batches
    net = dipen.Net("overlap").place("todo", tokens=[{"n": n} for n in range(1500)]).place("done")

    @net.transition(take="todo", give="done", concurrency=7)
    async def work(token):
        await dipen.sleep(1 + token["n"] % 5)
        return token

    runner = dipen.Runner(net, clock="simulated")
    seen = []
    runner.subscribe(seen.append)
    assert runner.run_sync().firings == 1500
    kept = list(runner.history)
    assert [(type(e), e.revision, e.time) for e in kept] == [(type(e), e.revision, e.time) for e in seen]
    assert all(same_firing(a.firing, b.firing) for a, b in zip(kept, seen))
    firings = {}
    for event in kept:
        firings.setdefault(event.firing.id, []).append(event.firing)
    assert len(firings) == 1500 and all(len(both) == 2 and both[0] is both[1] for both in firings.values())
    # some pairs were split between batches, or between a batch and the recent events
    cells = [cell for batch in runner.history._batches for cell in batch]
    assert any(type(cell) is events.FiringStarted for cell in cells)


def test_running_and_failed_firings_keep_their_events_as_they_are():
    history = History(None)
    running = events.Firing("f0", "slow", "default", {}, 0.0)
    history.append(events.FiringStarted(0.0, 1, running))  # has not finished
    failed = events.Firing("f1", "slow", "default", {}, 0.0)
    failed.state = "failed"
    failure = events.FiringFailed(0.0, 2, failed, ValueError("no"), "blocked")
    history.append(failure)
    for _ in range(2 * RECENT):
        history.append(events.TransitionUnblocked(0.0, "slow"))
    assert len(history._batches) == (2 * RECENT + 2 - RECENT) // BATCH  # the oldest moved on ...
    older = history._batches[0]
    assert older[0].firing is running and older[1] is failure  # ... as they are
    assert history[0].firing is running and history[1] is failure
    assert history.of(events.FiringFailed) == [failure]


def test_a_long_history_costs_the_collector_nothing():
    runner, _ = long_run(None)
    batches = runner.history._batches
    assert BATCH * len(batches) > 6000 - RECENT - BATCH
    # every event kept flat is strings and numbers: nothing the collector tracks, and once it
    # has looked, it no longer tracks their batches either
    assert [cell for cells in batches for cell in cells if gc.is_tracked(cell)] == []
    gc.collect()
    assert [cells for cells in batches if gc.is_tracked(cells)] == []
