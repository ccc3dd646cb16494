"""Faults against real ``dipen run`` processes and a real etcd: a leader killed or frozen, etcd
restarted, history compacted behind a disconnected standby, a lost reply. Each test ends with
the ledger check: what etcd holds equals what its history says, and every firing ended once.
"""

from __future__ import annotations

import asyncio
import signal
import textwrap
import time
import uuid

import pytest

import dipen
from dipen.stores.etcd.records import range_end
from support import (
    Proxy, check_ledger, finish, read, start, state, stop, wait_for, write_net,
)

pytestmark = pytest.mark.etcd


@pytest.fixture
def own_etcd():
    """An etcd a test may kill, restart and compact."""
    with dipen.local_etcd() as server:
        yield server


def prefix() -> str:
    return f"faults/{uuid.uuid4().hex[:8]}/"


def done_jobs(endpoints, where) -> list[int]:
    return sorted(t.data["job"] for t in state(endpoints, where).places["done"].free.values())


def candidates(endpoints, where, region="default") -> list[str]:
    return [node for node, _ in read(endpoints, where, lambda s: s.candidates()).get(region, [])]


def leader_key_events(endpoints, where) -> list[tuple[int, str, str]]:
    """``(revision, "PUT"|"DELETE", lease key)`` of every leader key ever written."""
    async def events(store):
        await store.snapshot()
        connection = store._connection
        start_key = f"{where}regions/".encode()
        found = []
        responses = connection.watch(start_key, range_end(start_key), 1)
        try:
            while True:  # everything etcd has comes at once; then the watch falls silent
                try:
                    response = await asyncio.wait_for(anext(responses), 1.0)
                except TimeoutError:
                    break
                for event in response.events:
                    found.append((event.kv.mod_revision, "DELETE" if event.type else "PUT",
                                  event.kv.key.decode().rsplit("/", 1)[-1],
                                  event.kv.value.decode()))
        finally:
            await responses.aclose()
        return found

    return read(endpoints, where, events)


def test_kill_9_mid_firing_the_standby_leads_within_ttl_plus_one_second(tmp_path, etcd_endpoints):
    where, ttl = prefix(), 2.0
    target = write_net(tmp_path, 6, 0.4)
    leader = start(target, etcd_endpoints, where, "first", "--lease-ttl", str(ttl))
    standby = None
    try:
        wait_for(lambda: state(etcd_endpoints, where).firings)  # the leader is mid-firing
        standby = start(target, etcd_endpoints, where, "second", "--lease-ttl", str(ttl))
        wait_for(lambda: candidates(etcd_endpoints, where) == ["first", "second"])
        leader.kill()
        killed = time.monotonic()
        wait_for(lambda: candidates(etcd_endpoints, where) == ["second"], timeout=ttl + 5)
        assert time.monotonic() - killed <= ttl + 1.0
        wait_for(lambda: done_jobs(etcd_endpoints, where) == list(range(6)), timeout=40)
        history = check_ledger(etcd_endpoints, where)
        returned = [c for c in history if c.kind == "return" and c.node == "second"]
        assert returned, "the standby returned the tokens of the firing the leader left"
        output = stop(standby)
        assert standby.returncode == 0, output
    finally:
        finish(leader)
        finish(standby)


def test_a_frozen_leader_writes_nothing_after_its_successor_is_elected(tmp_path, etcd_endpoints):
    where, ttl = prefix(), 1.0
    target = write_net(tmp_path, 8, 0.3)
    leader = start(target, etcd_endpoints, where, "first", "--lease-ttl", str(ttl))
    standby = None
    try:
        wait_for(lambda: state(etcd_endpoints, where).firings)
        standby = start(target, etcd_endpoints, where, "second", "--lease-ttl", str(ttl))
        wait_for(lambda: candidates(etcd_endpoints, where) == ["first", "second"])
        leader.send_signal(signal.SIGSTOP)  # mid-firing, and it cannot renew its lease
        time.sleep(3 * ttl)
        leader.send_signal(signal.SIGCONT)  # it wakes with a firing to finish
        wait_for(lambda: done_jobs(etcd_endpoints, where) == list(range(8)), timeout=40)
        time.sleep(0.5)  # time for the old leader to try to write what it was doing
        history = check_ledger(etcd_endpoints, where)
        events = leader_key_events(etcd_endpoints, where)
        first_key = next(key for _, kind, key, node in events if kind == "PUT" and node == "first")
        deposed = next(rev for rev, kind, key, _ in events if kind == "DELETE" and key == first_key)
        late = [c for c in history if c.node == "first" and c.revision > deposed]
        assert not late, f"the deposed leader wrote after revision {deposed}: {late}"
        assert any(c.node == "second" for c in history if c.revision > deposed)
        assert leader.poll() is None, "the old leader lives on (as a standby)"
        outputs = [stop(process) for process in (leader, standby)]
        assert leader.returncode == 0 and standby.returncode == 0, outputs
        assert "no longer leads" in outputs[0] or "lost the leadership" in outputs[0], outputs[0]
    finally:
        finish(leader)
        finish(standby)


def test_runners_carry_on_after_etcd_restarts(tmp_path, own_etcd):
    where = prefix()
    endpoints = own_etcd.endpoints
    target = write_net(tmp_path, 10, 0.2)
    runner = start(target, endpoints, where, "solo", "--lease-ttl", "3")
    try:
        wait_for(lambda: len(done_jobs(endpoints, where)) >= 2)
        own_etcd.kill()
        time.sleep(1.0)
        own_etcd.start()  # same ports, same data
        wait_for(lambda: done_jobs(endpoints, where) == list(range(10)), timeout=60)
        check_ledger(endpoints, where)
        assert runner.poll() is None
        output = stop(runner)
        assert runner.returncode == 0, output
    finally:
        finish(runner)


