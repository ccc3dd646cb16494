"""Group commit: firing commits that wait while a transaction is on its way go to etcd
together, as one transaction, when they touch disjoint places.

A commit that finds no transaction of this store on its way is sent at once, alone (one ring:
no waiting, no batching). Commits that come meanwhile queue up; when the transaction on its
way returns, the queued ones whose places are disjoint go out together, as many as etcd's
limits allow (operations per transaction, request size): their compares all together, their
operations all together, and one change record listing them in order. One etcd revision then
holds several changes (``Change.part`` of ``Change.parts``). Up to two transactions are on
their way at once (the second only with a full batch). A commit whose places overlap a
transaction on its way or an earlier queued commit waits, so commits on one place are written
in the order they came.

A commit whose writer gives up (its task is cancelled) while it waits in the queue is not
written. If the transaction of a batch is refused (a compare failed: one of the commits
conflicts or lost its leadership), nothing of it was written: its commits are sent again one
by one, each alone, so that each gets its own answer and error. A lost reply is settled as
for a single commit, by looking for the batch's change record.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any, NoReturn

from ...errors import StoreError, UnavailableError
from ...state import Commit
from .records import dumps, where

if TYPE_CHECKING:
    from .transactions import Check, Transactions

__all__ = ["Batches", "Pending"]

#: room left in a batch's request for what the estimate of its size leaves out
_MARGIN = 64 * 1024


class Pending:
    """One commit ready to be written: its compares, its operations (without the change
    record), its change record and its id."""

    __slots__ = ("change", "checks", "commit", "commit_id", "future", "ops", "places")

    def __init__(self, commit: Commit, checks: list[Check], ops: list[Any],
                 change: dict[str, Any], commit_id: str) -> None:
        self.commit, self.checks, self.ops = commit, checks, ops
        self.change, self.commit_id = change, commit_id
        self.places = {place for pairs in (commit.take, commit.remove, commit.release,
                                           commit.add, commit.expect) for place, _ in pairs}
        self.future: asyncio.Future[tuple[int, int, int]] | None = None

    def size(self) -> int:
        """About how many bytes this commit adds to a transaction (its change record is
        estimated, not encoded twice: ids and names are short)."""
        commit = self.commit
        pairs = len(commit.take) + len(commit.remove) + len(commit.release) + len(commit.add)
        return (sum(op.ByteSize() for op in self.ops) + 256 + 128 * pairs
                + (len(dumps(commit.note)) if commit.note is not None else 0)
                + sum(len(check.key) + 32 for check in self.checks))


class _Refused(Exception):
    """A batch's transaction was not written (a compare failed, or etcd refused it)."""


