"""The event history a runner keeps: every start, finish, failure, block and marking change.

It is bounded (``Runner(history=N)``) so that a long-running workflow does not grow without
limit; ``None`` keeps everything. Of a long history, the most recent events are kept as they
are and the older ones flat (:mod:`dipen.flat_firings`), so that they cost the garbage
collector nothing; reading gives them back as events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from itertools import chain
from typing import Any

from .events import Firing, FiringFinished, FiringStarted
from .flat_firings import flatten, unflatten

__all__ = ["History"]

#: the most recent events, kept as they are
RECENT = 512
#: how many of the older events are made flat at once: few, so that the objects of the events
#: made flat are freed about as fast as new events make objects, and those never add up to a
#: young collection of the garbage collector (which would walk the recent events each time)
BATCH = 64

_KINDS = (FiringStarted, FiringFinished)
# the kinds of a flat event (see History._flatten)
_START, _FINISH, _AFTER = 0, 1, 2


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

    __slots__ = ("_batches", "_limit", "_recent", "append")

    def __init__(self, limit: int | None = 100_000) -> None:
        if limit is not None and limit < 1:
            raise ValueError("history limit must be >= 1 or None")
        self._limit = limit
        # the older events, BATCH to a batch, each batch a tuple of cells (see _flatten)
        self._batches: deque[tuple[Any, ...]] = deque()
        if limit is not None and limit <= 2 * RECENT:
            self._recent: deque[Any] = deque(maxlen=limit)
            self.append = self._recent.append  # a short history stays as it is
        else:
            self._recent = deque()
            self.append = self._append

    def _append(self, event: Any) -> None:
        recent = self._recent
        recent.append(event)
        if len(recent) > RECENT + BATCH:
            self._flatten()

    def _flatten(self) -> None:
        """Keep the oldest :data:`BATCH` recent events flat, as one tuple of cells. The finish
        event of a firing that finished, and its start event if that is in the batch too, are
        ``size, kind, time, revision`` and then the cells of the firing's record
        (:func:`flatten`) for the first of them (kind ``_START`` or ``_FINISH``), or for a
        finish after its start (kind ``_AFTER``) how many cells back that start begins;
        ``size`` counts all of an event's cells. Any other event is kept as it is, in one cell
        (a start event kept so lends its firing to its finish event when they are read)."""
        recent = self._recent
        batch = [recent.popleft() for _ in range(BATCH)]
        records = {id(event.firing): flatten(event.firing) for event in batch
                   if type(event) is FiringFinished and event.firing.state == "finished"}
        starts: dict[int, int] = {}  # where the start event of a firing made flat begins
        cells: list[Any] = []
        for event in batch:
            record = records.get(id(event.firing)) if type(event) in _KINDS else None
            if record is None:
                cells.append(event)
            elif type(event) is FiringStarted:
                starts[id(event.firing)] = len(cells)
                cells += (len(record) + 4, _START, event.time, event.revision)
                cells += record
            elif (start := starts.get(id(event.firing))) is not None:
                cells += (5, _AFTER, event.time, event.revision, len(cells) - start)
            else:
                cells += (len(record) + 4, _FINISH, event.time, event.revision)
                cells += record
        batches = self._batches
        # a tuple of strings and numbers: the collector stops tracking it the first time it
        # looks, and full collections no longer walk its cells
        batches.append(tuple(cells))
        while self._excess() >= BATCH:  # whole batches over the limit
            batches.popleft()

    def _excess(self) -> int:
        """How many of the oldest flat events are over the limit."""
        limit = self._limit
        older = BATCH * len(self._batches)
        return 0 if limit is None else max(0, older + len(self._recent) - limit)

    @staticmethod
    def _read(cells: tuple[Any, ...], at: int, started: dict[str, Firing] | None = None) -> tuple[Any, int]:
        """The event whose cells begin at ``at``, and where the next one begins; the start
        events read put their firing in ``started`` and a finish event takes its firing from
        there, so that they share it, as the events did."""
        cell = cells[at]
        if type(cell) is not int:
            if started is not None and type(cell) is FiringStarted:  # (its firing runs on)
                started[cell.firing.id] = cell.firing
            return cell, at + 1
        kind, time, revision, firing_id = cells[at + 1:at + 5]
        record = at + 4
        if kind == _AFTER:
            record -= firing_id  # (that cell is how far back the start is)
            firing_id = cells[record]
        if kind == _START:
            firing = unflatten(cells, record)
            if started is not None:
                started[firing_id] = firing
            return FiringStarted(time, revision, firing), at + cell
        lent = started.pop(firing_id, None) if started is not None else None
        return FiringFinished(time, revision, lent or unflatten(cells, record)), at + cell

    @staticmethod
    def _skip(cells: tuple[Any, ...], at: int, count: int) -> int:
        """Where the event ``count`` events after the one at ``at`` begins."""
        for _ in range(count):
            cell = cells[at]
            at += cell if type(cell) is int else 1
        return at

    def _older(self) -> Iterator[Any]:
        """The flat events, as events (a firing's start and finish share its record)."""
        started: dict[str, Firing] = {}
        skip = self._excess()
        read = self._read
        for cells in self._batches:
            if skip >= BATCH:  # (the next flattening drops this batch)
                skip -= BATCH
                continue
            at = self._skip(cells, 0, skip)
            skip = 0
            end = len(cells)
            while at < end:
                event, at = read(cells, at, started)
                yield event

    @property
    def limit(self) -> int | None:
        """How many events are kept (``None``: all)."""
        return self._limit

    def __iter__(self) -> Iterator[Any]:
        return chain(self._older(), self._recent)

    def __len__(self) -> int:
        return BATCH * len(self._batches) + len(self._recent) - self._excess()

    def __getitem__(self, index: int) -> Any:
        size = len(self)
        if not -size <= index < size:
            raise IndexError("history index out of range")
        index %= size
        older = size - len(self._recent)
        if index >= older:
            return self._recent[index - older]
        batch, offset = divmod(self._excess() + index, BATCH)
        cells = self._batches[batch]
        return self._read(cells, self._skip(cells, 0, offset))[0]

    def of(self, *kinds: type) -> list[Any]:
        """The events of the given types, e.g. ``history.of(dipen.events.FiringFailed)``."""
        return [event for event in self if isinstance(event, kinds)]

    def firings(self) -> list[Firing]:
        """The finished firings, in the order they finished."""
        return [event.firing for event in self if type(event) is FiringFinished]

    def clear(self) -> None:
        self._batches.clear()
        self._recent.clear()

    def __repr__(self) -> str:
        limit = "" if self.limit is None else f", limit {self.limit}"
        return f"History({len(self)} events{limit})"
