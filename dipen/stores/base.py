"""The Store protocol: what the engine needs from wherever the net's state lives.

A store holds one net's definition and state and hands out :class:`~dipen.state.Change`
records, numbered by revision. The engine only ever

- connects (publishing the net or checking that the stored one matches),
- reads a snapshot and subscribes to the changes after its revision,
- campaigns for the leadership of a region (its fencing token goes into every write),
- commits atomic start / finish / return / put steps, each all-or-nothing,
- asks for fresh token and firing ids.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..clock import Coordinator
from ..errors import StoreError
from ..state import Change, Commit, State
from ..tokens import JsonCodec, Marking

if TYPE_CHECKING:
    from ..net import Net

__all__ = ["Leadership", "Store", "net_differences"]


class Leadership:
    """A runner's leadership of one region; ``fence`` is the fencing token every write carries.

    ``lost`` turns true when the store takes the leadership away (lease expired, deposed,
    store closed); then ``on_lost`` (set by the runner) is called, once.
    """

    __slots__ = ("fence", "lost", "node", "on_lost", "region")

    def __init__(self, region: str, node: str, fence: int) -> None:
        self.region = region
        self.node = node
        self.fence = fence
        self.lost = False
        self.on_lost: Callable[[], None] | None = None

    def taken_away(self) -> None:
        """The store took this leadership away: mark it lost and tell its runner."""
        if self.lost:
            return
        self.lost = True
        if self.on_lost is not None:
            self.on_lost()

    def __repr__(self) -> str:
        state = "lost" if self.lost else "held"
        return f"Leadership(region={self.region!r}, node={self.node!r}, fence={self.fence}, {state})"


class Store(abc.ABC):
    """Base class of the stores. ``coordinator`` knows the runners of this process that use it.

    dipen has two: :class:`dipen.MemoryStore` (in this process) and :class:`dipen.EtcdStore`
    (etcd, for runners on several machines). Runners use a store through this protocol; the
    same behavioural tests run on both.

    Examples
    --------
    >>> isinstance(dipen.MemoryStore(), dipen.Store)
    True
    >>> sorted(dipen.Store.__abstractmethods__)[:4]
    ['campaign', 'changes', 'commit', 'connect']
    """

    codec: Any = JsonCodec()

    def __init__(self) -> None:
        self.coordinator = Coordinator()
        #: set by :meth:`close`: runners still using the store stop (reason ``"stopped"``)
        self.closed = False

    @abc.abstractmethod
    async def connect(self, net: Net) -> None:
        """Publish ``net`` (with its initial marking) or check that the stored net matches it.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> store = dipen.MemoryStore()
        >>> asyncio.run(store.connect(net))
        >>> asyncio.run(store.marking()).counts()
        {'a': 1, 'b': 0}
        """

    @abc.abstractmethod
    async def snapshot(self) -> State:
        """A private copy of the current state (its ``revision`` says which).

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> store = dipen.MemoryStore()
        >>> asyncio.run(store.connect(net))
        >>> state = asyncio.run(store.snapshot())
        >>> state.revision, state.marking().counts()
        (1, {'a': 1, 'b': 0})
        """

    @abc.abstractmethod
    def subscribe(
        self, callback: Callable[[Change], None], after: int,
        on_error: Callable[[StoreError], None] | None = None,
    ) -> Callable[[], None]:
        """Call ``callback`` with every change after revision ``after``, in order; returns a
        function that unsubscribes.

        ``on_error`` hears of trouble on the way: a :class:`~dipen.StoreError` for a break that
        the store bridged (changes still arrive, in order, without a gap), and a
        :class:`~dipen.CompactedError` when the revisions needed are gone — then the
        subscription has ended and the subscriber reloads a snapshot.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> store = dipen.MemoryStore()
        >>> seen = []
        >>> async def watch():
        ...     await store.connect(net)
        ...     unsubscribe = store.subscribe(lambda change: seen.append(change.kind), after=1)
        ...     await dipen.Runner(net, store=store).run()
        ...     unsubscribe()
        >>> asyncio.run(watch())
        >>> seen
        ['fire']
        """

    @abc.abstractmethod
    async def campaign(
        self, region: str, node: str, on_wait: Callable[[], None] | None = None
    ) -> Leadership:
        """Wait until ``node`` leads ``region``; ``on_wait()`` is called if it has to wait for
        another leader (it is a standby).

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> store = dipen.MemoryStore()
        >>> async def lead():
        ...     await store.connect(net)
        ...     leadership = await store.campaign("default", "node-1")
        ...     leaders = await store.leaders()
        ...     await store.resign(leadership)
        ...     return leadership, leaders, await store.leaders()
        >>> asyncio.run(lead())
        (Leadership(region='default', node='node-1', fence=1, ...), {'default': ('node-1', 1)}, {})
        """

    @abc.abstractmethod
    async def resign(self, leadership: Leadership) -> None:
        """Give up a leadership (the next standby takes over).

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> store = dipen.MemoryStore()
        >>> async def lead_and_resign():
        ...     await store.connect(net)
        ...     await store.resign(await store.campaign("default", "node-1"))
        ...     return await store.leaders()
        >>> asyncio.run(lead_and_resign())
        {}
        """

    @abc.abstractmethod
    async def commit(self, commit: Commit) -> Change:
        """Write ``commit`` atomically, or raise and write nothing.

        Runners build the commits (:class:`dipen.state.Commit`); a commit whose compare of
        place revisions fails raises :class:`~dipen.ConflictError`, one whose fence is no
        longer the leadership of its region :class:`~dipen.FencingError`.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> store = dipen.MemoryStore()
        >>> _ = dipen.Runner(net, store=store).run_sync()      # a start+finish commit: "fire"
        >>> [change.kind for change in asyncio.run(store.changes())]
        ['init', 'fire']
        """

    @abc.abstractmethod
    def new_token_id(self) -> str:
        """A token id no other token of this store has or will have.

        Examples
        --------
        >>> store = dipen.MemoryStore()
        >>> store.new_token_id() != store.new_token_id()
        True
        """

    @abc.abstractmethod
    def new_firing_id(self) -> str:
        """A firing id no other firing of this store has or will have.

        Examples
        --------
        >>> store = dipen.MemoryStore()
        >>> store.new_firing_id(), store.new_firing_id()
        ('f1', 'f2')
        """

    @abc.abstractmethod
    async def changes(self, since: int = 0, until: int | None = None) -> list[Change]:
        """The changes with ``since < revision <= until`` still in the store's history.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> store = dipen.MemoryStore()
        >>> _ = dipen.Runner(net, store=store).run_sync()
        >>> [(change.revision, change.kind) for change in asyncio.run(store.changes(since=1))]
        [(2, 'fire')]
        """

    async def definition(self) -> dict[str, Any]:
        """The stored net's definition (``Net.to_dict()``), so that tools that have no
        :class:`~dipen.Net` (``dipen ctl``, history readers) can work with the stored net.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> store = dipen.MemoryStore()
        >>> asyncio.run(store.connect(net))
        >>> definition = asyncio.run(store.definition())
        >>> definition["name"], [place["name"] for place in definition["places"]]
        ('n', ['a', 'b'])
        """
        raise StoreError(f"{type(self).__name__} cannot tell which net it holds")

    async def read_definition(self) -> tuple[dict[str, Any], int]:
        """The stored net's definition read afresh, and the revision a migration compares
        (it must still be the same when the migration is written).

        Examples
        --------
        >>> import asyncio
        >>> store = dipen.MemoryStore()
        >>> asyncio.run(store.connect(dipen.Net("n").place("a", tokens=1)))
        >>> definition, revision = asyncio.run(store.read_definition())
        >>> definition["name"], revision
        ('n', 0)
        """
        return await self.definition(), 0

    async def leaders(self) -> dict[str, tuple[str, int]]:
        """Who leads each region now: ``{region: (node, fence)}``.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> store = dipen.MemoryStore()
        >>> _ = dipen.Runner(net, store=store, node="worker-1").run_sync()
        >>> asyncio.run(store.leaders())
        {'default': ('worker-1', 1)}
        """
        return {}

    async def candidates(self) -> dict[str, list[tuple[str, int]]]:
        """Every region's campaigning nodes, leader first, then the standbys in the order they
        would take over: ``{region: [(node, fence), ...]}``.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> store = dipen.MemoryStore()
        >>> _ = dipen.Runner(net, store=store, node="worker-1").run_sync()
        >>> asyncio.run(store.candidates())
        {'default': [('worker-1', 1)]}
        """
        return {region: [leader] for region, leader in (await self.leaders()).items()}

    async def marking(self) -> Marking:
        """The current marking of the stored net."""
        return (await self.snapshot()).marking()

    async def close(self) -> None:
        """Release connections (nothing to do for stores without any).

        Examples
        --------
        >>> import asyncio
        >>> asyncio.run(dipen.MemoryStore().close())
        """


def net_differences(stored: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """What differs between two ``Net.to_dict()`` definitions, in words."""
    differences = []
    if stored.get("name") != given.get("name"):
        differences.append(f"net name {stored.get('name')!r} != {given.get('name')!r}")
    for section, label in (("places", "place"), ("transitions", "transition")):
        old = {item["name"]: item for item in stored.get(section, [])}
        new = {item["name"]: item for item in given.get(section, [])}
        for name in old.keys() - new.keys():
            differences.append(f"{label} {name!r} is stored but not in the given net")
        for name in new.keys() - old.keys():
            differences.append(f"{label} {name!r} is new (not in the stored net)")
        for name in old.keys() & new.keys():
            for key in old[name]:
                if key != "tokens" and old[name][key] != new[name].get(key):
                    differences.append(
                        f"{label} {name!r}: {key} {old[name][key]!r} != {new[name].get(key)!r}"
                    )
    return sorted(differences)
