"""Fixtures shared by the behavioural tests: one suite, every store.

``store_factory`` makes fresh stores of one kind:

- ``memory``: the embedded default, read live by the runners in this process;
- ``replica``: a memory store that hides its live state and delivers its changes later
  through the event loop, as a watch would, so that runners keep their own replica and
  wait for their own writes (the code path the etcd store uses);
- ``etcd``: a real etcd server, started by the tests themselves (``dipen.local_etcd``), one
  fresh prefix per store.

``store_factory()`` is a new store; ``store_factory.peer(store)`` is a second client of the
same store (what another runner process would open); ``store_factory.crash(store, region)``
makes the leadership held through ``store`` vanish as if its runner had died.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable, Iterator

import pytest

import dipen
from dipen.notebook import run_blocking
from dipen.state import Change


class ReplicaMemoryStore(dipen.MemoryStore):
    """A MemoryStore seen the way a remote store is: snapshots, a watch, awaited commits."""

    live = None  # type: ignore[assignment]  # no shared state: runners keep replicas
    commit_now = None  # type: ignore[assignment]

    async def commit(self, commit):  # type: ignore[override]
        await asyncio.sleep(0)  # a round trip
        return dipen.MemoryStore.commit_now(self, commit)

    def subscribe(self, callback: Callable[[Change], None], after: int, on_error=None):  # type: ignore[override]
        def later(change: Change) -> None:
            try:
                asyncio.get_running_loop().call_soon(callback, change)
            except RuntimeError:  # no loop (a synchronous reader): deliver at once
                callback(change)

        return super().subscribe(later, after, on_error)


class Stores:
    """Makes the stores of one kind for a test and closes them afterwards."""

    def __init__(self, kind: str, endpoints: list[str] | None = None) -> None:
        self.kind = kind
        self.endpoints = endpoints
        self.made: list[dipen.Store] = []
        self._count = itertools.count()

    def __call__(self) -> dipen.Store:
        if self.kind == "memory":
            store: dipen.Store = dipen.MemoryStore()
        elif self.kind == "replica":
            store = ReplicaMemoryStore()
        else:
            prefix = f"dipen-test/{uuid.uuid4().hex[:12]}-{next(self._count)}/"
            store = dipen.EtcdStore(self.endpoints, prefix=prefix, lease_ttl=5)
        self.made.append(store)
        return store

    def peer(self, store: dipen.Store) -> dipen.Store:
        if not isinstance(store, dipen.EtcdStore):
            return store  # one memory store serves every runner of the process
        twin = dipen.EtcdStore(self.endpoints, prefix=store.prefix, lease_ttl=5)
        self.made.append(twin)
        return twin

    async def crash(self, store: dipen.Store, region: str) -> None:
        if isinstance(store, dipen.EtcdStore):
            await store._leasing.revoke()  # its leader keys vanish, as when a runner dies
        else:
            store.depose(region)  # type: ignore[attr-defined]

    def close(self) -> None:
        for store in self.made:
            if isinstance(store, dipen.EtcdStore):
                run_blocking(store.close())


STORE_KINDS = ["memory", "replica", "etcd"]


@pytest.fixture(scope="session")
def etcd_endpoints() -> Iterator[list[str]]:
    with dipen.local_etcd() as server:
        yield server.endpoints


@pytest.fixture(params=STORE_KINDS)
def store_factory(request) -> Iterator[Stores]:
    endpoints = request.getfixturevalue("etcd_endpoints") if request.param == "etcd" else None
    if request.param == "etcd":
        request.applymarker(pytest.mark.etcd)
    stores = Stores(request.param, endpoints)
    yield stores
    stores.close()
