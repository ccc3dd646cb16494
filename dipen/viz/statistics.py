"""A figure of :class:`dipen.statistics.Statistics`: firings per transition, firing durations and
waiting times per place.

matplotlib is imported inside :func:`plot`; the figure is a :class:`matplotlib.figure.Figure` on
the Agg canvas, never pyplot, so plotting works headless and leaves no global state behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..statistics import Statistics

__all__ = ["plot"]


def _boxes(axes: Any, samples: dict[str, list[float]], title: str, label: str) -> None:
    names = [name for name, values in samples.items() if values]
    axes.set_title(title)
    if not names:
        axes.text(0.5, 0.5, "no samples", ha="center", va="center", transform=axes.transAxes)
        axes.set_xticks([])
        axes.set_yticks([])
        return
    axes.boxplot([samples[name] for name in names], orientation="horizontal",
                 tick_labels=names)
    axes.set_xlabel(label)


def plot(statistics: Statistics, *, width: float = 12.0, height: float | None = None) -> Figure:
    """Three panels side by side: finished firings per transition (with failures), firing
    durations per transition and waiting times per place (box plots, clock seconds).

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=3).place("b").transition("t", take="a", give="b")
    >>> runner = dipen.Runner(net, clock="simulated")
    >>> _ = runner.run_sync()
    >>> from dipen.statistics import statistics
    >>> figure = statistics(runner).plot()
    >>> [axes.get_title() for axes in figure.axes]
    ['firings', 'firing durations', 'waiting times']
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = max(len(statistics.transitions), len(statistics.places), 1)
    figure = Figure(figsize=(width, height if height is not None else 1.5 + 0.35 * rows),
                    layout="constrained")
    FigureCanvasAgg(figure)
    firings, durations, waits = figure.subplots(1, 3)
    names = list(statistics.transitions)
    done = [statistics.transitions[n]["firings"] for n in names]
    failed = [statistics.transitions[n]["failures"] for n in names]
    firings.barh(names, done, label="finished")
    firings.barh(names, failed, left=done, label="failed", color="tab:red")
    firings.set_title("firings")
    firings.set_xlabel("count")
    if any(failed):
        firings.legend(loc="lower right")
    _boxes(durations, statistics.durations, "firing durations", "seconds")
    _boxes(waits, statistics.waits, "waiting times", "seconds")
    title = f"net {statistics.net!r}"
    if statistics.span is not None:
        from ..clock import readable_time

        title += (f", {readable_time(statistics.span[0])} – "
                  f"{readable_time(statistics.span[1])}")
    figure.suptitle(title)
    return figure
