"""How firings end when they do not simply finish: tokens returned, error policies
(retry with backoff, block, error place, stop the runner), and blocking by hand.

:class:`Outcomes` is a part of an :class:`~dipen.engine.Engine`: it works on the engine's state
and writes through the engine's store.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .errors import ConflictError, FencingError, FiringError, UnavailableError
from .events import Firing, FiringCancelled, FiringFailed, TransitionBlocked, TransitionUnblocked
from .policies import Block, Retry, Stop, ToPlace
from .state import Commit
from .tokens import Token

if TYPE_CHECKING:
    from .engine import Engine
    from .schedule import TransitionRecord

__all__ = ["Outcomes"]

_LOGGER = logging.getLogger("dipen.engine")
_new_token = tuple.__new__


class Outcomes:
    """Returns, failures and blocks for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def _return(self, record: TransitionRecord, firing: Firing, why: str) -> bool:
        """Give a firing's tokens back to their places; ``False`` if the store refused."""
        now = self.engine.clock.now()
        if not firing.committed:  # its start was never written: nothing to give back
            self.engine._settled(record, firing, now)
            revision = self.engine.state.revision  # type: ignore[union-attr]
            if why == "cancelled":
                firing.state = "cancelled"
                self.engine.stats.cancelled(record.name)
                self.engine.emit(FiringCancelled(now, revision, firing))
                self.engine.manual.ended(firing, "cancelled")
            return True
        release = firing.pairs
        try:
            change = await self.engine._write(
                Commit("return", firing.id, record.name, record.region, release=release,
                       fence=self.engine.leaders.get(record.region), time=now, node=self.engine.node, note=why)
            )
        except (FencingError, UnavailableError) as exc:
            self.engine.leading.lose(record.region, exc)
            return False
        self.engine._settled(record, firing, now)
        if why == "cancelled":
            firing.state = "cancelled"
            self.engine.stats.cancelled(record.name)
            self.engine.emit(FiringCancelled(now, change.revision, firing))
            self.engine.manual.ended(firing, "cancelled")
        return True

    async def _fail(self, record: TransitionRecord, firing: Firing, error: BaseException) -> None:
        if not firing.committed:  # failed before it ever waited: its start was never written
            self.engine._started(firing, self.engine.state.revision, ())  # type: ignore[union-attr]
        policy = record.policy
        record.failures += 1
        record.last_error = error
        firing.error = error
        firing.state = "failed"
        self.engine.stats.failed(record.name)
        now = self.engine.clock.now()
        if isinstance(policy, Retry):
            if record.failures <= policy.times:
                delay = policy.delay(record.failures)
                action = f"retry {record.failures} of {policy.times} in {delay:g}s"
                if await self._return(record, firing, "failed"):
                    record.not_before = now + delay
                    self._recheck_later(record, delay)
                return self._failed(record, firing, error, action)
            policy = policy.then
        if isinstance(policy, ToPlace):
            moved = await self._to_error_place(record, firing, policy.place)
            if moved is not None:
                return self._failed(record, firing, error, moved)
            policy = Block()
        await self._return(record, firing, "failed")
        if isinstance(policy, Stop):
            stop = FiringError(
                f"transition {record.name!r} failed in firing {firing.id!r} and its policy "
                f"stops the runner: {type(error).__name__}: {error}", record.name, firing.id,
            )
            stop.__cause__ = error
            self.engine._stop_error = stop
            self.engine.wake()
            return self._failed(record, firing, error, "tokens returned; runner stopped")
        self.block(record.name, f"run raised {type(error).__name__}: {error}")
        self._failed(record, firing, error, "tokens returned; transition blocked")

    def _failed(self, record: TransitionRecord, firing: Firing, error: BaseException, action: str) -> None:
        firing.finished = self.engine.clock.now()
        _LOGGER.warning("transition %r firing %s failed (%s): %r", record.name, firing.id, action,
                        error, extra={"transition": record.name, "firing": firing.id})
        self.engine.emit(FiringFailed(firing.finished, self.engine.state.revision, firing, error, action))  # type: ignore[union-attr]
        self.engine.manual.ended(firing, "failed")

    async def _to_error_place(self, record: TransitionRecord, firing: Firing, place: str) -> str | None:
        state = self.engine.state.places[place]  # type: ignore[union-attr]
        tokens = [token for tokens in firing.taken.values() for token in tokens]
        if state.capacity is not None and state.capacity - len(state) - state.reserved < len(tokens):
            return None
        remove = firing.pairs
        add = tuple((place, _new_token(Token, (t.id, t.data, None))) for t in tokens)
        now = self.engine.clock.now()
        try:
            await self.engine._write(
                Commit("finish" if firing.committed else "fire", firing.id, record.name,
                       record.region, remove=remove, add=add,
                       expect=self.engine.expect(record, firing),
                       fence=self.engine.leaders.get(record.region), time=now, node=self.engine.node,
                       note="error")
            )
        except (FencingError, UnavailableError) as exc:
            self.engine.leading.lose(record.region, exc)
            return "leadership lost"
        except ConflictError:  # never written, and its inputs changed meanwhile: nothing to move
            self.engine._settled(record, firing, now)
            return "its inputs changed meanwhile; nothing was moved"
        self.engine._settled(record, firing, now)
        return f"tokens moved to {place!r}"

    def _recheck_later(self, record: TransitionRecord, delay: float) -> None:
        if record.timer is not None:
            record.timer.cancel()
            self.engine.timers -= 1

        def due() -> None:
            record.timer = None
            self.engine.timers -= 1
            self.engine._mark(record)

        self.engine.timers += 1
        record.timer = self.engine.clock.call_later(delay, due)

    def block(self, name: str, reason: str = "blocked by hand") -> None:
        record = self.engine.transition(name)
        if record.blocked:
            return
        record.blocked = True
        record.block_reason = reason
        self.engine.emit(TransitionBlocked(self.engine.clock.now(), name, reason))

    def unblock(self, name: str) -> None:
        record = self.engine.transition(name)
        if not record.blocked:
            return
        record.blocked = False
        record.block_reason = ""
        record.failures = 0
        record.not_before = 0.0
        self.engine.emit(TransitionUnblocked(self.engine.clock.now(), name))
        self.engine._mark(record)
