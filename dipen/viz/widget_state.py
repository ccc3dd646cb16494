"""The state of the live view in plain Python (no ipywidgets here): the JSON it draws from,
and :class:`LiveState`, which follows one or several runners and answers the view's commands.

:class:`dipen.viz.widgets.LiveView` sends these values to the browser as synced traits. They
are built from the net, the runners (markings, states, statistics, their firings and the
store's running firings of other runners, as their replicas see them) and their events; only
who leads each region and who stands by comes from the store itself
(:meth:`dipen.Store.candidates`), so the view works the same on every store.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..errors import RunnerError
from ..events import (
    FiringFailed,
    FiringFinished,
    FiringStarted,
    GuardFailed,
    TransitionUnblocked,
)
from ..net import Net
from ..runner import Runner
from ..tokens import Marking
from .draw import STATES
from .layout import REGION_COLOURS, arc_path, region_hulls, resolve_positions
from .sharing import check_runners
from .view_control import held_states, standing

__all__ = [
    "LiveState",
    "describe_net",
    "error_text",
    "jsonable",
    "marking_counts",
    "run_ended",
    "sample_revisions",
    "token_panel",
]

_DIGITS = 3  # positions are sent rounded to a thousandth of a layout unit


def _point(x: float, y: float) -> list[float]:
    return [round(x, _DIGITS), round(y, _DIGITS)]


def describe_net(
    net: Net,
    runners: Mapping[str, Sequence[str]] | None = None,
    layout: Any = None,
) -> dict[str, Any]:
    """The static part of the view: places, transitions and arcs with their positions, the
    regions (with the runners that run each) and the colours of the transition states.

    Parameters
    ----------
    net
        The net to describe.
    runners
        ``{region: [runner node, ...]}``: the runners of the view that run each region.
    layout
        ``None`` (the default layout), a layout name or a dict of positions (see
        :func:`dipen.viz.layout.layout`).

    Examples
    --------
    >>> from dipen.viz.widget_state import describe_net
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> description = describe_net(net)
    >>> [p["name"] for p in description["places"]], description["transitions"][0]["region"]
    (['a', 'b'], 'default')
    >>> [(a["place"], a["kind"], a["source"]) for a in description["arcs"]]
    [('a', 'in', 'a'), ('b', 'out', 't')]
    """
    positions = resolve_positions(net, layout)
    runners = runners or {}
    places = [
        {"name": name, "at": _point(*positions[name]), "capacity": place.capacity}
        for name, place in net.places.items()
    ]
    transitions = [
        {"name": name, "at": _point(*positions[name]), "region": transition.region,
         "behaviour": transition.kind, "manual": transition.manual}
        for name, transition in net.transitions.items()
    ]
    arcs = []
    for arc in net.arcs:
        source, target, rad, middle = arc_path(arc, positions)
        (x1, y1), (x2, y2) = positions[source], positions[target]
        # the control point of matplotlib's arc3 curve, so that both drawings agree
        bend = None if not rad else _point((x1 + x2) / 2 + rad * (y2 - y1),
                                           (y1 + y2) / 2 - rad * (x2 - x1))
        arcs.append({
            "place": arc.place, "transition": arc.transition, "kind": arc.kind.value,
            "weight": arc.weight, "name": arc.name, "source": source, "target": target,
            "bend": bend, "middle": _point(*middle),
        })
    hulls = region_hulls(net, positions) if len(net.regions) > 1 else {}
    regions = [
        {"name": region, "colour": REGION_COLOURS[number % len(REGION_COLOURS)],
         "runners": list(runners.get(region, ())),
         "hulls": [[_point(x, y) for x, y in hull] for hull in hulls.get(region, ())]}
        for number, region in enumerate(net.regions)
    ]
    return {
        "name": net.name, "places": places, "transitions": transitions, "arcs": arcs,
        "regions": regions, "colours": {state: list(pair) for state, pair in STATES.items()},
    }


def marking_counts(marking: Marking | None, net: Net | None = None
                   ) -> tuple[dict[str, int], dict[str, int]]:
    """``({place: tokens}, {place: tokens held by firings})`` of ``marking`` (or of ``net``'s
    initial marking); the second lists only the places where firings hold tokens.

    Examples
    --------
    >>> from dipen.viz.widget_state import marking_counts
    >>> marking_counts(dipen.Marking({"a": (dipen.Token("t1"), dipen.Token("t2", firing="f1")),
    ...                              "b": ()}))
    ({'a': 2, 'b': 0}, {'a': 1})
    """
    if marking is None:
        if net is None:
            return {}, {}
        return {name: len(place.initial) for name, place in net.places.items()}, {}
    taken: dict[str, int] = {}
    for place, token in marking.tokens():
        if token.firing is not None:
            taken[place] = taken.get(place, 0) + 1
    return marking.counts(), taken


def jsonable(value: Any, limit: int = 2000) -> Any:
    """``value`` as plain JSON types; its ``repr`` (cut to ``limit`` characters) if it is not
    JSON, and its JSON text cut to ``limit`` characters if that is longer.

    Examples
    --------
    >>> from dipen.viz.widget_state import jsonable
    >>> jsonable(dipen.tokens.freeze({"n": [1, 2]})), jsonable({1, 2}), jsonable("x" * 9, limit=4)
    ({'n': [1, 2]}, '{1, 2}', '"xx…')
    """
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        text = repr(value)
        return text if len(text) <= limit else text[:limit - 1] + "…"
    if len(text) > limit:
        return text[:limit - 1] + "…"
    return json.loads(text)


def token_panel(marking: Marking | None, place: str, limit: int) -> dict[str, Any]:
    """The side panel of a selected place: its first ``limit`` tokens (id, data, the firing
    that holds it) and how many there are.

    Examples
    --------
    >>> from dipen.viz.widget_state import token_panel
    >>> marking = dipen.Marking({"a": tuple(dipen.Token(f"t{i}", {"i": i}) for i in range(5))})
    >>> panel = token_panel(marking, "a", limit=2)
    >>> panel["total"], panel["shown"][0], len(panel["shown"])
    (5, {'id': 't0', 'data': {'i': 0}, 'firing': None}, 2)
    """
    if marking is None or not place or place not in marking:
        return {}
    tokens = marking[place]
    return {
        "place": place,
        "total": len(tokens),
        "free": sum(1 for token in tokens if token.firing is None),
        "limit": limit,
        "shown": [{"id": token.id, "data": jsonable(token.data), "firing": token.firing}
                  for token in tokens[:limit]],
    }


def error_text(error: BaseException) -> str:
    """``"ValueError: boom"``: an error as one line for the view."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def run_ended(runner: Runner, task: asyncio.Task[Any]) -> str:
    """How a run that did not fail ended, for the view's notice."""
    if task.cancelled():
        return f"run of {runner.node} cancelled"
    summary = task.result()
    return f"run of {runner.node} ended ({summary.reason}): {summary.firings} firings"


