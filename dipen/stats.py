"""Running statistics of a runner: firings per transition, failures, durations, firings/s."""

from __future__ import annotations

import time
from collections import Counter

__all__ = ["Stats"]


class Stats:
    """Counts kept by a runner while it runs.

    ``firings`` (finished firings per transition), ``failures``, ``cancelled``,
    ``durations`` (summed clock seconds per transition), ``busy`` (wall seconds spent in
    ``run``/``step``) and ``rate`` (finished firings per wall second of that).

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=3).place("b").transition("t", take="a", give="b")
    >>> runner = dipen.Runner(net)
    >>> _ = runner.run_sync()
    >>> runner.stats.firings
    {'t': 3}
    """

    def __init__(self) -> None:
        #: per transition, ``[finished firings, their summed clock seconds]``
        self._tallies: dict[str, list[float]] = {}
        self._failed: Counter[str] = Counter()
        self._cancelled: Counter[str] = Counter()
        self.busy = 0.0
        self._since: float | None = None

    def clear(self) -> None:
        """Start counting afresh."""
        for tally in self._tallies.values():  # engines hold them: cleared in place
            tally[0] = 0
            tally[1] = 0.0
        self._failed.clear()
        self._cancelled.clear()
        self.busy = 0.0
        self._since = None

    # engine side
    def tally(self, transition: str) -> list[float]:
        """The ``[finished firings, their summed clock seconds]`` of ``transition``, a list
        that the engine adds each finished firing to (no call on the engine's hot path).

        Examples
        --------
        >>> stats = Stats()
        >>> tally = stats.tally("t")
        >>> tally[0] += 1
        >>> tally[1] += 0.5
        >>> stats.tally("t") is tally, stats.firings, stats.mean_duration("t")
        (True, {'t': 1}, 0.5)
        """
        tally = self._tallies.get(transition)
        if tally is None:
            tally = self._tallies[transition] = [0, 0.0]
        return tally

    def failed(self, transition: str) -> None:
        self._failed[transition] += 1

    def cancelled(self, transition: str) -> None:
        self._cancelled[transition] += 1

    def resume(self) -> None:
        self._since = time.perf_counter()

    def pause(self) -> None:
        if self._since is not None:
            self.busy += time.perf_counter() - self._since
            self._since = None

    # reader side
    @property
    def firings(self) -> dict[str, int]:
        return {name: int(count) for name, (count, _) in self._tallies.items() if count}

    @property
    def failures(self) -> dict[str, int]:
        return dict(self._failed)

    @property
    def cancellations(self) -> dict[str, int]:
        return dict(self._cancelled)

    @property
    def total(self) -> int:
        """All finished firings."""
        return int(sum(count for count, _ in self._tallies.values()))

    @property
    def rate(self) -> float:
        """Finished firings per wall second spent running."""
        busy = self.busy + (time.perf_counter() - self._since if self._since is not None else 0.0)
        return self.total / busy if busy > 0 else 0.0

    def mean_duration(self, transition: str) -> float | None:
        """Mean clock seconds a firing of ``transition`` took, or ``None`` if it never fired."""
        count, duration = self._tallies.get(transition, (0, 0.0))
        return duration / count if count else None

    def as_dict(self) -> dict[str, object]:
        return {
            "total": self.total,
            "rate": self.rate,
            "firings": self.firings,
            "failures": self.failures,
            "cancelled": self.cancellations,
            "mean_duration": {t: self.mean_duration(t) for t in self.firings},
        }

    def __repr__(self) -> str:
        return f"Stats(total={self.total}, rate={self.rate:.0f}/s, firings={self.firings})"
