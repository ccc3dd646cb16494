"""The in-process store: revisions, history and compaction, atomic checked commits, the net
definition it holds, reset and markings."""

from __future__ import annotations

import asyncio

import pytest

import dipen
from dipen.state import Commit


def small_net(name="store"):
    return (
        dipen.Net(name)
        .place("a", tokens=[{"n": 1}, {"n": 2}, {"n": 3}])
        .place("b")
        .transition("t", take="a", give="b")
    )


@pytest.fixture
def store():
    store = dipen.MemoryStore()
    store.connect_now(small_net())
    return store


def put(token_id, place="a", data=None):
    return Commit("put", None, None, None, add=((place, dipen.Token(token_id, data)),))


def ids(marking, place):
    return [t.id for t in marking[place]]


def snapshot_of(store):
    """Everything observable about the store's state, to compare before and after."""
    marking = store.marking_now()
    return (
        store.revision,
        marking,
        [(p, t.id, t.data, t.firing) for p, t in marking.tokens()],
        dict(store.live().firings),
        {name: s.rev for name, s in store.live().places.items()},
        len(asyncio.run(store.changes())),
    )


# -- revisions and changes --------------------------------------------------------------------------


def test_revision_before_and_after_connect():
    store = dipen.MemoryStore()
    assert store.revision == 0
    with pytest.raises(dipen.RunnerError):
        store.marking_now()
    store.connect_now(small_net())
    assert store.revision == 1
    marking = store.marking_now()
    assert marking.revision == 1
    assert marking.data() == {"a": [{"n": 1}, {"n": 2}, {"n": 3}], "b": []}
    [init] = asyncio.run(store.changes())
    assert init.kind == "init" and init.revision == 1
    assert sorted(t.data["n"] for _, t in init.add) == [1, 2, 3]


def test_revisions_increase_by_one_per_change():
    net = dipen.Net("rev").place("a", tokens=3).place("b")

    @net.transition(take="a", give="b")
    async def slow(token):
        await asyncio.sleep(0)  # start and finish are two changes
        return token

    net.transition("fast", take="b", give="a")  # a P/T ring back
    store = dipen.MemoryStore()
    runner = dipen.Runner(net, store=store)
    seen = []
    runner.run_sync(max_firings=6)
    changes = asyncio.run(store.changes())
    revisions = [c.revision for c in changes]
    assert revisions == list(range(1, len(changes) + 1))
    assert store.revision == revisions[-1]
    assert runner.marking.revision == store.revision
    kinds = [c.kind for c in changes]
    # slow: start + finish, fast: one "fire" change
    assert kinds.count("start") == kinds.count("finish") == runner.stats.firings["slow"]
    assert kinds.count("fire") == runner.stats.firings.get("fast", 0)
    # every manual change is one more revision
    before = store.revision
    for n in range(3):
        change = asyncio.run(store.commit(put(f"manual{n}")))
        seen.append(change.revision)
    assert seen == [before + 1, before + 2, before + 3]
    assert store.revision == before + 3


def test_changes_since_until(store):
    for n in range(4):
        store.commit_now(put(f"x{n}"))
    assert store.revision == 5

    async def main():
        assert [c.revision for c in await store.changes()] == [1, 2, 3, 4, 5]
        assert [c.revision for c in await store.changes(2)] == [3, 4, 5]
        assert [c.revision for c in await store.changes(1, 3)] == [2, 3]
        assert [c.revision for c in await store.changes(since=3, until=3)] == []
        assert await store.changes(5) == []
        assert [c.revision for c in await store.changes(4, 99)] == [5]
        [change] = await store.changes(2, 3)
        assert change.kind == "put"
        assert [t.id for _, t in change.add] == ["x1"]
        assert change.places == {"a"}

    asyncio.run(main())


