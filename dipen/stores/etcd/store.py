"""The etcd store: the :class:`~dipen.stores.Store` protocol over the parts of this package.

An :class:`EtcdStore` holds one of each: a :class:`~.connection.Connection` (the channel and
its requests), a :class:`~.lease.Lease` (kept alive by the store, and the ids),
:class:`~.election.Leaders` (the regions it leads) and an :class:`~.election.Election` (how it
comes to lead them), :class:`~.records.Records` (what the values hold) and
:class:`~.transactions.Transactions` (commits written as transactions). The parts refer to
the ones before them, never back to the store: a store nobody holds is freed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...errors import NetMismatchError, RunnerError, StoreError
from ...state import Change, Commit, State
from ...tokens import JsonCodec
from ..base import Leadership, Store, net_differences
from .connection import Connection
from .election import Election, Leaders
from .lease import Lease
from .records import Records, pairs, range_end, where
from .subscription import Subscription
from .transactions import MAX_REQUEST_BYTES, MAX_TXN_OPS, Transactions

if TYPE_CHECKING:
    from ...net import Net

__all__ = ["EtcdStore"]

_KINDS = frozenset({"start", "finish", "fire", "return", "put", "edit", "init", "control",
                    "migrate"})


def _translated(method: Any) -> Any:
    """Let no gRPC error out of a public method: it becomes a :class:`StoreError`."""

    @functools.wraps(method)
    async def wrapper(self: EtcdStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except Exception as exc:
            error = self._connection.failure(exc)
            if error is None:
                raise
            raise error from exc

    return wrapper


class EtcdStore(Store):
    """A net's state in etcd, shared by runners on several machines.

    Parameters
    ----------
    endpoints
        ``host:port`` of the etcd members (default ``["127.0.0.1:2379"]``).
    prefix
        Where the net lives in etcd; default ``dipen/{net name}/``, set on :meth:`connect`.
    lease_ttl
        Seconds a runner's lease lives without renewal: a crashed leader's standbys take over
        after at most this long. A leader stops writing once its last renewal is older than
        ``lease_ttl`` minus a margin.
    username, password
        etcd credentials, if etcd has authentication on.
    tls
        ``None`` (plain), ``True`` (TLS, system roots) or a dict with ``ca``, ``cert``, ``key``
        (paths of PEM files).
    codec
        How token data becomes bytes (:class:`dipen.JsonCodec` by default).
    timeout
        Seconds before a request to etcd counts as lost.
    max_txn_ops, max_request_bytes
        etcd's ``--max-txn-ops`` and ``--max-request-bytes``: commits that would exceed them
        are refused before anything is sent.

    Examples
    --------
    A store connects to nothing until a net is connected:

    >>> from dipen.etcd_local import local_etcd
    >>> from dipen.stores.etcd import EtcdStore
    >>> EtcdStore("http://10.0.0.7:2379", prefix="shop/orders")
    EtcdStore(endpoints=['10.0.0.7:2379'], prefix='shop/orders/', lease=None)

    A runner on a throw-away local etcd server:

    >>> import asyncio
    >>> net = dipen.Net("orders").place("inbox", tokens=[{"n": 1}, {"n": 2}]).place("done")
    >>> net = net.transition("ship", take="inbox", give="done")
    >>> async def ship(endpoints):
    ...     store = EtcdStore(endpoints)
    ...     try:
    ...         runner = dipen.Runner(net, store=store)
    ...         summary = await runner.run()
    ...         await runner.close()
    ...         return summary.firings, store.prefix, (await store.marking()).counts()
    ...     finally:
    ...         await store.close()
    >>> with local_etcd() as etcd:
    ...     asyncio.run(ship(etcd.endpoints))
    (2, 'dipen/orders/', {'inbox': 0, 'done': 2})
    """

    _page = 5000  # keys per range read of a snapshot

    def __init__(
        self,
        endpoints: list[str] | str | None = None,
        prefix: str | None = None,
        *,
        lease_ttl: float = 10.0,
        username: str | None = None,
        password: str | None = None,
        tls: bool | dict[str, str] | None = None,
        codec: Any = None,
        timeout: float = 5.0,
        max_txn_ops: int = MAX_TXN_OPS,
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        super().__init__()
        if isinstance(endpoints, str):
            endpoints = [endpoints]
        self.endpoints = [e.split("://", 1)[-1].rstrip("/") for e in endpoints or ["127.0.0.1:2379"]]
        if (username is None) != (password is None):
            raise StoreError("EtcdStore: give both username and password, or neither")
        if lease_ttl <= 0:
            raise StoreError(f"EtcdStore: lease_ttl must be > 0, not {lease_ttl!r}")
        self.prefix = None if prefix is None else (prefix if prefix.endswith("/") else prefix + "/")
        self.lease_ttl = lease_ttl
        self.codec = codec if codec is not None else JsonCodec()
        self.timeout = timeout
        self.max_txn_ops = max_txn_ops
        self.max_request_bytes = max_request_bytes
        self._connection = Connection(self, self.endpoints, (username, password), tls, timeout)
        self._leaders = Leaders()
        self._leasing = Lease(self._connection, lease_ttl, self._leaders.lose_all)
        self._election = Election(self._connection, self._leasing, self._leaders)
        self._records = Records(self.codec)
        self._transactions = Transactions(
            self._connection, self._leasing, self._leaders, self._records,
            max_txn_ops=max_txn_ops, max_request_bytes=max_request_bytes)
        self._definition: dict[str, Any] | None = None
        self._place_names: frozenset[str] = frozenset()
        self._subscriptions: list[Subscription] = []

    def __repr__(self) -> str:
        lease = f"{self._lease:x}" if self._lease else None
        return f"EtcdStore(endpoints={self.endpoints!r}, prefix={self.prefix!r}, lease={lease})"

    # what tests and debugging look at: the lease id, its keep-alive task, the KV stub
    @property
    def _lease(self) -> int | None:
        return self._leasing.id

    @property
    def _keeper(self) -> asyncio.Task[None] | None:
        return self._leasing.keeper

    @property
    def _kv(self) -> Any:
        return self._connection.kv

    @_kv.setter
    def _kv(self, stub: Any) -> None:
        self._connection.kv = stub

    async def _open(self) -> None:
        await self._connection.open(self.prefix)

    def new_token_id(self) -> str:
        return self._leasing.next_id()

    def new_firing_id(self) -> str:
        return self._leasing.next_id()

    # -- net and snapshot ------------------------------------------------------------------------

    @_translated
    async def connect(self, net: Net) -> None:
        definition = net.to_dict()
        if self.prefix is None:
            self.prefix = f"dipen/{net.name}/"
        if self._definition is not None:
            self._compare(self._definition, definition, net)
            return
        await self._open()
        await self._leasing.ensure()
        reply = await self._connection.range(self._connection.keys.net)
        stored = (json.loads(reply.kvs[0].value) if reply.kvs
                  else await self._transactions.publish(net, definition))
        if stored is not None:
            self._compare(stored, definition, net)
        self._definition = stored or definition
        self._place_names = frozenset(p["name"] for p in self._definition["places"])

    @_translated
    async def definition(self) -> dict[str, Any]:
        """The net stored under the prefix; a store opened this way (without a net) can then
        commit edits and control changes (``dipen ctl``).

        Examples
        --------
        >>> import asyncio
        >>> from dipen.stores.etcd import EtcdStore
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> async def read(endpoints):
        ...     store = EtcdStore(endpoints)
        ...     try:
        ...         await dipen.Runner(net, store=store).run()
        ...         other = EtcdStore(endpoints, prefix="dipen/n/")   # another machine: no net
        ...         try:
        ...             return (await other.definition())["places"][0]["name"]
        ...         finally:
        ...             await other.close()
        ...     finally:
        ...         await store.close()
        >>> with dipen.local_etcd() as etcd:
        ...     asyncio.run(read(etcd.endpoints))
        'a'
        """
        if self._definition is None:
            await self._open()
            await self._leasing.ensure()
            reply = await self._connection.range(self._connection.keys.net)
            if not reply.kvs:
                raise StoreError(f"no net under prefix {self.prefix!r} in etcd at {self.endpoints}")
            self._definition = json.loads(reply.kvs[0].value)
            self._place_names = frozenset(p["name"] for p in self._definition["places"])
        return dict(self._definition)

    @_translated
    async def read_definition(self) -> tuple[dict[str, Any], int]:
        await self.definition()  # opens, leases
        reply = await self._connection.range(self._connection.keys.net)
        self._definition = json.loads(reply.kvs[0].value)
        self._place_names = frozenset(p["name"] for p in self._definition["places"])
        return dict(self._definition), reply.kvs[0].mod_revision

    def _compare(self, stored: dict[str, Any], given: dict[str, Any], net: Net) -> None:
        differences = net_differences(stored, given)
        if differences:
            raise NetMismatchError(
                f"etcd holds net {stored.get('name')!r} under prefix {self.prefix!r}, which "
                f"differs from net {net.name!r}: " + "; ".join(differences)
                + " (use another prefix, or delete the stored net)")

    @_translated
    async def snapshot(self) -> State:
        """The state at one etcd revision (``state.revision``), read in pages at that revision.

        Examples
        --------
        >>> import asyncio
        >>> from dipen.stores.etcd import EtcdStore
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> async def read(endpoints):
        ...     store = EtcdStore(endpoints)
        ...     try:
        ...         await dipen.Runner(net, store=store).run()
        ...         other = EtcdStore(endpoints, prefix="dipen/n/")   # another machine: no net
        ...         try:
        ...             return (await other.snapshot()).marking().counts()
        ...         finally:
        ...             await other.close()
        ...     finally:
        ...         await store.close()
        >>> with dipen.local_etcd() as etcd:
        ...     asyncio.run(read(etcd.endpoints))
        {'a': 0, 'b': 1}
        """
        await self._open()
        keys = self._connection.keys
        kvs: list[Any] = []
        revision, key = 0, keys.start
        while True:
            reply = await self._connection.range(key, keys.end, limit=self._page, revision=revision)
            revision = revision or reply.header.revision
            kvs.extend(reply.kvs)
            if not reply.more:
                break
            key = reply.kvs[-1].key + b"\0"
        definition = next((json.loads(kv.value) for kv in kvs if kv.key == keys.net), None)
        if definition is None:
            raise StoreError(f"no net under prefix {self.prefix!r} in etcd at {self.endpoints}")
        return self._records.state(definition, kvs, keys, revision)

    # -- changes ---------------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Change], None], after: int,
                  on_error: Callable[[StoreError], None] | None = None) -> Callable[[], None]:
        """Call ``callback`` with every change after revision ``after``, in order, from a task.

        A broken watch is resumed from the last revision seen + 1 with bounded backoff; each
        break is reported to ``on_error`` (or logged). If the revisions needed were compacted,
        ``on_error`` gets a :class:`CompactedError` and the subscription ends: reload a
        snapshot and subscribe again from its revision.

        Examples
        --------
        >>> import asyncio
        >>> from dipen.stores.etcd import EtcdStore
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> async def watch(endpoints):
        ...     store, seen = EtcdStore(endpoints), []
        ...     try:
        ...         await store.connect(net)
        ...         after = (await store.snapshot()).revision
        ...         unsubscribe = store.subscribe(lambda change: seen.append(change.kind), after)
        ...         runner = dipen.Runner(net, store=store)
        ...         await runner.run()
        ...         await runner.close()
        ...         await asyncio.sleep(0.2)
        ...         unsubscribe()
        ...         return seen[0]
        ...     finally:
        ...         await store.close()
        >>> with dipen.local_etcd() as etcd:
        ...     asyncio.run(watch(etcd.endpoints))
        'fire'
        """
        if not self._connection.is_open:
            raise RunnerError("this EtcdStore is not open: connect a net first")
        self._connection.check_loop()
        subscription = Subscription(self._connection, self._records, callback, after, on_error)
        self._subscriptions.append(subscription)

        def unsubscribe() -> None:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
                subscription.task.cancel()

        return unsubscribe

    @_translated
    async def changes(self, since: int = 0, until: int | None = None) -> list[Change]:
        await self._open()
        connection, keys = self._connection, self._connection.keys
        reply = await connection.range(keys.change)
        last = reply.kvs[0].mod_revision if reply.kvs else 0
        target = last if until is None else min(until, last)
        found: list[Change] = []
        pending: dict[bytes, bytes] = {}
        if target <= since:
            return found
        async with contextlib.aclosing(connection.watch(keys.start, keys.end, since + 1)) as responses:
            async for response in responses:
                found.extend(c for c in self._records.rebuild(response.events, keys, pending)
                             if until is None or c.revision <= until)
                if response.events[-1].kv.mod_revision >= target:
                    break
        return found

    # -- leadership ------------------------------------------------------------------------------

    @_translated
    async def campaign(
        self, region: str, node: str, on_wait: Callable[[], None] | None = None
    ) -> Leadership:
        """Wait until ``node`` leads ``region``: a leased key per store, the lowest
        create_revision leads, a standby waits for its predecessor's key to go (and calls
        ``on_wait()`` first).

        Examples
        --------
        >>> import asyncio
        >>> from dipen.stores.etcd import EtcdStore
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> async def lead(endpoints):
        ...     store = EtcdStore(endpoints)
        ...     try:
        ...         await store.connect(net)
        ...         leadership = await store.campaign("default", "node-1")
        ...         await store.resign(leadership)
        ...         return leadership
        ...     finally:
        ...         await store.close()
        >>> with dipen.local_etcd() as etcd:
        ...     asyncio.run(lead(etcd.endpoints))
        Leadership(region='default', node='node-1', fence=..., lost)
        """
        await self._open()
        return await self._election.campaign(region, node, on_wait)

    @_translated
    async def candidates(self) -> dict[str, list[tuple[str, int]]]:
        """Every region's campaigning nodes, leader first: ``{region: [(node, fence), ...]}``
        (the fence is the leader key's create_revision; the lowest leads, the rest stand by).

        Examples
        --------
        >>> import asyncio
        >>> from dipen.stores.etcd import EtcdStore
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> async def demo(endpoints):
        ...     store = EtcdStore(endpoints)
        ...     try:
        ...         runner = dipen.Runner(net, store=store, node="worker-1")
        ...         await runner.run()
        ...         result = await store.candidates()
        ...         await runner.close()
        ...         return result
        ...     finally:
        ...         await store.close()
        >>> with dipen.local_etcd() as etcd:
        ...     asyncio.run(demo(etcd.endpoints))
        {'default': [('worker-1', ...)]}
        """
        await self._open()
        start = f"{self.prefix}regions/".encode()
        reply = await self._connection.range(start, range_end(start))
        found: dict[str, list[tuple[str, int]]] = {}
        for kv in reply.kvs:
            parts = kv.key[len(start):].decode().split("/")
            if len(parts) == 3 and parts[1] == "leader":
                found.setdefault(parts[0], []).append((kv.value.decode(), kv.create_revision))
        return {region: sorted(nodes, key=lambda node: node[1])
                for region, nodes in sorted(found.items())}

    async def leaders(self) -> dict[str, tuple[str, int]]:
        """Who leads each region now: the lowest create_revision among its leader keys.

        Examples
        --------
        >>> import asyncio
        >>> from dipen.stores.etcd import EtcdStore
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> async def demo(endpoints):
        ...     store = EtcdStore(endpoints)
        ...     try:
        ...         runner = dipen.Runner(net, store=store, node="worker-1")
        ...         await runner.run()
        ...         result = await store.leaders()
        ...         await runner.close()
        ...         return result
        ...     finally:
        ...         await store.close()
        >>> with dipen.local_etcd() as etcd:
        ...     asyncio.run(demo(etcd.endpoints))
        {'default': ('worker-1', ...)}
        """
        return {region: nodes[0] for region, nodes in (await self.candidates()).items()}

    async def resign(self, leadership: Leadership) -> None:
        await self._election.resign(leadership)

    # -- commits ---------------------------------------------------------------------------------

    @_translated
    async def commit(self, commit: Commit) -> Change:
        """Write ``commit`` as one etcd transaction, or raise and write nothing.

        Raises
        ------
        FencingError
            The writer no longer leads its region (checked locally and by etcd).
        ConflictError
            A place changed since the writer saw it, or a token is not free.
        StoreError
            The commit is malformed, too big for one etcd transaction, or etcd cannot be
            reached long enough to learn whether it was written.

        Examples
        --------
        Runners build the commits; here one by hand, then the same writer once deposed:

        >>> import asyncio
        >>> from dipen.state import Commit
        >>> from dipen.stores.etcd import EtcdStore
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> async def fenced(endpoints):
        ...     store = EtcdStore(endpoints)
        ...     try:
        ...         await store.connect(net)
        ...         leadership = await store.campaign("default", "node-1")
        ...         (token,) = (await store.marking())["a"]
        ...         start = Commit("start", "f1", "t", "default", take=(("a", token.id),),
        ...                        fence=leadership)
        ...         written = (await store.commit(start)).kind
        ...         await store.resign(leadership)
        ...         try:
        ...             await store.commit(start._replace(kind="return", take=(),
        ...                                               release=(("a", token.id),)))
        ...         except dipen.FencingError:
        ...             return written, "refused"
        ...     finally:
        ...         await store.close()
        >>> with dipen.local_etcd() as etcd:
        ...     asyncio.run(fenced(etcd.endpoints))
        ('start', 'refused')
        """
        if commit.kind not in _KINDS:
            raise StoreError(f"{where(commit)}: unknown kind of commit {commit.kind!r}")
        if self._definition is None:
            raise RunnerError("this EtcdStore is not connected: connect a net first")
        await self._open()
        if commit.kind == "migrate":  # its new places may be used; then they are the net's
            definition = commit.note["definition"]
            new = frozenset(p["name"] for p in definition["places"])
            revision, part, parts = await self._transactions.write(commit, self._place_names | new)
            self._definition, self._place_names = definition, new
        else:
            revision, part, parts = await self._transactions.write(commit, self._place_names)
        return Change(revision, commit.time, commit.node, commit.kind, commit.firing,
                      commit.transition, commit.region, pairs(commit.take),
                      pairs(commit.remove), tuple(commit.add), pairs(commit.release),
                      commit.note, part, parts)

    # -- closing ---------------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop watching, revoke the lease (the leader keys go with it) and disconnect.

        Examples
        --------
        >>> import asyncio
        >>> from dipen.stores.etcd import EtcdStore
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> async def leave(endpoints):
        ...     store, other = EtcdStore(endpoints), EtcdStore(endpoints, prefix="dipen/n/")
        ...     try:
        ...         await dipen.Runner(net, store=store, node="worker-1").run()
        ...         before = await other.leaders()
        ...         await store.close()                 # the lease is revoked: its leader keys go
        ...         return before, await other.leaders()
        ...     finally:
        ...         await other.close()
        >>> with dipen.local_etcd() as etcd:
        ...     asyncio.run(leave(etcd.endpoints))
        ({'default': ('worker-1', ...)}, {})
        """
        self.closed = True
        tasks = [s.task for s in self._subscriptions]
        self._subscriptions.clear()
        for task in tasks:
            task.cancel()
        keeper = self._leasing.stop()
        if keeper is not None:
            tasks.append(keeper)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._leaders.lose_all("the store is closing", logging.INFO)
        await self._leasing.revoke()
        await self._connection.close()
