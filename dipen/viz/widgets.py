"""LiveView: the live notebook view of one runner, or of several runners sharing one store.

The net is drawn as SVG in the browser (``view.js``) from the ``net`` trait; the live part
travels in a few JSON traits that the browser applies in place. Events arrive synchronously
from the engine, possibly thousands a second: the view only notes that something changed, and
sends the traits that changed at most every ``interval`` seconds, from a timer on the running
event loop. Without a running loop (a script, a test) it sends at once.

Commands from the browser arrive as custom messages (``model.send({action: ...})``), handled
by :meth:`LiveView.handle`, which tests and scripts may call directly::

    {"action": "step"}                                 fire the first enabled transition
    {"action": "step", "transition": t, "data": d}     fire t by hand, handing it data d (JSON)
    {"action": "fire", "transition": t, "data": d}     the same; the transition is required; a
                                                       manual one is asked for through the store
                                                       (optional "timeout": s) and its answer shown
    {"action": "run"} / {"action": "pause"} / {"action": "stop"}
    {"action": "reset"}                                back to the initial marking (memory store)
    {"action": "block" | "unblock", "transition": t | "region": r, "why": w}   through the store
    {"action": "cancel", "transition": t | "region": r, "why": w}   cancel the running firings
    {"action": "add", "place": p, "data": d, "why": w}  add a token by hand (an audited edit)
    {"action": "explain", "transition": t}
    {"action": "history"}                              load the revisions for the history slider

Instead of ``"data"``, ``"json"`` may carry the data as JSON text (as typed in the side panel).
Blocks, cancels, manual firings and added tokens go through the store with one
:class:`dipen.Control` (see :mod:`dipen.viz.view_control`), so that every runner of the store
obeys them; the blocks by hand and the waiting requests are in the ``controls`` trait.

Who leads each region and who stands by comes from the store (``status["candidates"]``): a
store in this process is asked at every flush; etcd every ``leaders_interval`` seconds while
the view is open (by a task on the running loop, which sleeps in between), and at once when a
firing shows that another runner took a region over. Firings that runners outside the view
are running (seen through the store's watch) are in ``firing["elsewhere"]`` with their node.

The outcome of each command is in the ``notice`` trait. The browser sets ``selected_place``,
``speed`` (simulated seconds per second, ``None`` for as fast as possible) and ``position``
(the store revision shown, ``None`` for live) and ``show_state_graph`` (the state graph panel,
:mod:`dipen.viz.state_panel`: traits ``state_graph`` and ``state_now``) directly.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import pathlib
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping
from time import perf_counter
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from ..errors import DipenError, RunnerError
from ..notebook import run_blocking
from ..runner import Runner

if TYPE_CHECKING:
    from ..analysis import ReachabilityGraph
from .esm import bundle
from .follow import LeaderWatch
from .settings import check_setting
from .state_panel import StateGraphPanel
from .view_control import ViewControl, read_data
from .widget_state import LiveState, error_text, run_ended

__all__ = ["LiveView"]

_LOGGER = logging.getLogger(__name__)
_HEARTBEAT = 1.0  # while running, look again this often even without events
_COMMANDS = ("step", "fire", "run", "pause", "stop", "reset", "block", "unblock", "cancel",
             "add", "explain", "history")
_THROUGH_STORE = ("block", "unblock", "cancel", "add")


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class LiveView(anywidget.AnyWidget):
    """A live view of a runner in a notebook: the net with its marking, controls, statistics.

    Parameters
    ----------
    runners
        A :class:`dipen.Runner`, or a list of runners sharing one store (one per region,
        perhaps with standbys): the view shows each transition's region and the runner that
        leads it, and sends each command about a transition to the runner of its region.
        Runners that each opened their own :class:`dipen.EtcdStore` on the same etcd and
        prefix share one store too (as runners on several machines do).
    layout
        Positions: ``None`` (the default layout), a layout name or a dict (see
        :func:`dipen.viz.layout.layout`).
    interval
        Send changes at most this often (seconds).
    token_limit
        Send at most this many tokens of the selected place.
    leaders_interval
        Ask a store in another process (etcd) this often (seconds) who leads each region and
        who stands by; 0 never asks.
    by
        Who acts in the blocks, cancels, manual firings and edits made in the view (recorded
        in the store; default: the node of the first runner).
    state_graph
        True to show the net's reachability graph (at most 300 states) and the state the run
        is in; or a :class:`dipen.analysis.ReachabilityGraph` of the net to show (e.g. made
        with ``pure=``). The browser shows and hides it (``show_state_graph``).

    Raises
    ------
    RunnerError
        If there is no runner, or the runners do not share one net and one store.

    Examples
    --------
    >>> from dipen.viz.widgets import LiveView
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> view = LiveView(dipen.Runner(net))
    >>> view.handle({"action": "step", "transition": "t"})
    >>> view.marking, view.states
    ({'a': 0, 'b': 1}, {'t': 'idle'})
    >>> view.notice["text"]
    "fired 't': Firing('t', id='f1', finished, took={a: 1}, placed={b: 1})"
    >>> view.close()
    """

    _esm = bundle(pathlib.Path(__file__).parent / "view.js")

    # sent by Python
    net = traitlets.Dict().tag(sync=True)  # places, transitions, arcs, regions, colours
    marking = traitlets.Dict().tag(sync=True)  # {place: tokens}
    states = traitlets.Dict().tag(sync=True)  # {transition: state}
    firing = traitlets.Dict().tag(sync=True)  # transitions: {t: n}, taken: {p: n}, elsewhere
    errors = traitlets.Dict().tag(sync=True)  # {transition: last error}
    stats = traitlets.Dict().tag(sync=True)  # total, rate, rates, firings, failures
    status = traitlets.Dict().tag(sync=True)  # clock, now, revision, ..., leaders, candidates
    tokens = traitlets.Dict().tag(sync=True)  # the selected place's first tokens
    history = traitlets.Dict().tag(sync=True)  # the revisions of the history slider
    controls = traitlets.Dict().tag(sync=True)  # blocks by hand, waiting manual requests
    notice = traitlets.Dict().tag(sync=True)  # the outcome of the last command
    state_graph = traitlets.Dict().tag(sync=True)  # the reachability graph, drawn
    state_now = traitlets.Dict().tag(sync=True)  # the state the run (and the history) is in
    token_limit = traitlets.Int(20).tag(sync=True)
    # set by the browser
    selected_place = traitlets.Unicode("").tag(sync=True)
    speed = traitlets.Float(None, allow_none=True).tag(sync=True)
    position = traitlets.Int(None, allow_none=True).tag(sync=True)
    show_state_graph = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        runners: Runner | Iterable[Runner],
        *,
        layout: Any = None,
        interval: float = 0.095,
        token_limit: int = 20,
        leaders_interval: float = 1.0,
        by: str | None = None,
        state_graph: bool | ReachabilityGraph = False,
        **kwargs: Any,
    ) -> None:
        self._closed = True  # until built: close() may run from __del__
        # the loop of the thread that made the view (a notebook's kernel loop): the browser's
        # messages may arrive on another thread (JupyterLab 4.6 sends them to a kernel
        # subshell), and are handed over to this loop, where the runners live
        self._home, self._home_thread = _running_loop(), threading.get_ident()
        self._state = state = LiveState([runners] if isinstance(runners, Runner) else list(runners))
        self._control = ViewControl(state, by)
        self._graph = StateGraphPanel(state.net, None if isinstance(state_graph, bool)
                                      else state_graph)
        self.interval = float(interval)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._leaders = LeaderWatch(state, self._touch, leaders_interval)  # etcd: who leads
        self._handle: asyncio.TimerHandle | None = None  # the next flush
        self._heartbeat: asyncio.TimerHandle | None = None  # a look while nothing happens
        self._stale_at = 0.0
        self._last_flush = -math.inf
        self._dirty = False
        self._opening = False
        self._notices = 0
        self._sent: dict[str, Any] = {}  # the values the last flush set
        self._events = self._flushes = 0
        self._event_seconds = self._flush_seconds = 0.0
        clock = state.runners[0].clock
        super().__init__(
            net=state.description(layout), token_limit=token_limit,
            speed=clock.speed if clock.simulated else None,  # type: ignore[attr-defined]
            show_state_graph=state_graph is not False, **kwargs,
        )
        self._closed = False
        self._unsubscribers = [r.subscribe(functools.partial(self._on_event, r.node))
                               for r in state.runners]
        self.on_msg(self._on_message)
        self.flush()

    def __repr__(self) -> str:
        nodes = ", ".join(repr(r.node) for r in self._state.runners)
        return f"LiveView(net={self._state.net.name!r}, runners=[{nodes}])"

    @property
    def runners(self) -> list[Runner]:
        """The runners this view shows."""
        return list(self._state.runners)

    @property
    def leaders_interval(self) -> float:
        """How often (seconds) the view asks a store in another process who leads; 0 never."""
        return self._leaders.interval

    @leaders_interval.setter
    def leaders_interval(self, seconds: float) -> None:
        self._leaders.interval = float(seconds)

    @property
    def profile(self) -> dict[str, float]:
        """How many events and flushes the view handled and the seconds it spent on them."""
        return {"events": self._events, "flushes": self._flushes,
                "event_seconds": self._event_seconds, "flush_seconds": self._flush_seconds}

    # -- events and flushing -----------------------------------------------------------------

    def _on_event(self, node: str, event: Any) -> None:
        # called for every event, thousands a second: note that something changed, no more
        started = perf_counter()
        if type(event) in self._state.noted and self._state.note(node, event):
            self._leaders.ask()
        self._dirty = True
        if self._handle is None or started > self._stale_at:  # none, or on a stopped loop
            self._schedule(started)
        self._events += 1
        self._event_seconds += perf_counter() - started

    def _touch(self) -> None:
        """Something changed outside the events: flush soon (at once without a loop)."""
        self._dirty = True
        now = perf_counter()
        if self._handle is None or now > self._stale_at:
            self._schedule(now)

    def _schedule(self, now: float) -> None:
        if self._closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # nobody would run a timer: show it now
            self.flush()
            return
        if self._handle is not None:
            self._handle.cancel()
        delay = max(0.0, self._last_flush + self.interval - now)
        self._handle = loop.call_later(delay, self._timer)
        self._stale_at = now + delay + 0.5  # a timer this late sits on a loop that stopped

    def _timer(self) -> None:
        self._handle = None
        if self._dirty:
            self.flush()

    def _beat(self) -> None:
        self._heartbeat = None
        self._touch()

    def flush(self) -> None:
        """Send the traits that changed, now. The view does this itself at most every
        ``interval`` seconds after events; after a blocking ``step_sync``/``run_sync`` in a
        script, call it to see the result at once.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net)
        >>> view = dipen.LiveView(runner)
        >>> _ = runner.step_sync("t")
        >>> view.flush()
        >>> view.marking
        {'a': 1, 'b': 1}
        >>> view.close()
        """
        if self._closed:
            return
        started = perf_counter()
        self._dirty = False
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        values = self._state.compute(started, position=self.position,
                                     selected=self.selected_place, limit=self.token_limit)
        if self.show_state_graph:
            values["state_now"] = self._graph.state_now(self._state, self.position)
        sent = self._sent
        with self.hold_sync():
            for name, value in values.items():
                if sent.get(name) != value:  # cheaper than letting traitlets find out
                    setattr(self, name, value)
                    sent[name] = value
        if not self._state.connected:
            self._open_later()
        self._leaders.follow()
        done = perf_counter()
        self._last_flush = started
        self._flushes += 1
        self._flush_seconds += done - started
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        if values["status"]["running"] or self._state.rate > 0:  # look again as it settles
            try:
                self._heartbeat = asyncio.get_running_loop().call_later(_HEARTBEAT, self._beat)
            except RuntimeError:
                pass

    def _open_later(self) -> None:
        if self._opening:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._opening = True

        async def connect() -> None:
            try:
                await self._state.runners[0].open()
            finally:
                self._opening = False

        self._spawn(connect(), "connect", None)

    # -- commands --------------------------------------------------------------------------------

    def _at_home(self, function: Callable[..., Any], *args: Any) -> bool:
        """If called away from the view's home thread, schedule ``function(*args)`` on the home
        loop and return True; otherwise return False (the caller goes on here)."""
        home = self._home
        if home is None or threading.get_ident() == self._home_thread or home.is_closed():
            return False
        home.call_soon_threadsafe(function, *args)
        return True

    def _on_message(self, widget: Any, content: Any, buffers: Any) -> None:
        if not self._at_home(self.handle, content):
            self.handle(content)

    def handle(self, message: Mapping[str, Any]) -> asyncio.Task[None] | None:
        """Carry out one command as the browser sends it (see the module docstring).

        The outcome lands in the ``notice`` trait (``{"seq", "action", "transition", "ok",
        "text"}``), the changed state in the other traits. Commands that wait (``step``,
        ``fire``, ``history``) run as a task on the running event loop, which is returned
        (``await view.wait()`` waits for all of them); without a running loop they run to the
        end before ``handle`` returns, as ``runner.step_sync`` does.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> view = dipen.LiveView(dipen.Runner(net))
        >>> view.handle({"action": "block", "transition": "t"})
        >>> view.states, view.notice["ok"]
        ({'t': 'blocked'}, True)
        >>> view.close()
        """
        if not isinstance(message, Mapping):
            self._notify(None, None, False, f"a command is a JSON object, not {message!r}")
            return None
        action, transition = message.get("action"), message.get("transition")
        state = self._state
        if action not in _COMMANDS:
            self._notify(action, transition, False,
                         f"unknown command {action!r}; use one of {', '.join(_COMMANDS)}")
            return None
        if transition is not None and transition not in state.net.transitions:
            self._notify(action, transition, False,
                         f"net {state.net.name!r} has no transition {transition!r}")
            return None
        try:
            if action in _THROUGH_STORE or (
                    action == "fire" and transition is not None
                    and state.net.transitions[transition].manual):
                return self._spawn(self._controlling(action, message), action, transition)
            if action in ("step", "fire"):
                if action == "fire" and transition is None:
                    raise RunnerError("'fire' needs a transition; 'step' fires the first enabled")
                data = read_data(message, f"data for transition {transition!r}")
                return self._spawn(self._stepping(action, transition, data), action, transition)
            if action == "history":
                return self._spawn(self._load_history(), action, None)
            if action == "explain":
                if transition is None:
                    raise RunnerError(f"{action!r} needs a transition")
                text = state.explain(transition)
            elif action == "run":
                text = state.start(self._run_done)
            elif action == "reset":
                text = state.reset()
                self.position = None
                self.history = {}
            else:
                text = getattr(state, action)()
        except Exception as exc:  # noqa: BLE001 - every failure goes to the view
            self._failed(action, transition, exc)
        else:
            self._notify(action, transition, True, text)
        self._touch()
        return None

    async def wait(self) -> None:
        """Wait until the commands in progress are done, then send the state.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> async def click_step(view):
        ...     view.handle({"action": "step", "transition": "t"})   # a task on the running loop
        ...     await view.wait()
        ...     return view.marking
        >>> view = dipen.LiveView(dipen.Runner(net))
        >>> asyncio.run(click_step(view))
        {'a': 1, 'b': 1}
        >>> view.close()
        """
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self.flush()

    async def _stepping(self, action: str, transition: str | None, data: Any) -> None:
        ok, text, fired = await self._state.step(transition, data)
        self._notify(action, fired, ok, text)

    async def _controlling(self, action: str, message: Mapping[str, Any]) -> None:
        transition = message.get("transition")

        def progress(text: str) -> None:
            self._notify(action, transition, True, text)

        ok, text = await self._control.carry_out(action, message, progress)
        self._notify(action, transition, ok, text)

    async def _load_history(self) -> None:
        self.history = await self._state.history()

    def _run_done(self, runner: Runner, task: asyncio.Task[Any]) -> None:
        if not self._closed:
            if not task.cancelled() and task.exception() is not None:
                self._failed("run", None, task.exception())  # type: ignore[arg-type]
            else:
                self._notify("run", None, True, run_ended(runner, task))
            self._touch()

    def _notify(self, action: Any, transition: Any, ok: bool, text: str) -> None:
        self._notices += 1
        self.notice = {"seq": self._notices, "action": action, "transition": transition,
                       "ok": ok, "text": text}

    def _failed(self, action: Any, transition: Any, exc: BaseException) -> None:
        if not isinstance(exc, DipenError):
            _LOGGER.warning("live view command %r failed", action, exc_info=exc)
        self._notify(action, transition, False,
                     str(exc) if isinstance(exc, DipenError) else error_text(exc))

    def _spawn(self, coroutine: Coroutine[Any, Any, None], action: Any, transition: Any
               ) -> asyncio.Task[None] | None:
        async def guarded() -> None:
            try:
                await coroutine
            except Exception as exc:  # noqa: BLE001
                self._failed(action, transition, exc)

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            run_blocking(guarded())
            self.flush()
            return None
        task = loop.create_task(guarded())
        self._tasks.add(task)

        def done(task: asyncio.Task[None]) -> None:
            self._tasks.discard(task)
            coroutine.close()  # cancelled before it began, it was never awaited
            if not self._closed:
                self._touch()

        task.add_done_callback(done)
        return task

    # -- what the browser sets -------------------------------------------------------------------

    @traitlets.validate("selected_place", "speed", "position", "token_limit")
    def _valid_setting(self, proposal: Any) -> Any:
        return check_setting(self._state, proposal["trait"].name, proposal["value"])

    @traitlets.observe("speed")
    def _speed_changed(self, change: Any) -> None:
        if self._at_home(self._speed_changed, change):
            return
        for runner in self._state.runners:
            if runner.clock.simulated:
                runner.clock.speed = change["new"]  # type: ignore[attr-defined]
        if not self._closed:
            self._touch()

    @traitlets.observe("selected_place", "token_limit", "show_state_graph")
    def _selection_changed(self, change: Any) -> None:
        if self._at_home(self._selection_changed, change):
            return
        if change["name"] == "show_state_graph" and change["new"]:
            self.state_graph = self._graph.describe()  # explored the first time only
        if not self._closed:
            self._touch()

    @traitlets.observe("position")
    def _position_changed(self, change: Any) -> None:
        if self._at_home(self._position_changed, change):
            return
        state = self._state
        state.past = None
        revision = change["new"]
        if self._closed:
            return
        if revision is None:
            self._touch()
            return

        async def travel() -> None:
            try:
                marking = await state.marking_at(revision)
            except DipenError:
                if self.position == revision:
                    self.position = None
                raise
            if self.position == revision:  # not moved on meanwhile
                state.past = marking

        self._spawn(travel(), "history", None)

    # -- display and closing ---------------------------------------------------------------------

    def to_svg(self) -> str:
        """The view as a static SVG picture: the marking shown, the transition states, the
        firings of runners outside the view and (when more than one runner campaigns) each
        region's leader and standbys.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> view = dipen.LiveView(dipen.Runner(net))
        >>> view.to_svg().lstrip().startswith("<?xml")
        True
        >>> view.close()
        """
        return self._state.picture(self.position)

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        try:  # a saved notebook shows this picture where widgets do not render
            data["image/svg+xml"] = self.to_svg()
        except DipenError as exc:
            _LOGGER.debug("no static picture of the live view: %s", exc)
        return data, metadata

    def close(self) -> None:
        """Stop following the runners and cancel the view's timers and commands (the runners
        go on).

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net)
        >>> view = dipen.LiveView(runner)
        >>> view.close()
        >>> runner.run_sync().firings, view.marking          # the view no longer follows
        (2, {'a': 2, 'b': 0})
        """
        if not getattr(self, "_closed", True):
            self._closed = True
            for unsubscribe in self._unsubscribers:
                unsubscribe()
            for handle in (self._handle, self._heartbeat):
                if handle is not None:
                    handle.cancel()
            self._handle = self._heartbeat = None
            self._leaders.close()
            for task in self._tasks:
                task.cancel()
        super().close()

    def __enter__(self) -> LiveView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
