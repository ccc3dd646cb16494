"""The in-process store: revisions, a full change history, leadership per region, fencing.

It is not a mock: several runners (regions) in one process can share one ``MemoryStore``
and see the same semantics the etcd store gives across machines. Every commit is checked
completely before anything is applied, so a refused commit changes nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import FencingError, NetMismatchError, RunnerError, StoreError
from ..state import Change, Commit, State
from ..tokens import Token
from .base import Leadership, Store, net_differences
from .changelog import ChangeLog

if TYPE_CHECKING:
    from ..net import Net

__all__ = ["MemoryStore"]

_new_change = tuple.__new__


class MemoryStore(Store):
    """State, history and leadership of one net, in this process.

    ``history`` bounds how many changes are kept (``None``: all of them); older revisions
    are compacted away as etcd would.

    Examples
    --------
    >>> store = dipen.MemoryStore()
    >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
    >>> a = dipen.Runner(net, store=store)
    >>> _ = a.run_sync()
    >>> store.marking_now().counts()
    {'a': 0, 'b': 2}
    """

    def __init__(self, history: int | None = None) -> None:
        super().__init__()
        if history is not None and history < 1:
            raise ValueError("history must be >= 1 or None")
        self._definition: dict | None = None  # type: ignore[type-arg]
        self._initial: dict[str, tuple] = {}  # type: ignore[type-arg]
        self._state: State | None = None
        self._history = ChangeLog(history)
        self._subscribers: list[Callable[[Change], None]] = []
        self._leaders: dict[str, Leadership] = {}
        self._waiting: dict[str, deque[tuple[asyncio.Future[Leadership], Leadership]]] = {}
        self._fences = itertools.count(1)
        self._token_ids = itertools.count(1)
        self._firing_ids = itertools.count(1)

    def __repr__(self) -> str:
        name = self._definition["name"] if self._definition else None
        revision = self._state.revision if self._state else 0
        return f"MemoryStore(net={name!r}, revision={revision})"

    # -- net and snapshot ------------------------------------------------------------------------

    async def connect(self, net: Net) -> None:
        self.connect_now(net)

    def connect_now(self, net: Net) -> None:
        """:meth:`connect` without awaiting (the memory store never waits).

        Examples
        --------
        >>> store = dipen.MemoryStore()
        >>> store.connect_now(dipen.Net("n").place("a", tokens=2))
        >>> store.marking_now().counts()
        {'a': 2}
        """
        definition = net.to_dict()
        if self._definition is not None:
            differences = net_differences(self._definition, definition)
            if differences:
                raise NetMismatchError(
                    f"this MemoryStore holds net {self._definition['name']!r}, which differs "
                    f"from net {net.name!r}: " + "; ".join(differences)
                )
            return
        self._definition = definition
        self._initial = {name: place.initial for name, place in net.places.items()}
        self._state = State((name, place.capacity) for name, place in net.places.items())
        add = tuple(
            (name, Token(self.new_token_id(), data))
            for name, initial in self._initial.items()
            for data in initial
        )
        self._write(Commit("init", None, None, None, add=add, time=time.time(), node="store"))

    async def definition(self) -> dict:  # type: ignore[type-arg]
        self._require()
        return dict(self._definition)  # type: ignore[arg-type]

    def _require(self) -> State:
        if self._state is None:
            raise RunnerError("this MemoryStore holds no net yet; a runner connects it first")
        return self._state

    async def snapshot(self) -> State:
        return self._require().copy()

    def live(self) -> State:
        """The store's own state object, always current: runners in this process read it
        instead of keeping a replica (they never write to it).

        Examples
        --------
        >>> store = dipen.MemoryStore()
        >>> store.connect_now(dipen.Net("n").place("a", tokens=2))
        >>> store.live().revision
        1
        """
        return self._require()

    def marking_now(self):  # type: ignore[no-untyped-def]
        """The current marking, without awaiting.

        Examples
        --------
        >>> store = dipen.MemoryStore()
        >>> store.connect_now(dipen.Net("n").place("a", tokens=2))
        >>> store.marking_now().counts()
        {'a': 2}
        """
        return self._require().marking()

    @property
    def revision(self) -> int:
        """The revision of the last change (0 before any net is connected)."""
        return self._state.revision if self._state is not None else 0

    # -- changes ---------------------------------------------------------------------------------

    def subscribe(
        self, callback: Callable[[Change], None], after: int,
        on_error: Callable[[StoreError], None] | None = None,
    ) -> Callable[[], None]:
        # in one process nothing breaks between store and subscriber: on_error is never called
        for change in self._history.since(after):
            callback(change)
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    async def changes(self, since: int = 0, until: int | None = None) -> list[Change]:
        return self._history.since(since, until)

    async def commit(self, commit: Commit) -> Change:
        return self.commit_now(commit)

    def commit_now(self, commit: Commit) -> Change:
        """:meth:`commit` without awaiting (the memory store never waits).

        Examples
        --------
        >>> from dipen.state import Commit
        >>> store = dipen.MemoryStore()
        >>> store.connect_now(dipen.Net("n").place("a", tokens=1))
        >>> (token,) = store.marking_now()["a"]
        >>> change = store.commit_now(Commit("edit", None, None, None, remove=(("a", token.id),)))
        >>> change.revision, store.marking_now().counts()
        (2, {'a': 0})
        """
        fence = commit.fence
        if fence is not None and self._leaders.get(fence.region) is not fence:
            raise FencingError(
                f"node {commit.node!r} no longer leads region {fence.region!r}; "
                f"its {commit.kind} of transition {commit.transition!r} was not written"
            )
        return self._write(commit)

    def _write(self, commit: Commit) -> Change:
        state = self._state or self._require()
        change = state.move(commit)  # the commonest change, checked and applied in one
        if change is not None:
            self._history.append_move(change)
        else:
            state.check(commit)
            kind, firing, transition, region, take, remove, add, release, _, _, at, node, note = commit
            change = _new_change(Change, (state.revision + 1, at, node, kind, firing, transition,
                                          region, take, remove, add, release, note, 0, 1))
            state.apply(change)
            if kind == "migrate":
                self._definition = note["definition"]
                self._initial = {p["name"]: p["tokens"] for p in self._definition["places"]}  # type: ignore[index]
            self._history.append(change)
        for callback in self._subscribers:
            callback(change)
        return change

    def new_token_id(self) -> str:
        return f"t{next(self._token_ids)}"

    def new_firing_id(self) -> str:
        return f"f{next(self._firing_ids)}"

    def reset(self) -> None:
        """Put the net back to its initial marking (no firing may be running).

        Raises
        ------
        RunnerError
            If a firing is running or no net is connected.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> store = dipen.MemoryStore()
        >>> _ = dipen.Runner(net, store=store).run_sync()
        >>> store.reset()
        >>> store.marking_now().counts()
        {'a': 1, 'b': 0}
        """
        state = self._require()
        if state.firings:
            raise RunnerError(
                f"cannot reset while {len(state.firings)} firing(s) run "
                f"({', '.join(r.transition for r in state.firings.values())}); stop the runners first"
            )
        remove = tuple((name, token_id) for name, s in state.places.items() for token_id in s.free)
        add = tuple(
            (name, Token(self.new_token_id(), data))
            for name, initial in self._initial.items()
            for data in initial
        )
        self._write(Commit("put", None, None, None, remove=remove, add=add, time=time.time(),
                           node="store", note="reset"))

    # -- leadership ----------------------------------------------------------------------------

    async def campaign(
        self, region: str, node: str, on_wait: Callable[[], None] | None = None
    ) -> Leadership:
        leadership = Leadership(region, node, next(self._fences))
        if region not in self._leaders:
            self._leaders[region] = leadership
            return leadership
        future: asyncio.Future[Leadership] = asyncio.get_running_loop().create_future()
        queue = self._waiting.setdefault(region, deque())
        queue.append((future, leadership))
        if on_wait is not None:
            on_wait()
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release(future.result())
            else:
                queue.remove((future, leadership))
            raise

    async def leaders(self) -> dict[str, tuple[str, int]]:
        return {region: (lead.node, lead.fence) for region, lead in sorted(self._leaders.items())}

    async def candidates(self) -> dict[str, list[tuple[str, int]]]:
        found = {region: [(lead.node, lead.fence)] for region, lead in self._leaders.items()}
        for region, queue in self._waiting.items():
            for future, standby in queue:
                if not future.done():
                    found.setdefault(region, []).append((standby.node, standby.fence))
        return dict(sorted(found.items()))

    def leader(self, region: str) -> Leadership | None:
        """The current leadership of ``region``, or ``None``.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> store = dipen.MemoryStore()
        >>> store.leader("default") is None
        True
        >>> _ = dipen.Runner(net, store=store, node="worker-1").run_sync()
        >>> store.leader("default")
        Leadership(region='default', node='worker-1', fence=1, held)
        """
        return self._leaders.get(region)

    async def resign(self, leadership: Leadership) -> None:
        self._release(leadership)

    def depose(self, region: str) -> Leadership | None:
        """Take the leadership of ``region`` away, as an expired lease would (for tests and
        teaching failover); the next standby takes over. Returns the deposed leadership.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> store = dipen.MemoryStore()
        >>> _ = dipen.Runner(net, store=store, node="worker-1").run_sync()
        >>> store.depose("default")
        Leadership(region='default', node='worker-1', fence=1, lost)
        >>> store.leader("default") is None
        True
        """
        current = self._leaders.get(region)
        if current is not None:
            self._release(current)
            current.lost = False
            current.taken_away()
        return current

    def _release(self, leadership: Leadership) -> None:
        leadership.lost = True
        region = leadership.region
        if self._leaders.get(region) is not leadership:
            return
        del self._leaders[region]
        queue = self._waiting.get(region)
        while queue:
            future, successor = queue.popleft()
            if not future.done():
                self._leaders[region] = successor
                future.set_result(successor)
                return