def test_subscribe_replays_then_follows(store):
    store.commit_now(put("x1"))
    store.commit_now(put("x2"))  # revision 3
    seen = []
    unsubscribe = store.subscribe(seen.append, 1)
    assert [c.revision for c in seen] == [2, 3]
    store.commit_now(put("x3"))
    assert [c.revision for c in seen] == [2, 3, 4]
    assert [t.id for _, t in seen[-1].add] == ["x3"]
    unsubscribe()
    store.commit_now(put("x4"))
    assert [c.revision for c in seen] == [2, 3, 4]
    unsubscribe()  # twice is harmless

    everything = []
    store.subscribe(everything.append, 0)
    assert [c.revision for c in everything] == [1, 2, 3, 4, 5]
    latest = []
    store.subscribe(latest.append, store.revision)
    assert latest == []
    store.commit_now(put("x5"))
    assert [c.revision for c in latest] == [6]
    assert everything[-1] is latest[-1]


def test_history_is_compacted():
    store = dipen.MemoryStore(history=3)
    store.connect_now(small_net())
    for n in range(5):
        store.commit_now(put(f"x{n}"))
    assert store.revision == 6

    async def main():
        assert [c.revision for c in await store.changes(3)] == [4, 5, 6]
        assert [c.revision for c in await store.changes(4, 5)] == [5]
        with pytest.raises(dipen.CompactedError):
            await store.changes(2)
        with pytest.raises(dipen.CompactedError):
            await store.changes()

    asyncio.run(main())
    with pytest.raises(dipen.CompactedError):
        store.subscribe(lambda change: None, 0)
    seen = []
    store.subscribe(seen.append, 3)
    assert [c.revision for c in seen] == [4, 5, 6]
    # the state itself is complete
    assert len(store.marking_now()["a"]) == 8


def test_history_must_be_positive():
    with pytest.raises(ValueError):
        dipen.MemoryStore(history=0)


def test_runner_works_on_a_compacting_store():
    store = dipen.MemoryStore(history=1)
    net = dipen.Net("compact").place("a", tokens=20).place("b").transition("t", take="a", give="b")
    runner = dipen.Runner(net, store=store)
    assert runner.run_sync().firings == 20
    assert store.marking_now().counts() == {"a": 0, "b": 20}


# -- checked, atomic commits ---------------------------------------------------------------------------


def test_start_finish_return(store):
    t1, t2, _ = ids(store.marking_now(), "a")
    change = store.commit_now(Commit("start", "f1", "t", "default", take=(("a", t1),)))
    assert change.revision == 2 and change.kind == "start"
    marking = store.marking_now()
    assert {t.id: t.firing for t in marking["a"]}[t1] == "f1"
    assert marking.counts(free_only=True) == {"a": 2, "b": 0}
    assert list(store.live().firings) == ["f1"]
    record = store.live().firings["f1"]
    assert record.transition == "t" and record.taken == (("a", t1),)

    store.commit_now(Commit("finish", "f1", "t", "default", remove=(("a", t1),),
                            add=(("b", dipen.Token(t1, {"n": 10})),)))
    marking = store.marking_now()
    assert ids(marking, "b") == [t1] and marking["b"][0].data == {"n": 10}
    assert t1 not in ids(marking, "a")
    assert store.live().firings == {}

    store.commit_now(Commit("start", "f2", "t", "default", take=(("a", t2),)))
    store.commit_now(Commit("return", "f2", "t", "default", release=(("a", t2),)))
    marking = store.marking_now()
    assert all(t.firing is None for t in marking["a"])
    assert store.live().firings == {}
    assert store.revision == 5


def test_returned_token_keeps_its_position(store):
    before = [(t.id, t.data) for t in store.marking_now()["a"]]
    first = before[0][0]
    store.commit_now(Commit("start", "f1", "t", "default", take=(("a", first),)))
    store.commit_now(Commit("return", "f1", "t", "default", release=(("a", first),)))
    # places hand out their oldest tokens first: a token that went out and came back
    # must not lose its turn
    assert [(t.id, t.data) for t in store.marking_now()["a"]] == before


