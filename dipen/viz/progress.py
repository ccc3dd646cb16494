"""Progress of a long run: a bar in a notebook, a line of text elsewhere.

``runner.run(progress=True)`` (and ``run_sync``) shows how far the run has come: the firings
against ``max_firings``, or the clock against ``until``, otherwise the firings so far and the
clock. Like the live view it only notes events and redraws at most every ``interval`` seconds,
so a run firing thousands of transitions a second pays next to nothing for it.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from ..events import FiringFinished

if TYPE_CHECKING:
    from ..runner import Runner

__all__ = ["RunProgress"]


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ipython = shell.get_ipython()  # type: ignore[attr-defined]
    return ipython is not None and getattr(ipython, "kernel", None) is not None


class RunProgress:
    """Shows the progress of one run of ``runner`` until :meth:`close`.

    ``widget=None`` picks an ipywidgets bar inside a notebook kernel and a text line on
    ``stream`` (standard error) elsewhere.

    Examples
    --------
    >>> import io
    >>> net = dipen.Net("n").place("a", tokens=3).place("b").transition("t", take="a", give="b")
    >>> runner = dipen.Runner(net)
    >>> out = io.StringIO()
    >>> progress = dipen.viz.progress.RunProgress(runner, max_firings=3, widget=False, stream=out)
    >>> _ = runner.run_sync(max_firings=3)
    >>> progress.close()
    >>> out.getvalue().splitlines()[-1]
    'n: 3 of 3 firings (100%), t=...'
    """

    def __init__(
        self,
        runner: Runner,
        *,
        max_firings: int | None = None,
        until: float | None = None,
        widget: bool | None = None,
        stream: TextIO | None = None,
        interval: float = 0.1,
    ) -> None:
        self.runner = runner
        self.max_firings = max_firings
        self.until = until
        self.interval = interval
        self.firings = 0
        self._start_time = runner.now
        self._shown_at = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._stream = stream if stream is not None else sys.stderr
        self._bar: Any = None
        self._label: Any = None
        if widget if widget is not None else _in_notebook():
            self._make_widget()
        self._unsubscribe = runner.subscribe(self._on_event)
        self.show()

    def _make_widget(self) -> None:
        import ipywidgets
        from IPython.display import display

        self._bar = ipywidgets.FloatProgress(min=0.0, max=1.0, value=0.0,
                                             description=self.runner.net.name)
        self._label = ipywidgets.HTML()
        display(ipywidgets.HBox([self._bar, self._label]))

    @property
    def fraction(self) -> float | None:
        """How far the run has come (0 to 1), or ``None`` when it has no bound."""
        if self.max_firings:
            return min(1.0, self.firings / self.max_firings)
        if self.until is not None and self.until > self._start_time:
            return min(1.0, (self.runner.now - self._start_time) / (self.until - self._start_time))
        return None

    def text(self) -> str:
        """The progress in words."""
        done = f"{self.firings} firing{'s' if self.firings != 1 else ''}"
        fraction = self.fraction
        if self.max_firings:
            done = f"{self.firings} of {self.max_firings} firings ({fraction:.0%})"
        elif fraction is not None:
            done += f", {fraction:.0%} of the time"
        return f"{self.runner.net.name}: {done}, t={self.runner.now:g}"

    def _on_event(self, event: Any) -> None:
        if type(event) is FiringFinished:
            self.firings += 1
        if self._handle is not None:
            return
        now = time.perf_counter()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._handle = loop.call_later(max(0.0, self._shown_at + self.interval - now), self._timer)

    def _timer(self) -> None:
        self._handle = None
        self.show()

    def show(self) -> None:
        """Draw the progress now."""
        self._shown_at = time.perf_counter()
        text = self.text()
        if self._bar is not None:
            fraction = self.fraction
            self._bar.value = 1.0 if fraction is None and self.firings else (fraction or 0.0)
            self._bar.bar_style = "info" if fraction is None else ""
            self._label.value = text
        else:
            self._stream.write(text + "\n")
            self._stream.flush()

    def close(self, reason: str | None = None) -> None:
        """Stop following the runner and show the final state."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._unsubscribe()
        self.show()
        if self._bar is not None:
            self._bar.bar_style = "success" if reason in (None, "quiescent", "max_firings", "until") else "warning"
            if reason:
                self._label.value = f"{self.text()} — {reason}"
