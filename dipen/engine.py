"""The scheduler: which transitions to check on which change, firing start and finish, error
policies, cancellation, events and statistics. It knows the :class:`~dipen.stores.base.Store`
protocol and nothing about any particular store.

A firing is two atomic commits: *start* takes the tokens, *finish* removes them and places
the outputs. Between the two, ``run`` executes. A ``run`` that never suspends is driven
inline (no task, no trip through the event loop); one that awaits something becomes a task.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .checking import Checking
from .clock import Clock
from .contexts import _CURRENT_FIRING, Enabled, StartContext
from .errors import (
    CompactedError, ConflictError, ExecutorError, FencingError, NetError, NetMismatchError,
    StoreError, TokenError, UnavailableError,
)
from .events import (
    Firing, FiringFinished, FiringStarted, GuardFailed,
    MarkingChanged, StoreInterrupted,
)
from .executors import create_executor
from .inline import LATER, Later, inline_place
from .leading import Leading
from .loop import run_loop
from .manual import Manual
from .outcomes import Outcomes
from .placement import Placement, onward_place
from .schedule import TransitionRecord, resume
from .state import Change, Commit, State
from .stats import Stats
from .stores.base import net_differences
from .tokens import Token

if TYPE_CHECKING:
    from .net import Net
    from .stores.base import Leadership, Store

__all__ = ["Engine"]

_LOGGER = logging.getLogger("dipen.engine")
_new_token = _new_tuple = tuple.__new__  # skips the Python-level __new__ of named tuples
#: Seconds a replica waits to see its own write through the store's subscription before it
#: reloads a snapshot instead.
CATCH_UP_TIMEOUT = 10.0


def _log_start(firing: Firing, take: tuple[tuple[str, str], ...]) -> None:
    tokens = [token_id for _, token_id in take]
    _LOGGER.debug("start %s %s taking %s", firing.transition, firing.id, tokens,
                  extra={"transition": firing.transition, "firing": firing.id, "tokens": tokens})


class Engine:
    """Runs the transitions of some regions of ``net`` against ``store``."""

    def __init__(
        self, net: Net, store: Store, regions: frozenset[str] | None, clock: Clock, node: str,
        emit: Callable[[Any], None], stats: Stats,
    ) -> None:
        self.net = net
        self.store = store
        self.clock = clock
        self.node = node
        self.emit = emit
        self.stats = stats
        self.debug = False
        self.read_logging()
        self.regions = frozenset(net.regions) if regions is None else regions
        self.state: State | None = None
        self.leaders: dict[str, Leadership] = {}
        self._transitions: dict[str, TransitionRecord] = {}
        self._dependents: dict[str, tuple[TransitionRecord, ...]] = {}
        self._queue: deque[TransitionRecord] = deque()
        self._active: dict[str, tuple[TransitionRecord, Firing, asyncio.Task[Any] | None]] = {}
        self._completed: deque[tuple[TransitionRecord, Firing, asyncio.Task[Any]]] = deque()
        self._wakeup: asyncio.Event | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._stop_requested = False
        self._pause_requested = False
        self._reload_wanted = False
        self._stop_error: BaseException | None = None
        self.outcomes = Outcomes(self)
        self.checking = Checking(self)
        self.leading = Leading(self)
        self.manual = Manual(self)
        self.placement = Placement(self)
        self._sleepy = False
        self._shared = False  # reading the store's own live state (memory store)
        self._synchronous = False  # see open()
        self._commit_now = getattr(store, "commit_now", None)
        # start commits may wait until a firing first suspends: true when state and commits are
        # both in this process, so that nobody can look in between
        self._deferred = False
        # (revision, future) pairs of writes waiting for the replica to see them, in order
        self._catching_up: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._pipelining = False  # see open()
        self._busy: set[str] = set()  # places of starts on their way (pipelining)
        self._parked: list[TransitionRecord] = []  # transitions that wait for those
        self._starting: set[asyncio.Task[None]] = set()
        # what the coordinator reads
        self.idle = True
        self.running = 0
        self.timers = 0

    # -- connecting ------------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect to the store, load a snapshot and follow its changes."""
        if self.state is not None:
            return
        self.net.validate()
        await self.store.connect(self.net)
        live = getattr(self.store, "live", None)
        self._shared = live is not None
        # a firing that never waits is written once, start and finish together ("fire"); only a
        # shared view written asynchronously (none so far) could not check it at that moment
        self._deferred = not self._shared or self._commit_now is not None
        # reading the store's live state and writing it synchronously: nothing can come between
        # what a firing read and its commit, and simple transitions fire inline
        self._synchronous = self._shared and self._commit_now is not None
        self._pipelining = not self._shared and not self.clock.simulated
        self._load(live() if live is not None else await self.store.snapshot())

    def _load(self, state: State) -> None:
        self.state = state
        for name, transition in self.net.transitions.items():
            record = self._transitions.get(name)
            if record is None:
                record = TransitionRecord(
                    transition, create_executor(self.net, transition),
                    transition.region in self.regions,
                )
                record.tally = self.stats.tally(name)
                self._transitions[name] = record
            record.context = StartContext(transition, state.places, self.clock.now)
            record.reserve = tuple(
                (a.place, a.weight) for a in transition.arcs
                if a.kind.gives and state.places[a.place].capacity is not None
            )
            record.bounded = bool(record.reserve)
            record.footprint = frozenset(record.inputs) | {place for place, _ in record.reserve}
            record.single = inline_place(record) if self._synchronous else None
            record.onward = onward_place(record)
        dependents: dict[str, list[TransitionRecord]] = {}
        for record in self._transitions.values():
            if not record.mine:
                continue
            watched = set(record.inputs) | {place for place, _ in record.reserve}
            for place in watched:
                dependents.setdefault(place, []).append(record)
        self._dependents = {place: tuple(records) for place, records in dependents.items()}
        self.manual.load()
        for record in self._transitions.values():
            if record.mine:
                self._mark(record)
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = self.store.subscribe(self._on_change, state.revision, self._on_trouble)

    def _on_trouble(self, error: StoreError) -> None:
        """The store's subscription broke: bridged (log it) or lost changes (reload)."""
        if isinstance(error, CompactedError):
            self._reload_wanted = True
            action = "reloaded"
        else:
            action = "resumed"
        _LOGGER.warning("store subscription interrupted (%s): %s", action, error,
                        extra={"node": self.node})
        self.emit(StoreInterrupted(self.clock.now(), error, action))
        self.wake()

    async def _reload(self) -> None:
        """Start afresh from a snapshot (after missing changes): the running firings keep their
        reservations, writes waiting for their change are satisfied by the snapshot."""
        self._reload_wanted = False
        state = await self.store.snapshot()
        self._load(state)
        for record, _, _ in self._active.values():
            for place, weight in record.reserve:
                state.places[place].reserved += weight
        self._caught_up(state.revision)

    async def refresh(self) -> None:
        """Make this view current before acting on all of it (a new leader recovering its
        region): a replica reads a fresh snapshot; a shared view is always current."""
        if not self._shared:
            await self._reload()

    def _caught_up(self, revision: int) -> None:
        """Release the writes that waited for this replica to reach ``revision``."""
        waiting = self._catching_up
        while waiting and waiting[0][0] <= revision:
            _, future = waiting.popleft()
            if not future.done():
                future.set_result(None)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def read_logging(self) -> None:
        """Whether firings are logged at DEBUG (``self.debug``): read from the logger when a
        run or step begins and whenever the engine lets the event loop run
        (:func:`~dipen.loop.run_loop`), where a change of the logging set-up can happen, not
        for every firing."""
        self.debug = _LOGGER.isEnabledFor(logging.DEBUG)

    def transition(self, name: str) -> TransitionRecord:
        try:
            return self._transitions[name]
        except KeyError:
            raise NetError(
                f"net {self.net.name!r} has no transition {name!r} "
                f"(transitions: {', '.join(self.net.transitions)})"
            ) from None

    # -- following the store -----------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        state = self.state
        if state is None:
            return
        queue = self._queue
        _, _, node, kind, _, _, _, take, remove, add, release, _, _, _ = change
        if not self._shared:  # else the store applied it to the state we read
            if state.has_seen(change):
                return
            state.apply(change)
        if kind == "control":
            self.manual.on_control(change)
        elif kind == "migrate":
            self._migrated(change)
        dependents = self._dependents
        for pairs in (take, remove, add, release):  # the places it touched
            for place, _ in pairs:
                for record in dependents.get(place, ()):
                    if not record.dirty and (record.wait_for is None or record.wait_for == place):
                        record.dirty = True
                        queue.append(record)
        if not self._shared:
            self._caught_up(state.revision)
            if self._sleepy and not queue:  # others may have waited for this runner to see it
                self.store.coordinator.settle()
        if node != self.node:
            self.emit(MarkingChanged(change.time, change.revision, change))
        if self._sleepy and queue:
            self.wake()

    def _migrated(self, change: Change) -> None:
        """The stored net changed under this engine: a runner of another definition stops."""
        differences = net_differences(change.note["definition"], self.net.to_dict())
        if differences and self._stop_error is None:
            self._stop_error = NetMismatchError(
                f"net {self.net.name!r} was migrated by {change.node} at revision "
                f"{change.revision} and differs from this runner's net now: "
                + "; ".join(differences) + "; restart this runner with the new net")
            self.wake()

    def _mark(self, record: TransitionRecord) -> None:
        if not record.dirty:
            record.dirty = True
            self._queue.append(record)
        if self._sleepy:
            self.wake()

    @property
    def seen(self) -> int:
        """The store revision this engine's view has reached."""
        return self.state.revision if self.state is not None else 0

    def wake(self) -> None:
        if self._wakeup is not None:
            self.idle = False  # busy from now on, so that nobody settles before it acted
            self._wakeup.set()

    async def _write(self, commit: Commit) -> Change:
        """Commit through the store and, for a replica, wait until the replica has seen the
        change, so that what this engine reads next includes its own writes."""
        commit_now = self._commit_now
        if commit_now is not None:
            return commit_now(commit)  # type: ignore[no-any-return]
        change = await self.store.commit(commit)
        coordinator = self.store.coordinator
        if change.revision > coordinator.latest:
            coordinator.latest = change.revision
        state = self.state
        if not self._shared and state is not None and state.is_next(change):
            self._on_change(change)  # nothing came between: this view can apply it at once
        elif not self._shared and state is not None and not state.has_seen(change):
            future = asyncio.get_running_loop().create_future()
            self._catching_up.append((change.revision, future))
            try:
                await asyncio.wait_for(asyncio.shield(future), CATCH_UP_TIMEOUT)
            except TimeoutError:  # the subscription is stuck: read the state instead
                _LOGGER.warning("change %s did not arrive within %ss; reloading a snapshot",
                                change.revision, CATCH_UP_TIMEOUT)
                await self._reload()
        return change

    # -- firing -----------------------------------------------------------------------------------

    async def start(
        self, record: TransitionRecord, enabled: Enabled, data: Any = None,
        request: dict[str, Any] | None = None,
    ) -> Firing | None:
        """Start a firing and run it as far as it goes without waiting; ``None`` if the store
        refused the start (a conflict: the transition is checked again). ``data`` is the
        firing's ``input`` (a manual step's data); ``request`` the manual request it serves."""
        if record.manual and data is None and request is None:
            return await self.manual.start(record, enabled)
        places = self.state.places  # type: ignore[union-attr]
        try:
            take, taken = self.placement.taking(record, enabled)
        except ExecutorError as exc:  # a custom check_start chose tokens it cannot take
            self.emit(GuardFailed(self.clock.now(), record.name, exc))
            self.block(record.name, str(exc))
            return None
        firing_id = self.store.new_firing_id()
        if request is not None:
            self.manual.serving[firing_id] = request["id"]
        now = self.clock.now()
        firing = Firing(firing_id, record.name, record.region, {
            place: tuple([_new_token(Token, (t.id, t.data, firing_id)) for t in tokens])
            for place, tokens in taken.items()
        }, now)
        firing.pairs = take
        if record.reads:
            firing.reads = {p: tuple(places[p].free.values()) for p in record.reads}
        if data is not None:
            firing.input = self.store.codec.prepare(data, f"data for transition {record.name!r}")
        if not self._deferred:
            if not await self._commit_start(record, firing, take):
                return None
            places = self.state.places  # type: ignore[union-attr]  # a reload may have replaced it
        for place, weight in record.reserve:
            places[place].reserved += weight
        outcome = self.drive(record, firing)
        if type(outcome) is LATER:
            return await outcome  # type: ignore[no-any-return,misc]
        return outcome  # type: ignore[return-value]

    def drive(self, record: TransitionRecord, firing: Firing) -> Firing | None | Later:
        """Run the code of a firing that has its tokens (``firing.pairs``) as far as it goes
        without waiting, then finish it, or let it go on as a task when it waits: the firing,
        or ``None`` if the store refused it (the transition is checked again).

        What needs waiting (writing a store over the network, handling a failure, starting
        the task of code that waits) is done by the coroutine returned instead, which gives
        the same; a caller awaits it: ``if type(outcome) is LATER: outcome = await outcome``.
        A firing that runs through on a store in this process needs no coroutine at all."""
        record.running += 1
        record.wait_for = None
        self._active[firing.id] = (record, firing, None)
        marker = _CURRENT_FIRING.set(firing)
        try:
            try:
                result = record.executor.fire(firing, self.clock.now)
                if type(result) is LATER:
                    pending = result.send(None)
                    return self._went_on(record, firing, result, pending)
            except StopIteration as stop:
                result = stop.value
            except Exception as exc:
                return self._failed(record, firing, exc)
        finally:
            _CURRENT_FIRING.reset(marker)
        if self._commit_now is None:
            return self._finished(record, firing, result)
        try:
            add = self.placement.outputs(record, firing, result)
        except (ExecutorError, TokenError) as exc:
            return self._failed(record, firing, exc)
        self.finish_now(record, firing, add)
        return None if firing.state == "conflict" else firing

    async def _failed(self, record: TransitionRecord, firing: Firing, exc: Exception) -> Firing:
        await self.outcomes._fail(record, firing, exc)
        return firing

    async def _finished(self, record: TransitionRecord, firing: Firing, result: Any) -> Firing | None:
        await self.finish(record, firing, result)
        return None if firing.state == "conflict" else firing

    async def _went_on(
        self, record: TransitionRecord, firing: Firing, coroutine: Any, pending: Any,
    ) -> Firing | None:
        """The ``run`` of ``firing`` waits for something (``pending``): from here on it runs
        as a task, so its start must be in the store first; ``None`` if the store refused it.
        The task runs in the firing's context (``current_firing``)."""
        if not firing.committed and not await self._commit_start(record, firing, firing.pairs):
            coroutine.close()
            self._settled(record, firing, firing.started)
            return None
        marker = _CURRENT_FIRING.set(firing)
        try:
            task = asyncio.get_running_loop().create_task(resume(coroutine, pending))
        finally:
            _CURRENT_FIRING.reset(marker)
        self._active[firing.id] = (record, firing, task)
        self.running += 1
        task.add_done_callback(lambda done: self._done(record, firing, done))
        return firing

    async def _commit_start(
        self, record: TransitionRecord, firing: Firing, take: tuple[tuple[str, str], ...]
    ) -> bool:
        """Write the start of ``firing`` (its tokens become taken); ``False`` on a conflict."""
        places = self.state.places  # type: ignore[union-attr]
        commit_now = self._commit_now
        # reading the live state with a synchronous commit, nothing can change in between
        expect = () if self._shared and commit_now is not None else tuple(
            (place, places[place].rev) for place in record.inputs)
        commit = _new_tuple(Commit, ("start", firing.id, record.name, record.region, take, (), (),
                                     (), expect, self.leaders.get(record.region), firing.started,
                                     self.node, None))
        try:
            change = commit_now(commit) if commit_now is not None else await self._write(commit)
        except ConflictError:
            self._mark(record)
            return False
        except (FencingError, UnavailableError) as exc:
            self.leading.lose(record.region, exc)
            return False
        firing.committed = True
        if commit.fence is not None and self.leaders.get(record.region) is not commit.fence:
            await self.leading.abandon(record, firing)  # the leadership went while it was sent
            return False
        self._started(firing, change.revision, take)
        return True

    def expect(self, record: TransitionRecord, firing: Firing) -> tuple[tuple[str, int], ...]:
        """What a commit of ``firing`` compares: nothing once its start is written (its tokens
        are held) or on a view the store writes synchronously; else the revisions of its
        input places as this view saw them when it took the tokens."""
        if firing.committed or self._synchronous:
            return ()
        places = self.state.places  # type: ignore[union-attr]
        return tuple((place, places[place].rev) for place in record.inputs)

    def _started(self, firing: Firing, revision: int, take: tuple[tuple[str, str], ...]) -> None:
        self.emit(_new_tuple(FiringStarted, (firing.started, revision, firing)))
        if self.debug:
            _log_start(firing, take)

    def _done(self, record: TransitionRecord, firing: Firing, task: asyncio.Task[Any]) -> None:
        self._completed.append((record, firing, task))
        self.wake()

    async def _drain(self) -> None:
        completed = self._completed
        while completed:
            record, firing, task = completed.popleft()
            self.running -= 1
            if firing.id not in self._active:
                continue  # already settled (e.g. its region's leadership was lost)
            if task.cancelled():
                await self.outcomes._return(record, firing, "cancelled")
                continue
            error = task.exception()
            if error is not None:
                await self.outcomes._fail(record, firing, error)
            else:
                await self.finish(record, firing, task.result())

    async def finish(self, record: TransitionRecord, firing: Firing, result: Any) -> None:
        """Place what ``run`` returned and commit the end of the firing."""
        try:
            add = self.placement.outputs(record, firing, result)
        except (ExecutorError, TokenError) as exc:
            await self.outcomes._fail(record, firing, exc)
            return
        commit = self.finish_now(record, firing, add)
        if commit is not None:  # to be written over the network
            try:
                change = await self._write(commit)
            except StoreError as exc:
                self._not_ended(record, firing, commit, exc)
                return
            self.finish_now(record, firing, add, change)

    def finish_now(
        self, record: TransitionRecord, firing: Firing, add: tuple[tuple[str, Token], ...],
        written: Change | None = None,
    ) -> Commit | None:
        """:meth:`finish` without waiting, ``add`` being the ``(place, token)`` pairs to place:
        on a store written synchronously all of it; on a store written over the network, the
        commit to write is returned, and once it is written the caller calls again with the
        change it became (``written``) for the rest."""
        committed = firing.committed
        if written is None:
            now = self.clock.now()
            # a firing that never waited is written as one change: start and finish together
            commit = _new_tuple(Commit, (
                "finish" if committed else "fire", firing.id, record.name, record.region, (),
                firing.pairs, add, (),
                () if committed or self._synchronous else self.expect(record, firing),
                self.leaders.get(record.region), now, self.node, None))
            commit_now = self._commit_now
            if commit_now is None:
                return commit  # type: ignore[no-any-return]
            try:
                written = commit_now(commit)
            except StoreError as exc:
                self._not_ended(record, firing, commit, exc)
                return None
        else:
            now = written.time  # the commit's
        revision = written.revision  # type: ignore[union-attr]
        self._settled(record, firing, now)
        if not committed:
            firing.committed = True
            self.emit(_new_tuple(FiringStarted, (firing.started, revision, firing)))
        if len(add) == 1:
            place, token = add[0]
            firing.placed = {place: (token,)}
        else:
            placed: dict[str, tuple[Token, ...]] = {}
            for place, token in add:
                placed[place] = (*placed.get(place, ()), token)
            firing.placed = placed
        firing.state = "finished"
        record.failures = 0
        tally = record.tally
        tally[0] += 1
        tally[1] += now - firing.started
        self.emit(_new_tuple(FiringFinished, (now, revision, firing)))
        if self.manual.serving:
            self.manual.ended(firing, "finished")
        if self.debug:
            if not committed:
                _log_start(firing, firing.pairs)
            tokens = [t.id for _, t in add]
            _LOGGER.debug("finish %s %s placing %s", record.name, firing.id, tokens,
                          extra={"transition": record.name, "firing": firing.id,
                                 "tokens": tokens})
        return None

    def _not_ended(self, record: TransitionRecord, firing: Firing, commit: Commit, exc: StoreError) -> None:
        """The store refused the end of ``firing`` (``commit``) with ``exc``."""
        if isinstance(exc, (FencingError, UnavailableError)):
            self.leading.lose(record.region, exc)
        elif isinstance(exc, ConflictError):  # its inputs changed while it ran (it was never written): again
            self._settled(record, firing, commit.time)
            firing.state = "conflict"
        elif firing.id in self._active:
            raise exc
        else:
            # its region's leadership was lost while the finish was sent: the store holds
            # whatever the recovery of the next leadership made of it
            _LOGGER.warning("the finish of firing %s of %r was not written (%s); its region's "
                            "leadership was lost meanwhile", firing.id, record.name, exc,
                            extra={"transition": record.name, "firing": firing.id})

    def _settled(self, record: TransitionRecord, firing: Firing, now: float) -> None:
        if self._active.pop(firing.id, None) is None:
            return  # settled already (its region's leadership was lost meanwhile)
        if record.reserve:
            places = self.state.places  # type: ignore[union-attr]
            for place, weight in record.reserve:
                places[place].reserved -= weight
        record.running -= 1
        firing.finished = now
        if not record.dirty:
            record.dirty = True
            self._queue.append(record)
        if self._sleepy:
            self.wake()

    # -- failures, returns, cancellation -----------------------------------------------------------

    def block(self, name: str, reason: str = "blocked by hand") -> None:
        self.outcomes.block(name, reason)

    def unblock(self, name: str) -> None:
        self.outcomes.unblock(name)

    async def lead(self) -> None:
        """Campaign for every region this engine runs and recover what a predecessor left."""
        await self.leading.lead()

    def begin(self) -> None:
        """A run or a step begins: a stop or pause asked while none ran is forgotten (one
        asked from now on, even while campaigning, ends it)."""
        self._stop_requested = False
        self._pause_requested = False
        self.read_logging()

    def join(self) -> None:
        self.leading.join()

    def leave(self) -> None:
        self.leading.leave()

    async def resign(self) -> None:
        await self.leading.resign()

    def pause(self) -> None:
        """Ask a running loop to return; running firings stay as they are and go on with the
        next ``run``/``step`` (with a simulated clock, time stands still meanwhile)."""
        self._pause_requested = True
        self.wake()
        self.leading.interrupt()

    def stop(self) -> None:
        """Ask a running loop to stop; running firings are cancelled and their tokens returned.
        A standby still waiting for its first leadership stops waiting."""
        self._stop_requested = True
        self.wake()
        self.leading.interrupt()

    async def loop(self, **options: Any) -> tuple[str, int]:
        """Fire until quiescent (or, ``forever``, until stopped) or a condition holds; returns
        ``(reason, firings started)`` (see :func:`dipen.loop.run_loop` for the options)."""
        return await run_loop(self, **options)

    async def cancel_all(self) -> None:
        """Cancel every running firing of this engine and return its tokens."""
        tasks = [task for _, _, task in self._active.values() if task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        for task in tasks:
            task.exception() if not task.cancelled() else None  # mark retrieved
        self._completed.clear()
        self.running = 0
        for record, firing, _ in list(self._active.values()):
            try:
                await self.outcomes._return(record, firing, "cancelled")
            except StoreError as exc:
                _LOGGER.warning("could not return the tokens of firing %s: %r", firing.id, exc)

    # -- questions -----------------------------------------------------------------------------------

    @property
    def active(self) -> list[Firing]:
        """The firings running now."""
        return [firing for _, firing, _ in self._active.values()]
