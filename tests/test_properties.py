"""Property-based tests on random P/T nets: the state equation holds, tokens are never
duplicated, and the fired sequence is a legal firing sequence of the net."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dipen
from dipen.events import FiringFinished, FiringStarted

MAX_FIRINGS = 50


@st.composite
def pt_nets(draw):
    """``(initial counts, transitions)``; each transition maps place index to
    ``(kind, weight)`` with kind ``"in"``, ``"out"`` or ``"in_out"``."""
    places = draw(st.integers(min_value=1, max_value=5))
    initial = draw(st.lists(st.integers(0, 3), min_size=places, max_size=places))
    transitions = []
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        arcs = {}
        for place in range(places):
            kind = draw(st.sampled_from([None, None, "in", "out", "in_out"]))
            if kind is not None:
                arcs[place] = (kind, draw(st.integers(min_value=1, max_value=2)))
        transitions.append(arcs)
    return initial, transitions


def takes(arcs):
    return {f"p{p}": w for p, (kind, w) in arcs.items() if kind in ("in", "in_out")}


def gives(arcs):
    return {f"p{p}": w for p, (kind, w) in arcs.items() if kind in ("out", "in_out")}


def build(initial, transitions, style):
    net = dipen.Net("random")
    for index, count in enumerate(initial):
        net.place(f"p{index}", tokens=count)
    for index, arcs in enumerate(transitions):
        name = f"t{index}"
        take, give = takes(arcs) or None, gives(arcs) or None
        if style == "pt":
            net.transition(name, take=take, give=give)
        else:
            outputs = gives(arcs)

            async def run(_tokens, outputs=outputs):
                await asyncio.sleep(0)  # start and finish become two commits
                return {place: [None] * weight for place, weight in outputs.items()} or None

            net.transition(name, take=take, give=give, run=run)
    return net


def incidence(transitions, places):
    """C[place][transition] = out weight - in weight."""
    matrix = [[0] * len(transitions) for _ in range(places)]
    for t, arcs in enumerate(transitions):
        for p, (kind, weight) in arcs.items():
            if kind == "in":
                matrix[p][t] -= weight
            elif kind == "out":
                matrix[p][t] += weight
    return matrix


@pytest.mark.parametrize("style", ["pt", "async"])
@settings(max_examples=60, deadline=None)
@given(pt_nets())
def test_random_pt_nets(style, spec):
    initial, transitions = spec
    net = build(initial, transitions, style)
    store = dipen.MemoryStore()
    runner = dipen.Runner(net, store=store)
    events = []
    runner.subscribe(lambda event: events.append(event) if isinstance(
        event, (FiringStarted, FiringFinished)) else None)

    # after every change in the store: no token in two places, no id twice
    duplicates = []

    def check(change):
        seen = [token.id for _, token in store.marking_now().tokens()]
        if len(seen) != len(set(seen)):
            duplicates.append((change.revision, sorted(seen)))

    store.connect_now(net)
    initial_ids = [token.id for _, token in store.marking_now().tokens()]
    assert len(initial_ids) == len(set(initial_ids)) == sum(initial)
    store.subscribe(check, store.revision)

    summary = runner.run_sync(max_firings=MAX_FIRINGS)

    finished = [e.firing for e in events if isinstance(e, FiringFinished)]
    started = [e.firing for e in events if isinstance(e, FiringStarted)]
    assert summary.reason in ("quiescent", "max_firings")
    assert summary.firings == len(finished) <= MAX_FIRINGS
    assert sorted(f.id for f in started) == sorted(f.id for f in finished)
    assert all(f.state == "finished" for f in finished)
    if summary.reason == "quiescent":
        assert runner.enabled() == []
    else:
        assert len(finished) == MAX_FIRINGS

    # (a) the state equation: M = M0 + C x
    fired = Counter(f.transition for f in finished)
    x = [fired[f"t{t}"] for t in range(len(transitions))]
    matrix = incidence(transitions, len(initial))
    expected = {
        f"p{p}": initial[p] + sum(matrix[p][t] * x[t] for t in range(len(transitions)))
        for p in range(len(initial))
    }
    final = store.marking_now()
    assert final.counts() == expected
    assert runner.marking.counts() == expected
    assert final.counts(free_only=True) == expected  # nothing left taken
    assert store.live().firings == {}

    # (b) token ids are unique, at every revision and at the end
    assert duplicates == []
    ids = [token.id for _, token in final.tokens()]
    assert len(ids) == len(set(ids))

    # (c) the sequence is legal: replayed on counts from the initial marking, every firing
    # was enabled when it started, took and placed exactly its arc weights
    counts = {f"p{p}": initial[p] for p in range(len(initial))}
    arcs_of = {f"t{t}": arcs for t, arcs in enumerate(transitions)}
    for event in events:
        firing = event.firing
        arcs = arcs_of[firing.transition]
        if isinstance(event, FiringStarted):
            need = takes(arcs)
            assert {p: len(ts) for p, ts in firing.taken.items() if ts} == need
            for place, weight in need.items():
                assert counts[place] >= weight, (
                    f"{firing.transition} fired without {weight} tokens in {place}")
                counts[place] -= weight
        else:
            assert {p: len(ts) for p, ts in firing.placed.items() if ts} == gives(arcs)
            for place, weight in gives(arcs).items():
                counts[place] += weight
    assert counts == expected


@pytest.mark.parametrize("style", ["pt", "async"])
def test_state_equation_on_a_known_net(style):
    """A fixed net where the answer is known, so the property test's machinery is checked."""
    initial = [2, 0, 0]
    transitions = [{0: ("in", 1), 1: ("out", 2)}, {1: ("in", 2), 2: ("out", 1)}]
    net = build(initial, transitions, style)
    runner = dipen.Runner(net)
    summary = runner.run_sync(max_firings=MAX_FIRINGS)
    assert summary.reason == "quiescent"
    assert runner.stats.firings == {"t0": 2, "t1": 2}
    assert runner.marking.counts() == {"p0": 0, "p1": 0, "p2": 2}
    assert incidence(transitions, 3) == [[-1, 0], [2, -2], [0, 1]]
