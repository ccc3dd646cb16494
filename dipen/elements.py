"""The elements of a net: :class:`ArcKind`, :class:`Place`, :class:`Arc` and
:class:`Transition`, small immutable objects that :class:`~dipen.Net` makes and hands out
(``net.places``, ``net.arcs``, ``net.transitions``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .policies import ErrorPolicy, error_policy

__all__ = ["Arc", "ArcKind", "Place", "Transition"]


class ArcKind(enum.Enum):
    """How an arc joins a place and a transition.

    ``IN`` may take tokens, ``OUT`` may place tokens, ``COND`` only lets the transition
    see the place; ``IN_OUT`` and ``OUT_COND`` combine them.

    Examples
    --------
    >>> dipen.ArcKind.IN_OUT.takes, dipen.ArcKind.IN_OUT.gives, dipen.ArcKind.IN_OUT.reads
    (True, True, False)
    """

    IN = "in"
    OUT = "out"
    COND = "cond"
    IN_OUT = "in_out"
    OUT_COND = "out_cond"

    @property
    def takes(self) -> bool:
        """The transition may take tokens from the place."""
        return self in (ArcKind.IN, ArcKind.IN_OUT)

    @property
    def gives(self) -> bool:
        """The transition may place tokens on the place."""
        return self in (ArcKind.OUT, ArcKind.IN_OUT, ArcKind.OUT_COND)

    @property
    def reads(self) -> bool:
        """The transition sees the place's tokens without taking them."""
        return self in (ArcKind.COND, ArcKind.OUT_COND)

    @property
    def inputs(self) -> bool:
        """The place's tokens matter for whether the transition is enabled (``takes`` or ``reads``)."""
        return self.takes or self.reads

    def __repr__(self) -> str:
        return f"ArcKind.{self.name}"


@dataclass(frozen=True, slots=True)
class Place:
    """A place: its name, its capacity (``None`` = unbounded), the data of its initial tokens and
    where an editor drew it (``position``, see :meth:`Net.place`).

    Examples
    --------
    >>> dipen.Place("buffer", capacity=3, initial=(None, None))
    Place('buffer', capacity=3, tokens=2)
    """

    name: str
    capacity: int | None = None
    initial: tuple[Any, ...] = ()
    position: tuple[float, float] | None = None

    def __repr__(self) -> str:
        parts = [repr(self.name)]
        if self.capacity is not None:
            parts.append(f"capacity={self.capacity}")
        if self.initial:
            if all(data is None for data in self.initial):
                parts.append(f"tokens={len(self.initial)}")
            else:
                parts.append(f"tokens={list(self.initial)!r}")
        return f"Place({', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class Arc:
    """An arc between ``place`` and ``transition`` of a given ``kind``, with an optional name and
    a weight (how many tokens P/T behaviour moves through it).

    Examples
    --------
    >>> dipen.Arc("p", "t", dipen.ArcKind.IN, weight=2)
    Arc('p' -> 't', IN, weight=2)
    """

    place: str
    transition: str
    kind: ArcKind
    name: str | None = None
    weight: int = 1

    def __repr__(self) -> str:
        if self.kind is ArcKind.OUT:
            ends = f"{self.transition!r} -> {self.place!r}"
        elif self.kind.gives:
            ends = f"{self.place!r} <-> {self.transition!r}"
        else:
            ends = f"{self.place!r} -> {self.transition!r}"
        extra = "" if self.weight == 1 else f", weight={self.weight}"
        name = "" if self.name is None else f", name={self.name!r}"
        return f"Arc({ends}, {self.kind.name}{extra}{name})"


@dataclass(frozen=True, slots=True)
class Transition:
    """A transition: its name, region, arcs, behaviour and where an editor drew it (``position``).

    The behaviour is one of: no code (classic P/T), ``run``/``guard`` callables (the decorator
    form), or an ``executor`` class (the full contract of :class:`dipen.Executor`).

    Transitions are made by :meth:`Net.transition` and read from ``net.transitions``.

    Examples
    --------
    >>> net = dipen.Net("n").place("a").place("b").transition("t", take="a", give="b")
    >>> t = net.transitions["t"]
    >>> t, t.kind, t.region, [arc.kind.name for arc in t.arcs]
    (Transition('t', take=[a], give=[b]), 'P/T', 'default', ['IN', 'OUT'])
    """

    name: str
    region: str = "default"
    arcs: tuple[Arc, ...] = ()
    run: Callable[..., Any] | None = None
    guard: Callable[..., Any] | None = None
    executor: type | None = None
    data: Any = None
    on_error: ErrorPolicy = field(default_factory=lambda: error_policy("block", ""))
    concurrency: int = 1
    position: tuple[float, float] | None = None
    manual: bool = False

    @property
    def kind(self) -> str:
        """``"P/T"``, ``"code"`` or ``"executor"``."""
        if self.executor is not None:
            return "executor"
        return "code" if self.run is not None else "P/T"

    def arcs_of(self, kind_test: Callable[[ArcKind], bool]) -> tuple[Arc, ...]:
        """The arcs whose kind passes ``kind_test``, e.g. ``t.arcs_of(lambda k: k.takes)``."""
        return tuple(arc for arc in self.arcs if kind_test(arc.kind))

    def __repr__(self) -> str:
        def names(test: Callable[[ArcKind], bool]) -> str:
            return ", ".join(
                arc.place if arc.weight == 1 else f"{arc.place}×{arc.weight}"
                for arc in self.arcs
                if test(arc.kind)
            )

        parts = [repr(self.name)]
        for label, test in (("take", _takes), ("give", _gives), ("read", _reads)):
            listed = names(test)
            if listed:
                parts.append(f"{label}=[{listed}]")
        if self.region != "default":
            parts.append(f"region={self.region!r}")
        if self.manual:
            parts.append("manual")
        if self.kind != "P/T":
            behaviour = self.executor or self.run
            parts.append(f"{self.kind}={getattr(behaviour, '__qualname__', behaviour)}")
        return f"Transition({', '.join(parts)})"


def _takes(kind: ArcKind) -> bool:
    return kind.takes


def _gives(kind: ArcKind) -> bool:
    return kind.gives


def _reads(kind: ArcKind) -> bool:
    return kind.reads