def test_a_standby_that_missed_compacted_history_reloads_and_takes_over(tmp_path, own_etcd):
    where = prefix()
    endpoints = own_etcd.endpoints
    proxy = Proxy(endpoints[0])
    target = write_net(tmp_path, 12, 0.15)
    leader = start(target, endpoints, where, "first", "--lease-ttl", "6")
    standby = None
    try:
        wait_for(lambda: state(endpoints, where).firings)
        standby = start(target, [proxy.endpoint], where, "second", "--lease-ttl", "6",
                        "--log-level", "info")
        wait_for(lambda: candidates(endpoints, where) == ["first", "second"])
        proxy.cut()  # the standby is disconnected ...
        before = len(done_jobs(endpoints, where))
        wait_for(lambda: len(done_jobs(endpoints, where)) >= before + 3)

        async def compact(store):  # ... while the history it missed is compacted away
            await store.snapshot()
            connection = store._connection
            revision = (await connection.range(connection.keys.net)).header.revision
            await connection.kv.Compact(connection.rpc.CompactionRequest(revision=revision,
                                                                         physical=True))

        read(endpoints, where, compact)
        proxy.resume()
        time.sleep(1.0)  # it reconnects, finds its revisions compacted, and reloads
        leader.kill()
        wait_for(lambda: done_jobs(endpoints, where) == list(range(12)), timeout=40)
        final = state(endpoints, where)
        assert not final.firings and not final.places["inbox"].free
        assert len(final.places["done"]) == 12  # none twice
        output = stop(standby)
        assert standby.returncode == 0, output
        assert "reloaded" in output, output
    finally:
        finish(leader)
        finish(standby)
        proxy.close()


@pytest.mark.parametrize("lost", ["reply", "request"])
def test_a_commit_whose_reply_is_lost_on_the_wire_is_written_once(etcd_endpoints, lost):
    from dipen.state import Commit

    net = dipen.Net(f"wire-{lost}").place("a", tokens=2).place("b")
    net.transition("t", take="a", give="b")
    proxy = Proxy(etcd_endpoints[0])

    async def main():
        store = dipen.EtcdStore([proxy.endpoint], prefix(), lease_ttl=30, timeout=2)
        try:
            await store.connect(net)
            fence = await store.campaign("default", "n")
            before = await store.snapshot()
            token = next(iter(before.places["a"].free))
            proxy.lose_next(lost)
            change = await store.commit(Commit("start", "f", "t", "default", take=(("a", token),),
                                               fence=fence, node="n"))
            assert proxy.lost == 1
            history = await store.changes(before.revision)
            assert history == [change]
            after = await store.snapshot()
            assert set(after.places["a"].taken) == {token} and set(after.firings) == {"f"}
        finally:
            await store.close()

    try:
        dipen.notebook.run_blocking(main())
    finally:
        proxy.close()


PING_PONG = textwrap.dedent('''
    import asyncio
    import dipen

    # job 0 is done after 2 hops, job 4 after 14: when the first is done, most work is left
    net = dipen.Net("ping-pong").place("here",
                                       tokens=[{"job": i, "hops": 2 + 3 * i} for i in range(5)])
    net.place("there").place("done")

    @net.transition(take="here", give="there", guard=lambda t: t["hops"] > 0, region="a")
    async def serve(token):
        await asyncio.sleep(0.02)
        return token.update(hops=token["hops"] - 1)

    @net.transition(take="there", give="here", region="b")
    async def back(token):
        await asyncio.sleep(0.02)
        return token

    net.transition("end", take="here", give="done", guard=lambda t: t["hops"] == 0, region="a")
''')


def test_two_regions_in_two_processes_and_a_standby_for_both(tmp_path, etcd_endpoints):
    where = prefix()
    path = tmp_path / "ping_pong.py"
    path.write_text(PING_PONG)
    target = f"{path}:net"
    a = start(target, etcd_endpoints, where, "node-a", "--region", "a", "--lease-ttl", "2")
    b = start(target, etcd_endpoints, where, "node-b", "--region", "b", "--lease-ttl", "2")
    spare = None
    try:
        wait_for(lambda: candidates(etcd_endpoints, where, "a") == ["node-a"]
                 and candidates(etcd_endpoints, where, "b") == ["node-b"])
        spare = start(target, etcd_endpoints, where, "spare", "--lease-ttl", "2")
        wait_for(lambda: candidates(etcd_endpoints, where, "a") == ["node-a", "spare"]
                 and candidates(etcd_endpoints, where, "b") == ["node-b", "spare"])
        wait_for(lambda: len(state(etcd_endpoints, where).places["done"]) >= 1)
        a.kill()  # region a moves to the spare; b stays where it is
        wait_for(lambda: len(state(etcd_endpoints, where).places["done"]) == 5, timeout=40)
        history = check_ledger(etcd_endpoints, where)
        final = state(etcd_endpoints, where)
        assert sorted(t["job"] for t in final.places["done"].free.values()) == list(range(5))
        assert all(t["hops"] == 0 for t in final.places["done"].free.values())
        by_node = {(c.node, c.region) for c in history if c.firing is not None}
        assert {("node-a", "a"), ("node-b", "b"), ("spare", "a")} <= by_node
        assert ("spare", "b") not in by_node and ("node-a", "b") not in by_node
        assert ("node-b", "a") not in by_node
        assert candidates(etcd_endpoints, where, "b") == ["node-b", "spare"]
    finally:
        for process in (a, b, spare):
            finish(process)
