"""Real and simulated time, and the coordinator that decides when simulated time may jump.

With :class:`RealClock` a transition that sleeps really waits. With :class:`SimulatedClock`
time stands still while anything can still happen now, and jumps to the next timer as soon
as every local runner is idle and every running firing sleeps on the clock, so an hour-long
timed model runs in a moment. Inside a transition, ``await dipen.sleep(s)`` sleeps on the
clock of the runner that fires it.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any, Protocol

from .errors import RunnerError

__all__ = ["Clock", "Coordinator", "RealClock", "SimulatedClock", "current_clock", "now",
           "readable_time", "sleep"]

_CLOCK: contextvars.ContextVar[Clock | None] = contextvars.ContextVar("dipen_clock", default=None)


def current_clock() -> Clock | None:
    """The clock of the runner whose transition is running now, or ``None``."""
    return _CLOCK.get()


def now() -> float:
    """The clock time of the runner that fires the current transition (or checks its guard).

    Inside a transition's code, its guard, an executor or a task a runner started, this is
    that runner's :attr:`~dipen.Runner.now`: virtual seconds with a simulated clock, seconds
    since the epoch with the real one.

    Raises
    ------
    RunnerError
        Outside any runner; there, read ``runner.now``.

    Examples
    --------
    >>> net = dipen.Net("stamp").place("a", tokens=1).place("b")
    >>> @net.transition(take="a", give="b")
    ... async def stamp(token):
    ...     await dipen.sleep(90)
    ...     return {"done_at": dipen.now()}
    >>> runner = dipen.Runner(net, clock="simulated")
    >>> _ = runner.run_sync()
    >>> runner.marking.data()["b"]
    [{'done_at': 90.0}]
    >>> dipen.now()
    Traceback (most recent call last):
    ...
    dipen.errors.RunnerError: dipen.now() reads the clock of the runner that fires the current transition, and no runner is firing one here; outside a transition read runner.now
    """
    clock = _CLOCK.get()
    if clock is None:
        raise RunnerError(
            "dipen.now() reads the clock of the runner that fires the current transition, and "
            "no runner is firing one here; outside a transition read runner.now"
        )
    return clock.now()


async def sleep(seconds: float) -> None:
    """Sleep ``seconds`` on the clock of the runner that fires the current transition.

    With a simulated clock this advances virtual time instead of waiting; outside a
    runner it is :func:`asyncio.sleep`.

    Examples
    --------
    >>> net = dipen.Net("wait").place("a", tokens=1).place("b")
    >>> @net.transition(take="a", give="b")
    ... async def slow(token):
    ...     await dipen.sleep(3600)
    ...     return token
    >>> runner = dipen.Runner(net, clock="simulated")
    >>> _ = runner.run_sync()
    >>> runner.now
    3600.0
    """
    clock = _CLOCK.get()
    if clock is None:
        await asyncio.sleep(seconds)
    else:
        await clock.sleep(seconds)


class Handle(Protocol):
    def cancel(self) -> None: ...


class Clock:
    """The interface both clocks share.

    Runners make their clock from ``clock="real"`` or ``clock="simulated"``; runners sharing a
    store share its simulated clock. Inside a transition use :func:`dipen.sleep` and
    :func:`dipen.now`, never the clock directly.

    Examples
    --------
    >>> clock = dipen.SimulatedClock()
    >>> isinstance(clock, dipen.Clock), clock.simulated, clock.now()
    (True, True, 0.0)
    >>> dipen.RealClock().simulated
    False
    """

    simulated = False

    def now(self) -> float:
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        raise NotImplementedError

    def call_later(self, seconds: float, callback: Callable[[], Any]) -> Handle:
        raise NotImplementedError


class RealClock(Clock):
    """Wall-clock time (seconds since the epoch); sleeping really waits.

    Examples
    --------
    >>> dipen.RealClock().now() > 1.7e9
    True
    """

    #: seconds since the epoch (``time.time`` itself: a runner reads it twice per firing)
    now = staticmethod(time.time)  # type: ignore[assignment]

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def call_later(self, seconds: float, callback: Callable[[], Any]) -> Handle:
        return asyncio.get_running_loop().call_later(max(0.0, seconds), callback)

    def __repr__(self) -> str:
        return "RealClock()"


class _Timer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], Any]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class SimulatedClock(Clock):
    """Virtual time that jumps to the next timer when nothing else can happen.

    Examples
    --------
    >>> clock = dipen.SimulatedClock(start=10.0)
    >>> clock.now()
    10.0
    >>> _ = clock.call_later(5, lambda: None)
    >>> clock.advance(), clock.now()
    (True, 15.0)
    """

    simulated = True

    def __init__(self, start: float = 0.0, speed: float | None = None) -> None:
        self._start = self._now = float(start)
        #: simulated seconds per wall second when jumping to the next timer, so that people can
        #: watch a model run (``None``: jump at once)
        self.speed = speed
        self._timers: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()
        self.sleeping = 0
        self.listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        return self._now

    def call_later(self, seconds: float, callback: Callable[[], Any]) -> _Timer:
        timer = _Timer(self._now + max(0.0, seconds), callback)
        heapq.heappush(self._timers, (timer.when, next(self._order), timer))
        return timer

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()

        def due() -> None:
            # awake from now on, although its task runs only later: time must not move on
            # past it before it had its turn
            self.sleeping -= 1
            if not future.done():
                future.set_result(None)

        timer = self.call_later(seconds, due)
        self.sleeping += 1
        for listener in self.listeners:
            listener()
        try:
            await future
        finally:
            if not timer.cancelled:  # cancelled while asleep: the timer never fired
                timer.cancel()
                self.sleeping -= 1

    def next_time(self) -> float | None:
        """When the next live timer is due, or ``None``."""
        timers = self._timers
        while timers and timers[0][2].cancelled:
            heapq.heappop(timers)
        return timers[0][0] if timers else None

    def advance(self) -> bool:
        """Jump to the next timer and fire every timer due then; ``False`` if there is none."""
        when = self.next_time()
        if when is None:
            return False
        self._now = max(self._now, when)
        timers = self._timers
        while timers and timers[0][0] <= when:
            _, _, timer = heapq.heappop(timers)
            if not timer.cancelled:
                timer.cancelled = True
                timer.callback()
        return True

    def rewind(self) -> None:
        """Back to the start time; timers still pending move back with it.

        Examples
        --------
        >>> clock = dipen.SimulatedClock(start=5)
        >>> _ = clock.call_later(10, lambda: None)
        >>> clock.advance(), clock.now()
        (True, 15.0)
        >>> clock.rewind(); clock.now()
        5.0
        """
        shift = self._now - self._start
        if shift:
            self._timers = [(when - shift, order, timer) for when, order, timer in self._timers]
            for _, _, timer in self._timers:
                timer.when -= shift
            heapq.heapify(self._timers)
        self._now = self._start

    def __repr__(self) -> str:
        return f"SimulatedClock(now={self._now})"


class Member(Protocol):
    """What the coordinator needs to know of a local runner's engine."""

    idle: bool
    running: int
    timers: int

    @property
    def seen(self) -> int:
        """The store revision its view has reached."""

    def wake(self) -> None: ...