@pytest.mark.parametrize("case", [
    "take-taken", "take-missing", "take-unknown-place", "start-reused-id", "finish-unknown",
    "finish-partial", "finish-foreign-token", "return-unknown", "expect-mismatch",
    "expect-unknown-place", "put-remove-taken", "put-add-unknown-place", "put-duplicate-id",
    "finish-add-twice",
])
def test_refused_commit_changes_nothing(store, case):
    t1, t2, t3 = ids(store.marking_now(), "a")
    store.commit_now(Commit("start", "f1", "t", "default", take=(("a", t1),)))
    commits = {
        # taking a token that another firing holds: a conflict
        "take-taken": (dipen.ConflictError,
                       Commit("start", "f2", "t", "default", take=(("a", t2), ("a", t1)))),
        "take-missing": (dipen.ConflictError,
                         Commit("start", "f2", "t", "default", take=(("a", t2), ("a", "nope")))),
        "take-unknown-place": (dipen.StoreError,
                               Commit("start", "f2", "t", "default", take=(("a", t2), ("zz", t3)))),
        "start-reused-id": (dipen.StoreError,
                            Commit("start", "f1", "t", "default", take=(("a", t2),))),
        "finish-unknown": (dipen.StoreError,
                           Commit("finish", "f9", "t", "default", remove=(("a", t1),))),
        "finish-partial": (dipen.StoreError,
                           Commit("finish", "f1", "t", "default",
                                  add=(("b", dipen.Token("new")),))),
        "finish-foreign-token": (dipen.StoreError,
                                 Commit("finish", "f1", "t", "default",
                                        remove=(("a", t1), ("a", t2)))),
        "return-unknown": (dipen.StoreError,
                           Commit("return", "f9", "t", "default", release=(("a", t1),))),
        "expect-mismatch": (dipen.ConflictError,
                            Commit("start", "f2", "t", "default", take=(("a", t2),),
                                   expect=(("a", 1),))),
        "expect-unknown-place": (dipen.ConflictError,
                                 Commit("start", "f2", "t", "default", take=(("a", t2),),
                                        expect=(("zz", 0),))),
        "put-remove-taken": (dipen.ConflictError,
                             Commit("put", None, None, None, remove=(("a", t2), ("a", t1)))),
        "put-add-unknown-place": (dipen.StoreError,
                                  Commit("put", None, None, None, remove=(("a", t2),),
                                         add=(("b", dipen.Token("x")), ("zz", dipen.Token("y"))))),
        "put-duplicate-id": (dipen.StoreError,
                             Commit("put", None, None, None, remove=(("a", t3),),
                                    add=(("b", dipen.Token(t2)),))),
        "finish-add-twice": (dipen.StoreError,
                             Commit("finish", "f1", "t", "default", remove=(("a", t1),),
                                    add=(("b", dipen.Token("x")), ("b", dipen.Token("x"))))),
    }
    error, commit = commits[case]
    before = snapshot_of(store)
    seen = []
    store.subscribe(seen.append, store.revision)
    with pytest.raises(error):
        store.commit_now(commit)
    with pytest.raises(error):
        asyncio.run(store.commit(commit))
    assert snapshot_of(store) == before
    assert seen == []
    # and the store still works
    store.commit_now(Commit("finish", "f1", "t", "default", remove=(("a", t1),),
                            add=(("b", dipen.Token(t1)),)))
    assert store.revision == before[0] + 1


def test_expect_matching_revision_is_accepted(store):
    t1 = ids(store.marking_now(), "a")[0]
    rev = store.live().places["a"].rev
    change = store.commit_now(Commit("start", "f1", "t", "default", take=(("a", t1),),
                                     expect=(("a", rev), ("b", store.live().places["b"].rev))))
    assert change.revision == store.revision
    assert store.live().places["a"].rev == change.revision
    # the old revision is stale now
    with pytest.raises(dipen.ConflictError):
        store.commit_now(put("x", "b")._replace(expect=(("a", rev),)))


# -- the net it holds ----------------------------------------------------------------------------------


def test_connecting_a_different_net_is_refused(store):
    other = (
        dipen.Net("store")
        .place("a", tokens=3)
        .place("b", capacity=4)
        .place("extra")
        .transition("t", take="a", give="b", region="elsewhere")
    )
    revision = store.revision
    with pytest.raises(dipen.NetMismatchError) as info:
        store.connect_now(other)
    message = str(info.value)
    assert "extra" in message
    assert "capacity" in message
    assert "region" in message and "elsewhere" in message
    assert store.revision == revision

    renamed = dipen.Net("other").place("a").place("b").transition("t", take="a", give="b")
    with pytest.raises(dipen.NetMismatchError, match="other"):
        asyncio.run(store.connect(renamed))

    missing = dipen.Net("store").place("a").place("b")
    with pytest.raises(dipen.NetMismatchError, match="'t'"):
        store.connect_now(missing)
    with pytest.raises(dipen.NetMismatchError):
        dipen.Runner(other, store=store).run_sync()
    assert store.revision == revision


