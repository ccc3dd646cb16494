"""Commits as etcd transactions: built, held to etcd's limits, sent once, and settled.

A commit becomes one transaction: its compares (:class:`Check`) say what must still hold
(the leader key, the places' revisions, free tokens, unused ids), its operations write the
token, firing and place keys and, last, the change record. A transaction whose reply is lost is
not simply sent again: the store first looks for its change record, then sends it again (a
duplicate would fail its compares). A refused transaction raises the error of its first
compare that failed, found in the reads of the failure branch.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from ...errors import ConflictError, FencingError, StoreError, UnavailableError
from ...state import Commit, State
from ...tokens import Token
from .batching import Batches, Pending
from .connection import Connection, details
from .election import Leaders
from .lease import Lease
from .records import Records, dumps, range_end, where

if TYPE_CHECKING:
    from ...net import Net

__all__ = ["MAX_REQUEST_BYTES", "MAX_TXN_OPS", "Check", "Transactions"]

_LOGGER = logging.getLogger(__name__)
#: etcd's defaults for ``--max-txn-ops`` and ``--max-request-bytes``.
MAX_TXN_OPS = 128
MAX_REQUEST_BYTES = 1536 * 1024
# gRPC codes that say the request was refused before etcd applied anything
_REFUSED = frozenset({"INVALID_ARGUMENT", "FAILED_PRECONDITION", "PERMISSION_DENIED",
                      "UNAUTHENTICATED", "RESOURCE_EXHAUSTED", "NOT_FOUND", "OUT_OF_RANGE",
                      "UNIMPLEMENTED", "ALREADY_EXISTS"})
#: the kinds of commit that may be written together with others (see :mod:`.batching`)
_BATCHED = frozenset({"start", "finish", "fire", "return"})
_FIELDS = {"version": "version", "create": "create_revision", "mod": "mod_revision",
           "value": "value"}


class Check:
    """One compare of a transaction and the error to raise if it is what failed.

    Examples
    --------
    >>> check = Check(b"k", "version", "==", 0, KeyError, "k exists")
    >>> check.holds(None)
    True
    """

    __slots__ = ("end", "error", "key", "message", "op", "target", "value")

    def __init__(self, key: bytes, target: str, op: str, value: Any, error: type, message: str,
                 end: bytes | None = None):
        self.key, self.target, self.op, self.value = key, target, op, value
        self.error, self.message = error, message
        self.end = end  # compare every key from ``key`` up to ``end`` (none may exist: version 0)

    def holds(self, kv: Any) -> bool:
        """Whether the compare holds for ``kv`` (``None``: the key does not exist)."""
        if kv is None:
            if self.target == "value":
                return False
            actual: Any = 0
        else:
            actual = getattr(kv, _FIELDS[self.target])
        return {"==": actual == self.value, ">": actual > self.value}[self.op]


class _Retry(ConflictError):
    """A put's look-up of token ids is stale: look again."""


