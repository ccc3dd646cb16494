"""Whether a transition is enabled, and why not: blocks, manual transitions, concurrency,
retry delays, the executor's ``check_start`` (guards included) and the room in its output
places; and the questions asked about it (``enabled``, ``explain``).

:class:`Checking` is a part of an :class:`~dipen.engine.Engine`. Simple ``run=`` transitions
on the memory store are checked and started in one go by :mod:`dipen.inline`, which hands
anything but the plain case to :meth:`Checking.check`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .contexts import Disabled, Enabled
from .errors import ExecutorError
from .events import GuardFailed
from .schedule import well_formed

if TYPE_CHECKING:
    from .engine import Engine
    from .schedule import TransitionRecord

__all__ = ["Checking"]

_LOGGER = logging.getLogger("dipen.engine")


class Checking:
    """Checks and explanations of one engine's transitions.

    Examples
    --------
    >>> net = dipen.Net("n").place("a").place("b").transition("t", take="a", give="b")
    >>> checking = dipen.Runner(net)._open_now().checking
    >>> checking.enabled(), checking.explain("t")
    ([], "'t' is not enabled: place 'a' has 0 free tokens, needs 1 token")
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def check(self, record: TransitionRecord, quiet: bool = False) -> Enabled | Disabled:
        """Ask the executor (guards included) and the output capacities; never raises.
        ``quiet``: only describe (for explain, views): record, emit and log nothing."""
        engine = self.engine
        if record.blocked:
            return Disabled(f"blocked: {record.block_reason}")
        if record.held:
            return Disabled(record.held)
        if record.manual and engine.manual.request_for(record) is None:
            return Disabled("manual: fires only when asked, with data (Control.fire, "
                            "dipen ctl fire, runner.step(name, data))")
        if record.running >= record.concurrency:
            n = record.concurrency
            return Disabled(f"already firing ({record.running} of {n} allowed at once)")
        if record.not_before and record.not_before > engine.clock.now():
            return Disabled(
                f"waits until t={record.not_before:g} to retry after failure {record.failures} "
                f"({record.last_error!r})"
            )
        try:
            outcome = record.executor.check_start(record.context)  # type: ignore[arg-type]
        except Exception as exc:  # a guard or check_start raised: not enabled, recorded
            return self.guard_raised(record, exc, quiet)
        if not record.trusted and isinstance(outcome, Enabled) and not well_formed(outcome):
            error = ExecutorError(
                f"transition {record.name!r}: check_start returned {outcome!r}; Enabled takes "
                "{place: [tokens]}"
            )
            if not quiet:
                record.last_error = error
                engine.emit(GuardFailed(engine.clock.now(), record.name, error))
            return Disabled(str(error))
        if type(outcome) is not Enabled:
            if outcome is None or outcome is False:
                return Disabled("check_start said it is not enabled")
            if not isinstance(outcome, (Enabled, Disabled)):
                return Disabled(
                    f"check_start returned {outcome!r}; it must return dipen.Enabled or dipen.Disabled"
                )
            if isinstance(outcome, Disabled):
                return outcome
        if record.reserve:
            places = engine.state.places  # type: ignore[union-attr]
            for place, weight in record.reserve:
                state = places[place]
                leaving = len(outcome.take.get(place, ()))  # taken from the place it refills
                room = state.capacity - len(state) - state.reserved + leaving  # type: ignore[operator]
                if room < weight:
                    return Disabled(
                        f"place {place!r} is full ({len(state)} of {state.capacity}"
                        f"{f', {state.reserved} reserved' if state.reserved else ''})",
                        wait_for=place,
                    )
        return outcome

    def guard_raised(self, record: TransitionRecord, error: Exception, quiet: bool = False) -> Disabled:
        """A guard or ``check_start`` of ``record`` raised ``error``: not enabled; unless
        ``quiet``, the error is recorded, emitted and logged."""
        if not quiet:
            engine = self.engine
            record.last_error = error
            engine.emit(GuardFailed(engine.clock.now(), record.name, error))
            _LOGGER.warning("guard of transition %r raised %r", record.name, error,
                            extra={"transition": record.name})
        return Disabled(f"the guard raised {type(error).__name__}: {error}")

    def enabled(self) -> list[str]:
        """Names of the engine's transitions (of its regions) that could start a firing now."""
        return [
            name for name, record in self.engine._transitions.items()
            if record.mine and type(self.check(record, quiet=True)) is Enabled
        ]

    def explain(self, name: str) -> str:
        """Why ``name`` is (not) enabled, in words."""
        record = self.engine.transition(name)
        outcome = self.check(record, quiet=True)
        region = "" if record.mine else f" (it runs in region {record.region!r}, not here)"
        if type(outcome) is Enabled:
            taking = "; ".join(
                f"{len(tokens)} from {place!r}" for place, tokens in outcome.take.items()
            ) or "nothing"
            return f"{name!r} is enabled{region}: it would take {taking}"
        why = outcome.reason or "its executor's check_start said no"  # type: ignore[union-attr]
        return f"{name!r} is not enabled{region}: {why}"
