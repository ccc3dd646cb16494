"""A subscription to an etcd store: a watch of the prefix that survives broken streams."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from ...errors import CompactedError, StoreError
from ...state import Change
from .connection import Connection, details
from .records import Records

__all__ = ["Subscription"]

_LOGGER = logging.getLogger(__name__)


class Subscription:
    """A watch of the store's prefix that hands rebuilt changes to a callback, in order.

    A broken stream is reported and resumed from the last revision seen + 1, with backoff up
    to two seconds; a compaction of the revisions needed ends the subscription.

    Parameters
    ----------
    connection
        The store's (open) connection.
    records
        What rebuilds the changes from the watched keys.
    callback
        Called with every change after revision ``after``.
    after
        The revision the subscriber has seen.
    on_error
        Called with each break of the watch (else it is logged).

    Attributes
    ----------
    task
        The task that follows the watch; cancel it to end the subscription.
    error
        The error that ended the subscription, if one did.
    """

    def __init__(self, connection: Connection, records: Records,
                 callback: Callable[[Change], None], after: int,
                 on_error: Callable[[StoreError], None] | None) -> None:
        self.connection = connection
        self.records = records
        self.callback = callback
        self.on_error = on_error
        self.seen = after
        self.error: StoreError | None = None
        self.task = asyncio.get_running_loop().create_task(self._follow())

    def _report(self, error: StoreError) -> None:
        if self.on_error is None:
            _LOGGER.warning("%s", error)
            return
        try:
            self.on_error(error)
        except Exception:  # an observer must not stop the watch
            _LOGGER.exception("on_error callback %r raised", self.on_error)

    async def _follow(self) -> None:
        connection = self.connection
        keys = connection.keys
        pending: dict[bytes, bytes] = {}
        delay = 0.05
        try:
            while True:
                try:
                    async with contextlib.aclosing(
                        connection.watch(keys.start, keys.end, self.seen + 1)
                    ) as responses:
                        async for response in responses:
                            delay = 0.05
                            for change in self.records.rebuild(
                                    response.events, keys, pending):
                                try:
                                    self.callback(change)
                                except Exception:
                                    _LOGGER.exception("change callback %r raised at revision %d",
                                                      self.callback, change.revision)
                            self.seen = max(self.seen, response.events[-1].kv.mod_revision)
                except CompactedError as exc:
                    self.error = exc
                    self._report(exc)
                    return
                except (StoreError, connection.rpc.AioRpcError, OSError) as exc:
                    self._report(StoreError(
                        f"the watch of {keys.prefix!r} on {connection.endpoints} broke "
                        f"({type(exc).__name__}: {details(exc)}); resuming from revision "
                        f"{self.seen + 1} in {delay:g}s"))
                    await connection.recover_auth(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        except Exception as exc:  # a bug or undecodable data: report it, never die silently
            _LOGGER.exception("the watch of %r failed", keys.prefix)
            self.error = StoreError(f"the watch of {keys.prefix!r} failed: {exc!r}")
            self._report(self.error)
