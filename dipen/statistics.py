"""Statistics of a net's history over any window: firings, rates, durations, waiting times,
failures, as plain tables (dicts and lists, no pandas), a text table and a plot.

Everything is computed from changes, so a runner, a store (etcd from any machine), a
timeline and a recording give the same numbers for the same run:

- a *firing* is counted when it finishes (``finish`` or ``fire``) inside the window; its
  *duration* is the clock time from its ``start`` to its ``finish`` (``0`` for a ``fire``,
  which never waited);
- a token *waits* in a place from when it is added there (or released back to it) until a
  firing takes or removes it; a wait is counted in the window where it ends. The initial
  marking counts as placed when the clock starts (the store stamps it with the wall clock,
  a simulated clock starts at 0). Tokens already there when a timeline starts have no known
  placing time and are left out;
- a *failure* is a firing whose code raised: from the runner's events when the source has
  them (a runner, or a recording made from one), else from the store's changes (a firing given
  back with note ``"failed"`` or moved to an error place).

The rate is firings per clock second of the window: from ``since_time`` (else the first
change in the window) to ``until_time`` (else the last).
"""

from __future__ import annotations

import math
import os
from typing import Any

from .clock import readable_time
from .timeline import Timeline

__all__ = ["Statistics", "statistics"]

_DURATION_COLUMNS = ("mean", "p50", "p90", "p99", "max")