def sample_revisions(revisions: Iterable[tuple[int, float, str]], limit: int = 1000
                     ) -> dict[str, Any]:
    """The stops of the history slider: at most ``limit`` of ``revisions`` (``(revision, time,
    kind)``, oldest first), evenly spread, always with the first and the last.

    Examples
    --------
    >>> from dipen.viz.widget_state import sample_revisions
    >>> history = sample_revisions([(r, r / 10, "fire") for r in range(1, 101)], limit=5)
    >>> history["revisions"], history["count"]
    ([1, 26, 51, 75, 100], 100)
    """
    revisions = list(revisions)
    count = len(revisions)
    limit = max(2, limit)
    if count > limit:
        step = (count - 1) / (limit - 1)
        revisions = [revisions[math.floor(i * step + 0.5)] for i in range(limit)]
    return {
        "revisions": [revision for revision, _, _ in revisions],
        "times": [time for _, time, _ in revisions],
        "kinds": [kind for _, _, kind in revisions],
        "count": count,
    }


_SAMPLE = 0.5  # wall seconds between two samples of the firing rate
_RATES = 60  # samples kept for the sparkline


class LiveState:
    """What a live view knows about its runners, and the JSON values it sends.

    ``runners`` share one net and one store (one runner per region, perhaps with standbys;
    see :func:`check_runners` for when two etcd stores count as one).
    The events tell which errors a transition raised and, at once, which runner took over a
    region (the one whose firings start): :meth:`note` takes those from the event types in
    :attr:`noted`. The store tells who leads each region and who stands by
    (:attr:`candidates_seen`): read at every :meth:`compute` from a store in this process, by
    :meth:`read_candidates` (which the live view calls every second or so) from etcd.

    Raises
    ------
    RunnerError
        If there is no runner, or the runners do not share one net and one store.

    Examples
    --------
    >>> from dipen.viz.widget_state import LiveState
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> state = LiveState([dipen.Runner(net)])
    >>> values = state.compute(0.0)
    >>> values["marking"], values["states"]
    ({'a': 1, 'b': 0}, {'t': 'enabled'})
    >>> state.explain("t")
    "'t' is enabled: it would take 1 from 'a'"

    Leaders and standbys come from the store, firings of runners outside the view from the
    store's records:

    >>> store = dipen.MemoryStore()
    >>> here, there = dipen.Runner(net, store=store, node="here"), dipen.Runner(net, store=store,
    ...                                                                          node="there")
    >>> there.step_sync("t").state
    'finished'
    >>> LiveState([here]).compute(0.0)["status"]["candidates"]
    {'default': [['there', 1]]}
    """

    def __init__(self, runners: Sequence[Runner]) -> None:
        check_runners(runners)
        self.runners = list(runners)
        self.net = self.runners[0].net
        self.candidates = {region: [r for r in self.runners if region in r.regions]
                           for region in self.net.regions}
        self.leaders = {region: found[0].node
                        for region, found in self.candidates.items() if found}
        #: ``{region: [(node, fence), ...]}`` as the store last told (leader first), or None
        self.candidates_seen: dict[str, list[tuple[str, int]]] | None = None
        self.nodes = frozenset(r.node for r in self.runners)
        self.errors: dict[str, str] = {}
        self.past: Marking | None = None  #: the marking at the history position shown
        self.connected = True  #: the first runner could read its marking
        self.rates: deque[float] = deque(maxlen=_RATES)
        self.rate = 0.0
        self._sample_at: float | None = None
        self._sample_total = 0
        self._stats: dict[str, Any] = {}
        self.noted: frozenset[type] = frozenset()
        self._watch()

    def description(self, layout: Any = None) -> dict[str, Any]:
        """The ``net`` value: :func:`describe_net` with the runners of each region."""
        runners = {region: [r.node for r in found] for region, found in self.candidates.items()}
        return describe_net(self.net, runners, layout)

    # -- events ------------------------------------------------------------------------------

    def note(self, node: str, event: Any) -> bool:
        """Remember what only the events tell: errors, and which runner leads a region.
        True if a region's leader changed (a takeover: ask the store again)."""
        kind = type(event)
        errors = self.errors
        if kind is FiringStarted:
            region = event.firing.region
            if self.leaders.get(region) != node:
                self.leaders[region] = node
                return True
            return False
        had = bool(errors)
        if kind is FiringFinished:
            errors.pop(event.firing.transition, None)
        elif kind is FiringFailed:
            errors[event.firing.transition] = f"{error_text(event.error)} ({event.action})"
        elif kind is GuardFailed:
            errors[event.transition] = f"guard raised {error_text(event.error)}"
        elif kind is TransitionUnblocked:
            errors.pop(event.transition, None)
        if had != bool(errors):
            self._watch()
        return False

    # -- leaders and standbys --------------------------------------------------------------------

    @property
    def in_process(self) -> bool:
        """Whether the store lives in this process (then it is asked at every compute)."""
        return getattr(self.runners[0].store, "live", None) is not None

    async def read_candidates(self) -> bool:
        """Ask the store who leads each region and who stands by; True if that changed."""
        return self._take(await self.runners[0].store.candidates())

    def _take(self, found: dict[str, list[tuple[str, int]]]) -> bool:
        found = {region: [(node, fence) for node, fence in nodes]
                 for region, nodes in found.items()}
        changed = found != self.candidates_seen
        self.candidates_seen = found
        for region, nodes in found.items():
            if nodes and region in self.candidates:
                self.leaders[region] = nodes[0][0]
        return changed

    def elsewhere(self) -> dict[str, dict[str, int]]:
        """``{transition: {node: firings}}``: the firings running now in runners outside
        this view (the store's records, as the first runner's replica sees them)."""
        found: dict[str, dict[str, int]] = {}
        nodes = self.nodes
        for record in self.runners[0]._store_firings():
            if record.node not in nodes:
                counts = found.setdefault(record.transition, {})
                counts[record.node] = counts.get(record.node, 0) + 1
        return found

    def _watch(self) -> None:
        """The event types :meth:`note` must see: finished firings only while an error is
        shown, started ones only where several runners could lead a region."""
        noted = {FiringFailed, GuardFailed, TransitionUnblocked}
        if self.errors:
            noted.add(FiringFinished)
        if any(len(found) > 1 for found in self.candidates.values()):
            noted.add(FiringStarted)
        self.noted = frozenset(noted)

    # -- reading -----------------------------------------------------------------------------

    def compute(self, now: float, *, position: int | None = None, selected: str = "",
                limit: int = 20) -> dict[str, Any]:
        """The values of the live traits now (``now``: a wall clock in seconds, for the
        firing rate); with ``position``, the marking shown is :attr:`past`."""
        runners = self.runners
        first = runners[0]
        try:
            live: Marking | None = first.marking
            self.connected = True
        except RunnerError:  # a store that must be connected first (etcd)
            live = None
            self.connected = False
        shown = self.past if position is not None and self.past is not None else live
        firing: dict[str, int] = {}
        for runner in runners:
            for record in runner.firing:
                firing[record.transition] = firing.get(record.transition, 0) + 1
        running = any(r.running for r in runners)
        total = sum(r.stats.total for r in runners)
        sampled = False
        if self._sample_at is None:
            self._sample_at, self._sample_total = now, total
        elif now - self._sample_at >= _SAMPLE:
            self.rate = (total - self._sample_total) / (now - self._sample_at)
            self.rates.append(round(self.rate, 1))
            self._sample_at, self._sample_total = now, total
            sampled = True
        if sampled or not running or not self._stats:  # while running, twice a second will do
            self._stats = self.statistics(total)
        counts, taken = marking_counts(shown, self.net)
        clock = first.clock
        if self.in_process and live is not None:
            self._take(first._candidates_now())
        seen = self.candidates_seen
        return {
            "marking": counts,
            "states": self.states(),
            "firing": {"transitions": firing, "taken": taken, "elsewhere": self.elsewhere()},
            "errors": dict(self.errors),
            "stats": self._stats,
            "status": {
                "clock": "simulated" if clock.simulated else "real",
                "now": clock.now(),
                "revision": None if live is None else live.revision,
                "running": running,
                "connected": live is not None,
                "position": position,
                "time": None if shown is None else shown.time,
                "leaders": dict(self.leaders),
                "candidates": None if seen is None else {
                    region: [[node, fence] for node, fence in nodes]
                    for region, nodes in seen.items()},
            },
            "tokens": token_panel(shown, selected, limit) if selected else {},
            "controls": self.controls(),
        }

    def statistics(self, total: int | None = None) -> dict[str, Any]:
        """Firings and failures per transition over all runners, the total, the recent rates."""
        firings: dict[str, int] = {}
        failures: dict[str, int] = {}
        for runner in self.runners:
            stats = runner.stats
            for counts, merged in ((stats.firings, firings), (stats.failures, failures)):
                for name, count in counts.items():
                    merged[name] = merged.get(name, 0) + count
        if total is None:
            total = sum(firings.values())
        return {"total": total, "rate": round(self.rate, 1), "rates": list(self.rates),
                "firings": firings, "failures": failures}

    def owner(self, transition: str) -> Runner | None:
        """The runner of ``transition``'s region (its leader, once the events told)."""
        region = self.net.transitions[transition].region
        found = self.candidates.get(region, ())
        leader = self.leaders.get(region)
        for runner in found:
            if runner.node == leader:
                return runner
        return found[0] if found else None

    def runner_of(self, transition: str) -> Runner:
        """:meth:`owner`, or a :class:`RunnerError` saying that no runner runs it."""
        runner = self.owner(transition)
        if runner is None:
            region = self.net.transitions[transition].region
            raise RunnerError(
                f"transition {transition!r} runs in region {region!r}, which no runner of "
                f"this view runs (regions: {', '.join(sorted(self.leaders)) or 'none'})"
            )
        return runner

    def controls(self) -> dict[str, Any]:
        """The ``controls`` value: the store's blocks by hand and waiting manual requests, as
        the first runner's replica sees them (see :func:`dipen.viz.view_control.standing`)."""
        return standing(self.runners[0].standing_controls(), self.net)

    def states(self) -> dict[str, str]:
        """Each transition's state, as the runner of its region sees it (``"idle"`` where that
        runner is not connected yet; ``"blocked"`` where a block by hand holds it)."""
        held = self.controls()["held"]
        runners = self.runners
        if len(runners) == 1:
            try:
                return held_states(runners[0].states(), held)
            except RunnerError:  # not connected yet
                return dict.fromkeys(self.net.transitions, "idle")
        owners = {name: self.owner(name) or runners[0] for name in self.net.transitions}
        seen: dict[int, dict[str, str]] = {}
        for runner in {id(r): r for r in owners.values()}.values():
            try:
                seen[id(runner)] = runner.states()
            except RunnerError:
                seen[id(runner)] = {}
        return held_states({name: seen[id(owner)].get(name, "idle")
                            for name, owner in owners.items()}, held)

    def shown(self, position: int | None) -> Marking:
        """The marking the view shows: :attr:`past` at a history position, else the live one."""
        if position is not None and self.past is not None:
            return self.past
        return self.runners[0].marking

    def picture(self, position: int | None) -> str:
        """The view as SVG text (see :meth:`dipen.viz.widgets.LiveView.to_svg`)."""
        from .draw import to_svg

        seen = self.candidates_seen
        nodes = {node for found in (seen or {}).values() for node, _ in found}
        leaders = {"leaders": seen} if seen is not None and len(nodes) > 1 else {}
        return to_svg(self.net, self.shown(position), states=self.states(),
                      regions=len(self.net.regions) > 1, **leaders,
                      elsewhere={name: sorted(found) for name, found in self.elsewhere().items()})

    # -- commands ----------------------------------------------------------------------------

    async def step(self, transition: str | None, data: Any = None) -> tuple[bool, str, Any]:
        """Fire ``transition`` (or the first enabled one) with ``data``; ``(ok, text,
        transition fired)``. Raises what ``runner.step`` raises (e.g. NotEnabledError)."""
        runners = [self.runner_of(transition)] if transition is not None else self.runners
        for runner in runners:
            firing = await runner.step(transition, data)
            if firing is not None:
                break
        else:
            return True, "nothing is enabled", transition
        if firing.state == "finished":
            return True, f"fired {firing.transition!r}: {firing!r}", firing.transition
        return False, f"{firing.transition!r} {firing.state}: {firing!r}", firing.transition

    def start(self, done: Callable[[Runner, asyncio.Task[Any]], None]) -> str:
        """``runner.start()`` every runner not running yet; ``done(runner, task)`` follows."""
        started = []
        for runner in self.runners:
            if not runner.running:
                runner.start().add_done_callback(functools.partial(done, runner))
                started.append(runner.node)
        return f"running ({', '.join(started)})" if started else "already running"

    def pause(self) -> str:
        for runner in self.runners:
            runner.pause()
        return "pausing" if any(r.running for r in self.runners) else "not running"

    def stop(self) -> str:
        for runner in self.runners:
            runner.stop()
        return "stopping" if any(r.running for r in self.runners) else "not running"

    def reset(self) -> str:
        """Back to the initial marking (``runner.reset()``: memory store, nothing running)."""
        for runner in self.runners:
            if runner.running:
                raise RunnerError(f"runner {runner.node} is running; pause it before a reset")
        self.runners[0].reset()  # they share one store
        for runner in self.runners[1:]:
            runner.history.clear()
        self.errors.clear()
        self._watch()
        self.past = None
        self.rates.clear()
        self.rate = 0.0
        self._sample_at = None
        return "back to the initial marking"

    def forget_error(self, transition: str) -> None:
        """Show no error for ``transition`` any more (it was unblocked)."""
        if self.errors.pop(transition, None) is not None:
            self._watch()

    def explain(self, transition: str) -> str:
        return (self.owner(transition) or self.runners[0]).explain(transition)

    async def history(self, limit: int = 1000) -> dict[str, Any]:
        """The ``history`` value: the revisions the store keeps (see :func:`sample_revisions`)."""
        return sample_revisions(await self.runners[0].revisions(), limit)

    async def marking_at(self, revision: int) -> Marking:
        return await self.runners[0].marking_at(revision)
