"""A stretch of a net's history: its changes, each with the marking right after it.

:func:`history` reads a :class:`Timeline` back from a store, from any machine: what
``Store.changes`` still keeps (all of it for an unbounded :class:`dipen.MemoryStore`; for etcd
its MVCC revisions up to the last compaction). :func:`marking_at` travels back in time by
revision or by clock time. :func:`dipen.replay` reads a timeline from a recording file.

Windows are given by revision or by time, with separate keywords so that neither is mistaken
for the other:

- ``since``/``until`` are store revisions: the changes with ``since < revision <= until``, as
  ``Store.changes`` counts them;
- ``since_time``/``until_time`` are clock times (the runner's clock: epoch seconds with the real
  clock, model seconds with the simulated one): the changes stamped
  ``since_time <= time <= until_time``. Revisions order the changes; a time picks the revision
  of the last change stamped before it, so runners whose clocks disagree cannot reorder them.
  The initial marking (kind ``"init"``, which the store stamps with the wall clock) counts as
  earlier than every time.

Examples
--------
>>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
>>> store = dipen.MemoryStore()
>>> _ = dipen.Runner(net, store=store).run_sync()
>>> timeline = dipen.history_sync(store)
>>> timeline
Timeline(net='n', revisions 1–3, 3 steps)
>>> [step.describe() for step in timeline]
['init', "fire of 't' (firing 'f1')", "fire of 't' (firing 'f2')"]
>>> dipen.marking_at_sync(store, revision=2).counts()
{'a': 1, 'b': 1}
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from .errors import CompactedError, RecordingError, StoreError
from .state import Change, State
from .tokens import Marking, Token, _describe

if TYPE_CHECKING:
    from .net import Net
    from .stores.base import Store

__all__ = ["Failure", "Step", "Timeline", "history", "history_sync", "marking_at",
           "marking_at_sync"]

_Tokens = dict[str, tuple[Token, ...]]


class Failure(NamedTuple):
    """A firing that failed, as a runner saw it (``error`` and the policy's ``action`` in words)."""

    time: float
    revision: int
    transition: str
    firing: str
    error: str
    action: str


class Step(NamedTuple):
    """One change of a :class:`Timeline`, readable: who did what when, the tokens it took,
    removed, added and released (with their data, place by place) and the marking right after.

    ``kind`` is ``"start"``, ``"finish"``, ``"fire"`` (start and finish at once), ``"return"``
    (tokens given back), ``"put"``/``"edit"`` (tokens put or edited by hand) or ``"init"`` (the initial marking).
    """

    revision: int
    time: float
    node: str
    kind: str
    transition: str | None
    firing: str | None
    region: str | None
    taken: _Tokens
    removed: _Tokens
    added: _Tokens
    released: _Tokens
    note: Any
    marking: Marking
    change: Change

    def describe(self) -> str:
        """What happened, in words: ``"fire of 't' (firing 'f1')"``.

        Control changes, audited edits and migrations are spelled out, so that the node that
        made the change followed by these words reads as a sentence: ``"blocked transition
        'ship': inventory"``, ``"request q1 to fire 'approve' with {"amount": 20}"``,
        ``"answer to q1: finished (firing 'f3' of 'approve'; placed t7 in 'paid')"``,
        ``"removed token t2 from 'orders': duplicate"``, ``"migrated the net: add place 'x'"``.

        Examples
        --------
        >>> import asyncio
        >>> net = dipen.Net("shop").place("orders", tokens=2).place("shipped")
        >>> net = net.transition("ship", take="orders", give="shipped")
        >>> store = dipen.MemoryStore()
        >>> runner = dipen.Runner(net, store=store)
        >>> control = dipen.Control(store, by="ann")
        >>> async def main():
        ...     await runner.open()
        ...     await control.block("ship", why="inventory")
        ...     await control.remove("orders", "t2", why="duplicate")
        ...     await control.unblock("ship")
        >>> asyncio.run(main())
        >>> for step in dipen.history_sync(store, since=1):
        ...     print(step.node, step.describe())
        ann blocked transition 'ship': inventory
        ann removed token t2 from 'orders': duplicate
        ann unblocked transition 'ship'
        """
        if self.kind == "control" and isinstance(self.note, Mapping):
            return _describe_control(self.note)
        if self.kind == "edit":
            return _describe_edit(self)
        if self.kind == "migrate":
            return _describe_migration(self.note)
        if self.transition is None:
            return f"{self.kind} ({self.note or 'manual'})" if self.kind != "init" else "init"
        text = f"{self.kind} of {self.transition!r} (firing {self.firing!r})"
        return text if self.note is None else f"{text}, {self.note}"

    def __repr__(self) -> str:
        moved = [f"{label} {{{', '.join(f'{p}: {_describe(ts)}' for p, ts in tokens.items())}}}"
                 for label, tokens in (("took", self.taken), ("removed", self.removed),
                                       ("added", self.added), ("released", self.released))
                 if tokens]
        return (f"Step({self.revision}, time={self.time:g}, {self.describe()}"
                + "".join(f", {m}" for m in moved) + ")")


def _json(value: Any) -> str:
    """Data as JSON text (what ``dipen ctl --data`` takes), else its ``repr``."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return repr(value)


def _why(note: Mapping[str, Any]) -> str:
    return f": {note['why']}" if note.get("why") else ""


def _describe_control(note: Mapping[str, Any]) -> str:
    """A control change (block, unblock, cancel, request, withdraw, answer) in words."""
    action = note.get("action")
    target = f"{note.get('target')} {note.get('name')!r}"
    if action == "block":
        return f"blocked {target}{_why(note)}"
    if action == "unblock":
        return f"unblocked {target}{_why(note)}"
    if action == "cancel":
        return f"cancelled the running firings of {target}{_why(note)}"
    if action == "request":
        return (f"request {note.get('id')} to fire {note.get('transition')!r} "
                f"with {_json(note.get('data'))}")
    if action == "withdraw":
        return f"withdrew request {note.get('id')} to fire {note.get('transition')!r}"
    if action == "answer":
        text = (f"answer to {note.get('id')}: {note.get('state')} (firing {note.get('firing')!r} "
                f"of {note.get('transition')!r}")
        placed = [f"{entry[0]} in {place!r}" for place, entries in (note.get("placed") or {}).items()
                  for entry in entries]
        if placed:
            text += f"; placed {', '.join(placed)}"
        text += ")"
        return text + (f": {note['error']}" if note.get("error") else "")
    return f"control {_json(dict(note))}"


def _ids(tokens: _Tokens) -> tuple[str, str]:
    """``("token t1", "'a'")`` / ``("tokens t1, t2", "'a', 'b'")``: the ids and places in words."""
    ids = [token.id for held in tokens.values() for token in held]
    return (f"token{'s' if len(ids) != 1 else ''} {', '.join(ids)}",
            ", ".join(repr(place) for place in tokens))


def _describe_edit(step: Step) -> str:
    """An audited edit (note ``"what: why"``, see :class:`dipen.Control`) in words."""
    note = step.note if isinstance(step.note, str) else ""
    what, _, why = note.partition(": ")
    why = f": {why}" if why else ""
    removed, added = _ids(step.removed), _ids(step.added)
    if what == "add" and step.added:
        return f"added {added[0]} to {added[1]}{why}"
    if what == "remove" and step.removed:
        return f"removed {removed[0]} from {removed[1]}{why}"
    if what == "move" and step.removed and step.added:
        return f"moved {removed[0]} from {removed[1]} to {added[1]}{why}"
    if what == "update" and step.added:
        return f"updated {added[0]} in {added[1]}{why}"
    return f"edit ({step.note or 'by hand'})"


def _describe_migration(note: Any) -> str:
    """A migration (a new net definition, see :func:`dipen.migrate`) in words."""
    described = note.get("describe") if isinstance(note, Mapping) else None
    if not described:
        return "migrated the net to a new definition"
    return "migrated the net: " + "; ".join(described.splitlines())


def _stamp(change: Change) -> float:
    """The time a change counts at in a time window: the initial marking before everything."""
    return -math.inf if change.kind == "init" else change.time


def _empty_state(definition: Mapping[str, Any]) -> State:
    return State((p["name"], p["capacity"]) for p in definition["places"])


def _moved(state: State, pairs: Iterable[tuple[str, str]]) -> _Tokens:
    """The tokens ``pairs`` name, with the data ``state`` (before the change) holds for them."""
    found: dict[str, tuple[Token, ...]] = {}
    for place, token_id in pairs:
        held = state.places[place]
        token = held.free.get(token_id) or held.taken[token_id]
        found[place] = (*found.get(place, ()), Token(token_id, token.data))
    return found


class Timeline(Sequence[Step]):
    """Changes of one net in revision order and the marking after each: index it, iterate it,
    travel in it, cut windows out of it, save it.

    Parameters
    ----------
    definition
        The net's ``Net.to_dict()``.
    changes
        The changes, oldest first.
    start
        The state before the first change (default: the empty net at revision 0).
    failures
        Failed firings a runner saw in this stretch (a firing that failed before its start was
        written leaves no change in the store).
    net
        The net itself, when known (with its code); otherwise ``Net.from_dict(definition)``.

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
    >>> runner = dipen.Runner(net)
    >>> _ = runner.run_sync()
    >>> from dipen.timeline import history_sync
    >>> timeline = history_sync(runner)
    >>> timeline
    Timeline(net='n', revisions 1–3, 3 steps)
    >>> timeline[1]
    Step(2, time=..., fire of 't' (firing 'f1'), removed {a: 1}, added {b: 1})
    >>> [step.marking.counts()["b"] for step in timeline]
    [0, 1, 2]
    >>> timeline.marking_at(revision=2).counts()
    {'a': 1, 'b': 1}
    """

    def __init__(
        self, definition: Mapping[str, Any], changes: Iterable[Change], start: State | None = None,
        failures: Iterable[Failure] = (), net: Net | None = None,
    ) -> None:
        self.definition = dict(definition)
        self.changes = tuple(changes)
        self._start = _empty_state(definition) if start is None else start.copy()
        self.failures = tuple(failures)
        self._net = net
        self._steps: list[Step] | None = None

    # -- what it holds -------------------------------------------------------------------------

    @property
    def net(self) -> Net:
        """The net: the runner's own when recorded from one, else its structure rebuilt from the
        definition (P/T transitions, see :meth:`dipen.Net.from_dict`), enough to draw it:
        ``timeline.net.draw(timeline[3].marking)``."""
        if self._net is None:
            from .net import Net

            self._net = Net.from_dict(self.definition)
        return self._net

    @property
    def since(self) -> int:
        """The revision before the first change (the start marking's)."""
        return self._start.revision

    @property
    def until(self) -> int:
        """The revision of the last change (``since`` when there is none)."""
        return self.changes[-1].revision if self.changes else self.since

    @property
    def start(self) -> Marking:
        """The marking before the first change."""
        return self._start.marking()

    def start_state(self) -> State:
        """A copy of the state before the first change."""
        return self._start.copy()

    @property
    def marking(self) -> Marking:
        """The marking after the last change."""
        return self.steps[-1].marking if self.changes else self.start

    def markings(self) -> list[Marking]:
        """The marking after each change."""
        return [step.marking for step in self.steps]

    @property
    def steps(self) -> list[Step]:
        """Every change as a :class:`Step` (computed once, on first use)."""
        if self._steps is None:
            self._steps = self._replay()
        return self._steps

    def _replay(self) -> list[Step]:
        state = self._start.copy()
        steps = []
        for change in self.changes:
            try:
                taken = _moved(state, change.take)
                removed = _moved(state, change.remove)
                released = _moved(state, change.release)
                state.apply(change)
            except KeyError as exc:
                raise RecordingError(
                    f"net {self.definition['name']!r}: the change at revision {change.revision} "
                    f"({change.kind} of {change.transition!r}) does not apply to the marking "
                    f"before it: no place or token {exc.args[0]!r}") from None
            added: dict[str, tuple[Token, ...]] = {}
            for place, token in change.add:
                added[place] = (*added.get(place, ()), token)
            steps.append(Step(
                change.revision, change.time, change.node, change.kind, change.transition,
                change.firing, change.region, taken, removed, added, released, change.note,
                state.marking(change.time), change))
        return steps

    # -- sequence --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.changes)

    @overload
    def __getitem__(self, index: int) -> Step: ...

    @overload
    def __getitem__(self, index: slice) -> list[Step]: ...

    def __getitem__(self, index: int | slice) -> Step | list[Step]:
        return self.steps[index]

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __repr__(self) -> str:
        span = f"revisions {self.since + 1}–{self.until}" if self.changes else f"at revision {self.since}"
        return f"Timeline(net={self.definition['name']!r}, {span}, {len(self.changes)} steps)"

    # -- travelling and cutting ------------------------------------------------------------------

    def _bounds(self, since: int | None, until: int | None, since_time: float | None,
                until_time: float | None) -> tuple[int, int]:
        """The indexes ``[first, last)`` of the changes in a window."""
        changes = self.changes
        revisions = [c.revision for c in changes]
        first = 0 if since is None else bisect.bisect_right(revisions, since)
        last = len(changes) if until is None else bisect.bisect_right(revisions, until)
        stamps = [_stamp(c) for c in changes]
        if since_time is not None:  # after the last change stamped before since_time
            before = [i for i, stamp in enumerate(stamps) if stamp < since_time]
            first = max(first, before[-1] + 1 if before else 0)
        if until_time is not None:  # up to the last change stamped at or before until_time
            within = [i for i, stamp in enumerate(stamps) if stamp <= until_time]
            last = min(last, within[-1] + 1 if within else 0)
        return first, max(first, last)

    def window(self, *, since: int | None = None, until: int | None = None,
               since_time: float | None = None, until_time: float | None = None) -> Timeline:
        """The part of this timeline in a window (see the module's notes on windows); its start
        marking is the one before the window's first change.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=3).place("b").transition("t", take="a", give="b")
        >>> runner = dipen.Runner(net)
        >>> _ = runner.run_sync()
        >>> from dipen.timeline import history_sync
        >>> part = history_sync(runner).window(since=2, until=3)
        >>> part, part.start.counts()
        (Timeline(net='n', revisions 3–3, 1 steps), {'a': 2, 'b': 1})
        """
        first, last = self._bounds(since, until, since_time, until_time)
        start = self._start.copy() if first == 0 else None
        if start is None:
            state = self._start.copy()
            for change in self.changes[:first]:
                state.apply(change)
            start = state
        failures = [f for f in self.failures
                    if (since is None or f.revision > since) and (until is None or f.revision <= until)
                    and (since_time is None or f.time >= since_time)
                    and (until_time is None or f.time <= until_time)]
        return Timeline(self.definition, self.changes[first:last], start, failures, self._net)

    def marking_at(self, *, revision: int | None = None, time: float | None = None) -> Marking:
        """The marking right after ``revision``, or at clock ``time`` (after the last change
        stamped at or before it); before the first change, the start marking.

        Raises
        ------
        TypeError
            Unless exactly one of ``revision`` and ``time`` is given.
        """
        if (revision is None) == (time is None):
            raise TypeError("marking_at() takes revision= or time=, exactly one of them")
        _, last = self._bounds(None, revision, None, time)
        marking = self.steps[last - 1].marking if last else self.start
        if time is None:
            return marking
        return Marking(dict(marking), revision=marking.revision, time=time)

    def save(self, file: Any) -> None:
        """Write this timeline as a recording (JSON lines, see :mod:`dipen.recording`) to a path
        or a text file; :func:`dipen.replay` reads it back."""
        from .recording import write

        write(self, file)


# -- reading a store's history ---------------------------------------------------------------------


async def _definition_of(store: Store) -> dict[str, Any]:
    """The net definition a store holds (read from etcd when this client never connected one)."""
    definition: dict[str, Any] | None = getattr(store, "_definition", None)
    if definition is not None:
        return definition
    from .stores.etcd import EtcdStore

    if isinstance(store, EtcdStore):
        from .stores.etcd.store import _translated

        return await _translated(_read_etcd_definition)(store)  # type: ignore[no-any-return]
    raise StoreError(f"{store!r} holds no net yet; connect one (run a runner on it) first")


async def _read_etcd_definition(store: Any) -> dict[str, Any]:
    import json

    await store._open()
    connection = store._connection
    reply = await connection.range(connection.keys.net)
    if not reply.kvs:
        raise StoreError(f"no net under prefix {store.prefix!r} in etcd at {store.endpoints}")
    return json.loads(reply.kvs[0].value)  # type: ignore[no-any-return]


async def history(
    source: Any, *, since: int | None = None, until: int | None = None,
    since_time: float | None = None, until_time: float | None = None,
) -> Timeline:
    """Read a net's history back from a store, from any machine, as a :class:`Timeline`.

    Parameters
    ----------
    source
        A :class:`dipen.Store` (an ``EtcdStore`` needs only its endpoints and prefix: the net
        definition is read from etcd) or a :class:`dipen.Runner` (its store, its net with code,
        and the failures its events saw).
    since, until
        Store revisions: the changes with ``since < revision <= until``.
    since_time, until_time
        Clock times: the changes stamped ``since_time <= time <= until_time`` (see the module's
        notes on windows).

    The marking before the window is rebuilt from the first revision, so the store must still
    keep its history from the start.

    Raises
    ------
    CompactedError
        If part of the history up to the window's end was compacted away.
    StoreError
        If the store holds no net.

    Examples
    --------
    >>> import asyncio
    >>> store = dipen.MemoryStore()
    >>> net = dipen.Net("n").place("a", tokens=[1, 2]).place("b").transition("t", take="a", give="b")
    >>> _ = dipen.Runner(net, store=store).run_sync()
    >>> from dipen.timeline import history
    >>> for step in asyncio.run(history(store, since=1)):
    ...     print(step.revision, step.kind, step.transition, step.removed, step.added)
    2 fire t {'a': (Token('t1', 1),)} {'b': (Token('t1', 1),)}
    3 fire t {'a': (Token('t2', 2),)} {'b': (Token('t2', 2),)}
    """
    from .events import FiringFailed
    from .runner import Runner

    net = events = None
    if isinstance(source, Runner):
        await source.open()
        store, net, events = source.store, source.net, source.history
    else:
        store = source
    definition = net.to_dict() if net is not None else await _definition_of(store)
    try:
        changes = await store.changes(0, until)
    except CompactedError as exc:
        raise CompactedError(
            f"the history of net {definition['name']!r} in {store!r} is compacted ({exc}); the "
            f"marking at revision {since or 0} cannot be rebuilt from what the store keeps"
        ) from None
    failures = [] if events is None else [
        Failure(e.time, e.revision, e.firing.transition, e.firing.id,
                f"{type(e.error).__name__}: {e.error}", e.action)
        for e in events.of(FiringFailed)]
    timeline = Timeline(definition, changes, None, failures, net)
    return timeline.window(since=since, until=until, since_time=since_time, until_time=until_time)


def history_sync(
    source: Any, *, since: int | None = None, until: int | None = None,
    since_time: float | None = None, until_time: float | None = None,
) -> Timeline:
    """:func:`history`, blocking (in a script, or nested in a notebook's event loop).

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> runner = dipen.Runner(net, clock="simulated")
    >>> _ = runner.run_sync()
    >>> from dipen.timeline import history_sync
    >>> [step.kind for step in history_sync(runner.store)]
    ['init', 'fire']
    """
    from .notebook import run_blocking

    return run_blocking(history(source, since=since, until=until, since_time=since_time,
                                until_time=until_time))


async def marking_at(source: Any, *, revision: int | None = None,
                     time: float | None = None) -> Marking:
    """The marking of a store's net (or a runner's) right after store ``revision``, or as it
    was at clock ``time``: time travel from any machine.

    Raises
    ------
    TypeError
        Unless exactly one of ``revision`` and ``time`` is given.
    CompactedError
        If the store no longer keeps that part of its history.

    Examples
    --------
    >>> import asyncio
    >>> net = dipen.Net("n").place("a", tokens=2).place("b")
    >>> @net.transition(take="a", give="b")
    ... async def slow(token):
    ...     await dipen.sleep(10)
    ...     return token
    >>> runner = dipen.Runner(net, clock="simulated")
    >>> _ = runner.run_sync()
    >>> from dipen.timeline import marking_at
    >>> asyncio.run(marking_at(runner.store, time=15)).counts()
    {'a': 1, 'b': 1}
    >>> asyncio.run(marking_at(runner.store, revision=1)).counts()
    {'a': 2, 'b': 0}
    """
    if (revision is None) == (time is None):
        raise TypeError("marking_at() takes revision= or time=, exactly one of them")
    timeline = await history(source, until=revision, until_time=time)
    return timeline.marking_at(revision=revision, time=time)


def marking_at_sync(source: Any, *, revision: int | None = None,
                    time: float | None = None) -> Marking:
    """:func:`marking_at`, blocking.

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> runner = dipen.Runner(net)
    >>> _ = runner.run_sync()
    >>> from dipen.timeline import marking_at_sync
    >>> marking_at_sync(runner, revision=1)
    Marking(a=1, b=0)
    """
    from .notebook import run_blocking

    return run_blocking(marking_at(source, revision=revision, time=time))
