"""Manual control as a running engine sees it: blocks by hand (of a transition or a whole
region, from any machine), requests to cancel running firings, and manual transitions that
fire only when someone asks, with data, and get an answer.

They arrive as control changes through the store (see :class:`dipen.Control`), so every
runner sees them within one watch round trip; the standing ones (blocks, waiting requests)
are part of the store's state and survive restarts and failovers. :class:`Manual` is a part
of an :class:`~dipen.engine.Engine`.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from .errors import ConflictError, FencingError, UnavailableError
from .state import Change, Commit

if TYPE_CHECKING:
    from .contexts import Enabled
    from .engine import Engine
    from .events import Firing
    from .schedule import TransitionRecord

__all__ = ["Manual"]

_LOGGER = logging.getLogger("dipen.engine")


def hold_reason(controls: dict[str, dict[str, Any]], transition: str, region: str) -> str:
    """Why a transition is blocked by hand (``""``: it is not).

    Examples
    --------
    >>> controls = {"block/region/r": {"target": "region", "name": "r", "by": "ann",
    ...                                "why": "maintenance"}}
    >>> hold_reason(controls, "t", "r")
    "blocked by ann (region 'r'): maintenance"
    >>> hold_reason(controls, "t", "other")
    ''
    """
    found = controls.get(f"block/transition/{transition}") or controls.get(f"block/region/{region}")
    if not found:
        return ""
    return (f"blocked by {found.get('by') or 'someone'} ({found['target']} {found['name']!r}): "
            f"{found.get('why') or 'no reason given'}")


class Manual:
    """Blocks by hand, cancel requests and manual firings, for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.serving: dict[str, str] = {}  # firing id -> the request it serves
        self.claimed: set[str] = set()  # requests being served by this engine
        self.answers: deque[Commit] = deque()  # answers to write (by the loop)

    # -- following the store ---------------------------------------------------------------------

    def load(self) -> None:
        """Apply the standing controls of a freshly loaded state."""
        for record in self.engine._transitions.values():
            self._hold(record)

    def _hold(self, record: TransitionRecord) -> None:
        controls = self.engine.state.controls  # type: ignore[union-attr]
        held = hold_reason(controls, record.name, record.region) if controls else ""
        if held != record.held:
            record.held = held
            if record.mine:
                self.engine._mark(record)

    def on_control(self, change: Change) -> None:
        """React to a control change this engine's view has just applied."""
        note, engine = change.note, self.engine
        action = note["action"]
        if action in ("block", "unblock"):
            field = "name" if note["target"] == "transition" else "region"
            for record in engine._transitions.values():
                if getattr(record, field) == note["name"]:
                    self._hold(record)
            return
        if action == "cancel":
            field = "name" if note["target"] == "transition" else "region"
            for record, firing, task in list(engine._active.values()):
                if getattr(record, field) == note["name"]:
                    if task is not None:
                        _LOGGER.info("cancelling firing %s of %r (asked by %s: %s)", firing.id,
                                     record.name, change.node, note.get("why") or "no reason",
                                     extra={"transition": record.name, "firing": firing.id})
                        task.cancel()
            return
        if action == "request":
            asked = engine._transitions.get(note["transition"])
            if asked is not None and asked.mine:
                engine._mark(asked)
            return
        self.claimed.discard(note["id"])  # answered or withdrawn

    # -- manual firings --------------------------------------------------------------------------

    def request_for(self, record: TransitionRecord) -> dict[str, Any] | None:
        """The oldest waiting request for ``record`` that nobody here serves yet."""
        controls = self.engine.state.controls  # type: ignore[union-attr]
        for key, request in controls.items():
            if (key.startswith("request/") and request["transition"] == record.name
                    and request["id"] not in self.claimed):
                return request
        return None

    async def start(self, record: TransitionRecord, enabled: Enabled) -> Firing | None:
        """Start ``record`` for its oldest waiting request (``None``: there is none, or the
        start was refused)."""
        request = self.request_for(record)
        if request is None:
            return None
        self.claimed.add(request["id"])
        firing = await self.engine.start(record, enabled, request.get("data"), request)
        if firing is None:
            self.claimed.discard(request["id"])
            for firing_id, served in list(self.serving.items()):
                if served == request["id"]:
                    del self.serving[firing_id]
        return firing

    def ended(self, firing: Firing, how: str) -> None:
        """``firing`` ended (``"finished"``, ``"failed"`` or ``"cancelled"``): if it served a
        request, its answer is written next (the engine calls this)."""
        request = self.serving.pop(firing.id, None)
        if request is None:
            return
        engine = self.engine
        note: dict[str, Any] = {"action": "answer", "id": request, "transition": firing.transition,
                                "firing": firing.id, "state": how}
        if how == "finished":
            json = type(engine.store.codec).__name__ == "JsonCodec"
            note["placed"] = {place: [[t.id, t.data] if json else [t.id] for t in tokens]
                              for place, tokens in firing.placed.items()}
        elif firing.error is not None:
            note["error"] = f"{type(firing.error).__name__}: {firing.error}"
        self.answers.append(Commit("control", None, firing.transition, firing.region,
                                   fence=engine.leaders.get(firing.region),
                                   time=engine.clock.now(), node=engine.node, note=note))
        engine.wake()

    async def flush(self) -> None:
        """Write the answers of the manual firings that ended."""
        engine = self.engine
        while self.answers:
            commit = self.answers.popleft()
            try:
                await engine._write(commit)
            except ConflictError:  # withdrawn meanwhile: nobody waits for the answer
                pass
            except (FencingError, UnavailableError) as exc:  # the next leader serves it again
                engine.leading.lose(commit.region, exc)  # type: ignore[arg-type]
