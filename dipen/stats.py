"""Running statistics of a runner: firings per transition, failures, durations, firings/s."""

from __future__ import annotations

import time
from collections import Counter, defaultdict

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
        self._fired: defaultdict[str, int] = defaultdict(int)
        self._failed: Counter[str] = Counter()
        self._cancelled: Counter[str] = Counter()
        self._duration: defaultdict[str, float] = defaultdict(float)
        self.busy = 0.0
        self._since: float | None = None

    def clear(self) -> None:
        """Start counting afresh."""
        self.__init__()  # type: ignore[misc]

    # engine side
    def fired(self, transition: str, duration: float) -> None:
        self._fired[transition] += 1
        if duration:
            self._duration[transition] += duration

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
        return dict(self._fired)

    @property
    def failures(self) -> dict[str, int]:
        return dict(self._failed)

    @property
    def cancellations(self) -> dict[str, int]:
        return dict(self._cancelled)

    @property
    def total(self) -> int:
        """All finished firings."""
        return sum(self._fired.values())

    @property
    def rate(self) -> float:
        """Finished firings per wall second spent running."""
        busy = self.busy + (time.perf_counter() - self._since if self._since is not None else 0.0)
        return self.total / busy if busy > 0 else 0.0

    def mean_duration(self, transition: str) -> float | None:
        """Mean clock seconds a firing of ``transition`` took, or ``None`` if it never fired."""
        count = self._fired.get(transition, 0)
        return self._duration.get(transition, 0.0) / count if count else None

    def as_dict(self) -> dict[str, object]:
        return {
            "total": self.total,
            "rate": self.rate,
            "firings": self.firings,
            "failures": self.failures,
            "cancelled": self.cancellations,
            "mean_duration": {t: self.mean_duration(t) for t in self._fired},
        }

    def __repr__(self) -> str:
        return f"Stats(total={self.total}, rate={self.rate:.0f}/s, firings={self.firings})"