class Transactions:
    """Writes a store's commits, each as one etcd transaction.

    Parameters
    ----------
    connection, lease, leaders, records
        The store's parts: requests, freshness and ids, leader keys, values.
    max_txn_ops, max_request_bytes
        etcd's limits: a transaction that would exceed them is refused before it is sent.
    """

    def __init__(self, connection: Connection, lease: Lease, leaders: Leaders, records: Records,
                 *, max_txn_ops: int = MAX_TXN_OPS,
                 max_request_bytes: int = MAX_REQUEST_BYTES) -> None:
        self._connection = connection
        self._lease = lease
        self._leaders = leaders
        self._records = records
        self.max_txn_ops = max_txn_ops
        self.max_request_bytes = max_request_bytes
        self.batches = Batches(self)
        self._revs: dict[str, Any] = {}  # place -> the operation that puts its revision key

    @property
    def connection(self) -> Connection:
        return self._connection

    async def publish(self, net: Net, definition: dict[str, Any]) -> dict[str, Any] | None:
        """Write the definition and the initial marking if no net is stored; returns the stored
        definition if another runner was first.

        One transaction when it fits etcd's limits. A bigger initial marking is written in
        several under a leased ``publishing`` key: its tokens first, the net key and the change
        record last, so that nobody uses the net before it is complete; a publisher that dies
        half-way leaves its lease to expire, and the next one clears what it wrote.
        """
        connection, rpc = self._connection, self._connection.rpc
        add = tuple((place.name, Token(self._lease.next_id(), data))
                    for place in net.places.values() for data in place.initial)
        commit = Commit("init", None, None, None, add=add, time=time.time(), node="store")
        net_key = connection.keys.net
        ops, _ = self._operations(commit)
        change = self._records.change_record(commit, self._lease.next_id())
        ops.append(self.put(connection.keys.change, dumps(change).encode()))
        ops.insert(0, rpc.RequestOp(request_put=rpc.PutRequest(
            key=net_key, value=dumps(definition).encode())))
        absent = rpc.Compare(key=net_key, target=rpc.Compare.CREATE, result=rpc.Compare.EQUAL,
                             create_revision=0)
        request = rpc.TxnRequest(
            compare=[absent], success=ops,
            failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=net_key))])
        if len(ops) > self.max_txn_ops or request.ByteSize() + 1024 > self.max_request_bytes:
            return await self._publish_in_parts(net, commit, ops)
        reply = await connection.call(connection.kv.Txn, request)  # refused or lost: connect again
        if reply.succeeded:
            return None
        return json.loads(reply.responses[0].response_range.kvs[0].value)  # type: ignore[no-any-return]

    async def _publish_in_parts(self, net: Net, commit: Commit,
                                ops: list[Any]) -> dict[str, Any] | None:
        """``publish`` for an initial marking too big for one transaction (``ops``: the net
        key first, the change record last, the token and place keys between)."""
        connection, rpc = self._connection, self._connection.rpc
        keys = connection.keys
        lock = keys.start + b"publishing"
        lease = await self._lease.ensure()
        compare = rpc.Compare
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lease.ttl + 2 * connection.timeout
        while True:  # take the lock (clearing what a dead publisher left), or wait for the net
            request = rpc.TxnRequest(
                compare=[compare(key=keys.net, target=compare.CREATE, result=compare.EQUAL,
                                 create_revision=0),
                         compare(key=lock, target=compare.CREATE, result=compare.EQUAL,
                                 create_revision=0)],
                success=[rpc.RequestOp(request_put=rpc.PutRequest(key=lock, value=b"", lease=lease)),
                         *(rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(
                             key=keys.start + part, range_end=range_end(keys.start + part)))
                           for part in (b"places/", b"firings/"))],
                failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=keys.net))])
            reply = await connection.call(connection.kv.Txn, request)
            if reply.succeeded:
                held = reply.header.revision
                break
            stored = reply.responses[0].response_range.kvs
            if stored:
                return json.loads(stored[0].value)  # type: ignore[no-any-return]
            if loop.time() > deadline:
                raise StoreError(f"publishing net {net.name!r}: another runner has been publishing "
                                 f"it under {keys.prefix!r} for too long")
            await asyncio.sleep(0.05)
        mine = compare(key=lock, target=compare.CREATE, result=compare.EQUAL, create_revision=held)
        body, first, last = ops[1:-1], ops[0], ops[-1]
        size = max(1, self.max_txn_ops - 2)
        part: list[Any] = []
        for op in [*body, None]:
            request = rpc.TxnRequest(compare=[mine], success=part)
            if op is None or len(part) == size or (
                    part and request.ByteSize() + op.ByteSize() + 1024 > self.max_request_bytes):
                if part and not (await connection.call(connection.kv.Txn, request)).succeeded:
                    raise StoreError(f"publishing net {net.name!r}: lost the publishing lock "
                                     "(the lease expired); connect again")
                part = []
            if op is not None:
                part.append(op)
                self._limit(rpc.TxnRequest(compare=[mine], success=part), commit, len(part),
                            f"publishing net {net.name!r}")
        done = rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=lock))
        request = rpc.TxnRequest(compare=[mine], success=[first, last, done])
        self._limit(request, commit, 3, f"publishing net {net.name!r}")
        if not (await connection.call(connection.kv.Txn, request)).succeeded:
            raise StoreError(f"publishing net {net.name!r}: lost the publishing lock (the lease "
                             "expired); connect again")
        return None

    async def write(self, commit: Commit, places: frozenset[str]) -> tuple[int, int, int]:
        """Write ``commit`` (whose places are among ``places``): its revision, and its part
        among the ``parts`` commits written in the same transaction."""
        keys = self._connection.keys
        for attempt in itertools.count():
            index = await self._token_index() if commit.kind in ("put", "init") and commit.add else None
            checks = self._checks(commit, places, index)
            if commit.kind in ("finish", "return"):
                held = await self._record(commit)
                checks.append(Check(keys.firing(commit), "value", "==", held, StoreError,
                                    f"{where(commit)}: no such running firing"))
            commit_id = self._lease.next_id()
            ops, record = self._operations(commit)
            pending = Pending(commit, checks, ops, self._records.change_record(commit, commit_id),
                              commit_id)
            try:
                if index is None and commit.fence is not None and commit.kind in _BATCHED:
                    revision, part, parts = await self.batches.write(pending)
                else:
                    revision, part, parts = await self.alone(pending), 0, 1
            except _Retry:
                if attempt < 5:
                    continue
                raise ConflictError(f"{where(commit)}: the net kept changing; try again") from None
            break
        if commit.kind == "start":
            self._leaders.remember(commit.firing, commit.region, record)  # type: ignore[arg-type]
        elif commit.kind in ("finish", "return"):
            self._leaders.forget(commit.firing)  # type: ignore[arg-type]
        return revision, part, parts

    async def alone(self, pending: Pending) -> int:
        """Write one commit as a transaction of its own; its revision."""
        commit = pending.commit
        ops = [*pending.ops, self.put(self._connection.keys.change, dumps(pending.change).encode())]
        request = self._request(commit, pending.checks, ops)
        return await self.send(request, pending.commit_id, where(commit),
                               lambda reply: self._diagnose(reply, pending.checks, commit))

    # -- building --------------------------------------------------------------------------------

    async def _token_index(self) -> tuple[dict[str, str], int]:
        """token id -> place of every stored token (for a put, whose ids come from outside),
        and the revision of the last change (the put compares that nothing changed since)."""
        keys = self._connection.keys
        reply = await self._connection.range(keys.change, keys.start + b"places0", keys_only=True)
        n = len(keys.start)
        index, last = {}, 0
        for kv in reply.kvs:
            parts = kv.key[n:].decode().split("/")
            if parts[0] == "change":
                last = kv.mod_revision
            elif len(parts) == 4 and parts[2] == "tokens":
                index[parts[3]] = parts[1]
        return index, last

    async def _record(self, commit: Commit) -> bytes:
        """The stored firing record a finish/return must match (cached from our own start)."""
        record = self._leaders.recorded(commit.firing)  # type: ignore[arg-type]
        if record is None:
            reply = await self._connection.range(self._connection.keys.firing(commit))
            if not reply.kvs:
                raise StoreError(f"{where(commit)}: no such running firing")
            record = reply.kvs[0].value
        held = [tuple(pair) for pair in json.loads(record)["taken"]]
        listed = commit.remove + commit.release
        if len(listed) != len(held) or set(listed) != set(held):
            raise StoreError(
                f"{where(commit)}: must remove or release exactly the tokens it holds "
                f"({', '.join(t for _, t in held)})")
        return record  # type: ignore[no-any-return]

    def _fence(self, commit: Commit) -> list[Check]:
        """The compare that the writer still leads its region (none for an unfenced commit)."""
        fence = commit.fence
        if fence is None:
            return []
        lost = (f"node {commit.node!r} no longer leads region {fence.region!r}; "
                f"its {where(commit)} was not written")
        key = self._leaders.key(fence)
        if key is None:
            raise FencingError(lost)
        if not self._lease.fresh():
            self._leaders.lose_all("the lease renewal is overdue")
            raise FencingError(f"node {commit.node!r} cannot renew its lease, so it may no longer "
                               f"lead region {fence.region!r}; its {where(commit)} was not written")
        return [Check(key, "create", "==", fence.fence, FencingError, lost)]

    def _checks(self, commit: Commit, places: frozenset[str],
                index: tuple[dict[str, str], int] | None) -> list[Check]:
        """The compares of ``commit``, after the checks that need no etcd (as State.check)."""
        keys = self._connection.keys
        at = where(commit)
        checks = self._fence(commit)
        if commit.kind == "control":
            return checks + self._control_checks(commit)
        if commit.kind == "migrate":
            return checks + self._migration_checks(commit, places)
        for place, rev in commit.expect:
            if place not in places:
                raise ConflictError(f"place {place!r} changed (revision None, expected {rev}) "
                                    f"while transition {commit.transition!r} was being checked")
            checks.append(Check(keys.rev(place), "mod", "==", rev,
                                ConflictError, f"place {place!r} changed (expected revision "
                                f"{rev}) while transition {commit.transition!r} was being checked"))
        listed = [*commit.take, *commit.remove, *commit.release]
        for place, token_id in (*listed, *((p, t.id) for p, t in commit.add)):
            if place not in places:
                raise StoreError(f"{at}: unknown place {place!r}")
            if "/" in token_id or not token_id:
                raise StoreError(f"{at}: token id {token_id!r} may not be empty or contain '/'")
        if len({token for _, token in listed}) != len(listed):
            raise StoreError(f"{at}: a token is listed twice in take/remove/release")
        kind = commit.kind
        if kind in ("start", "finish", "return") and (not commit.firing or "/" in commit.firing):
            raise StoreError(f"{at}: needs a firing id without '/'")
        if commit.release and kind not in ("finish", "return"):
            raise StoreError(f"{at}: only a finish or a return releases tokens")
        if kind == "start":
            checks.append(Check(keys.firing(commit), "version", "==", 0, StoreError,
                                f"{at}: firing id already in use"))
        # tokens that must be free: taken ones, and removed ones unless the firing holds them
        free = commit.take if kind in ("finish", "return") else (*commit.take, *commit.remove)
        for place, token_id in free:
            busy = f"{at}: token {token_id!r} is not free in {place!r}"
            checks.append(Check(keys.token(place, token_id), "version", ">", 0, ConflictError, busy))
            checks.append(Check(keys.taken(place, token_id), "version", "==", 0, ConflictError, busy))
        removed = {token for _, token in commit.remove}
        existing = index[0] if index is not None else None
        fresh: set[str] = set()
        for place, token in commit.add:
            if token.id in fresh:
                raise StoreError(f"{at}: token {token.id!r} is added twice")
            fresh.add(token.id)
            if token.id in removed:
                continue
            if existing is not None:
                if token.id in existing:
                    raise StoreError(f"{at}: token {token.id!r} is already in {existing[token.id]!r}")
            else:
                checks.append(Check(keys.token(place, token.id), "version", "==", 0, StoreError,
                                    f"{at}: token {token.id!r} would be in {place!r} twice"))
        if index is not None:  # nothing changed since the ids were looked up
            checks.append(Check(keys.change, "mod", "==", index[1], _Retry,
                                f"{at}: the net changed meanwhile"))
        return checks

    def _migration_checks(self, commit: Commit, places: frozenset[str]) -> list[Check]:
        """A migration compares that the definition is the one it was planned on and that the
        places it drops hold no tokens."""
        keys = self._connection.keys
        note = commit.note or {}
        if not isinstance(note.get("definition"), dict) or not isinstance(note.get("revision"), int):
            raise StoreError("migrate: needs note={'definition': ..., 'revision': n}")
        checks = [Check(keys.net, "mod", "==", note["revision"], ConflictError,
                        "migrate: the stored net definition changed meanwhile; plan again")]
        kept = {p["name"] for p in note["definition"]["places"]}
        for place in sorted(note.get("dropped", ())):
            start = f"{keys.prefix}places/{place}/tokens/".encode()
            checks.append(Check(start, "version", "==", 0, StoreError,
                                f"migrate: place {place!r} is not in the new net but holds tokens",
                                end=range_end(start)))
        for place, token in commit.add:
            if place not in kept:
                raise StoreError(f"migrate: place {place!r} is not in the new net")
            checks.append(Check(keys.token(place, token.id), "version", "==", 0, StoreError,
                                f"migrate: token {token.id!r} exists already"))
        return checks

    def _control_checks(self, commit: Commit) -> list[Check]:
        """The compares of a control change (as ``State.check`` does for the memory store)."""
        State.check_control(commit)
        note = commit.note
        if note["action"] == "cancel":  # nothing standing: the change record is all
            return []
        key = self._connection.keys.control(note)
        if note["action"] == "request":
            return [Check(key, "version", "==", 0, StoreError,
                          f"control: request {note['id']!r} exists already")]
        if note["action"] in ("answer", "withdraw"):
            return [Check(key, "version", ">", 0, ConflictError,
                          f"control: no waiting request {note['id']!r} (answered or withdrawn "
                          "already)")]
        return []

    def put(self, key: bytes, value: bytes) -> Any:
        rpc = self._connection.rpc
        return rpc.RequestOp(request_put=rpc.PutRequest(key=key, value=value))

    def _operations(self, commit: Commit) -> tuple[list[Any], bytes]:
        """The operations of ``commit`` but its change record, and a start's firing record."""
        rpc, keys, records = self._connection.rpc, self._connection.keys, self._records
        writes: dict[bytes, bytes | None] = {}
        kind = commit.kind
        holds = kind in ("finish", "return")
        firing_value = b""
        for place, token_id in commit.take:
            writes[keys.taken(place, token_id)] = commit.firing.encode()  # type: ignore[union-attr]
        for place, token_id in commit.release:
            writes[keys.taken(place, token_id)] = None
        for place, token_id in commit.remove:
            if holds:
                writes[keys.taken(place, token_id)] = None
            writes[keys.token(place, token_id)] = None
        for seq, (place, token) in enumerate(commit.add):
            writes[keys.token(place, token.id)] = records.token_value(token, seq, commit)
        if kind == "start":
            firing_value = records.firing_value(commit)
            writes[keys.firing(commit)] = firing_value
        elif holds:
            writes[keys.firing(commit)] = None
        if kind == "migrate":
            writes[keys.net] = dumps(commit.note["definition"]).encode()
            for place in commit.note.get("dropped", ()):
                writes[keys.rev(place)] = None
        if kind == "control" and commit.note["action"] != "cancel":
            note = commit.note
            writes[keys.control(note)] = (
                dumps(dict(note, by=commit.node, time=commit.time)).encode()
                if note["action"] in ("block", "request") else None)
        touched = dict.fromkeys(p for pairs in (commit.take, commit.remove, commit.release)
                                for p, _ in pairs)
        touched.update(dict.fromkeys(p for p, _ in commit.add))
        ops = [rpc.RequestOp(request_put=rpc.PutRequest(key=key, value=value)) if value is not None
               else rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key))
               for key, value in writes.items()]
        revs = self._revs  # a place's revision key is put with no value: the same op each time
        for place in touched:
            op = revs.get(place)
            if op is None:
                op = revs[place] = rpc.RequestOp(request_put=rpc.PutRequest(key=keys.rev(place)))
            ops.append(op)
        return ops, firing_value

    def compares(self, checks: list[Check]) -> list[Any]:
        """The etcd compares of ``checks``."""
        rpc = self._connection.rpc
        compare, targets = rpc.Compare, {"version": rpc.Compare.VERSION, "create": rpc.Compare.CREATE,
                                         "mod": rpc.Compare.MOD, "value": rpc.Compare.VALUE}
        results = {"==": rpc.Compare.EQUAL, ">": rpc.Compare.GREATER}
        compares = []
        for check in checks:
            c = compare(key=check.key, target=targets[check.target], result=results[check.op])
            setattr(c, _FIELDS[check.target], check.value)
            if check.end is not None:
                c.range_end = check.end
            compares.append(c)
        return compares

    def _request(self, commit: Commit, checks: list[Check], ops: list[Any]) -> Any:
        rpc = self._connection.rpc
        compares = self.compares(checks)
        keys = list(dict.fromkeys(check.key for check in checks))
        failure = [rpc.RequestOp(request_range=rpc.RangeRequest(key=key)) for key in keys]
        request = rpc.TxnRequest(compare=compares, success=ops, failure=failure)
        self._limit(request, commit, max(len(compares), len(ops)), where(commit))
        return request

    def _limit(self, request: Any, commit: Commit, count: int, at: str) -> None:
        if count > self.max_txn_ops:
            raise StoreError(
                f"{at}: needs {count} operations in one etcd transaction, more than the "
                f"{self.max_txn_ops} etcd allows ({len(commit.take)} taken, {len(commit.remove)} "
                f"removed, {len(commit.release)} released, {len(commit.add)} added tokens); move "
                "fewer tokens at once, or raise etcd's --max-txn-ops and EtcdStore(max_txn_ops=)")
        size = request.ByteSize()
        if size + 1024 > self.max_request_bytes:
            biggest = max(commit.add, key=lambda pair: len(dumps(pair[1].data)), default=None)
            detail = (f"; the largest token is {biggest[1].id!r} in {biggest[0]!r} "
                      f"({len(dumps(biggest[1].data))} bytes)" if biggest else "")
            raise StoreError(
                f"{at}: the etcd request would be {size} bytes, over etcd's limit of "
                f"{self.max_request_bytes}{detail}; keep big data outside tokens, or raise etcd's "
                "--max-request-bytes and EtcdStore(max_request_bytes=)")

    # -- sending and settling --------------------------------------------------------------------

    async def send(self, request: Any, commit_id: str, at: str,
                   refused: Callable[[Any], NoReturn]) -> int:
        """Send the transaction once; if the reply is lost, find out whether it was written
        before sending it again (a duplicate would fail its compares). ``commit_id`` is in its
        change record, ``at`` says what it writes, ``refused(reply)`` raises the error of a
        transaction whose compares failed."""
        connection = self._connection
        floor = connection.floor
        try:
            reply = await connection.call(connection.kv.Txn, request)
        except connection.rpc.AioRpcError as exc:
            if exc.code().name in _REFUSED:
                raise StoreError(f"{at}: etcd refused the commit: {exc.details()}") from None
            return await self._settle(request, commit_id, at, refused, floor, exc)
        if reply.succeeded:
            return reply.header.revision  # type: ignore[no-any-return]
        refused(reply)

    async def _settle(self, request: Any, commit_id: str, at: str,
                      refused: Callable[[Any], NoReturn], floor: int, error: BaseException) -> int:
        connection = self._connection
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(self._lease.ttl, 2 * connection.timeout)
        delay = 0.05
        _LOGGER.warning("the reply to %s was lost (%s); checking whether it was written",
                        at, details(error))
        while loop.time() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
            try:
                revision = await self._find(commit_id, floor)
                if revision is None:
                    reply = await connection.call(connection.kv.Txn, request)
                    if reply.succeeded:
                        return reply.header.revision  # type: ignore[no-any-return]
                    revision = await self._find(commit_id, floor)
                    if revision is None:
                        refused(reply)
                return revision
            except connection.rpc.AioRpcError as exc:
                error = exc
        raise UnavailableError(f"{at}: etcd at {connection.endpoints} did not answer; whether "
                         f"the commit was written is unknown ({details(error)})")

    async def _find(self, commit_id: str, floor: int) -> int | None:
        """The revision of the change record ``commit_id`` written after ``floor``, if any."""
        connection = self._connection
        key = connection.keys.change
        reply = await connection.range(key)
        if not reply.kvs or reply.kvs[0].mod_revision <= floor:
            return None
        last = reply.kvs[0].mod_revision
        needle = f'"id":"{commit_id}"'.encode()
        async with contextlib.aclosing(connection.watch(key, None, floor + 1)) as responses:
            async for response in responses:
                for event in response.events:
                    if needle in event.kv.value:
                        return event.kv.mod_revision  # type: ignore[no-any-return]
                if response.events[-1].kv.mod_revision >= last:
                    return None
        return None

    def _diagnose(self, reply: Any, checks: list[Check], commit: Commit) -> NoReturn:
        """Raise the error of the first compare that failed (etcd answered the failure branch
        with a read of every compared key)."""
        keys = list(dict.fromkeys(check.key for check in checks))
        found = {}
        for key, response in zip(keys, reply.responses):
            kvs = response.response_range.kvs
            found[key] = kvs[0] if kvs else None
        for check in checks:
            if not check.holds(found.get(check.key)):
                if check.error is FencingError and commit.fence is not None:
                    self._leaders.lose(commit.fence.region)
                raise check.error(check.message)
        raise ConflictError(f"{where(commit)}: the store changed meanwhile")
