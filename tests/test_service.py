"""``dipen run``, ``dipen status``, ``dipen etcd`` and ``dipen bench etcd`` as real processes
against a real etcd (failover and other faults: ``test_faults.py``)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import dipen
from dipen.notebook import run_blocking
from support import finish, start, state, wait_for, write_net

pytestmark = pytest.mark.etcd

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


@contextlib.contextmanager
def worker_and_spare(tmp_path, endpoints: list[str], prefix: str):
    """Two ``dipen run`` processes of one region: ``worker`` leads (two 30 s jobs, one
    firing), ``spare`` stands by; and a store watching them. Both are stopped afterwards."""
    target = write_net(tmp_path, 2, 30.0)
    worker = start(target, endpoints, prefix, "worker")
    spare = None
    watcher = dipen.EtcdStore(endpoints, prefix=prefix)
    try:
        wait_for(lambda: state(endpoints, prefix).firings)
        spare = start(target, endpoints, prefix, "spare")
        wait_for(lambda: len(run_blocking(watcher.candidates()).get("default", [])) == 2)
        yield worker, spare, watcher
    finally:
        run_blocking(watcher.close())
        for running in (worker, spare):
            if running is not None:
                running.send_signal(signal.SIGTERM)
                finish(running)


def test_a_standby_service_stops_cleanly_on_sigterm(tmp_path, etcd_endpoints):
    prefix = f"service-{os.getpid()}-standby/"
    with worker_and_spare(tmp_path, etcd_endpoints, prefix) as (worker, spare, watcher):
        spare.send_signal(signal.SIGTERM)  # it stands by: it stops at once, its claim goes
        output, _ = spare.communicate(timeout=20)
        assert spare.returncode == 0, output
        assert "node spare stopped (stopped) after 0 firings" in output
        assert [node for node, _ in run_blocking(watcher.candidates())["default"]] == ["worker"]
        assert worker.poll() is None


def test_a_bad_target_is_a_clear_error(tmp_path):
    out = subprocess.run([sys.executable, "-m", "dipen", "run", str(tmp_path / "nope.py") + ":net"],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "no file" in out.stderr and "nope.py" in out.stderr


def test_status_shows_marking_firings_leaders_and_standbys(tmp_path, etcd_endpoints):
    prefix = f"service-{os.getpid()}-c/"
    with worker_and_spare(tmp_path, etcd_endpoints, prefix):
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
    (rings,) = (line for line in lines if "(b)" in line)
    batched = re.search(r"; ([\d,]+) of them written (\d+) to a transaction", rings)
    assert batched and int(batched[1].replace(",", "")) > 0 and int(batched[2]) > 1, rings
