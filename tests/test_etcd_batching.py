"""Group commit in the etcd store, against a real etcd: firing commits that wait while a
transaction is on its way are written together when their places are disjoint, and every
reader (a commit's caller, the watch, the history, a replica) sees the same changes, several
of them sharing a revision as its parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools

import pytest

import dipen
from dipen.errors import ConflictError
from dipen.state import Change, Commit, State
from dipen.stores.etcd import EtcdStore
from dipen.tokens import Token
from support import check_ledger, eventually

pytestmark = pytest.mark.etcd

_NAMES = itertools.count(1)


@pytest.fixture(scope="module")
def etcd():
    with dipen.local_etcd() as server:
        yield server


def lanes(count: int) -> dipen.Net:
    """``count`` independent lanes a{i} -> b{i}, one token in each a{i}."""
    net = dipen.Net(f"lanes{next(_NAMES)}")
    for i in range(count):
        net.place(f"a{i}", tokens=[{"lane": i}]).place(f"b{i}")
        net.transition(f"t{i}", take=f"a{i}", give=f"b{i}")
    return net


def move(state: State, fence, i: int, firing: str, stale: bool = False) -> Commit:
    """A commit firing lane ``i``: its token from a{i} to b{i}, comparing a{i}'s revision."""
    (token,) = state.places[f"a{i}"].tokens()
    rev = state.places[f"a{i}"].rev - (1 if stale else 0)
    return Commit("fire", firing, f"t{i}", "default", remove=((f"a{i}", token.id),),
                  add=((f"b{i}", Token(f"{firing}-out", token.data)),),
                  expect=((f"a{i}", rev),), fence=fence, node="n", time=float(i))


@contextlib.asynccontextmanager
async def lanes_on_etcd(etcd, count: int):
    """A store of ``lanes(count)`` under a fresh prefix and its leadership of the region;
    closed afterwards."""
    store = EtcdStore(etcd.endpoints, prefix=f"batching/{next(_NAMES)}/")
    try:
        await store.connect(lanes(count))
        yield store, await store.campaign("default", "n")
    finally:
        await store.close()


def test_concurrent_commits_on_disjoint_places_share_transactions(etcd):
    async def main():
        async with lanes_on_etcd(etcd, 24) as (store, fence):
            before = await store.snapshot()
            seen: list[Change] = []
            unsubscribe = store.subscribe(seen.append, before.revision)
            changes = await asyncio.gather(*(
                store.commit(move(before, fence, i, f"f{i}")) for i in range(24)))
            # the first went alone; the others waited for it and went in fewer transactions
            revisions = {change.revision for change in changes}
            assert len(revisions) < 24
            transactions, batched = store._transactions.batches.batched
            assert transactions >= 1 and batched >= 2
            for revision in revisions:
                parts = [c for c in changes if c.revision == revision]
                assert [c.part for c in parts] == list(range(len(parts)))
                assert {c.parts for c in parts} == {len(parts)}
            ordered = sorted(changes, key=lambda c: (c.revision, c.part))
            # the history and the watch hold exactly these changes, in this order
            assert await store.changes(before.revision) == ordered
            await eventually(lambda: len(seen) >= 24)
            assert seen == ordered
            # a replica that follows the watch ends where the store is
            replica = before.copy()
            for change in seen:
                assert not replica.has_seen(change)
                assert replica.is_next(change) or change.part == 0  # gaps only between revisions
                replica.apply(change)
                assert replica.has_seen(change)
            after = await store.snapshot()
            assert replica.marking() == after.marking()
            assert after.marking().counts() == {
                **{f"a{i}": 0 for i in range(24)}, **{f"b{i}": 1 for i in range(24)}}
            assert after.marking()["b7"][0].data == {"lane": 7}
            unsubscribe()

    asyncio.run(main())


def test_a_conflicting_commit_fails_alone_and_the_others_are_written(etcd):
    async def main():
        async with lanes_on_etcd(etcd, 10) as (store, fence):
            before = await store.snapshot()
            outcomes = await asyncio.gather(*(
                store.commit(move(before, fence, i, f"f{i}", stale=(i == 6))) for i in range(10)),
                return_exceptions=True)
            assert isinstance(outcomes[6], ConflictError)
            assert "place 'a6' changed" in str(outcomes[6])
            assert all(isinstance(o, Change) for i, o in enumerate(outcomes) if i != 6)
            counts = (await store.snapshot()).marking().counts()
            assert counts["a6"] == 1 and counts["b6"] == 0
            assert all(counts[f"b{i}"] == 1 for i in range(10) if i != 6)
            assert len(await store.changes(before.revision)) == 9
        check_ledger(etcd.endpoints, store.prefix)

    asyncio.run(main())


def test_commits_on_one_place_keep_their_order(etcd):
    async def main():
        async with lanes_on_etcd(etcd, 4) as (store, fence):
            state = await store.snapshot()
            tokens = {i: state.places[f"a{i}"].tokens()[0].id for i in range(4)}

            def fire(firing, remove, add):
                return Commit("fire", firing, "t0", "default", remove=remove, add=add,
                              fence=fence, node="n")

            first = store.commit(fire("f0", (("a0", tokens[0]),), (("b0", Token("x", 0)),)))
            # while f0 is on its way: f1 and f2 both touch b1; f3 is on places of its own
            f1 = store.commit(fire("f1", (("a1", tokens[1]),), (("b1", Token("y", 1)),)))
            f2 = store.commit(fire("f2", (("a2", tokens[2]),), (("b1", Token("z", 2)),)))
            f3 = store.commit(fire("f3", (("a3", tokens[3]),), (("b3", Token("w", 3)),)))
            # f4 touches a2, whose f2 waits: f4 waits behind it, though a2 is free in f1's batch
            f4 = store.commit(fire("f4", (), (("a2", Token("v", 4)),)))
            changes = await asyncio.gather(first, f1, f2, f3, f4)
            assert changes[2].revision > changes[1].revision
            assert changes[3].revision == changes[1].revision  # went together with f1
            assert changes[4].revision > changes[2].revision or (
                changes[4].revision == changes[2].revision and changes[4].part > changes[2].part)
            assert [t.id for t in (await store.snapshot()).places["b1"].tokens()] == ["y", "z"]

    asyncio.run(main())


