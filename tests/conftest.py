"""Fixtures shared by the behavioural tests: one suite, every store.

``store_factory`` makes fresh stores of one kind:

- ``memory``: the embedded default, read live by the runners in this process;
- ``replica``: a memory store that hides its live state and delivers its changes later
  through the event loop, as a watch would, so that runners keep their own replica and
  wait for their own writes (the code path the etcd store uses);
- ``etcd``: a real etcd server started by the tests (added with the etcd store).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

import dipen
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


STORE_KINDS = ["memory", "replica"]


@pytest.fixture(params=STORE_KINDS)
def store_factory(request) -> Callable[[], dipen.Store]:
    kinds = {"memory": dipen.MemoryStore, "replica": ReplicaMemoryStore}
    return kinds[request.param]