class Batches:
    """Writes the firing commits of one store, batching those that wait (see the module).

    Parameters
    ----------
    transactions
        The store's transactions: how to write one commit alone, build compares, send.
    """

    def __init__(self, transactions: Transactions, in_flight: int = 2) -> None:
        self._transactions = transactions
        self._queue: deque[Pending] = deque()
        self._in_flight = in_flight
        self._flying = 0
        self._on_the_way: list[set[str]] = []  # the places of the transactions on their way
        self._queued_ops = 0  # operations of the queued commits: a full batch need not wait
        self._tasks: set[asyncio.Task[None]] = set()  # the batches on their way
        #: (transactions, commits) written so far in batches of more than one (for benches)
        self.batched = (0, 0)

    async def write(self, pending: Pending) -> tuple[int, int, int]:
        """Write ``pending`` alone or with others: its revision, part and parts."""
        if not self._flying and not self._queue:
            self._flying += 1
            self._on_the_way.append(pending.places)
            try:
                return await self._transactions.alone(pending), 0, 1
            finally:
                self._flying -= 1
                self._on_the_way.remove(pending.places)
                self._next()
        pending.future = asyncio.get_running_loop().create_future()
        self._queue.append(pending)
        self._queued_ops += len(pending.ops)
        self._next()
        return await pending.future

    def _next(self) -> None:
        """Send what queued up meanwhile, in a task of its own: at once when nothing is on
        its way or a full batch waits; else when the transaction on its way returns."""
        if not self._queue or self._flying >= self._in_flight or (
                self._flying and self._queued_ops < self._transactions.max_txn_ops):
            return
        group = self._take()
        if group:  # else each waits for a place of a transaction on its way
            places = set().union(*(pending.places for pending in group))
            self._flying += 1
            self._on_the_way.append(places)
            task = asyncio.get_running_loop().create_task(self._flush(group, places))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _take(self) -> list[Pending]:
        """The queued commits that go together: disjoint places, within etcd's limits."""
        transactions = self._transactions
        limit, room = transactions.max_txn_ops, transactions.max_request_bytes - _MARGIN
        group: list[Pending] = []
        left: deque[Pending] = deque()
        used: set[str] = set()
        # places of transactions on their way and of commits left waiting: commits on them wait
        held: set[str] = set().union(*self._on_the_way)
        ops = compares = size = 0
        for pending in self._queue:
            if pending.future.cancelled():  # type: ignore[union-attr]
                continue  # its writer gave up before it was sent: it is not written
            places = pending.places
            fits = group and (ops + len(pending.ops) + 1 > limit
                              or compares + len(pending.checks) > limit)
            if places & used or places & held or fits:
                held |= places
                left.append(pending)
                continue
            cost = pending.size()
            if group and size + cost > room:
                held |= places
                left.append(pending)
                continue
            group.append(pending)
            used |= places
            ops += len(pending.ops)
            compares += len(pending.checks)
            size += cost
        self._queue = left
        self._queued_ops = sum(len(pending.ops) for pending in left)
        return group

    async def _flush(self, group: list[Pending], places: set[str]) -> None:
        try:
            if len(group) == 1:
                await self._settle(group[0], self._transactions.alone(group[0]), 0, 1)
                return
            try:
                revision = await self._together(group)
            except _Refused:
                for pending in group:  # nothing was written: each alone, for its own answer
                    await self._settle(pending, self._transactions.alone(pending), 0, 1)
                return
            except Exception as exc:  # unknown outcome (etcd unreachable): all alike
                for pending in group:
                    if not pending.future.done():  # type: ignore[union-attr]
                        pending.future.set_exception(exc)  # type: ignore[union-attr]
                return
            self.batched = (self.batched[0] + 1, self.batched[1] + len(group))
            for part, pending in enumerate(group):
                if not pending.future.done():  # type: ignore[union-attr]
                    pending.future.set_result((revision, part, len(group)))  # type: ignore[union-attr]
        except asyncio.CancelledError:  # the loop is closing: nobody gets an answer
            for pending in group:
                pending.future.cancel()  # type: ignore[union-attr]
            raise
        finally:
            self._flying -= 1
            self._on_the_way.remove(places)
            self._next()

    @staticmethod
    async def _settle(pending: Pending, writing: Any, part: int, parts: int) -> None:
        future = pending.future
        try:
            revision = await writing
        except Exception as exc:
            if not future.done():  # type: ignore[union-attr]
                future.set_exception(exc)  # type: ignore[union-attr]
            return
        if not future.done():  # type: ignore[union-attr]
            future.set_result((revision, part, parts))  # type: ignore[union-attr]

    async def _together(self, group: list[Pending]) -> int:
        """Write ``group`` as one transaction; raises :class:`_Refused` if it was not."""
        transactions = self._transactions
        rpc = transactions.connection.rpc
        unique: dict[tuple[Any, ...], Check] = {}
        for pending in group:
            for check in pending.checks:
                unique.setdefault((check.key, check.target, check.op, check.value, check.end),
                                  check)
        ops = [op for pending in group for op in pending.ops]
        ops.append(transactions.put(transactions.connection.keys.change,
                                    dumps([pending.change for pending in group]).encode()))
        request = rpc.TxnRequest(compare=transactions.compares(list(unique.values())),
                                 success=ops)
        if request.ByteSize() + 1024 > transactions.max_request_bytes:
            raise _Refused  # the estimate was wrong: each alone then
        at = f"{len(group)} commits written together ({where(group[0].commit)}, ...)"

        def refused(reply: Any) -> NoReturn:
            raise _Refused

        try:
            return await transactions.send(request, group[0].commit_id, at, refused)
        except UnavailableError:
            raise  # whether it was written is unknown
        except StoreError as exc:  # etcd refused the request as such
            raise _Refused from exc
