"""The memory store's history: every change reads back equal to what was written, and the
commonest change is kept where the garbage collector stops tracking it."""

import asyncio
import fractions
import gc

import pytest

import dipen
from dipen.bench.local import ring_net
from dipen.state import Change
from dipen.stores.changelog import ChangeLog
from dipen.tokens import FrozenDict, FrozenList


def move(revision, data, holder=None, note=None, parts=1):
    token = dipen.Token("t1", data, holder) if not isinstance(data, fractions.Fraction) \
        else tuple.__new__(dipen.Token, ("t1", data, holder))  # as a pickle codec would keep it
    return Change(revision, 0.25, "node", "fire", f"f{revision}", "t", "r", (),
                  (("a", "t1"),), (("b", token),), (), note, 0, parts)


CHANGES = [
    Change(1, 0.0, "store", "init", None, None, None, (), (),
           (("a", dipen.Token("t1", {"n": 1})), ("a", dipen.Token("t2"))), ()),
    move(2, {"n": 1, "name": "x", "ok": True, "none": None, "real": 2.5}),
    move(3, {"nested": {"deep": [1, {"k": "v"}]}, "list": [1, 2]}),
    move(4, None),
    move(5, 7),
    move(6, "text"),
    move(7, [1, [2, 3]]),
    move(8, {}),
    move(9, {"n": 1}, holder="f8"),
    move(10, fractions.Fraction(1, 3)),
    move(11, {"n": 1}, note={"why": "kept as a change"}),
    Change(12, 1.0, "node", "start", "f9", "t", "r", (("a", "t2"),), (), (), ()),
    Change(13, 2.0, "node", "finish", "f9", "t", "r", (), (("a", "t2"),),
           (("b", dipen.Token("t2", {"n": 2})), ("c", dipen.Token("t3"))), ()),
    Change(14, 3.0, "node", "control", None, None, None, (), (), (), (),
           {"action": "block", "target": "transition", "name": "t"}),
    Change(15, 4.0, "node", "fire", "f10", "t", "r", (), (("b", "t2"),),
           (("a", dipen.Token("t2", {"n": 3})),), (), None, 1, 2),
]


def test_every_change_reads_back_equal_and_frozen():
    log = ChangeLog()
    for change in CHANGES:
        log.append(change)
    back = log.since(0)
    assert back == CHANGES
    assert [type(change) for change in back] == [Change] * len(CHANGES)
    for written, read in zip(CHANGES, back):
        for (place, token), (place_back, token_back) in zip(written.add, read.add):
            assert place_back == place
            assert type(token_back) is dipen.Token
            assert (token_back.id, token_back.data, token_back.firing) == (token.id, token.data, token.firing)
            assert type(token_back.data) is type(token.data)
    data = back[2].add[0][1].data
    assert type(data) is FrozenDict and type(data["nested"]) is FrozenDict
    assert type(data["list"]) is FrozenList
    with pytest.raises(TypeError, match="read-only"):
        back[1].add[0][1].data["n"] = 2
    assert list(back[1].add[0][1].data) == ["n", "name", "ok", "none", "real"]  # key order kept


def test_only_single_token_moves_are_kept_in_cells():
    log = ChangeLog()
    for change in CHANGES:
        log.append(change)
    flat = [change.revision for change in CHANGES if type(log.entry(change.revision)) is list]
    assert flat == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert log.entry(11) is CHANGES[10] and log.entry(15) is CHANGES[14]


def test_keeping_a_move_makes_no_object_for_the_collector():
    moves = [move(revision, {"n": revision, "name": "x"}, holder="f1") for revision in range(1, 2001)]
    log = ChangeLog()
    gc.collect()
    before = len(gc.get_objects())
    for change in moves:
        log.append(change)
    gc.collect()
    # what it keeps is sealed, 64 revisions at a time, into tuples the collector stops tracking
    # (2,000 moves: not one object each, nor one a block; give or take what the rest of the
    # process freed or made meanwhile)
    assert abs(len(gc.get_objects()) - before) <= 3
    assert len(log._blocks) == 31 and not any(gc.is_tracked(block) for block in log._blocks)
    assert log.since(1999) == moves[1999:]
    # containers in the data are the token's own (tracked as they were) and read back equal
    nested = move(2001, {"deep": {"k": [1, 2]}})
    log.append(nested)
    assert log.since(2000) == [nested]
    assert log.since(0) == [*moves, nested]


def test_ranges_of_a_full_and_of_a_bounded_log():
    for limit in (None, 5):
        log = ChangeLog(limit)
        for change in CHANGES:
            log.append(change)
        assert len(log) == (len(CHANGES) if limit is None else 5)
        assert log.since(12) == CHANGES[12:]
        assert log.since(10, 12) == CHANGES[10:12]
        assert log.since(13, 13) == []
        assert log.since(15) == []
        assert log.since(11, 99) == CHANGES[11:]
    with pytest.raises(dipen.CompactedError, match="revision 10 was compacted"):
        log.since(9)


def test_a_bounded_log_keeps_its_last_changes_however_many_came():
    for limit in (1, 2, 3, 4):
        log = ChangeLog(limit)
        for count, change in enumerate(CHANGES, 1):
            log.append(change)
            kept = CHANGES[max(0, count - limit):count]
            assert len(log) == len(kept)
            assert log.since(kept[0].revision - 1) == kept
            if count <= limit:
                assert log.since(0) == kept
            if count > limit:
                with pytest.raises(dipen.CompactedError, match=f"starts at revision {kept[0].revision}"):
                    log.since(kept[0].revision - 2)
    moves = [move(revision, {"n": revision}) for revision in range(1, 1001)]
    for limit in (1, 10, 63, 64, 65, 100, 300):
        log = ChangeLog(limit)
        for change in moves:
            log.append(change)
            assert log.since(change.revision - 1) == [change]
        assert log.since(1000 - limit) == moves[-limit:] and len(log) == limit
        # what it forgot is gone: it never keeps more than its limit and two blocks
        kept = sum(len(block) for block in log._blocks) + len(log._cells)
        assert kept <= (limit + 2 * 64) * len(log.entry(1000))


def test_a_run_on_the_memory_store_keeps_its_history_out_of_the_collectors_way():
    store = dipen.MemoryStore()
    seen = []
    runner = dipen.Runner(ring_net(4, 50), store=store)

    async def main():
        await runner.open()
        store.subscribe(seen.append, store.revision)
        return await runner.run()

    assert asyncio.run(main()).firings == 200
    assert asyncio.run(store.changes(1)) == seen  # read back equal to what was delivered
    assert [type(store._history.entry(c.revision)) for c in seen] == [list] * 200
    cells = [cell for block in store._history._blocks for cell in block] + store._history._cells
    assert type(cells[0]) is Change  # the net's initial marking, kept as it is
    assert [cell for cell in cells[1:] if gc.is_tracked(cell)] == []
    # the last token of ring 0 went 50 firings round its ring, counting down
    assert store.marking_now().data()["p1_0"] == [{"counter": 0}]
