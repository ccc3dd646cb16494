"""Events: what a runner tells its observers (widgets, history, statistics, your callbacks).

Every event is an immutable named tuple with the runner's clock ``time``; subscribe with
``runner.subscribe(callback)``. Firing events carry the :class:`Firing` record.

Examples
--------
>>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
>>> runner = dipen.Runner(net)
>>> seen = []
>>> unsubscribe = runner.subscribe(lambda event: seen.append(type(event).__name__))
>>> _ = runner.run_sync()
>>> "FiringStarted" in seen and "FiringFinished" in seen
True
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .tokens import Token

__all__ = [
    "Event",
    "Firing",
    "FiringCancelled",
    "FiringFailed",
    "FiringFinished",
    "FiringStarted",
    "GuardFailed",
    "MarkingChanged",
    "StoreInterrupted",
    "TransitionBlocked",
    "TransitionUnblocked",
]


class Firing:
    """One firing of a transition: what it took, what it placed, when, and how it ended.

    ``state`` is ``"running"``, ``"finished"``, ``"failed"``, ``"cancelled"`` or ``"conflict"``
    (never written: its inputs changed before its one-transaction commit; checked again).

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> runner = dipen.Runner(net)
    >>> firing = runner.step_sync("t")
    >>> firing.transition, firing.state, firing.id
    ('t', 'finished', 'f1')
    """

    __slots__ = (
        "committed", "error", "finished", "input", "pairs", "id", "placed", "reads", "region", "started", "state", "taken",
        "transition",
    )

    def __init__(
        self, id: str, transition: str, region: str, taken: dict[str, tuple[Token, ...]],
        started: float, pairs: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.id = id
        self.transition = transition
        self.region = region
        self.taken = taken
        self.reads: dict[str, tuple[Token, ...]] = {}
        self.started = started
        self.finished: float | None = None
        self.placed: dict[str, tuple[Token, ...]] = {}
        self.error: BaseException | None = None
        self.state = "running"
        self.committed = False  # its start is in the store
        self.pairs = pairs  # (place, token id) of what it took
        self.input: Any = None  # data given by hand to a manual step (``runner.step(name, data)``)

    @property
    def key(self) -> str:
        """The same for every attempt at this work: the transition and the ids of the tokens
        it took. After a crash the new leader returns the tokens (ids unchanged) and the
        transition fires again with a new firing ``id`` but the same ``key``; use it to make
        side effects idempotent (at-least-once).

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> firing = dipen.Runner(net).step_sync("t")
        >>> firing.key == "t:" + firing.pairs[0][1]
        True
        """
        return self.transition + ":" + "+".join(sorted(token for _, token in self.pairs))

    @property
    def duration(self) -> float | None:
        """Clock seconds from start to end, or ``None`` while running."""
        return None if self.finished is None else self.finished - self.started

    def __repr__(self) -> str:
        def show(tokens: dict[str, tuple[Token, ...]]) -> str:
            return "{" + ", ".join(f"{p}: {len(ts)}" for p, ts in tokens.items()) + "}"

        text = f"Firing({self.transition!r}, id={self.id!r}, {self.state}, took={show(self.taken)}"
        if self.state == "finished":
            text += f", placed={show(self.placed)}"
        if self.error is not None:
            text += f", error={self.error!r}"
        return text + ")"


class FiringStarted(NamedTuple):
    """A firing took its tokens."""

    time: float
    revision: int
    firing: Firing


class FiringFinished(NamedTuple):
    """A firing finished: its outputs are placed, the rest consumed."""

    time: float
    revision: int
    firing: Firing


class FiringFailed(NamedTuple):
    """A firing's ``run`` raised (or returned something invalid); ``action`` is what the error
    policy did."""

    time: float
    revision: int
    firing: Firing
    error: BaseException
    action: str


class FiringCancelled(NamedTuple):
    """A running firing was cancelled (stop, timeout, task cancel); its tokens went back."""

    time: float
    revision: int
    firing: Firing


class GuardFailed(NamedTuple):
    """A guard or ``check_start`` raised; the transition counts as not enabled."""

    time: float
    transition: str
    error: BaseException


class TransitionBlocked(NamedTuple):
    """A transition was blocked (by hand or by its error policy): it starts no new firings."""

    time: float
    transition: str
    reason: str


class TransitionUnblocked(NamedTuple):
    """A transition may fire again."""

    time: float
    transition: str


class MarkingChanged(NamedTuple):
    """The marking changed through someone else: another runner, a region, or a manual edit."""

    time: float
    revision: int
    change: Any


class StoreInterrupted(NamedTuple):
    """The runner's view of the store was interrupted: ``action`` says how it recovered
    (``"resumed"`` without a gap, or ``"reloaded"`` a snapshot after missing changes)."""

    time: float
    error: BaseException
    action: str


Event = (
    FiringStarted | FiringFinished | FiringFailed | FiringCancelled | GuardFailed
    | TransitionBlocked | TransitionUnblocked | MarkingChanged | StoreInterrupted
)
