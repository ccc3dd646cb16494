"""Leadership of an engine's regions: campaigning (standbys wait), taking over the firings
a vanished leader left unfinished, losing a leadership, and resigning.

:class:`Leading` is a part of an :class:`~dipen.engine.Engine`; it also tells the store's
coordinator when the engine starts up (busy) and when it waits as a standby (idle).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .state import Commit

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["Leading"]

_LOGGER = logging.getLogger("dipen.engine")


class Leading:
    """Campaigns, recovery and loss of leadership for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def lose(self, region: str) -> None:
        """Our leadership of ``region`` is gone: forget its firings (the next leader recovers
        their tokens) and stop starting new ones there."""
        leader = self.engine.leaders.pop(region, None)
        if leader is not None:
            leader.lost = True
            _LOGGER.warning("lost the leadership of region %r", region, extra={"region": region})
        for firing_id, (record, firing, task) in list(self.engine._active.items()):
            if record.region == region:
                del self.engine._active[firing_id]
                record.running -= 1
                if task is not None:
                    task.cancel()
        self.engine.wake()

    # -- leadership and recovery -----------------------------------------------------------------

    async def lead(self) -> None:
        """Campaign for every region this engine runs (standbys wait here) and recover the
        firings that a previous leader left unfinished."""
        for region in sorted(self.engine.regions):
            leader = self.engine.leaders.get(region)
            if leader is not None and not leader.lost:
                continue
            self.engine.leaders[region] = await self.engine.store.campaign(region, self.engine.node, self._standing_by)
            self.engine.idle = False  # a leader now: busy until its loop finds nothing to do
            await self._recover(region)

    def _standing_by(self) -> None:
        """A standby waits for another leader: it must not keep the others from finishing."""
        self.engine.idle = True
        self.engine.store.coordinator.settle()

    def join(self) -> None:
        """Count as a busy runner of this process from now on (before connecting and
        campaigning), so that the others do not finish while this one starts up."""
        self.engine.idle = False
        self.engine.store.coordinator.join(self.engine)

    def leave(self) -> None:
        self.engine.idle = True
        self.engine.store.coordinator.leave(self.engine)

    async def _recover(self, region: str) -> None:
        state = self.engine.state
        assert state is not None
        for record_id, stored in list(state.firings.items()):
            if stored.region != region or record_id in self.engine._active:
                continue
            record = self.engine._transitions.get(stored.transition)
            if record is None:
                continue
            release = stored.taken
            _LOGGER.warning("returning the tokens of unfinished firing %s of %r", record_id,
                            stored.transition, extra={"transition": stored.transition,
                                                      "firing": record_id})
            await self.engine._write(
                Commit("return", record_id, stored.transition, region, release=release,
                       fence=self.engine.leaders.get(region), time=self.engine.clock.now(), node=self.engine.node,
                       note="recovered")
            )
            self.engine._mark(record)

    async def resign(self) -> None:
        for leader in list(self.engine.leaders.values()):
            await self.engine.store.resign(leader)
        self.engine.leaders.clear()

    # -- the loop ---------------------------------------------------------------------------------
