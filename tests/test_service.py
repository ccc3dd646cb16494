"""``dipen run`` as real processes against a real etcd: a service that stops cleanly, and a
standby that takes over when the leader is killed mid-firing (nothing lost or duplicated)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import dipen
from dipen.notebook import run_blocking

pytestmark = pytest.mark.etcd

NET = textwrap.dedent('''
    import asyncio
    import dipen

    net = dipen.Net("service").place("inbox", tokens=[{"job": i} for i in range(JOBS)])
    net.place("done")

    @net.transition(take="inbox", give="done")
    async def work(token):
        await asyncio.sleep(DELAY)
        return token.update(by=dipen.current_firing().id)
''')


def write_net(tmp_path, jobs: int, delay: float) -> str:
    path = tmp_path / f"net_{jobs}_{int(delay * 1000)}.py"
    path.write_text(NET.replace("JOBS", str(jobs)).replace("DELAY", str(delay)))
    return f"{path}:net"


def start(target: str, endpoints: list[str], prefix: str, node: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dipen", "run", target, "--etcd", endpoints[0], "--prefix", prefix,
         "--node", node, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def state(endpoints: list[str], prefix: str):
    async def read():
        store = dipen.EtcdStore(endpoints, prefix=prefix)
        try:
            return await store.snapshot()
        finally:
            await store.close()

    return run_blocking(read())


def wait_for(condition, timeout: float = 30.0) -> None:
    """Until ``condition()`` holds; a store error (no net published yet) counts as not yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except dipen.StoreError:
            pass
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def finish(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.kill()
    if process is not None:
        process.communicate(timeout=10)  # also closes its pipe


def test_a_service_runs_the_net_and_stops_cleanly(tmp_path, etcd_endpoints):
    prefix = f"service-{os.getpid()}-a/"
    process = start(write_net(tmp_path, 3, 0.01), etcd_endpoints, prefix, "solo")
    try:
        wait_for(lambda: len(state(etcd_endpoints, prefix).places["done"]) == 3)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        finish(process)
    assert process.returncode == 0, output
    assert "node solo runs net 'service'" in output and "stopped (stopped)" in output


def test_a_standby_takes_over_when_the_leader_is_killed(tmp_path, etcd_endpoints):
    prefix = f"service-{os.getpid()}-b/"
    target = write_net(tmp_path, 4, 0.6)
    leader = start(target, etcd_endpoints, prefix, "first", "--lease-ttl", "1")
    standby = None
    try:
        wait_for(lambda: state(etcd_endpoints, prefix).firings)  # the leader is mid-firing
        standby = start(target, etcd_endpoints, prefix, "second", "--lease-ttl", "1")
        time.sleep(0.5)  # the standby is connected and waits
        leader.kill()  # no cleanup at all: its firing record stays behind
        leader.communicate(timeout=10)
        wait_for(lambda: len(state(etcd_endpoints, prefix).places["done"]) == 4, timeout=40)
        final = state(etcd_endpoints, prefix)
        tokens = list(final.places["done"].free.values())
        assert sorted(t.data["job"] for t in tokens) == [0, 1, 2, 3]  # none lost, none twice
        assert len({t.id for t in tokens}) == 4 and not final.firings
        assert not final.places["inbox"].free and not final.places["inbox"].taken
        standby.send_signal(signal.SIGTERM)
        output, _ = standby.communicate(timeout=20)
        assert standby.returncode == 0, output
        assert "returning the tokens of unfinished firing" in output
    finally:
        finish(leader)
        finish(standby)


def test_a_bad_target_is_a_clear_error(tmp_path):
    out = subprocess.run([sys.executable, "-m", "dipen", "run", str(tmp_path / "nope.py") + ":net"],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "no file" in out.stderr and "nope.py" in out.stderr


def test_status_shows_marking_firings_leaders_and_standbys(tmp_path, etcd_endpoints):
    prefix = f"service-{os.getpid()}-c/"
    target = write_net(tmp_path, 2, 30.0)
    process = start(target, etcd_endpoints, prefix, "worker")
    spare = None
    watcher = dipen.EtcdStore(etcd_endpoints, prefix=prefix)
    try:
        wait_for(lambda: state(etcd_endpoints, prefix).firings)
        spare = start(target, etcd_endpoints, prefix, "spare")
        wait_for(lambda: len(run_blocking(watcher.candidates()).get("default", [])) == 2)
        out = subprocess.run(
            [sys.executable, "-m", "dipen", "status", "service", "--prefix", prefix,
             "--etcd", etcd_endpoints[0]], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        text = out.stdout
        assert "places:" in text and "inbox  2 (1 taken)" in text and "done   0" in text
        assert "work " in text and "on node worker" in text
        assert re.search(r"default  worker \(fence \d+\); standbys: spare$", text, re.MULTILINE)
        as_json = subprocess.run(
            [sys.executable, "-m", "dipen", "status", "service", "--prefix", prefix, "--json",
             "--etcd", etcd_endpoints[0]], capture_output=True, text=True, timeout=30)
        status = json.loads(as_json.stdout)
        assert status["marking"] == {"inbox": [1, 1], "done": [0, 0]}
        assert status["leaders"]["default"][0] == "worker"
        (leader, fence), (standby, later) = status["candidates"]["default"]
        assert (leader, standby) == ("worker", "spare") and fence < later
        assert status["leaders"]["default"] == [leader, fence]
    finally:
        run_blocking(watcher.close())
        for running in (process, spare):
            if running is not None:
                running.send_signal(signal.SIGTERM)
                finish(running)
    missing = subprocess.run(
        [sys.executable, "-m", "dipen", "status", "nothing-here", "--etcd", etcd_endpoints[0]],
        capture_output=True, text=True, timeout=30)
    assert missing.returncode == 1 and "no net under prefix 'dipen/nothing-here/'" in missing.stderr


def test_dipen_etcd_serves_until_stopped(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "dipen", "etcd", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = server.stdout.readline()
        assert f"serving on 127.0.0.1:{port}" in line
        store = dipen.EtcdStore([f"127.0.0.1:{port}"])
        net = dipen.Net("tiny").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        runner = dipen.Runner(net, store=store)
        assert runner.run_sync().firings == 1
        run_blocking(store.close())
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=20)
        assert server.returncode == 0
    finally:
        finish(server)


def test_an_unreachable_etcd_is_a_clear_error_after_a_bounded_wait():
    net = dipen.Net("unreachable").place("a", tokens=1)
    started = time.monotonic()
    with pytest.raises(dipen.StoreError) as error:
        dipen.Runner(net, store=dipen.EtcdStore(["127.0.0.1:1"], timeout=1.0)).run_sync()
    assert time.monotonic() - started < 10
    message = str(error.value)
    assert "127.0.0.1:1" in message and "did not answer within 1 s" in message


def test_a_different_net_under_the_same_prefix_is_refused(etcd_endpoints):
    prefix = f"service-{os.getpid()}-mismatch/"
    first = dipen.Net("shared").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    other = dipen.Net("shared").place("a", tokens=1).place("c").transition("t", take="a", give="c")
    store = dipen.EtcdStore(etcd_endpoints, prefix=prefix)
    assert dipen.Runner(first, store=store).run_sync().firings == 1
    second = dipen.EtcdStore(etcd_endpoints, prefix=prefix)
    try:
        with pytest.raises(dipen.NetMismatchError) as error:
            dipen.Runner(other, store=second).run_sync()
        assert "place 'c' is new" in str(error.value) and "place 'b' is stored" in str(error.value)
        assert state(etcd_endpoints, prefix).places["b"].free  # nothing was changed
    finally:
        run_blocking(store.close())
        run_blocking(second.close())


def test_bench_etcd_prints_every_figure_beside_the_raw_rates():
    out = subprocess.run(
        [sys.executable, "-m", "dipen", "bench", "etcd", "--scale", "0.05"],
        capture_output=True, text=True, timeout=240,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert lines[0].startswith("etcd   raw:") and "64 in flight" in lines[0]
    for mark, unit in (("(a)", "firings/s"), ("(b)", "firings/s"), ("(c)", "firings/s"),
                       ("(d)", " s (target <= 2.5 s)")):
        assert any(mark in line and unit in line for line in lines), (mark, out.stdout)
