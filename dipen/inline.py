"""Checking and starting a simple transition in one go, on a store the engine writes
synchronously.

Most coloured transitions are the ``run=``/decorator form with one ``take`` place of weight 1
and nothing read: ``async def f(token)``. On a store in this process (the memory store) the
engine checks such a transition and starts its firing in one call (:func:`fire_single`),
without the general machinery of :meth:`~dipen.checking.Checking.check` and
:meth:`~dipen.engine.Engine.start` (``Enabled`` results, token choices to verify, reads,
manual data, reservations); the firing then runs and finishes as every firing does
(:meth:`~dipen.engine.Engine.drive`). A block, a retry delay or a transition already firing
as often as it may goes the general way; the guard is asked exactly as
:meth:`~dipen.executors.FunctionExecutor.check_start` asks it.

Which transitions qualify is decided once, when the engine loads the net
(:func:`inline_place`).
"""

from __future__ import annotations

import types
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from .contexts import Disabled, Enabled
from .events import Firing
from .executors import FunctionExecutor
from .tokens import Token

if TYPE_CHECKING:
    from .engine import Engine
    from .schedule import TransitionRecord

__all__ = ["LATER", "Later", "fire_single", "inline_place"]

#: What :meth:`~dipen.engine.Engine.drive` and :func:`fire_single` return when the rest of a
#: firing needs waiting: a coroutine that does it (its type is ``LATER``). A firing that runs
#: through on a store in this process makes none.
Later = Coroutine[Any, Any, Any]
LATER = types.CoroutineType

_new_token = tuple.__new__


def inline_place(record: TransitionRecord) -> str | None:
    """The one place ``record`` takes from, if its firings can go inline: the ``run=`` form
    with one ``take`` place of weight 1, nothing read, no output capacity to reserve and
    no manual firing; else ``None``.

    Examples
    --------
    >>> async def move(token):
    ...     return token
    >>> net = dipen.Net("n").place("a", tokens=1).place("b", capacity=1).place("c")
    >>> net = net.transition("t", take="a", give="c", run=move)
    >>> net = net.transition("full", take="a", give="b", run=move)
    >>> runner = dipen.Runner(net)
    >>> engine = runner._open_now()
    >>> inline_place(engine.transition("t")), inline_place(engine.transition("full"))
    ('a', None)
    """
    executor = record.executor
    if type(executor) is not FunctionExecutor or record.reserve or record.manual:
        return None
    return executor._single


def fire_single(engine: Engine, record: TransitionRecord) -> Firing | Disabled | None | Later:
    """Check ``record`` (its ``single`` place is set) and, when it is enabled, fire it: the
    firing (finished, failed, or running as a task when its code waits), ``None`` when the
    store refused it, or the :class:`Disabled` that says why it is not enabled; or, when that
    needs waiting, a coroutine that gives it (see :meth:`~dipen.engine.Engine.drive`)."""
    place: str = record.single  # type: ignore[assignment]
    state = engine.state.places.get(place)  # type: ignore[union-attr]  # None: migrated away
    if (state is None or record.blocked or record.held or record.not_before
            or record.running >= record.concurrency):
        outcome = engine.checking.check(record)  # says why not (or a retry's delay is over)
        return engine.start(record, outcome) if isinstance(outcome, Enabled) else outcome
    executor: FunctionExecutor = record.executor  # type: ignore[assignment]
    free = state.free
    if not free:
        return executor._empty
    try:
        token = executor.first(free)
    except Exception as exc:  # the guard raised for every token it did not refuse
        return engine.checking.guard_raised(record, exc)
    if isinstance(token, Disabled):
        return token
    firing_id = engine.store.new_firing_id()
    token_id = token.id
    firing = Firing(firing_id, record.name, record.region,
                    {place: (_new_token(Token, (token_id, token.data, firing_id)),)},
                    engine.clock.now(), ((place, token_id),))
    return engine.drive(record, firing)
