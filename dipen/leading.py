"""Leadership of an engine's regions: campaigning (standbys wait), taking over the firings
a vanished leader left unfinished, losing a leadership, and resigning.

:class:`Leading` is a part of an :class:`~dipen.engine.Engine`; it also tells the store's
coordinator when the engine starts up (busy) and when it waits as a standby (idle).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from .errors import FencingError, StoreError, UnavailableError
from .state import Commit

if TYPE_CHECKING:
    from .engine import Engine
    from .events import Firing
    from .schedule import TransitionRecord
    from .stores.base import Leadership

__all__ = ["Leading"]

_LOGGER = logging.getLogger("dipen.engine")


class Leading:
    """Campaigns, recovery and loss of leadership for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: whether a lost leadership is campaigned for again (a ``forever`` loop: a service)
        self.persistent = False
        self._campaigns: dict[str, asyncio.Task[None]] = {}
        self._waiting: set[str] = set()  # regions whose campaign stands by for another leader
        self._changed = asyncio.Event()  # a campaign started waiting or ended
        self.failed: BaseException | None = None  # why a campaign gave up (lead raises it)

    def lose(self, region: str, why: BaseException | None = None) -> None:
        """Our leadership of ``region`` is gone: forget its firings (the next leader recovers
        their tokens) and stop starting new ones there; a service campaigns again."""
        engine = self.engine
        leader = engine.leaders.pop(region, None)
        if leader is not None:
            leader.lost = True
            _LOGGER.warning("lost the leadership of region %r%s", region,
                            f" ({why})" if why is not None else "", extra={"region": region})
        now = engine.clock.now()
        for record, firing, task in list(engine._active.values()):
            if record.region == region:
                engine._settled(record, firing, now)
                if task is not None:
                    task.cancel()
        if engine.store.closed:  # closed under a running runner: it stops, as if told to
            engine.stop()
        elif self.persistent:
            self._campaign_for(region)
        engine.wake()

    def _campaign_for(self, region: str) -> asyncio.Task[None]:
        """Campaign for ``region`` in the background (once)."""
        task = self._campaigns.get(region)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._campaign(region))
            self._campaigns[region] = task
        return task

    async def _campaign(self, region: str) -> None:
        """Stand by for ``region`` until this engine leads it; then make its view current and
        recover the firings a previous leader left unfinished. A store that does not answer
        is tried again with backoff."""
        engine = self.engine
        delay = 0.1
        try:
            while True:
                try:
                    leader = await engine.store.campaign(
                        region, engine.node, lambda: self._standing_by(region))
                    self._waiting.discard(region)
                    engine.leaders[region] = leader
                    leader.on_lost = lambda: self._taken_away(region, leader)
                    engine.idle = False  # a leader now: busy until its loop finds nothing to do
                    await engine.refresh()
                    await self._recover(region)
                    break
                except (FencingError, UnavailableError) as exc:
                    engine.leaders.pop(region, None)
                    _LOGGER.warning("campaigning for region %r failed (%s); trying again in "
                                    "%gs", region, exc, delay, extra={"region": region})
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 2.0)
            for record in engine._transitions.values():
                if record.region == region and record.mine:
                    engine._mark(record)
            engine.wake()
        except Exception as exc:  # the store is closed or refuses us: the runner must stop
            self.failed = exc
            if engine._wakeup is not None and engine._stop_error is None:
                engine._stop_error = exc  # a running loop raises it
            engine.wake()
        finally:
            self._campaigns.pop(region, None)
            self._waiting.discard(region)
            self._changed.set()

    def _taken_away(self, region: str, leader: Leadership) -> None:
        """The store took ``region`` away (lease expired, deposed, closed): give it up now,
        not only when the next write is refused."""
        def give_up() -> None:
            if self.engine.leaders.get(region) is leader:
                self.lose(region, StoreError("the store took the leadership away"))

        try:
            asyncio.get_running_loop().call_soon(give_up)
        except RuntimeError:  # no loop runs (a store deposed from synchronous code)
            give_up()

    def stand_by(self) -> None:
        """Campaign in the background for every region this engine runs but does not lead
        (while its loop runs): a runner of several regions leads what it can and stands by
        for the rest."""
        for region in sorted(self.engine.regions):
            if region not in self.engine.leaders:
                self._campaign_for(region)

    async def stop_campaigns(self) -> None:
        """Stop standing by (the loop ends)."""
        self.persistent = False
        tasks = list(self._campaigns.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- leadership and recovery -----------------------------------------------------------------

    async def lead(self) -> None:
        """Campaign for every region this engine runs and does not lead; return once it leads
        at least one of them (its unfinished firings recovered) and stands by for the rest
        (standbys of every region wait here), or once a stop or pause is asked. The campaigns
        still waiting go on while the engine's loop runs."""
        engine = self.engine
        self.failed = None
        for region in sorted(engine.regions):
            if region not in engine.leaders:
                self._campaign_for(region)
        try:
            while True:
                if self.failed is not None:
                    raise self.failed
                if engine._stop_requested or engine._pause_requested:
                    return  # stopped while standing by: the loop ends at once
                campaigns = dict(self._campaigns)
                settled = all(task.done() or region in self._waiting
                              for region, task in campaigns.items())
                if settled and (engine.leaders or not campaigns):
                    return
                self._changed.clear()
                waiter = asyncio.ensure_future(self._changed.wait())
                try:
                    await asyncio.wait([waiter, *campaigns.values()],
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
        except BaseException:
            await self.stop_campaigns()
            raise

    def interrupt(self) -> None:
        """A stop or pause was asked: a :meth:`lead` waiting for leadership returns."""
        self._changed.set()

    def _standing_by(self, region: str) -> None:
        """A standby waits for another leader: it must not keep the others from finishing
        (unless it leads another region, where its loop says when it is idle)."""
        self._waiting.add(region)
        self._changed.set()
        if not self.engine.leaders:
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

    async def abandon(self, record: TransitionRecord, firing: Firing) -> None:
        """The start of ``firing`` was written although the leadership of its region it was
        sent under was lost meanwhile (a lost reply, sent again after the store came back): it
        does not run here. If this engine leads the region again, it gives the tokens back
        now, since the recovery of its new leadership may have looked before the start was
        written; otherwise the next leader's recovery does."""
        engine = self.engine
        engine._settled(record, firing, engine.clock.now())
        region = record.region
        _LOGGER.warning("firing %s of %r started while the leadership of region %r was lost; "
                        "it does not run", firing.id, record.name, region,
                        extra={"transition": record.name, "firing": firing.id})
        if region in engine.leaders:
            try:
                await self._give_back(region, firing.id, record.name, firing.pairs)
            except (FencingError, UnavailableError) as exc:
                self.lose(region, exc)
            engine._mark(record)

    async def _give_back(self, region: str, firing_id: str, transition: str,
                         release: tuple[tuple[str, str], ...]) -> None:
        """Return the tokens a firing of ``region`` holds in the store; a firing that has
        ended meanwhile (its own runner finished it, or a recovery returned it) is logged."""
        engine = self.engine
        try:
            await engine._write(Commit("return", firing_id, transition, region, release=release,
                                       fence=engine.leaders.get(region),
                                       time=engine.clock.now(), node=engine.node,
                                       note="recovered"))
        except (FencingError, UnavailableError):
            raise
        except StoreError as exc:  # ended meanwhile: nothing to return
            _LOGGER.warning("could not return the tokens of firing %s: %s", firing_id, exc,
                            extra={"transition": transition, "firing": firing_id})

    async def _recover(self, region: str) -> None:
        state = self.engine.state
        assert state is not None
        for record_id, stored in list(state.firings.items()):
            if stored.region != region or record_id in self.engine._active:
                continue
            record = self.engine._transitions.get(stored.transition)
            if record is None:
                continue
            _LOGGER.warning("returning the tokens of unfinished firing %s of %r", record_id,
                            stored.transition, extra={"transition": stored.transition,
                                                      "firing": record_id})
            await self._give_back(region, record_id, stored.transition, stored.taken)
            self.engine._mark(record)

    async def resign(self) -> None:
        for leader in list(self.engine.leaders.values()):
            await self.engine.store.resign(leader)
        self.engine.leaders.clear()

    # -- the loop ---------------------------------------------------------------------------------
