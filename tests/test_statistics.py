"""dipen.statistics over any window, from a runner, a store (another client), a timeline or a
recording, on every store; the text table and the plot."""

from __future__ import annotations

import io
import random

import pytest
from test_history_api import run_shop

import dipen
from dipen.recording import record_sync
from dipen.statistics import Statistics, _percentile, statistics
from dipen.timeline import history_sync

# the shop (tests/test_history_api.py): serve takes 1, 2, 1, 2 model seconds (finishing at
# 1, 3, 4, 6); pay fires at once after each, and fails for customer 2 at time 4


def test_statistics_of_a_run_from_the_runner_and_from_another_client(store_factory):
    store = store_factory()
    runner = run_shop(store)
    stats = statistics(runner)
    assert stats.span == (0.0, 6.0) and stats.firings == 7 and stats.rate == pytest.approx(7 / 6)
    serve, pay = stats.transitions["serve"], stats.transitions["pay"]
    assert serve == {"firings": 4, "rate": pytest.approx(4 / 6), "failures": 0, "mean": 1.5,
                     "p50": 1.5, "p90": 2.0, "p99": 2.0, "max": 2.0}
    assert pay["firings"] == 3 and pay["failures"] == 1 and pay["max"] == 0.0
    assert stats.durations["serve"] == [1.0, 2.0, 1.0, 2.0]
    assert stats.waits == {"queue": [0.0, 1.0, 3.0, 4.0], "served": [0.0, 0.0, 0.0, 0.0],
                           "paid": [], "refused": []}
    assert stats.places["queue"]["mean"] == 2.0 and stats.places["paid"]["mean"] is None
    [failure] = stats.failures
    assert failure["transition"] == "pay" and failure["time"] == 4.0
    assert (failure["error"], failure["action"]) == ("ValueError: card declined",
                                                     "tokens moved to 'refused'")
    remote = statistics(store_factory.peer(store))  # the store alone: no runner events
    assert remote.transitions == stats.transitions and remote.waits == stats.waits
    assert [(f["firing"], f["error"], f["action"]) for f in remote.failures] == [
        (failure["firing"], None, "error")]


def test_windows_by_time_and_by_revision(store_factory):
    store = store_factory()
    runner = run_shop(store)
    late = statistics(runner, since_time=3.5)
    assert late.span == (3.5, 6.0)
    assert late.transitions["serve"]["firings"] == 2
    assert late.durations["serve"] == [1.0, 2.0]  # measured from starts before the window
    assert late.waits["queue"] == [4.0]
    assert late.transitions["pay"]["firings"] == 1 and len(late.failures) == 1
    timeline = history_sync(store)
    since = max(s.revision for s in timeline if s.time < 3.5 and s.kind != "init")
    by_revision = statistics(timeline, since=since)
    assert by_revision.span == (4.0, 6.0)  # from the window's first change
    for name, row in late.transitions.items():
        assert by_revision.transitions[name] == {**row, "rate": row["firings"] / 2}
    assert by_revision.durations == late.durations and by_revision.waits == late.waits
    empty = statistics(runner, since_time=100)
    assert empty.firings == 0 and empty.rate is None and empty.failures == []
    early = statistics(runner, until_time=1)
    assert early.transitions["serve"]["firings"] == 1 and early.waits["queue"] == [0.0, 1.0]


def test_a_recording_gives_the_same_statistics(store_factory, tmp_path):
    runner = run_shop(store_factory())
    path = tmp_path / "shop.jsonl"
    record_sync(runner, path)
    assert statistics(path).as_dict() == statistics(runner).as_dict()
    text = io.StringIO(path.read_text())
    assert statistics(text).as_dict() == statistics(history_sync(runner)).as_dict()


def test_a_timeline_window_without_earlier_history_leaves_unknown_beginnings_out():
    runner = run_shop(dipen.MemoryStore())
    timeline = history_sync(runner)
    since = max(s.revision for s in timeline if s.time < 3.5 and s.kind != "init")
    cut = statistics(timeline.window(since=since))
    assert cut.transitions["serve"]["firings"] == 2
    assert cut.durations["serve"] == [2.0]  # the start at 3 is not in the cut timeline
    assert cut.waits["queue"] == []  # customer 3 was placed before it


def test_table_repr_and_plot():
    runner = run_shop(dipen.MemoryStore())
    stats = statistics(runner)
    table = stats.table()
    assert repr(stats) == table
    lines = table.splitlines()
    assert lines[0] == "net 'shop', t=0 – t=6: 7 firings (1.167/s), 1 failures"
    assert lines[1].split() == ["transition", "firings", "rate", "failures", "mean", "p50", "p90",
                                "p99", "max"]
    assert lines[2].split() == ["serve", "4", "0.6667", "0", "1.5", "1.5", "2", "2", "2"]
    assert lines[3].split() == ["pay", "3", "0.5", "1", "0", "0", "0", "0", "0"]
    assert lines[6].split() == ["queue", "4", "2", "2", "3.7", "3.97", "4"]
    assert lines[8].split() == ["paid", "0", "–", "–", "–", "–", "–"]
    assert isinstance(stats, Statistics) and stats.as_dict()["firings"] == 7
    figure = stats.plot()
    assert [axes.get_title() for axes in figure.axes] == [
        "firings", "firing durations", "waiting times"]
    assert figure._suptitle.get_text() == "net 'shop', t=0 – t=6"
    empty = statistics(runner, since_time=100).plot()
    assert empty.axes[1].texts[0].get_text() == "no samples"


def test_percentiles_interpolate_as_numpy_does():
    numpy = pytest.importorskip("numpy")
    rng = random.Random(5)
    for size in (1, 2, 7, 100):
        values = sorted(rng.uniform(0, 10) for _ in range(size))
        for q in (0, 50, 90, 99, 100):
            assert _percentile(values, q) == pytest.approx(float(numpy.percentile(values, q)))
    assert _percentile([], 50) is None
