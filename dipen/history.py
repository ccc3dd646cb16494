"""The event history a runner keeps: every start, finish, failure, block and marking change.

It is bounded (``Runner(history=N)``) so that a long-running workflow does not grow without
limit; ``None`` keeps everything. Of a long history, the most recent events are kept as they
are and the older ones flat (:mod:`dipen.flat_firings`), so that the garbage collector need
not walk them; reading gives them back as events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from itertools import chain, islice
from typing import Any

from .events import Firing, FiringFinished, FiringStarted
from .flat_firings import flatten, unflatten

__all__ = ["History"]

#: events kept as they are; when twice as many have come, the oldest this many are kept flat
RECENT = 512

_KINDS = (FiringStarted, FiringFinished)


class History:
    """The most recent events of a runner, oldest first.

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
    >>> runner = dipen.Runner(net)
    >>> _ = runner.run_sync()
    >>> [type(e).__name__ for e in runner.history]
    ['FiringStarted', 'FiringFinished', 'FiringStarted', 'FiringFinished']
    >>> len(runner.history.firings())
    2
    """

    __slots__ = ("_flat", "_limit", "_recent", "append")

    def __init__(self, limit: int | None = 100_000) -> None:
        if limit is not None and limit < 1:
            raise ValueError("history limit must be >= 1 or None")
        self._limit = limit
        self._flat: deque[Any] = deque()  # older events: flat tuples, or events as they are
        if limit is not None and limit <= 2 * RECENT:
            self._recent: deque[Any] = deque(maxlen=limit)
            self.append = self._recent.append  # a short history stays as it is
        else:
            self._recent = deque()
            self.append = self._append

    def _append(self, event: Any) -> None:
        recent = self._recent
        recent.append(event)
        if len(recent) > 2 * RECENT:
            self._flatten()

    def _flatten(self) -> None:
        """Keep the oldest :data:`RECENT` recent events flat: the start and finish events of
        firings that finished (both in this batch, the record once); others as they are."""
        recent, flat = self._recent, self._flat
        batch = [recent.popleft() for _ in range(RECENT)]
        records = {id(event.firing): flatten(event.firing) for event in batch
                   if type(event) is FiringFinished and event.firing.state == "finished"}
        for event in batch:
            kind = type(event)
            record = records.get(id(event.firing)) if kind in _KINDS else None
            flat.append(event if record is None else
                        (kind is FiringFinished, event.time, event.revision, record))
        excess = self._excess()
        for _ in range(excess):
            flat.popleft()

    def _excess(self) -> int:
        """How many of the oldest flat events are over the limit."""
        limit = self._limit
        return 0 if limit is None else max(0, len(self._flat) + len(self._recent) - limit)

    def _older(self) -> Iterator[Any]:
        """The flat events, as events (a firing's start and finish share its record)."""
        records: dict[int, Firing] = {}
        for entry in islice(self._flat, self._excess(), None):
            if type(entry) is not tuple:
                yield entry
                continue
            finished, time, revision, record = entry
            key = id(record)
            firing = records.pop(key, None) if finished else None
            if firing is None:
                firing = unflatten(record)
                if not finished:
                    records[key] = firing
            yield (FiringFinished if finished else FiringStarted)(time, revision, firing)

    @property
    def limit(self) -> int | None:
        """How many events are kept (``None``: all)."""
        return self._limit

    def __iter__(self) -> Iterator[Any]:
        return chain(self._older(), self._recent)

    def __len__(self) -> int:
        return len(self._flat) + len(self._recent) - self._excess()

    def __getitem__(self, index: int) -> Any:
        size = len(self)
        if not -size <= index < size:
            raise IndexError("history index out of range")
        index %= size
        older = size - len(self._recent)
        if index >= older:
            return self._recent[index - older]
        entry = self._flat[self._excess() + index]
        if type(entry) is not tuple:
            return entry
        finished, time, revision, record = entry
        return (FiringFinished if finished else FiringStarted)(time, revision, unflatten(record))

    def of(self, *kinds: type) -> list[Any]:
        """The events of the given types, e.g. ``history.of(dipen.events.FiringFailed)``."""
        return [event for event in self if isinstance(event, kinds)]

    def firings(self) -> list[Firing]:
        """The finished firings, in the order they finished."""
        return [event.firing for event in self if type(event) is FiringFinished]

    def clear(self) -> None:
        self._flat.clear()
        self._recent.clear()

    def __repr__(self) -> str:
        limit = "" if self.limit is None else f", limit {self.limit}"
        return f"History({len(self)} events{limit})"
