"""The etcd store's lease: granted once, kept alive by the store itself, and the ids it makes.

A leader's key lives on the lease, so the lease is what a leadership is worth: the store gives
up every leadership (through ``give_up``) as soon as its last renewal is older than the TTL
minus a margin, by its own clock and without waiting to hear from etcd.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections.abc import Callable
from typing import Any

from ...errors import RunnerError, StoreError
from .connection import Connection

__all__ = ["Lease"]

_LOGGER = logging.getLogger(__name__)


class Lease:
    """The lease of one store, and the token and firing ids made from its id.

    Parameters
    ----------
    connection
        The store's connection.
    ttl
        Seconds the lease lives without renewal (etcd may grant a longer TTL).
    give_up
        Called with the reason when the leaderships that hang on the lease must go.

    Attributes
    ----------
    id
        The lease's id while the store holds one, else ``None``.
    ttl
        The TTL etcd granted (seconds).
    keeper
        The task that keeps the lease alive.
    """

    def __init__(self, connection: Connection, ttl: float, give_up: Callable[[str], None]) -> None:
        self._connection = connection
        self._requested = ttl
        self._give_up = give_up
        self.id: int | None = None
        self.ttl = float(ttl)
        self.keeper: asyncio.Task[None] | None = None
        self._renewed = 0.0
        self._lock = asyncio.Lock()
        self._id_prefix: str | None = None
        self._ids = itertools.count(1)

    async def ensure(self) -> int:
        """The lease's id: granted now if the store has none; its keep-alive running."""
        connection = self._connection
        async with self._lock:  # runners sharing this store connect at once
            if self.id is None:
                request = connection.rpc.LeaseGrantRequest(TTL=math.ceil(self._requested))
                reply = await connection.call(connection.leases.LeaseGrant, request)
                self.id, self.ttl = reply.ID, float(reply.TTL)
                self._renewed = asyncio.get_running_loop().time()
                if self._id_prefix is None:
                    self._id_prefix = f"{reply.ID:x}."
        if self.keeper is None or self.keeper.done():
            self.keeper = asyncio.get_running_loop().create_task(self._keep_alive())
        return self.id

    def _margin(self) -> float:
        return max(0.5, self.ttl / 4)

    def fresh(self) -> bool:
        """True while the last renewal is younger than the TTL minus a margin."""
        return asyncio.get_running_loop().time() - self._renewed < self.ttl - self._margin()

    async def _keep_alive(self) -> None:
        """Renew the lease every third of its TTL on one stream; reconnect with backoff; give up
        every leadership once the last renewal is older than the TTL minus a margin (checked at
        least every third of the TTL, whatever the stream does)."""
        loop = asyncio.get_running_loop()
        connection = self._connection
        rpc = connection.rpc
        delay = 0.1

        async def renew(call: Any, lease: int) -> Any:
            await call.write(rpc.LeaseKeepAliveRequest(ID=lease))
            return await call.read()

        while self.id is not None:
            interval = max(self.ttl / 3, 0.2)
            call = connection.leases.LeaseKeepAlive(metadata=connection.metadata)
            try:
                while True:
                    sent = loop.time()
                    # asyncio.wait, not wait_for: wait_for of Python 3.11 can swallow a cancel
                    step = loop.create_task(renew(call, self.id))
                    try:
                        await asyncio.wait((step,), timeout=interval)
                    finally:
                        if not step.done():
                            step.cancel()
                    if not step.done() or step.cancelled():
                        raise TimeoutError(f"no keep-alive reply within {interval:.2f}s")
                    reply = step.result()
                    if type(reply) is not rpc.LeaseKeepAliveResponse:
                        raise StoreError("etcd ended the lease keep-alive stream")
                    if reply.TTL <= 0:
                        self.expired("etcd says the lease expired")
                        return
                    self._renewed = sent
                    delay = 0.1
                    await asyncio.sleep(interval)
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect with backoff
                if isinstance(exc, rpc.AioRpcError) and exc.code().name == "NOT_FOUND":
                    self.expired("etcd no longer knows the lease")
                    return
                _LOGGER.debug("lease keep-alive failed: %r", exc)
                await connection.recover_auth(exc)
            finally:
                call.cancel()
            if not self.fresh():
                self._give_up(f"the lease was last renewed {loop.time() - self._renewed:.1f}s ago")
            await asyncio.sleep(delay)
            delay = min(delay * 2, interval)

    async def renew_now(self) -> bool:
        """Renew the lease once, now; False if etcd says it expired."""
        connection = self._connection
        rpc, lease = connection.rpc, self.id
        sent = asyncio.get_running_loop().time()
        call = connection.leases.LeaseKeepAlive(metadata=connection.metadata,
                                                timeout=connection.timeout)
        try:
            await call.write(rpc.LeaseKeepAliveRequest(ID=lease))
            reply = await call.read()
        finally:
            call.cancel()
        if type(reply) is not rpc.LeaseKeepAliveResponse or reply.TTL <= 0:
            self.expired("etcd says the lease expired")
            return False
        self._renewed = sent
        return True

    def expired(self, why: str) -> None:
        """Forget the lease (the next :meth:`ensure` grants another) and give up on it."""
        self.id = None
        self._give_up(why)

    def next_id(self) -> str:
        """A token or firing id no other store makes: the first lease's id and a count."""
        if self._id_prefix is None:
            raise RunnerError("this EtcdStore is not connected: connect a net first")
        return f"{self._id_prefix}{next(self._ids)}"

    def stop(self) -> asyncio.Task[None] | None:
        """Stop keeping the lease alive: the keep-alive task, cancelled, to await."""
        keeper, self.keeper = self.keeper, None
        if keeper is not None:
            keeper.cancel()
        return keeper

    async def revoke(self) -> None:
        """Revoke the lease, if any (the keys on it go with it), and forget it."""
        connection = self._connection
        if self.id is not None and connection.is_open:
            with contextlib.suppress(Exception):
                await connection.leases.LeaseRevoke(connection.rpc.LeaseRevokeRequest(ID=self.id),
                                                    timeout=connection.timeout,
                                                    metadata=connection.metadata)
        self.id = None