@pytest.mark.parametrize("applied", [True, False], ids=["lost-after-write", "lost-before-write"])
def test_a_batch_whose_reply_is_lost_is_looked_for_before_it_is_sent_again(etcd, applied):
    import grpc

    async def main():
        async with lanes_on_etcd(etcd, 8) as (store, fence):
            before = await store.snapshot()
            real, batches = store._kv.Txn, []

            async def flaky(request, **options):
                if len(request.success) > 6:  # a batch (one commit has 4 operations)
                    batches.append(request)
                    if len(batches) == 1:
                        if applied:
                            await real(request, **options)
                        raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE,
                                                   grpc.aio.Metadata(), grpc.aio.Metadata(), "lost")
                return await real(request, **options)

            store._kv.Txn = flaky
            changes = await asyncio.gather(*(
                store.commit(move(before, fence, i, f"f{i}")) for i in range(8)))
            store._kv.Txn = real
            assert len(batches) == (1 if applied else 2)
            assert sorted(changes, key=lambda c: (c.revision, c.part)) == await store.changes(
                before.revision)
            assert (await store.snapshot()).marking().counts() == {
                **{f"a{i}": 0 for i in range(8)}, **{f"b{i}": 1 for i in range(8)}}
        check_ledger(etcd.endpoints, store.prefix)

    asyncio.run(main())


def test_a_runner_of_many_rings_batches_and_ends_like_one_on_memory(etcd):
    from dipen.bench.local import ring_net

    async def main():
        store = EtcdStore(etcd.endpoints, prefix=f"batching/{next(_NAMES)}/")
        try:
            on_etcd = dipen.Runner(ring_net(16, 20), store=store)
            on_memory = dipen.Runner(ring_net(16, 20))
            assert (await on_etcd.run()).firings == (await on_memory.run()).firings == 16 * 20
            assert on_etcd.marking.data() == on_memory.marking.data()
            assert (await store.marking()).data() == on_memory.marking.data()
            assert store._transactions.batches.batched[0] > 0
            await on_etcd.close()
        finally:
            await store.close()
        history = check_ledger(etcd.endpoints, store.prefix)
        assert len({c.revision for c in history}) < len(history)

    asyncio.run(main())


def test_a_full_batch_goes_while_another_is_on_its_way_but_not_on_its_places(etcd):
    async def main():
        async with lanes_on_etcd(etcd, 40) as (store, fence):
            before = await store.snapshot()
            real, log = store._kv.Txn, []

            async def logged(request, **options):
                change = request.success[-1].request_put.value.decode()
                entry = {"change": change, "sent": len(log), "flying": 0}
                log.append(entry)
                flying.add(id(entry))
                entry["flying"] = len(flying)
                try:
                    return await real(request, **options)
                finally:
                    flying.discard(id(entry))
                    entry["returned"] = len(log)

            flying: set[int] = set()
            store._kv.Txn = logged
            first = asyncio.ensure_future(store.commit(move(before, fence, 0, "x")))
            await asyncio.sleep(0)  # x is on its way, alone
            add = store.commit(Commit("fire", "z", "t0", "default",
                                      add=(("b0", Token("z-out", None)),), fence=fence, node="n"))
            others = [store.commit(move(before, fence, i, f"f{i}")) for i in range(1, 40)]
            x, z, *rest = await asyncio.gather(first, add, *others)
            store._kv.Txn = real
            assert max(entry["flying"] for entry in log) == 2  # a full batch did not wait
            (sent_z,) = (entry for entry in log if '"firing":"z"' in entry["change"])
            (sent_x,) = (entry for entry in log if '"firing":"x"' in entry["change"])
            assert sent_z["sent"] >= sent_x["returned"]  # z waited for x: both touch b0
            assert (z.revision, z.part) > (x.revision, x.part)
            assert [t.id for t in (await store.snapshot()).places["b0"].tokens()] == [
                "x-out", "z-out"]

    asyncio.run(main())


def test_a_commit_given_up_before_it_was_sent_is_not_written(etcd):
    async def main():
        async with lanes_on_etcd(etcd, 6) as (store, fence):
            before = await store.snapshot()
            first = asyncio.ensure_future(store.commit(move(before, fence, 0, "f0")))
            await asyncio.sleep(0)  # f0 is on its way; the others queue behind it
            queued = [asyncio.ensure_future(store.commit(move(before, fence, i, f"f{i}")))
                      for i in range(1, 6)]
            await asyncio.sleep(0)
            queued[2].cancel()  # f3's writer gives up while f3 waits
            done = await asyncio.gather(first, *queued, return_exceptions=True)
            assert isinstance(done[3], asyncio.CancelledError)
            assert all(isinstance(change, Change) for i, change in enumerate(done) if i != 3)
            counts = (await store.snapshot()).marking().counts()
            assert counts["a3"] == 1 and counts["b3"] == 0
            assert sum(counts[f"b{i}"] for i in range(6)) == 5
            assert [c.firing for c in await store.changes(before.revision)] == [
                "f0", "f1", "f2", "f4", "f5"]

    asyncio.run(main())
