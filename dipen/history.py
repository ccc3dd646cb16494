"""The event history a runner keeps: every start, finish, failure, block and marking change.

It is bounded (``Runner(history=N)``) so that a long-running workflow does not grow without
limit; ``None`` keeps everything.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from .events import Firing, FiringFinished

__all__ = ["History"]


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

    __slots__ = ("_events", "append")

    def __init__(self, limit: int | None = 100_000) -> None:
        if limit is not None and limit < 1:
            raise ValueError("history limit must be >= 1 or None")
        self._events: deque[Any] = deque(maxlen=limit)
        self.append = self._events.append

    @property
    def limit(self) -> int | None:
        """How many events are kept (``None``: all)."""
        return self._events.maxlen

    def __iter__(self) -> Iterator[Any]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, index: int) -> Any:
        return self._events[index]

    def of(self, *kinds: type) -> list[Any]:
        """The events of the given types, e.g. ``history.of(dipen.events.FiringFailed)``."""
        return [event for event in self._events if isinstance(event, kinds)]

    def firings(self) -> list[Firing]:
        """The finished firings, in the order they finished."""
        return [event.firing for event in self._events if type(event) is FiringFinished]

    def clear(self) -> None:
        self._events.clear()

    def __repr__(self) -> str:
        limit = "" if self.limit is None else f", limit {self.limit}"
        return f"History({len(self._events)} events{limit})"
