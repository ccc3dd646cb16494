"""The engine's runtime record of each transition, and the driving of ``run`` coroutines
that start inline and go on as tasks.
"""

from __future__ import annotations

import types
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

from .contexts import Enabled, StartContext
from .executors import Executor, FunctionExecutor, PTExecutor
from .policies import ErrorPolicy
from .tokens import Token

if TYPE_CHECKING:
    from .elements import Transition

__all__ = ["TransitionRecord", "resume", "well_formed"]


@types.coroutine
def resume(coroutine: Any, pending: Any) -> Generator[Any, Any, Any]:
    """Continue, inside a task, a coroutine that was first stepped inline and suspended on
    ``pending``; exceptions thrown into the task (cancellation) are passed on to it."""
    while True:
        try:
            yield pending
        except BaseException as exc:  # noqa: BLE001 - forwarded, never swallowed
            try:
                pending = coroutine.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        return (yield from coroutine)


class TransitionRecord:
    """The engine's runtime record of one transition."""

    __slots__ = (
        "block_reason", "blocked", "bounded", "concurrency", "context", "dirty", "executor", "expect", "failures", "gives",
        "footprint", "held", "inputs", "last_error", "manual", "mine", "name", "not_before", "onward", "policy", "reads",
        "region", "reserve",
        "running", "single", "tally", "timer", "transition", "trusted", "wait_for",
    )

    def __init__(self, transition: Transition, executor: Executor, mine: bool) -> None:
        self.transition = transition
        self.name = transition.name
        self.region = transition.region
        self.executor = executor
        self.trusted = type(executor) in (PTExecutor, FunctionExecutor) or isinstance(
            executor, PTExecutor)
        self.mine = mine
        self.inputs = tuple(dict.fromkeys(a.place for a in transition.arcs if a.kind.inputs))
        self.gives = frozenset(a.place for a in transition.arcs if a.kind.gives)
        self.reads = tuple(a.place for a in transition.arcs if a.kind.reads)
        self.reserve: tuple[tuple[str, int], ...] = ()
        self.footprint: frozenset[str] = frozenset()  # the places a start reads or reserves
        self.bounded = False  # some output place has a capacity
        #: the one place a firing takes from, when it fires inline (:mod:`dipen.inline`)
        self.single: str | None = None
        #: the one output place, when ``run`` gets one token and may move it on there
        #: unbounded (see :func:`dipen.placement.onward_place`)
        self.onward: str | None = None
        self.concurrency = transition.concurrency
        self.policy: ErrorPolicy = transition.on_error
        self.context: StartContext | None = None
        self.expect: tuple[tuple[str, int], ...] = ()
        self.dirty = False
        self.blocked = False
        self.block_reason = ""
        self.held = ""  # blocked by hand through the store (any machine): why
        self.manual = transition.manual  # fires only on request
        self.failures = 0
        self.not_before = 0.0
        self.running = 0
        self.wait_for: str | None = None
        self.last_error: BaseException | None = None
        self.timer: Any = None
        #: ``[finished firings, summed clock seconds]``, shared with the runner's stats
        self.tally: list[float] = [0, 0.0]


def well_formed(enabled: Enabled) -> bool:
    """``Enabled.take`` is a mapping of place names to lists of tokens or token ids."""
    take = enabled.take
    if not isinstance(take, Mapping):
        return False
    return all(
        isinstance(place, str) and isinstance(tokens, (list, tuple))
        and all(isinstance(token, (Token, str)) for token in tokens)
        for place, tokens in take.items()
    )
