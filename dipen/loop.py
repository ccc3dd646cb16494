"""The engine's loop: check the transitions whose places changed, start the enabled ones,
drain the firings that ended, and let the coordinator decide about time and quiescence.

On a store written over the network (etcd) starts of transitions on places no other start in
flight touches go out concurrently (:func:`start_later`): the loop goes on while a commit
travels, and the transitions that would read those places wait until it is written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from .clock import _CLOCK
from .contexts import Disabled, Enabled
from .events import Firing
from .inline import LATER, fire_single

if TYPE_CHECKING:
    from .engine import Engine
    from .schedule import TransitionRecord

__all__ = ["YIELD_EVERY", "run_loop", "start_later"]

#: Firings started in a row before the engine lets other tasks of the event loop run.
YIELD_EVERY = 500


async def run_loop(
    engine: Engine,
    *,
    starting: bool = True,
    done: Callable[[], bool] | None = None,
    max_starts: int | None = None,
    until: float | None = None,
    until_marking: Callable[[], bool] | None = None,
    forever: bool = False,
) -> tuple[str, int]:
    """Fire until quiescent (or, ``forever``, until stopped) or a condition holds; returns
    ``(reason, firings started)``.

    ``starting=False`` only finishes what runs (a step); ``done`` ends the loop when it says
    so; ``max_starts`` bounds the firings started; ``until`` is a clock time and
    ``until_marking`` a condition on the marking; ``forever`` keeps a service waiting when
    nothing is enabled.
    """
    coordinator = engine.store.coordinator
    clock_marker = _CLOCK.set(engine.clock)
    engine._wakeup = wakeup = asyncio.Event()
    engine._stop_error = None  # (a stop or pause asked since the run began is kept)
    reason = "quiescent"
    started = 0
    until_timer = None
    if until is not None:
        until_timer = engine.clock.call_later(until - engine.clock.now(), engine.wake)
    settling = 100  # turns of the event loop granted to firings ending exactly at ``until``
    coordinator.join(engine)
    engine.idle = False
    engine.stats.resume()
    engine.leading.persistent = forever
    if starting:
        engine.leading.stand_by()
    # a store written over the network: start firings whose places differ concurrently
    pipelined = (engine._pipelining and max_starts is None and until_marking is None
                 and done is None)
    queue = engine._queue
    popleft = queue.popleft
    leaders = engine.leaders
    check = engine.checking.check
    completed = engine._completed
    answers = engine.manual.answers
    finished_cleanly = False
    try:
        while True:
            engine.read_logging()  # its set-up may have changed meanwhile
            if engine._reload_wanted:
                await engine._reload()
            if engine._completed:
                await engine._drain()
            if engine.manual.answers:
                await engine.manual.flush()
            if engine._stop_error is not None:
                raise engine._stop_error
            if engine._stop_requested:
                reason = "stopped"
                break
            if engine._pause_requested:
                reason = "paused"
                break
            if done is not None and done():
                reason = "done"
                break
            if until is not None and engine.clock.now() >= until:
                # firings woken at this very instant finish first (up to a few turns of
                # the event loop); time does not move on meanwhile: this engine is busy
                clock = engine.clock
                if settling and clock.simulated and engine.running > clock.sleeping:  # type: ignore[attr-defined]
                    settling -= 1
                    await asyncio.sleep(0)
                    continue
                reason = "until"
                break
            if until_marking is not None and until_marking():
                reason = "until"
                break
            limit_hit = max_starts is not None and started >= max_starts
            if limit_hit and not engine._active:
                reason = "max_firings"
                break
            budget = YIELD_EVERY
            while queue and starting and not limit_hit and not (
                    engine._stop_requested or engine._pause_requested):
                record = popleft()
                record.dirty = False
                if record.region not in leaders:
                    continue
                outcome: Firing | Enabled | Disabled | None
                if record.single is not None:  # checked, started and run in one go
                    outcome = fire_single(engine, record)  # type: ignore[assignment]
                    if type(outcome) is LATER:
                        outcome = await outcome
                elif pipelined and not engine._busy.isdisjoint(record.footprint):
                    engine._parked.append(record)  # a start on its places is on its way
                    continue
                else:
                    outcome = check(record)
                    if type(outcome) is Enabled:
                        if pipelined:
                            start_later(engine, record, outcome)
                            outcome = None
                            started += 1
                        else:
                            outcome = await engine.start(record, outcome)
                if outcome is None:  # refused by the store, or on its way
                    pass
                elif type(outcome) is Firing:
                    started += 1
                    limit_hit = max_starts is not None and started >= max_starts
                    if until_marking is not None or done is not None:
                        break
                else:
                    record.wait_for = outcome.wait_for  # type: ignore[union-attr]
                    if outcome.recheck_after is not None:  # type: ignore[union-attr]
                        engine.outcomes._recheck_later(record, outcome.recheck_after)  # type: ignore[union-attr]
                if completed or engine._stop_error is not None or answers:
                    break
                budget -= 1
                if not budget:
                    await asyncio.sleep(0)
                    budget = YIELD_EVERY
                    engine.read_logging()
            if engine._completed or engine._stop_error is not None or engine.manual.answers:
                continue
            if limit_hit and not engine._active:
                reason = "max_firings"
                break
            if queue and starting and not limit_hit:
                continue
            if until_marking is not None and until_marking():
                continue
            # nothing to do right now: let the coordinator decide about time and quiescence
            wakeup.clear()
            engine.idle = True
            engine._sleepy = True
            coordinator.settle()
            if coordinator.quiescent and not engine._completed and not engine._active:
                if not forever:
                    break
                # a service stays: ignore the wake that announced quiescence and sleep
                # until something really happens
                wakeup.clear()
                engine.idle = True
            if not engine._completed and (not queue or not starting or limit_hit):
                await wakeup.wait()
            engine._sleepy = False
            engine.idle = False
            if coordinator.quiescent and not forever and not engine._completed and not engine._active and not (
                    queue and starting and not limit_hit):
                break
        finished_cleanly = True
    finally:
        engine._sleepy = False
        engine.idle = True
        engine.stats.pause()
        if until_timer is not None:
            until_timer.cancel()
        coordinator.leave(engine)
        try:
            if engine._starting:  # starts on their way are written (or refused) first
                await asyncio.gather(*engine._starting, return_exceptions=True)
            await engine.leading.stop_campaigns()
            if not finished_cleanly or engine._stop_requested or reason == "stopped":
                await engine.cancel_all()
        finally:
            _CLOCK.reset(clock_marker)
            engine._wakeup = None
    return reason, started


def start_later(engine: Engine, record: TransitionRecord, enabled: Enabled) -> None:
    """Start ``record`` in a task of its own, so that the loop goes on with transitions on
    other places while this start's commit travels; its places stay busy till then."""
    engine._busy.update(record.footprint)
    engine.running += 1
    task = asyncio.get_running_loop().create_task(_start_now(engine, record, enabled))
    engine._starting.add(task)
    task.add_done_callback(engine._starting.discard)


async def _start_now(engine: Engine, record: TransitionRecord, enabled: Enabled) -> None:
    try:
        await engine.start(record, enabled)
    except asyncio.CancelledError:
        raise
    except BaseException as exc:  # noqa: BLE001 - a bug in a start: the loop raises it
        if engine._stop_error is None:
            engine._stop_error = exc
    finally:
        engine._busy.difference_update(record.footprint)
        engine.running -= 1
        parked, engine._parked = engine._parked, []
        for waiting in parked:
            engine._mark(waiting)
        engine.wake()
