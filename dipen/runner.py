"""The Runner: a net, a store, a clock and the regions it runs — the public run/step/stop API.

Everything is ``async`` underneath; ``run_sync``/``step_sync`` are the blocking forms for
scripts and for notebook users who prefer not to ``await``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from .clock import _CLOCK, SimulatedClock
from .contexts import Enabled
from .engine import Engine
from .errors import DipenError, NetMismatchError, NotEnabledError, RunnerError
from .events import Firing
from .executors import FunctionExecutor, PTExecutor, explain_guard_failures
from .history import History
from .notebook import run_blocking
from .stats import Stats
from .stores.memory import MemoryStore
from .tokens import Marking

if TYPE_CHECKING:
    from .control import Control
    from .clock import Clock
    from .net import Net
    from .state import FiringRecord
    from .stores.base import Store

__all__ = ["RunSummary", "Runner"]

_NODES = itertools.count(1)


class RunSummary(NamedTuple):
    """What :meth:`Runner.run` did: why it stopped (``"quiescent"``, ``"until"``,
    ``"max_firings"``, ``"timeout"``, ``"stopped"``), how many firings finished, the clock time
    at the end and the wall seconds it took.

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=3).place("b").transition("t", take="a", give="b")
    >>> summary = dipen.Runner(net).run_sync(max_firings=2)
    >>> summary.reason, summary.firings
    ('max_firings', 2)
    """

    reason: str
    firings: int
    time: float
    elapsed: float

    def __repr__(self) -> str:
        return (f"RunSummary(reason={self.reason!r}, firings={self.firings}, "
                f"time={self.time:g}, elapsed={self.elapsed:.3f}s)")


class Runner:
    """Runs a net (or some regions of it) against a store.

    Parameters
    ----------
    net
        The net to run.
    store
        Where the state lives; a fresh :class:`dipen.MemoryStore` by default. Pass one store
        to several runners to let them share a net's state (one runner per region).
    region
        A region name or a list of them; ``None`` runs every region of the net.
    clock
        ``"real"``, ``"simulated"`` or a :class:`dipen.clock.Clock`. Runners sharing a store
        share its simulated clock.
    node
        This runner's name in the store's records (default: host, process and a counter).
    history
        How many events :attr:`history` keeps (``None``: all). The store keeps every change
        whatever this says (:func:`dipen.history` reads them back). Of a longer history, the
        last 512 to 576 events are kept as they are and older ones flat, read back as equal
        events (:mod:`dipen.flat_firings`); a bound of at most 1,024 keeps them all as they
        are and makes a long run of the memory store fastest (for 64,000 firings, 1,000
        events run about 1.4 times as fast as the default).

    Examples
    --------
    >>> net = dipen.Net("ring").place("a", tokens=1).place("b")
    >>> net = net.transition("go", take="a", give="b").transition("back", take="b", give="a")
    >>> runner = dipen.Runner(net)
    >>> runner.run_sync(max_firings=5)
    RunSummary(reason='max_firings', firings=5, ...)
    >>> runner.marking.counts()
    {'a': 0, 'b': 1}
    """

    def __init__(
        self,
        net: Net,
        store: Store | None = None,
        region: str | Iterable[str] | None = None,
        clock: str | Clock = "real",
        node: str | None = None,
        history: int | None = 100_000,
    ) -> None:
        self.net = net
        self.store: Store = MemoryStore() if store is None else store
        self.clock = self.store.coordinator.clock_for(clock)
        self.node = node or f"{socket.gethostname()}-{os.getpid()}-{next(_NODES)}"
        regions = None if region is None else frozenset([region] if isinstance(region, str) else region)
        if regions is not None:
            unknown = sorted(regions - set(net.regions))
            if unknown:
                raise RunnerError(
                    f"net {net.name!r} has no region {unknown[0]!r} "
                    f"(regions: {', '.join(sorted(net.regions)) or 'none'})"
                )
        self.regions = frozenset(net.regions) if regions is None else regions
        self.history = History(history)
        self.stats = Stats()
        self._subscribers: list[Callable[[Any], None]] = []
        self._engine = Engine(
            net, self.store, regions, self.clock, self.node, self.history.append, self.stats
        )
        self._busy = False
        self._task: asyncio.Task[RunSummary] | None = None  # keeps a start()ed run alive

    def __repr__(self) -> str:
        regions = ", ".join(sorted(self.regions))
        return (f"Runner(net={self.net.name!r}, regions=[{regions}], store={self.store!r}, "
                f"clock={type(self.clock).__name__})")

    # -- events ------------------------------------------------------------------------------------

    def _emit(self, event: Any) -> None:
        self.history.append(event)
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # an observer must never break the runner
                import logging

                logging.getLogger("dipen.runner").exception("event subscriber %r raised", callback)

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for every event from now on; returns the unsubscribe function.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> runner, seen = dipen.Runner(net), []
        >>> stop = runner.subscribe(seen.append)
        >>> _ = runner.run_sync()
        >>> [type(e).__name__ for e in seen]
        ['FiringStarted', 'FiringFinished']
        """
        self._subscribers.append(callback)
        self._engine.emit = self._emit

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)
            if not self._subscribers:
                self._engine.emit = self.history.append

        return unsubscribe

    # -- state -------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect to the store and load the state (done by ``run``/``step`` when needed).

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> async def look():
        ...     runner = dipen.Runner(net)
        ...     await runner.open()
        ...     try:
        ...         return runner.enabled()
        ...     finally:
        ...         await runner.close()
        >>> asyncio.run(look())
        ['t']
        """
        await self._engine.open()

    def _open_now(self) -> Engine:
        """The engine, connected: at once for a store in this process, otherwise through a
        blocking call (the same loop ``run_sync`` uses, or nested in a notebook's loop)."""
        engine = self._engine
        if engine.state is None:
            if getattr(self.store, "live", None) is None:  # a store that needs the network
                run_blocking(engine.open())
                return engine
            coroutine = engine.open()
            try:
                coroutine.send(None)
            except StopIteration:
                pass
            else:  # pragma: no cover - a live store never waits
                coroutine.close()
                raise RunnerError(f"{self.store!r} must be connected first: 'await runner.open()'")
        return engine

    @property
    def marking(self) -> Marking:
        """The current marking as this runner sees it (a snapshot)."""
        engine = self._open_now()
        return engine.state.marking(self.clock.now())  # type: ignore[union-attr]

    @property
    def now(self) -> float:
        """The runner's clock (seconds; simulated clocks start at 0)."""
        return self.clock.now()

    @property
    def firing(self) -> list[Firing]:
        """The firings of this runner that are running now."""
        return self._engine.active

    def enabled(self) -> list[str]:
        """The transitions (of this runner's regions) that could fire now.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> dipen.Runner(net).enabled()
        ['t']
        """
        return self._open_now().checking.enabled()

    def explain(self, transition: str) -> str:
        """Why ``transition`` is or is not enabled, in words.

        Examples
        --------
        >>> net = dipen.Net("n").place("a").place("b").transition("t", take={"a": 2}, give="b")
        >>> dipen.Runner(net).explain("t")
        "'t' is not enabled: place 'a' has 0 free tokens, needs 2 tokens"

        A guard that raises for some tokens makes only those tokens not enabled; the
        explanation names them (see :meth:`dipen.executors.FunctionExecutor.guard_failures`).
        """
        engine = self._open_now()
        text = engine.checking.explain(transition)
        record = engine.transition(transition)
        executor = record.executor
        if isinstance(executor, (FunctionExecutor, PTExecutor)) and record.context is not None:
            failures = getattr(executor, "guard_failures", None)
            if failures is not None:
                enabled = text.startswith(f"{transition!r} is enabled")
                text += explain_guard_failures(failures(record.context), enabled)
        return text

    def block(self, transition: str) -> None:
        """Start no new firings of ``transition`` until :meth:`unblock`.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net)
        >>> runner.block("t")
        >>> runner.run_sync().firings, runner.states()
        (0, {'t': 'blocked'})
        """
        self._open_now().block(transition)

    def unblock(self, transition: str) -> None:
        """Let ``transition`` fire again (also after its error policy blocked it).

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net)
        >>> runner.block("t")
        >>> runner.unblock("t")
        >>> runner.run_sync().firings
        2
        """
        engine = self._open_now()
        held = engine.transition(transition).held
        engine.unblock(transition)
        if held:
            raise RunnerError(f"transition {transition!r} is {held}; that block is in the store "
                              f"(every runner obeys it): lift it with "
                              f"await runner.control.unblock({transition!r})")

    def blocked(self) -> dict[str, str]:
        """The blocked transitions and why.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net)
        >>> runner.block("t")
        >>> runner.blocked()
        {'t': 'blocked by hand'}
        """
        engine = self._open_now()
        return {name: r.block_reason if r.blocked else r.held
                for name, r in engine._transitions.items() if r.blocked or r.held}

    def standing_controls(self) -> dict[str, dict[str, Any]]:
        """The standing controls of the store as this runner sees them (none before it
        connected): blocks by hand (``block/transition/T``, ``block/region/R``) and manual
        firing requests waiting for an answer (``request/ID``), each with who set it and when
        (see :class:`dipen.Control`). Every runner of the store obeys them; :meth:`blocked`
        lists only this runner's own blocks.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net, node="n1")
        >>> async def block():
        ...     await runner.open()
        ...     await runner.control.block("t", why="maintenance")
        >>> asyncio.run(block())
        >>> block = runner.standing_controls()["block/transition/t"]
        >>> block["by"], block["why"]
        ('n1', 'maintenance')
        """
        state = self._engine.state
        if state is None:
            return {}
        return {key: dict(note) for key, note in state.controls.items()}

    def states(self) -> dict[str, str]:
        """Each transition's state now: ``"firing"``, ``"blocked"``, ``"failed"`` (blocked by its
        error policy), ``"enabled"`` or ``"idle"``.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net)
        >>> runner.states()
        {'t': 'enabled'}
        >>> _ = runner.run_sync()
        >>> runner.states()
        {'t': 'idle'}
        """
        engine = self._open_now()
        enabled = set(engine.checking.enabled())
        firing = {f.transition for f in engine.active}
        states = {}
        for name, record in engine._transitions.items():
            if name in firing:
                states[name] = "firing"
            elif record.blocked:
                states[name] = "failed" if record.block_reason.startswith("run raised") else "blocked"
            elif record.held:
                states[name] = "blocked"
            else:
                states[name] = "enabled" if name in enabled else "idle"
        return states

    def draw(self, *, leaders: bool | Mapping[str, Any] | None = None, **options: Any) -> Any:
        """A matplotlib figure of the net with the current marking and transition states.

        Transitions that other runners are firing now (the store's running firings of other
        nodes, seen through its watch) get a dashed outline and the name of their node.

        Parameters
        ----------
        leaders
            Label each region with the node that leads it and its standbys (see
            :func:`dipen.viz.draw`): ``None`` (the default) does when more than one runner
            campaigns for the regions of the store, ``True`` always, ``False`` never; or pass
            ``{region: [(node, fence), ...]}`` as ``await store.candidates()`` gives it. The
            runner asks its store (a memory store at once, etcd with one request).
        options
            Passed on to :func:`dipen.viz.draw`.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net, node="n1")
        >>> runner.step_sync("t")
        Firing('t', id='f1', finished, took={a: 1}, placed={b: 1})
        >>> figure = runner.draw(leaders=True)
        >>> [t.get_text() for t in figure.axes[0].texts if t.get_gid() == "region-label:default"]
        ['default · leader n1']
        """
        from .viz.draw import draw

        return draw(self.net, self.marking, **self._drawing(leaders), **options)

    def _repr_svg_(self) -> str:
        from .viz.draw import to_svg

        return to_svg(self.net, self.marking, **self._drawing(None))

    def _drawing(self, leaders: bool | Mapping[str, Any] | None) -> dict[str, Any]:
        """The options of :func:`dipen.viz.draw` that show this runner: the transition states,
        the firings of other nodes and (see :meth:`draw`) the leaders and standbys."""
        self._open_now()
        elsewhere: dict[str, list[str]] = {}
        for record in self._store_firings():
            if record.node != self.node:
                elsewhere.setdefault(record.transition, []).append(record.node)
        options: dict[str, Any] = {"states": self.states(), "elsewhere": elsewhere}
        if isinstance(leaders, Mapping):
            options["leaders"] = leaders
        elif leaders is not False:
            try:
                found = self._candidates_now()
            except DipenError:
                if leaders:
                    raise
                found = {}  # a store out of reach: the drawing goes without
            nodes = {node for candidates in found.values() for node, _ in candidates}
            if leaders or len(nodes) > 1:
                options["leaders"] = found
        return options

    def _store_firings(self) -> list[FiringRecord]:
        """The running firings of every runner of the store, as this runner's view of the
        store records them (none before it connected)."""
        state = self._engine.state
        return [] if state is None else list(state.firings.values())

    def _candidates_now(self) -> dict[str, list[tuple[str, int]]]:
        """``store.candidates()`` from code that cannot await (at once for a store in this
        process, otherwise through a blocking call)."""
        if getattr(self.store, "live", None) is not None:
            coroutine = self.store.candidates()
            try:
                coroutine.send(None)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            coroutine.close()  # pragma: no cover - a store in this process never waits
        return run_blocking(self.store.candidates())

    def reset(self) -> None:
        """Back to the initial marking (memory store only, with nothing running); the history
        and statistics start afresh, and a simulated clock goes back to its start.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net)
        >>> _ = runner.run_sync()
        >>> runner.reset()
        >>> runner.marking.counts()
        {'a': 2, 'b': 0}
        """
        if not isinstance(self.store, MemoryStore):
            raise RunnerError("reset() works on a MemoryStore only")
        if self._busy:
            raise RunnerError("stop the runner before resetting it")
        self._open_now()
        self.store.reset()
        self.history.clear()
        self.stats.clear()
        if isinstance(self.clock, SimulatedClock):
            self.clock.rewind()

    # -- running -----------------------------------------------------------------------------------

    def _enter(self) -> None:
        if self._busy:
            raise RunnerError(
                f"runner for net {self.net.name!r} is already running; call runner.stop() or "
                "wait for it"
            )
        self._busy = True

    async def run(
        self,
        until: float | Callable[[Marking], bool] | None = None,
        max_firings: int | None = None,
        timeout: float | None = None,
        progress: bool = False,
        forever: bool = False,
    ) -> RunSummary:
        """Fire transitions until nothing is enabled and nothing is firing.

        Parameters
        ----------
        until
            A clock time to stop at, or a predicate on the marking checked after each change.
            Firings still running then are left running and continue on the next call.
        max_firings
            Start at most this many firings (and wait for them to finish).
        timeout
            Wall seconds; then running firings are cancelled and their tokens go back.
        progress
            Show how far the run has come: a bar in a notebook, a line on standard error
            elsewhere (see :class:`dipen.viz.progress.RunProgress`).
        forever
            Do not stop when nothing is enabled: keep waiting for tokens from other regions,
            runners or edits, as a service does, until :meth:`stop` (or a condition above).

        Runners sharing a store stop together, when none of them can do anything more.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net)
        >>> asyncio.run(runner.run(max_firings=1))       # in a notebook: await runner.run()
        RunSummary(reason='max_firings', firings=1, ...)
        """
        self._enter()
        started = time.perf_counter()
        before = self.stats.total
        until_time = until if isinstance(until, (int, float)) else None
        predicate = None
        if callable(until):
            engine = self._engine
            predicate = lambda: until(engine.state.marking())  # type: ignore[union-attr]  # noqa: E731
        shown = None
        if progress:
            from .viz.progress import RunProgress

            shown = RunProgress(self, max_firings=max_firings, until=until_time)
        reason = "interrupted"
        try:
            self._engine.begin()
            self._engine.join()
            async with asyncio.timeout(timeout):
                await self._engine.open()
                await self._engine.lead()
                reason, _ = await self._engine.loop(
                    max_starts=max_firings, until=until_time, until_marking=predicate,
                    forever=forever,
                )
        except TimeoutError:
            reason = "timeout"
        except NetMismatchError:  # the net was migrated: let runners of the new net lead
            await self._engine.resign()
            raise
        finally:
            self._engine.leave()
            self._busy = False
            if shown is not None:
                shown.close(reason)
        return RunSummary(reason, self.stats.total - before, self.clock.now(),
                          time.perf_counter() - started)

    async def step(self, transition: str | None = None, data: Any = None) -> Firing | None:
        """Fire one enabled transition to completion and return its firing record.

        With ``transition``, fire that one (the token game) or raise
        :class:`dipen.NotEnabledError` saying why not; without, the first enabled transition
        in the net's order. Returns ``None`` when nothing is enabled.

        ``data`` (JSON) is handed to the firing as ``firing.input``: a transition without code
        gives it to the new tokens it creates; code reads ``dipen.current_firing().input``.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net)
        >>> runner.step_sync("t")
        Firing('t', id='f1', finished, took={a: 1}, placed={b: 1})
        >>> runner.step_sync() is None
        True
        """
        self._enter()
        clock_marker = _CLOCK.set(self.clock)  # the firing's first steps run in this task
        try:
            engine = self._engine
            engine.begin()
            await engine.open()
            await engine.lead()
            if engine._stop_requested or engine._pause_requested:
                return None  # stopped while it waited to lead
            if transition is not None:
                record = engine.transition(transition)
                if not record.mine:
                    raise NotEnabledError(
                        f"transition {transition!r} runs in region {record.region!r}, which this "
                        f"runner does not run (regions: {', '.join(sorted(self.regions))})",
                        transition, "other region",
                    )
                outcome = engine.checking.check(record)
                if not isinstance(outcome, Enabled):
                    raise NotEnabledError(engine.checking.explain(transition), transition,
                                          outcome.reason)
                candidates = [(record, outcome)]
            else:
                candidates = []
                for record in engine._transitions.values():
                    if record.mine and record.region in engine.leaders:
                        outcome = engine.checking.check(record)
                        if isinstance(outcome, Enabled):
                            candidates = [(record, outcome)]
                            break
            if not candidates:
                return None
            record, outcome = candidates[0]
            firing = await engine.start(record, outcome, data)
            if firing is None:
                return None
            if firing.state == "running":
                await engine.loop(starting=False, done=lambda: firing.state != "running")
            if engine.manual.answers:  # it served a manual request: answer it now
                await engine.manual.flush()
            return firing
        finally:
            _CLOCK.reset(clock_marker)
            self._busy = False

    def start(
        self,
        until: float | Callable[[Marking], bool] | None = None,
        max_firings: int | None = None,
        timeout: float | None = None,
        progress: bool = False,
        forever: bool = False,
    ) -> asyncio.Task[RunSummary]:
        """Run in the background on the running event loop (a notebook's) and return the task;
        the cell finishes at once and views keep updating. :meth:`pause` or :meth:`stop` it.

        The options are those of :meth:`run`: ``until``, ``max_firings``, ``timeout``,
        ``progress`` and ``forever`` (keep waiting for tokens from other runners, regions or
        edits until :meth:`stop`). The task's result is the :class:`RunSummary`.

        Raises
        ------
        RunnerError
            Outside a running event loop (in a script use :meth:`run_sync`), or while this
            runner is running already.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=3).place("b").transition("t", take="a", give="b")
        >>> async def main():
        ...     runner = dipen.Runner(net)
        ...     task = runner.start(max_firings=2)
        ...     return await task
        >>> asyncio.run(main())
        RunSummary(reason='max_firings', firings=2, ...)
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RunnerError(
                "runner.start() runs in the background of a running event loop (a notebook "
                "cell, or async code); in a script use runner.run_sync()"
            ) from None
        if self._busy:
            raise RunnerError(f"runner for net {self.net.name!r} is already running")
        task = loop.create_task(self.run(until=until, max_firings=max_firings, timeout=timeout,
                                         progress=progress, forever=forever))
        self._task = task
        return task

    @property
    def control(self) -> Control:
        """Block, unblock, cancel, fire manual transitions and edit tokens through this
        runner's store, as this runner's node (see :class:`dipen.Control`)."""
        from .control import Control

        return Control(self.store, by=self.node)

    @property
    def running(self) -> bool:
        """True while ``run``, ``step`` or a run begun with :meth:`start` is going on."""
        return self._busy

    def pause(self) -> None:
        """Make a running ``run`` return (reason ``"paused"``); firings in progress stay and go on
        with the next ``run``/``step``.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b")
        >>> @net.transition(take="a", give="b")
        ... async def slow(token):
        ...     await dipen.sleep(60)
        ...     return token
        >>> async def pause_soon(runner):
        ...     task = asyncio.create_task(runner.run())
        ...     await asyncio.sleep(0.05)
        ...     runner.pause()
        ...     return (await task).reason, len(runner.firing)
        >>> runner = dipen.Runner(net)
        >>> asyncio.run(pause_soon(runner))
        ('paused', 1)
        """
        self._engine.pause()

    def stop(self) -> None:
        """Stop a running ``run`` (or ``step``): running firings are cancelled and their
        tokens go back; a standby still waiting to lead stops waiting and gives up its claim.
        A stop asked while nothing runs does not affect the next ``run``.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b")
        >>> @net.transition(take="a", give="b")
        ... async def slow(token):
        ...     await dipen.sleep(60)
        ...     return token
        >>> async def stop_soon(runner):
        ...     task = asyncio.create_task(runner.run())
        ...     await asyncio.sleep(0.05)
        ...     runner.stop()
        ...     return (await task).reason
        >>> runner = dipen.Runner(net)
        >>> asyncio.run(stop_soon(runner)), runner.marking.counts()
        ('stopped', {'a': 1, 'b': 0})
        """
        self._engine.stop()

    async def marking_at(self, revision: int | None = None, *,
                         time: float | None = None) -> Marking:
        """The marking as it was right after store revision ``revision``, or at clock time
        ``time`` (time travel; see :func:`dipen.marking_at`).

        Raises
        ------
        CompactedError
            If the store no longer keeps that part of its history.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net)
        >>> _ = runner.run_sync()
        >>> import asyncio
        >>> asyncio.run(runner.marking_at(1)).counts()
        {'a': 2, 'b': 0}
        >>> asyncio.run(runner.marking_at(time=runner.now)).counts()
        {'a': 0, 'b': 2}
        """
        from .timeline import marking_at

        return await marking_at(self, revision=revision, time=time)

    async def revisions(self) -> list[tuple[int, float, str]]:
        """``(revision, time, kind)`` of every change the store still keeps, oldest first.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net)
        >>> _ = runner.run_sync()
        >>> [(revision, kind) for revision, time, kind in asyncio.run(runner.revisions())]
        [(1, 'init'), (2, 'fire')]
        """
        await self.open()
        return [(c.revision, c.time, c.kind) for c in await self.store.changes(0)]

    async def close(self) -> None:
        """Give up this runner's leaderships (standbys take over) and stop following the store.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> async def once():
        ...     runner = dipen.Runner(net)
        ...     await runner.run()
        ...     await runner.close()
        ...     return runner.marking.counts()
        >>> asyncio.run(once())
        {'a': 0, 'b': 1}
        """
        await self._engine.resign()
        self._engine.close()

    # -- blocking forms ----------------------------------------------------------------------------

    def _blocking(self, coroutine: Any) -> Any:
        return run_blocking(coroutine)

    def run_sync(
        self,
        until: float | Callable[[Marking], bool] | None = None,
        max_firings: int | None = None,
        timeout: float | None = None,
        progress: bool = False,
    ) -> RunSummary:
        """:meth:`run`, blocking: works in a script and in a notebook cell (a kernel interrupt
        stops it cleanly: running firings are cancelled and their tokens go back).

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> dipen.Runner(net).run_sync()
        RunSummary(reason='quiescent', firings=2, ...)
        """
        return self._blocking(self.run(until=until, max_firings=max_firings, timeout=timeout,  # type: ignore[no-any-return]
                                       progress=progress))

    def step_sync(self, transition: str | None = None, data: Any = None) -> Firing | None:
        """:meth:`step`, blocking.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net)
        >>> runner.step_sync("t")
        Firing('t', id='f1', finished, took={a: 1}, placed={b: 1})
        >>> runner.marking.counts()
        {'a': 1, 'b': 1}
        """
        return self._blocking(self.step(transition, data))  # type: ignore[no-any-return]
