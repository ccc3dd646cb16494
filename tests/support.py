"""What the process and fault tests share: runner processes, a TCP proxy that can cut
connections or lose one reply, and the ledger check (nothing lost, nothing duplicated).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter

import dipen
from dipen.notebook import run_blocking
from dipen.state import State

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
    """A file defining ``net``: ``jobs`` tokens, each worked on for ``delay`` seconds."""
    path = tmp_path / f"net_{jobs}_{int(delay * 1000)}.py"
    path.write_text(NET.replace("JOBS", str(jobs)).replace("DELAY", str(delay)))
    return f"{path}:net"


def start(target: str, endpoints: list[str], prefix: str, node: str, *extra: str) -> subprocess.Popen:
    """A ``dipen run`` process."""
    return subprocess.Popen(
        [sys.executable, "-m", "dipen", "run", target, "--etcd", endpoints[0], "--prefix", prefix,
         "--node", node, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def finish(process: subprocess.Popen | None) -> str:
    """Kill ``process`` if it still runs; its output."""
    if process is None:
        return ""
    if process.poll() is None:
        process.kill()
    output, _ = process.communicate(timeout=10)  # also closes its pipe
    return output or ""


def stop(process: subprocess.Popen) -> str:
    """SIGTERM ``process``, wait for it to end cleanly; its output."""
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    return output or ""


def read(endpoints: list[str], prefix: str, what):
    """``await what(store)`` on a fresh store of ``prefix``."""
    async def main():
        store = dipen.EtcdStore(endpoints, prefix=prefix)
        try:
            return await what(store)
        finally:
            await store.close()

    return run_blocking(main())


def state(endpoints: list[str], prefix: str) -> State:
    return read(endpoints, prefix, lambda store: store.snapshot())


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
        time.sleep(0.05)


async def eventually(condition, seconds: float = 5.0) -> None:
    """Until ``condition()`` holds, for at most ``seconds`` (in a running event loop)."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    assert condition()


# -- the ledger ------------------------------------------------------------------------------------


def check_ledger(endpoints: list[str], prefix: str) -> list:
    """The invariant of every fault test, from etcd itself: replaying the stored history gives
    exactly the stored state (tokens at places and tokens held by firings), and every firing
    ends exactly once, completed or returned, unless it is still running. Returns the history.
    """
    async def both(store):
        snapshot = await store.snapshot()
        return snapshot, await store.changes(0, snapshot.revision)

    snapshot, history = read(endpoints, prefix, both)
    replayed = State((name, place.capacity) for name, place in snapshot.places.items())
    for change in history:
        replayed.apply(change)
    for name, place in snapshot.places.items():
        again = replayed.places[name]
        assert dict(place.free) == dict(again.free), f"free tokens of {name!r} differ from history"
        assert dict(place.taken) == dict(again.taken), f"taken tokens of {name!r} differ"
    assert set(snapshot.firings) == set(replayed.firings)
    started = Counter(c.firing for c in history if c.kind == "start")
    ended = Counter(c.firing for c in history if c.kind in ("finish", "return"))
    assert all(n == 1 for n in started.values()), "a firing started twice"
    assert all(n == 1 for n in ended.values()), "a firing ended twice"
    assert set(ended) <= set(started), "a firing ended that never started"
    assert set(started) - set(ended) == set(snapshot.firings), "a firing neither ended nor runs"
    return history


# -- a TCP proxy -----------------------------------------------------------------------------------


class Proxy:
    """A TCP proxy to ``target`` in a thread of its own: clients connect to ``endpoint``.

    ``cut()`` closes every connection and refuses new ones until ``resume()``;
    ``lose_next("reply")`` forwards the next request bytes, discards what the server answers
    for a moment and then closes the connection (the request was applied, its reply is lost);
    ``lose_next("request")`` discards the next request bytes and closes the connection.
    """

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._open = True
        self._lose: str | None = None
        self.lost = 0
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.endpoint = f"127.0.0.1:{self.port}"
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(5)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def main():
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
            ready.set()

        self._loop.run_until_complete(main())
        self._loop.run_forever()

    async def _serve(self, reader, writer) -> None:
        if not self._open:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        muted = asyncio.Event()

        async def close() -> None:
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.close()

        async def upstream() -> None:
            while data := await reader.read(65536):
                if self._lose == "request":
                    self._lose, self.lost = None, self.lost + 1
                    await close()
                    return
                up_writer.write(data)
                await up_writer.drain()
                if self._lose == "reply":
                    self._lose, self.lost = None, self.lost + 1
                    muted.set()
                    await asyncio.sleep(0.3)  # the server applies it; its answer goes nowhere
                    await close()
                    return

        async def downstream() -> None:
            while data := await up_reader.read(65536):
                if not muted.is_set():
                    writer.write(data)
                    await writer.drain()

        with contextlib.suppress(Exception):
            await asyncio.gather(upstream(), downstream())
        await close()

    def _call(self, function) -> None:
        done = threading.Event()

        def run() -> None:
            function()
            done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(5)

    def cut(self) -> None:
        def cut() -> None:
            self._open = False
            for writer in list(self._writers):
                writer.close()
            self._writers.clear()

        self._call(cut)

    def resume(self) -> None:
        self._call(lambda: setattr(self, "_open", True))

    def lose_next(self, what: str) -> None:
        self._call(lambda: setattr(self, "_lose", what))

    def close(self) -> None:
        self.cut()

        async def shut() -> None:
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()

        self._loop.call_soon_threadsafe(lambda: self._loop.create_task(shut()))
        self._thread.join(5)
        self._loop.close()
