"""The etcd store's connection: one gRPC channel (TLS, authentication) and its requests.

``grpc`` and ``aetcd`` are imported when the connection opens, never at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import weakref
from collections.abc import AsyncGenerator
from typing import Any

from ...errors import CompactedError, RunnerError, StoreError, UnavailableError
from .records import Keys

__all__ = ["Connection", "details"]

_OPTIONS = [("grpc.max_receive_message_length", 256 << 20),
            ("grpc.max_send_message_length", 64 << 20),
            # reconnect quickly after an etcd restart; notice dead connections
            ("grpc.min_reconnect_backoff_ms", 100), ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 2000),
            ("grpc.keepalive_time_ms", 10_000), ("grpc.keepalive_timeout_ms", 5_000)]


def details(exc: BaseException) -> str:
    """What a gRPC error (or any other) says."""
    found = getattr(exc, "details", None)
    return str(found() if callable(found) else exc)


class Connection:
    """One channel to the etcd members ``endpoints``, opened in one event loop.

    Parameters
    ----------
    owner
        The store the connection belongs to (named in errors; held weakly, so that a store
        nobody uses is freed at once, its channel with it).
    endpoints
        ``host:port`` of the etcd members.
    credentials
        ``(username, password)``, both ``None`` without authentication.
    tls
        ``None``/``False`` (plain), ``True`` (system roots) or paths of ``ca``, ``cert``, ``key``.
    timeout
        Seconds before a request counts as lost.

    Attributes
    ----------
    rpc
        ``aetcd.rpc`` (the generated messages and stubs) once open, else ``None``.
    keys
        The keys of the prefix the connection was opened for.
    floor
        A revision that no later commit can have (the latest revision any reply reported).
    """

    def __init__(self, owner: object, endpoints: list[str],
                 credentials: tuple[str | None, str | None], tls: bool | dict[str, str] | None,
                 timeout: float) -> None:
        self._owner = weakref.ref(owner)
        self._kind = type(owner).__name__
        self.endpoints = endpoints
        self.timeout = timeout
        self.rpc: Any = None
        self.keys = Keys("")
        self.floor = 0
        self.kv: Any = None
        self.watcher: Any = None
        self.leases: Any = None
        self._credentials = credentials
        self._tls = tls
        self._loop: Any = None
        self._channel: Any = None
        self._metadata: Any = None

    def describe(self) -> str:
        """The owner's ``repr`` (for errors)."""
        owner = self._owner()
        return repr(owner) if owner is not None else f"a closed {self._kind}"

    @property
    def is_open(self) -> bool:
        return self._channel is not None

    @property
    def metadata(self) -> Any:
        """What every request carries (the auth token, if any)."""
        return self._metadata

    def check_loop(self) -> None:
        """Raise :class:`RunnerError` unless called from the loop the channel was opened in."""
        if asyncio.get_running_loop() is not self._loop:
            raise RunnerError(f"this {self._kind} was opened in another event loop")

    async def open(self, prefix: str | None) -> None:
        """Open the channel (once) for the keys under ``prefix``; authenticate if asked to."""
        name = self._kind
        if self._channel is not None:
            if asyncio.get_running_loop() is not self._loop:
                raise RunnerError(
                    f"this {name} was opened in another event loop; use it from that loop, or "
                    "make one store per loop (a blocking call such as run_sync keeps one loop)")
            return
        if prefix is None:
            raise RunnerError(f"this {name} has no prefix yet: connect a net or give prefix=")
        import grpc  # type: ignore[import-untyped]
        from aetcd import rpc  # type: ignore[import-untyped]

        self.rpc = rpc
        self._loop = asyncio.get_running_loop()
        self.keys = Keys(prefix)
        endpoints = self.endpoints
        target = endpoints[0] if len(endpoints) == 1 else _multi_target(endpoints)
        if self._tls:
            files = self._tls if isinstance(self._tls, dict) else {}

            def read(name: str) -> bytes | None:
                path = files.get(name)
                if path is None:
                    return None
                with open(path, "rb") as handle:
                    return handle.read()

            credentials = grpc.ssl_channel_credentials(read("ca"), read("key"), read("cert"))
            self._channel = grpc.aio.secure_channel(target, credentials, options=_OPTIONS)
        else:
            self._channel = grpc.aio.insecure_channel(target, options=_OPTIONS)
        self.kv = rpc.KVStub(self._channel)
        self.watcher = rpc.WatchStub(self._channel)
        self.leases = rpc.LeaseStub(self._channel)
        try:
            await self._authenticate()
        except BaseException:
            await self.close()
            raise

    async def _authenticate(self) -> None:
        username, password = self._credentials
        if username is None:
            return
        reply = await self.rpc.AuthStub(self._channel).Authenticate(
            self.rpc.AuthenticateRequest(name=username, password=password), timeout=self.timeout)
        self._metadata = (("token", reply.token),)

    async def recover_auth(self, exc: BaseException) -> None:
        """After a stream failed: get a new auth token if etcd dropped ours."""
        if (self._credentials[0] is not None and isinstance(exc, self.rpc.AioRpcError)
                and exc.code().name == "UNAUTHENTICATED"):
            with contextlib.suppress(Exception):
                await self._authenticate()

    def failure(self, exc: BaseException) -> StoreError | None:
        """``exc`` as a :class:`StoreError` if it is a gRPC error, else ``None``."""
        if self.rpc is None or not isinstance(exc, self.rpc.AioRpcError):
            return None
        where = ", ".join(self.endpoints)
        code = exc.code().name
        if code in ("DEADLINE_EXCEEDED", "UNAVAILABLE"):
            return UnavailableError(
                f"etcd at {where} did not answer within {self.timeout:g} s ({code}): is it "
                "running and reachable? (`dipen etcd` starts a local one)")
        if code == "UNAUTHENTICATED" or code == "INVALID_ARGUMENT" and "password" in exc.details():
            return StoreError(f"etcd at {where} refused the credentials: {exc.details()}")
        return StoreError(f"etcd at {where} failed: {code}: {exc.details()}")

    async def call(self, method: Any, request: Any) -> Any:
        """A read (or a refused-before-applied write): re-authenticates once if needed."""
        if self._channel is None:
            raise RunnerError(f"{self.describe()} is closed")
        try:
            reply = await method(request, timeout=self.timeout, metadata=self._metadata,
                                 wait_for_ready=True)
        except self.rpc.AioRpcError as exc:
            if exc.code().name != "UNAUTHENTICATED" or self._credentials[0] is None:
                raise
            await self._authenticate()
            reply = await method(request, timeout=self.timeout, metadata=self._metadata,
                                 wait_for_ready=True)
        self.floor = max(self.floor, reply.header.revision)
        return reply

    async def range(self, key: bytes, end: bytes | None = None, **options: Any) -> Any:
        """A range read of ``key`` (up to ``end``)."""
        request = self.rpc.RangeRequest(key=key, **options)
        if end is not None:
            request.range_end = end
        return await self.call(self.kv.Range, request)

    async def watch(self, key: bytes, end: bytes | None, start: int,
                    filters: tuple[int, ...] = ()) -> AsyncGenerator[Any, None]:
        """The responses of one watch stream; raises :class:`CompactedError` on compaction and
        gRPC errors when the stream breaks (the caller resumes from what it has seen)."""
        rpc = self.rpc
        create = rpc.WatchCreateRequest(key=key, start_revision=start, filters=filters)
        if end is not None:
            create.range_end = end
        call = self.watcher.Watch(metadata=self._metadata)
        try:
            await call.write(rpc.WatchRequest(create_request=create))
            while True:
                response = await call.read()
                if response is None or type(response) is not rpc.WatchResponse:
                    raise StoreError("etcd ended the watch stream")
                if response.compact_revision:
                    raise CompactedError(
                        f"revision {start} of {self.keys.prefix!r} was compacted (etcd keeps "
                        f"revisions from {response.compact_revision}); reload a snapshot")
                if response.canceled:
                    raise StoreError(f"etcd cancelled the watch: {response.cancel_reason}")
                if response.events:
                    yield response
        finally:
            call.cancel()

    async def close(self) -> None:
        """Close the channel (a later request opens nothing: :meth:`open` again)."""
        if self._channel is not None:
            channel, self._channel = self._channel, None
            await channel.close()


def _multi_target(endpoints: list[str]) -> str:
    """One gRPC target for several members (pick_first fails over between them)."""
    addresses = []
    for endpoint in endpoints:
        host, _, port = endpoint.rpartition(":")
        info = socket.getaddrinfo(host.strip("[]"), int(port), socket.AF_INET, socket.SOCK_STREAM)
        addresses.append(f"{info[0][4][0]}:{port}")
    return "ipv4:" + ",".join(addresses)
