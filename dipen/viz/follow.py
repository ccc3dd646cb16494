"""Who leads each region and who stands by, for a live view whose store lives in another
process (etcd): one task on the running event loop asks the store every ``interval`` seconds,
and at once when :meth:`LeaderWatch.ask` says a firing showed a takeover. A store in this
process needs none of this (the view asks it at every flush).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import DipenError

if TYPE_CHECKING:
    from .widget_state import LiveState

__all__ = ["LeaderWatch"]

_LOGGER = logging.getLogger("dipen.viz.widgets")


class LeaderWatch:
    """Ask the store of ``state`` who leads every ``interval`` seconds (0: never), and call
    ``changed()`` when the answer changed.

    Examples
    --------
    >>> import asyncio
    >>> from dipen.viz.follow import LeaderWatch
    >>> from dipen.viz.widget_state import LiveState
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> watch = LeaderWatch(LiveState([dipen.Runner(net)]), lambda: None, interval=1.0)
    >>> async def look():
    ...     watch.follow()          # a store in this process: nothing to follow
    ...     return watch.task
    >>> asyncio.run(look()) is None
    True
    """

    def __init__(self, state: LiveState, changed: Callable[[], None], interval: float) -> None:
        self.state = state
        self.changed = changed
        self.interval = float(interval)
        self.task: asyncio.Task[None] | None = None
        self._ask: asyncio.Event | None = None  # ask now (a takeover)
        self._closed = False

    def follow(self) -> None:
        """Keep one task on the running loop that asks the store (none for a store in this
        process, none with ``interval`` 0, none outside a running loop)."""
        if self._closed or self.interval <= 0 or self.state.in_process:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = self.task
        if task is not None and not task.done():
            if task.get_loop() is loop:
                return
            task.cancel()  # its loop stopped running (an earlier blocking call)
        self._ask = asyncio.Event()
        self.task = loop.create_task(self._follow(self._ask))

    def ask(self) -> None:
        """Ask the store now, not at the end of the interval."""
        if self._ask is not None:
            self._ask.set()

    def close(self) -> None:
        """Stop asking."""
        self._closed = True
        if self.task is not None:
            self.task.cancel()

    async def _follow(self, ask: asyncio.Event) -> None:
        state = self.state
        while not self._closed:
            try:
                if state.connected and await state.read_candidates():
                    self.changed()
            except DipenError as exc:  # out of reach for now: the next look may do better
                _LOGGER.debug("live view: no leaders from the store: %s", exc)
            try:
                async with asyncio.timeout(self.interval):
                    await ask.wait()
            except TimeoutError:
                pass
            ask.clear()