def test_connecting_an_identical_net_is_fine(store):
    revision = store.revision
    marking = store.marking_now()
    twin = small_net()
    store.connect_now(twin)
    asyncio.run(store.connect(twin))
    assert store.revision == revision  # no second initial marking
    assert store.marking_now() == marking
    runner = dipen.Runner(twin, store=store)
    assert runner.run_sync().firings == 3
    assert store.marking_now().counts() == {"a": 0, "b": 3}


# -- reset and markings ---------------------------------------------------------------------------------


def test_reset_restores_the_initial_marking():
    store = dipen.MemoryStore()
    runner = dipen.Runner(small_net(), store=store)
    initial = runner.marking
    runner.run_sync()
    store.commit_now(put("extra", "b"))
    assert store.marking_now().counts() == {"a": 0, "b": 4}
    revision = store.revision
    store.reset()
    assert store.revision == revision + 1
    marking = store.marking_now()
    assert marking.data() == initial.data()
    assert set(ids(marking, "a")).isdisjoint(ids(initial, "a"))  # new tokens
    assert [c.note for c in asyncio.run(store.changes(revision))] == ["reset"]
    assert runner.marking.data() == initial.data()
    assert runner.run_sync().firings == 3  # the runner follows


def test_reset_refused_while_firing(store):
    t1 = ids(store.marking_now(), "a")[0]
    store.commit_now(Commit("start", "f1", "t", "default", take=(("a", t1),)))
    before = snapshot_of(store)
    with pytest.raises(dipen.RunnerError, match=r"firing.*\(t\)"):
        store.reset()
    assert snapshot_of(store) == before


def test_marking_and_marking_now(store):
    t1 = ids(store.marking_now(), "a")[0]
    store.commit_now(Commit("start", "f1", "t", "default", take=(("a", t1),)))
    now = store.marking_now()
    later = asyncio.run(store.marking())
    assert later == now
    assert later.revision == now.revision == store.revision
    assert now.counts() == {"a": 3, "b": 0}
    assert now.counts(free_only=True) == {"a": 2, "b": 0}
    # a snapshot does not change afterwards
    store.commit_now(put("x", "b"))
    assert now.counts() == {"a": 3, "b": 0}
    assert store.marking_now().counts() == {"a": 3, "b": 1}


def test_snapshot_is_a_private_copy(store):
    snapshot = asyncio.run(store.snapshot())
    store.commit_now(put("x", "b"))
    assert snapshot.revision == 1
    assert snapshot.marking().counts() == {"a": 3, "b": 0}
    assert store.live().revision == 2


def test_ids_are_fresh(store):
    tokens = {store.new_token_id() for _ in range(100)}
    firings = {store.new_firing_id() for _ in range(100)}
    assert len(tokens) == len(firings) == 100
    assert tokens.isdisjoint(ids(store.marking_now(), "a"))


def test_unfenced_writes_and_leadership():
    async def main():
        store = dipen.MemoryStore()
        store.connect_now(small_net())
        lead = await store.campaign("r", "n1")
        assert store.leader("r") is lead and not lead.lost
        waiting = asyncio.create_task(store.campaign("r", "n2"))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        await store.resign(lead)
        successor = await asyncio.wait_for(waiting, 1)
        assert lead.lost and store.leader("r") is successor and successor.node == "n2"
        assert successor.fence != lead.fence
        # a waiting campaign that is cancelled does not win later
        third = asyncio.create_task(store.campaign("r", "n3"))
        await asyncio.sleep(0)
        third.cancel()
        with pytest.raises(asyncio.CancelledError):
            await third
        store.depose("r")
        assert store.leader("r") is None
        assert store.depose("r") is None

    asyncio.run(main())