def _percentile(ordered: list[float], q: float) -> float | None:
    """The ``q``-th percentile of sorted values, interpolated linearly (numpy's default)."""
    if not ordered:
        return None
    k = (len(ordered) - 1) * q / 100
    low = math.floor(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def _summary(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    return {
        "mean": sum(ordered) / len(ordered) if ordered else None,
        "p50": _percentile(ordered, 50), "p90": _percentile(ordered, 90),
        "p99": _percentile(ordered, 99), "max": ordered[-1] if ordered else None,
    }


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def _table(title: str, rows: dict[str, dict[str, Any]], columns: tuple[str, ...]) -> list[str]:
    cells = [[title, *columns]] + [[name, *(_number(row[c]) for c in columns)]
                                   for name, row in rows.items()]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                      for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
            for row in cells]


class Statistics:
    """Statistics of one window of a net's history (see :func:`statistics`).

    Attributes
    ----------
    transitions
        ``{transition: {"firings", "rate", "failures", "mean", "p50", "p90", "p99", "max"}}``:
        finished firings, firings per second, failures and firing durations (clock seconds).
    places
        ``{place: {"waits", "mean", "p50", "p90", "p99", "max"}}``: how many waits ended there
        and how long tokens waited before a firing took them.
    failures
        One dict per failed firing: ``time``, ``revision``, ``transition``, ``firing``,
        ``error`` (``None`` when only the store's record is known) and ``action``.
    durations, waits
        The samples: firing durations per transition (of the firings whose start the source
        knows), waiting times per place.
    span
        ``(start, end)`` clock times of the window, or ``None`` when it holds no change.
    firings, rate
        All finished firings, and their number per clock second of the span.

    Examples
    --------
    >>> net = dipen.Net("shop").place("queue", tokens=3).place("served")
    >>> @net.transition(take="queue", give="served")
    ... async def serve(customer):
    ...     await dipen.sleep(2)
    ...     return customer
    >>> runner = dipen.Runner(net, clock="simulated")
    >>> _ = runner.run_sync()
    >>> numbers = dipen.statistics(runner)
    >>> numbers.firings, numbers.span, numbers.transitions["serve"]["mean"]
    (3, (0.0, 6.0), 2.0)
    """

    def __init__(self, net: str, span: tuple[float, float] | None, fired: dict[str, int],
                 durations: dict[str, list[float]], waits: dict[str, list[float]],
                 failures: list[dict[str, Any]]) -> None:
        self.net = net
        self.span = span
        self.durations = durations
        self.waits = waits
        self.failures = failures
        self.firings = sum(fired.values())
        length = span[1] - span[0] if span is not None else 0.0
        self.rate = self.firings / length if length > 0 else None
        failed: dict[str, int] = {}
        for failure in failures:
            failed[failure["transition"]] = failed.get(failure["transition"], 0) + 1
        self.transitions = {
            name: {"firings": count, "rate": count / length if length > 0 else None,
                   "failures": failed.get(name, 0), **_summary(durations.get(name, []))}
            for name, count in fired.items()}
        self.places = {name: {"waits": len(samples), **_summary(samples)}
                       for name, samples in waits.items()}

    def as_dict(self) -> dict[str, Any]:
        """Everything as plain JSON data."""
        return {"net": self.net, "span": self.span, "firings": self.firings, "rate": self.rate,
                "transitions": self.transitions, "places": self.places,
                "failures": self.failures}

    def table(self) -> str:
        """The statistics as a text table: a title line, one row per transition, one per place.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b")
        >>> net = net.transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net, clock="simulated")
        >>> _ = runner.run_sync()
        >>> from dipen.statistics import statistics
        >>> print(statistics(runner).table())
        net 'n', t=0 – t=0: 2 firings, 0 failures
        transition  firings  rate  failures  mean  p50  p90  p99  max
        t                 2     –         0     0    0    0    0    0
        <BLANKLINE>
        place  waits  mean  p50  p90  p99  max
        a          2     0    0    0    0    0
        b          0     –    –    –    –    –
        """
        if self.span is None:
            title = f"net {self.net!r}, no changes in this window"
        else:
            rate = "" if self.rate is None else f" ({self.rate:.4g}/s)"
            title = (f"net {self.net!r}, {readable_time(self.span[0])} – {readable_time(self.span[1])}: "
                     f"{self.firings} firings{rate}, {len(self.failures)} failures")
        lines = [title, *_table("transition", self.transitions,
                                ("firings", "rate", "failures", *_DURATION_COLUMNS)),
                 "", *_table("place", self.places, ("waits", *_DURATION_COLUMNS))]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def plot(self, **options: Any) -> Any:
        """A matplotlib figure: firings per transition, firing durations, waiting times per
        place (see :func:`dipen.viz.statistics.plot`)."""
        from .viz.statistics import plot

        return plot(self, **options)


def _timeline(source: Any) -> Timeline:
    if isinstance(source, Timeline):
        return source
    if isinstance(source, (str, os.PathLike)) or hasattr(source, "read"):
        from .recording import replay

        return replay(source)
    from .timeline import history_sync

    return history_sync(source)


def statistics(
    source: Any, *, since: int | None = None, until: int | None = None,
    since_time: float | None = None, until_time: float | None = None,
) -> Statistics:
    """Statistics of a net's history in a window of revisions or times.

    Parameters
    ----------
    source
        A :class:`dipen.Runner`, a :class:`dipen.Store` (read with
        :func:`dipen.timeline.history_sync`; in async code pass ``await dipen.timeline.history(store)``
        instead), a :class:`~dipen.timeline.Timeline` or a recording (a path or a text file).
    since, until, since_time, until_time
        The window, as in :func:`dipen.timeline.history`. Firings and waits that began before
        the window but end in it are measured from their real beginning when the source knows it.

    Examples
    --------
    >>> net = dipen.Net("shop").place("queue", tokens=3).place("served")
    >>> @net.transition(take="queue", give="served")
    ... async def serve(customer):
    ...     await dipen.sleep(2)
    ...     return customer
    >>> runner = dipen.Runner(net, clock="simulated")
    >>> _ = runner.run_sync()
    >>> from dipen.statistics import statistics
    >>> stats = statistics(runner)
    >>> stats.transitions["serve"]["firings"], stats.transitions["serve"]["mean"], stats.rate
    (3, 2.0, 0.5)
    >>> stats.places["queue"]["waits"], stats.places["queue"]["max"]
    (3, 4.0)
    >>> statistics(runner, since_time=3).transitions["serve"]["firings"]
    2
    """
    timeline = _timeline(source)
    changes = timeline.changes
    first, last = timeline._bounds(since, until, since_time, until_time)
    clock_start = next((c.time for c in changes if c.kind != "init"), None)
    fired = dict.fromkeys(timeline.net.transitions, 0)
    durations: dict[str, list[float]] = {name: [] for name in timeline.net.transitions}
    waits: dict[str, list[float]] = {name: [] for name in timeline.net.places}
    failed: dict[str, dict[str, Any]] = {}
    placed: dict[str, float] = {}  # token id -> when it began to wait
    started: dict[str, float] = {}  # firing id -> its start time
    for index, change in enumerate(changes[:last]):
        counted = index >= first
        time = change.time
        for place, token_id in (*change.take, *change.remove):
            since_placed = placed.pop(token_id, None)
            if counted and since_placed is not None:
                waits[place].append(time - since_placed)
        when = time if change.kind != "init" or clock_start is None else min(time, clock_start)
        for place, token in change.add:
            placed[token.id] = when
        for place, token_id in change.release:
            placed[token_id] = time
        kind, firing = change.kind, change.firing
        if kind == "start":
            started[firing] = time  # type: ignore[index]
            continue
        began = started.pop(firing, None) if kind in ("finish", "return") else time  # type: ignore[arg-type]
        if not counted or kind not in ("finish", "fire", "return"):
            continue
        if change.note in ("error", "failed"):
            failed[firing] = {  # type: ignore[index]
                "time": time, "revision": change.revision, "transition": change.transition,
                "firing": firing, "error": None, "action": change.note}
        elif kind != "return":
            name: str = change.transition  # type: ignore[assignment]
            fired[name] = fired.get(name, 0) + 1
            if began is not None:  # else it started before the timeline
                durations.setdefault(name, []).append(time - began)
    window = timeline.window(since=since, until=until, since_time=since_time, until_time=until_time)
    for failure in window.failures:
        failed[failure.firing] = failure._asdict()
    inside = [c for c in changes[first:last] if c.kind != "init"]
    span = None
    if inside or since_time is not None:
        begin = since_time if since_time is not None else inside[0].time
        end = until_time if until_time is not None else (inside[-1].time if inside else begin)
        span = (begin, end)
    failures = sorted(failed.values(), key=lambda f: (f["time"], f["revision"]))
    return Statistics(timeline.definition["name"], span, fired, durations, waits, failures)