class Coordinator:
    """Knows every runner engine that is running against one store in this process.

    It declares them all *quiescent* when none of them has work, firings or timers left, and
    advances a shared :class:`SimulatedClock` when all of them wait only for it.
    """

    def __init__(self) -> None:
        self.members: list[Member] = []
        self.clock: Clock | None = None
        self.quiescent = False
        self._paced: asyncio.TimerHandle | None = None
        #: the newest revision a member wrote: nobody is done while a member has not seen it
        self.latest = 0

    def clock_for(self, spec: str | Clock) -> Clock:
        """The clock a runner on this store uses: runners sharing a store share one clock."""
        if isinstance(spec, Clock):
            clock = spec
        elif spec == "real":
            clock = self.clock if isinstance(self.clock, RealClock) else RealClock()
        elif spec == "simulated":
            clock = self.clock if isinstance(self.clock, SimulatedClock) else SimulatedClock()
        else:
            raise RunnerError(f"clock={spec!r}: use 'real', 'simulated' or a Clock object")
        if self.clock is None:
            self.clock = clock
            if isinstance(clock, SimulatedClock):
                clock.listeners.append(self.settle)
        elif clock is not self.clock and (clock.simulated or self.clock.simulated):
            raise RunnerError(
                f"runners sharing a store must share one simulated clock; this store already "
                f"runs on {self.clock!r}"
            )
        return clock

    def join(self, member: Member) -> None:
        if member not in self.members:
            self.members.append(member)
        self.quiescent = False

    def leave(self, member: Member) -> None:
        if member in self.members:
            self.members.remove(member)
            if not self.members and self._paced is not None:
                self._paced.cancel()
                self._paced = None
            self.settle()

    def settle(self) -> None:
        """Called whenever a member goes idle or a firing starts sleeping on the clock."""
        members = self.members
        if not members or not all(member.idle for member in members):
            return
        latest = self.latest
        if any(member.seen < latest for member in members):  # a change is still on its way
            return
        running = sum(member.running for member in members)
        clock = self.clock
        if isinstance(clock, SimulatedClock):
            due = clock.next_time() if running == clock.sleeping else None
            if due is not None:
                if clock.speed:  # paced: jump when the wall clock says so
                    if self._paced is None:
                        delay = max(0.0, (due - clock.now()) / clock.speed)
                        self._paced = asyncio.get_running_loop().call_later(delay, self._jump)
                    return
                self._jump()
                return
            if running == 0 and clock.next_time() is None:
                self._finish()
        elif running == 0 and not any(member.timers for member in members):
            self._finish()

    def _jump(self) -> None:
        """Advance the simulated clock to its next timer, if everybody still waits for it."""
        self._paced = None
        members = self.members
        clock = self.clock
        if not isinstance(clock, SimulatedClock) or not members:
            return
        if all(m.idle for m in members) and sum(m.running for m in members) == clock.sleeping:
            clock.advance()
        # timers may have woken nobody (their sleepers were cancelled): look again once the
        # woken tasks had their turn
        asyncio.get_running_loop().call_soon(self.settle)

    def _finish(self) -> None:
        self.quiescent = True
        for member in list(self.members):
            member.wake()


#: clock times before 2001-01-01 are model times (a simulated clock starts at 0)
_WALL_CLOCK_FROM = 978_307_200.0


def readable_time(time: float, model: str = "t={:g}") -> str:
    """A clock time for people: a wall-clock time as local ISO 8601 with milliseconds, a
    model time (a simulated clock's, before 2001) formatted with ``model``.

    Examples
    --------
    >>> readable_time(90.5), readable_time(90.5, "{:.3f} s")
    ('t=90.5', '90.500 s')
    >>> readable_time(1_800_000_000).startswith("2027-01-15")
    True
    """
    if time < _WALL_CLOCK_FROM:
        return model.format(time)
    import datetime

    return datetime.datetime.fromtimestamp(time).astimezone().isoformat(timespec="milliseconds")

