"""Leader election in etcd: campaigning for a region, resigning, and losing the leadership.

Each campaigning store puts one key on its lease under ``regions/{region}/leader/``; the key
with the lowest create_revision leads, and that revision is the leadership's fence. A standby
watches its predecessor's key until it goes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import logging

from ...errors import RunnerError, StoreError
from ..base import Leadership
from .connection import Connection, details
from .lease import Lease
from .records import range_end

__all__ = ["Election", "Leaders"]

_LOGGER = logging.getLogger(__name__)


class Leaders:
    """The leaderships one store holds, and the firings it started under them.

    The records of those firings are kept so that a finish or return compares against them
    without reading them first; they are forgotten with the leadership. Losing a leadership
    releases the region for the store's next campaign.

    Examples
    --------
    >>> leaders = Leaders()
    >>> leaders.lose_all("nothing is held")
    >>> leaders.key(Leadership("default", "n", 7)) is None
    True
    """

    def __init__(self) -> None:
        self._held: dict[str, tuple[Leadership, bytes]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._firings: dict[str, tuple[str | None, bytes]] = {}  # firing id: region, record

    def lock(self, region: str) -> asyncio.Lock:
        """The lock a campaign for ``region`` holds until it resigns or loses."""
        return self._locks.setdefault(region, asyncio.Lock())

    def hold(self, leadership: Leadership, key: bytes) -> None:
        """The store leads ``leadership.region`` with its leader key ``key``."""
        self._held[leadership.region] = (leadership, key)

    def key(self, leadership: Leadership) -> bytes | None:
        """The leader key of ``leadership`` while the store holds it, else ``None``."""
        entry = self._held.get(leadership.region)
        if leadership.lost or entry is None or entry[0] is not leadership:
            return None
        return entry[1]

    def drop(self, leadership: Leadership) -> bytes | None:
        """Mark ``leadership`` lost; its leader key if the store held it (the caller deletes
        the key, then releases the region's lock)."""
        entry = self._held.get(leadership.region)
        leadership.lost = True
        if entry is None or entry[0] is not leadership:
            return None
        del self._held[leadership.region]
        self._forget_region(leadership.region)
        return entry[1]

    def lose(self, region: str, log: bool = True) -> None:
        """The store no longer leads ``region`` (deposed, or its lease is gone)."""
        entry = self._held.pop(region, None)
        if entry is not None:
            self._forget_region(region)
            self._locks[region].release()
            entry[0].taken_away()
            if log:
                _LOGGER.warning("lost the leadership of region %r", region, extra={"region": region})

    def lose_all(self, why: str, level: int = logging.WARNING) -> None:
        """Give up every leadership the store holds, logging ``why`` at ``level``."""
        if self._held:
            _LOGGER.log(level, "giving up the leadership of %s: %s", ", ".join(self._held), why)
        for region in list(self._held):
            self.lose(region, log=False)

    def remember(self, firing: str, region: str | None, record: bytes) -> None:
        """Keep the record of a firing the store started in ``region``."""
        self._firings[firing] = (region, record)

    def recorded(self, firing: str) -> bytes | None:
        """The record of a firing the store started, if it still leads its region."""
        cached = self._firings.get(firing)
        return None if cached is None else cached[1]

    def forget(self, firing: str) -> None:
        """Drop the record of a firing that finished or returned."""
        self._firings.pop(firing, None)

    def _forget_region(self, region: str) -> None:
        self._firings = {f: r for f, r in self._firings.items() if r[0] != region}


class Election:
    """Campaigns and resignations of one store.

    Parameters
    ----------
    connection
        The store's connection.
    lease
        The store's lease: the leader keys live on it.
    leaders
        Where the leaderships won are kept.
    """

    def __init__(self, connection: Connection, lease: Lease, leaders: Leaders) -> None:
        self._connection = connection
        self._lease = lease
        self._leaders = leaders

    async def campaign(
        self, region: str, node: str, on_wait: Callable[[], None] | None = None
    ) -> Leadership:
        """Wait until ``node`` leads ``region``: a leased key per store, the lowest
        create_revision leads, a standby waits for its predecessor's key to go (and calls
        ``on_wait()`` when it starts waiting)."""
        lock = self._leaders.lock(region)
        if lock.locked() and on_wait is not None:  # this store leads it already: a standby
            on_wait()
        await lock.acquire()  # one campaign per region and store; released on resign or loss
        try:
            return await self._elect(region, node, on_wait)
        except BaseException:
            lock.release()
            raise

    async def _elect(
        self, region: str, node: str, on_wait: Callable[[], None] | None = None
    ) -> Leadership:
        connection = self._connection
        rpc = connection.rpc
        base = connection.keys.leaders(region)
        delay = 0.05
        try:
            while True:
                try:
                    return await self._try_elect(region, node, base, on_wait)
                except asyncio.CancelledError:
                    task = asyncio.current_task()
                    if not connection.is_open and task is not None and not task.cancelling():
                        raise RunnerError(f"{connection.describe()} was closed while node {node!r} "
                                          f"campaigned for region {region!r}") from None
                    raise
                except rpc.AioRpcError as exc:  # etcd away: every step above is safe to repeat
                    if exc.code().name not in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
                        raise
                    _LOGGER.info("campaign for region %r waits for etcd: %s", region, details(exc))
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 2.0)
        except BaseException:
            if self._lease.id is not None:  # a standby that gives up must not become leader later
                key = base + f"{self._lease.id:x}".encode()
                with contextlib.suppress(Exception):
                    await connection.call(connection.kv.DeleteRange, rpc.DeleteRangeRequest(key=key))
            raise

    async def _try_elect(
        self, region: str, node: str, base: bytes, on_wait: Callable[[], None] | None = None
    ) -> Leadership:
        connection, lease = self._connection, self._lease
        rpc = connection.rpc
        while True:
            lease_id = await lease.ensure()
            key = base + f"{lease_id:x}".encode()
            try:
                reply = await connection.call(connection.kv.Txn, rpc.TxnRequest(
                    compare=[rpc.Compare(key=key, target=rpc.Compare.CREATE,
                                         result=rpc.Compare.EQUAL, create_revision=0)],
                    success=[rpc.RequestOp(request_put=rpc.PutRequest(
                        key=key, value=node.encode(), lease=lease_id))],
                    failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=key))]))
            except rpc.AioRpcError as exc:
                if exc.code().name != "NOT_FOUND":  # anything but "lease not found"
                    raise
                lease.expired("etcd no longer knows the lease")
                continue
            if reply.succeeded:
                mine = reply.header.revision
            else:
                mine = reply.responses[0].response_range.kvs[0].create_revision
            before = await connection.range(
                base, range_end(base), max_create_revision=mine - 1, limit=1,
                sort_order=rpc.RangeRequest.DESCEND, sort_target=rpc.RangeRequest.CREATE)
            if not before.kvs:
                if not lease.fresh() and not await lease.renew_now():
                    continue  # the lease is gone: campaign again with a new one
                leadership = Leadership(region, node, mine)
                self._leaders.hold(leadership, key)
                _LOGGER.info("node %r leads region %r (fence %d)", node, region, mine,
                             extra={"region": region, "node": node})
                return leadership
            if on_wait is not None:
                on_wait()
            await self._wait_deleted(before.kvs[0].key, before.header.revision + 1)

    async def _wait_deleted(self, key: bytes, start: int) -> None:
        """Until ``key`` is deleted, or a while (the caller looks again)."""
        connection = self._connection
        try:
            async with asyncio.timeout(max(self._lease.ttl / 2, 0.5)):
                async with contextlib.aclosing(connection.watch(
                        key, None, start, (connection.rpc.WatchCreateRequest.NOPUT,))) as responses:
                    async for _ in responses:
                        return
        except (TimeoutError, StoreError, connection.rpc.AioRpcError):
            await asyncio.sleep(0.05)

    async def resign(self, leadership: Leadership) -> None:
        """Give up ``leadership``: its key goes, and the next standby takes over."""
        key = self._leaders.drop(leadership)
        if key is None:
            return
        connection = self._connection
        rpc = connection.rpc
        try:  # the key goes before this store may campaign again (same lease, same key)
            await connection.call(connection.kv.Txn, rpc.TxnRequest(
                compare=[rpc.Compare(key=key, target=rpc.Compare.CREATE,
                                     result=rpc.Compare.EQUAL, create_revision=leadership.fence)],
                success=[rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key))]))
        except rpc.AioRpcError as exc:
            _LOGGER.warning("could not delete the leader key of region %r (%s); it goes with the "
                            "lease", leadership.region, details(exc))
        finally:
            self._leaders.lock(leadership.region).release()
