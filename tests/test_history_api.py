"""dipen.timeline: a store's history read back from any client, windows by revision and by time,
time travel, and clear errors for compacted history — on the memory store and on etcd."""

from __future__ import annotations

import asyncio

import pytest

import dipen
from dipen.notebook import run_blocking
from dipen.timeline import Timeline, history, history_sync, marking_at, marking_at_sync


def shop_net(customers: int = 4) -> dipen.Net:
    """Customers queue, are served one at a time (1 or 2 model seconds, as their number says)
    and pay; customer 2 cannot pay and goes to ``refused``."""
    net = (dipen.Net("shop").place("queue", tokens=[{"n": i} for i in range(customers)])
           .place("served").place("paid").place("refused"))

    @net.transition(take="queue", give="served")
    async def serve(customer):
        await dipen.sleep(1 + customer["n"] % 2)
        return customer.update(served=True)

    @net.transition(take="served", give="paid", on_error=dipen.ToPlace("refused"))
    async def pay(customer):
        if customer["n"] == 2:
            raise ValueError("card declined")
        return customer.update(paid=customer["n"] * 10)

    return net


def run_shop(store: dipen.Store) -> dipen.Runner:
    runner = dipen.Runner(shop_net(), store=store, clock="simulated")
    runner.run_sync()
    return runner


def test_history_reads_every_change_back_with_token_data_from_another_client(store_factory):
    store = store_factory()
    runner = run_shop(store)
    timeline = history_sync(store_factory.peer(store))  # etcd: only endpoints and prefix known
    assert timeline.definition == runner.net.to_dict()
    assert timeline[0].kind == "init" and timeline[0].node == "store"
    assert [t.data for t in timeline[0].added["queue"]] == [{"n": i} for i in range(4)]
    served = [step for step in timeline if step.transition == "serve" and step.kind == "finish"]
    assert [(step.time, step.added["served"][0].data) for step in served] == [
        (1.0, {"n": 0, "served": True}), (3.0, {"n": 1, "served": True}),
        (4.0, {"n": 2, "served": True}), (6.0, {"n": 3, "served": True})]
    starts = [step for step in timeline if step.kind == "start"]
    assert [step.taken["queue"][0].data for step in starts] == [{"n": i} for i in range(4)]
    assert all(step.firing and step.node == runner.node for step in timeline[1:])
    refused = [step for step in timeline if step.note == "error"]
    assert [(s.transition, s.added["refused"][0].data) for s in refused] == [
        ("pay", {"n": 2, "served": True})]
    assert timeline.marking == runner.marking
    assert timeline.marking.data()["paid"] == [
        {"n": 0, "served": True, "paid": 0}, {"n": 1, "served": True, "paid": 10},
        {"n": 3, "served": True, "paid": 30}]
    assert [step.revision for step in timeline] == sorted(step.revision for step in timeline)
    assert repr(served[0]).startswith(f"Step({served[0].revision}, time=1, finish of 'serve'")
    assert "added {served: [{'n': 0, 'served': True}]}" in repr(served[0])


def test_a_runner_source_adds_its_net_and_failures(store_factory):
    runner = run_shop(store_factory())
    timeline = history_sync(runner)
    assert timeline.net is runner.net
    assert [(f.transition, f.error) for f in timeline.failures] == [
        ("pay", "ValueError: card declined")]
    assert timeline.failures[0].action == "tokens moved to 'refused'"


def test_windows_by_revision_and_by_time(store_factory):
    store = store_factory()
    run_shop(store)
    whole = history_sync(store)
    revisions = [step.revision for step in whole]
    part = history_sync(store, since=revisions[2], until=revisions[5])
    assert [step.revision for step in part] == revisions[3:6]
    assert part.start == whole[2].marking and part.marking == whole[5].marking
    assert part.since == revisions[2] and part.until == revisions[5]
    timed = history_sync(store, since_time=3, until_time=4)
    expected = [s.revision for s in whole if s.kind != "init" and 3 <= s.time <= 4]
    assert [step.revision for step in timed] == expected and expected
    assert history_sync(store, since_time=100).changes == ()
    assert history_sync(store, until_time=-1)[0].kind == "init"  # before every time
    assert whole.window(since=revisions[2], until=revisions[5]).markings() == part.markings()


def test_marking_at_travels_by_revision_and_by_time(store_factory):
    store = store_factory()
    runner = run_shop(store)
    timeline = history_sync(store)
    for step in timeline:
        assert marking_at_sync(store, revision=step.revision) == step.marking
        assert run_blocking(runner.marking_at(step.revision)) == step.marking
    at_three = marking_at_sync(runner, time=3.5)
    last = [step for step in timeline if step.time <= 3.5 or step.kind == "init"][-1]
    assert at_three == last.marking and at_three.time == 3.5
    assert at_three.revision == last.revision
    assert marking_at_sync(store, time=1000) == runner.marking
    assert timeline.marking_at(time=3.5) == at_three


def test_async_forms_run_in_the_stores_event_loop():
    async def main():
        store = dipen.MemoryStore()
        runner = dipen.Runner(shop_net(2), store=store, clock="simulated")
        await runner.run()
        timeline = await history(store, since=1)
        return timeline, await marking_at(store, revision=1), runner.marking

    timeline, first, final = asyncio.run(main())
    assert isinstance(timeline, Timeline) and timeline[0].revision == 2
    assert first.counts() == {"queue": 2, "served": 0, "paid": 0, "refused": 0}
    assert timeline.marking == final


def test_marking_at_takes_one_of_revision_and_time():
    store = dipen.MemoryStore()
    run_shop(store)
    with pytest.raises(TypeError, match="exactly one"):
        marking_at_sync(store)
    with pytest.raises(TypeError, match="exactly one"):
        marking_at_sync(store, revision=1, time=1.0)


def test_a_store_without_a_net_is_a_clear_error(store_factory):
    with pytest.raises(dipen.StoreError, match="no net"):
        history_sync(store_factory())


def test_compacted_memory_history_is_a_clear_error():
    store = dipen.MemoryStore(history=3)
    run_shop(store)
    with pytest.raises(dipen.CompactedError, match="history of net 'shop'.*cannot be rebuilt"):
        history_sync(store)


@pytest.mark.etcd
def test_compacted_etcd_history_is_a_clear_error():
    import aetcd

    async def main(endpoints: list[str]) -> None:
        store = dipen.EtcdStore(endpoints, prefix="compacted/")
        try:
            runner = dipen.Runner(shop_net(2), store=store, clock="simulated")
            await runner.run()
            last = (await history(store)).until
            host, port = endpoints[0].rsplit(":", 1)
            async with aetcd.Client(host, int(port)) as raw:
                await raw.compact(last - 2)
            with pytest.raises(dipen.CompactedError, match="history of net 'shop'.*compacted"):
                await history(store)
            await runner.close()
        finally:
            await store.close()

    with dipen.local_etcd() as etcd:  # its own server: compaction is server-wide
        asyncio.run(main(etcd.endpoints))
