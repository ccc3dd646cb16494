"""What the executor contract passes and returns: the contexts an executor is given
(:class:`ValidateContext`, :class:`CreateContext`, :class:`StartContext`,
:class:`RunContext`), the results of ``check_start`` (:class:`Enabled`, :class:`Disabled`)
and :func:`current_firing`, the firing whose code runs now.

These know nothing about runners or stores: a runner hands executors contexts that read its
replica of the state.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .elements import Arc, Transition
from .errors import ExecutorError, NetError
from .state import PlaceState
from .tokens import Token

if TYPE_CHECKING:
    from .events import Firing
    from .net import Net

__all__ = [
    "CreateContext",
    "Disabled",
    "Enabled",
    "RunContext",
    "StartContext",
    "ValidateContext",
    "current_firing",
]

_CURRENT_FIRING: contextvars.ContextVar[Firing | None] = contextvars.ContextVar(
    "dipen_current_firing", default=None
)



def current_firing() -> Firing | None:
    """The :class:`~dipen.events.Firing` whose ``run`` is executing now, or ``None`` outside one.

    After a crash a firing may run again (at-least-once) with a new ``id``; its ``key`` (the
    transition and the ids of the tokens it took) is the same for every attempt: use it to make
    side effects idempotent.

    Examples
    --------
    >>> dipen.current_firing() is None
    True
    """
    return _CURRENT_FIRING.get()


# -- results of check_start ------------------------------------------------------------------


class Enabled:
    """``check_start`` result: the transition may fire, taking ``take`` (``{place: [tokens]}``).

    Examples
    --------
    >>> dipen.Enabled({"a": [dipen.Token("t1")]})
    Enabled(take={'a': ['t1']})
    """

    __slots__ = ("take",)

    def __init__(self, take: Mapping[str, Sequence[Token]]) -> None:
        self.take = take

    def __repr__(self) -> str:
        take = self.take
        if not isinstance(take, Mapping):
            return f"Enabled(take={take!r})"
        shown = {
            p: [t.id if isinstance(t, Token) else t for t in ts] if isinstance(ts, (list, tuple)) else ts
            for p, ts in take.items()
        }
        return f"Enabled(take={shown!r})"


class Disabled:
    """``check_start`` result: not enabled, ``reason`` in words. ``wait_for`` names the one place
    whose change is worth a re-check (others are then ignored); ``recheck_after`` asks for a
    re-check after that many clock seconds even if nothing changes.

    Examples
    --------
    >>> dipen.Disabled("queue is empty", wait_for="queue")
    Disabled('queue is empty', wait_for='queue')
    """

    __slots__ = ("reason", "recheck_after", "wait_for")

    def __init__(
        self, reason: str = "", wait_for: str | None = None, recheck_after: float | None = None
    ) -> None:
        self.reason = reason
        self.wait_for = wait_for
        self.recheck_after = recheck_after

    def __repr__(self) -> str:
        extra = "" if self.wait_for is None else f", wait_for={self.wait_for!r}"
        if self.recheck_after is not None:
            extra += f", recheck_after={self.recheck_after!r}"
        return f"Disabled({self.reason!r}{extra})"


# -- contexts ------------------------------------------------------------------------------------


class ValidateContext:
    """What ``Executor.validate`` sees: the net's name, the transition, its arcs and its ``data``.

    Examples
    --------
    >>> class NeedsInput(dipen.Executor):
    ...     @classmethod
    ...     def validate(cls, ctx):
    ...         if not ctx.arcs_taking():
    ...             raise ctx.fail("needs a place to take from")
    ...     def check_start(self, ctx):
    ...         return dipen.Disabled("never")
    ...     async def run(self, ctx):
    ...         return None
    >>> dipen.Net("n").place("a").transition("t", give="a", executor=NeedsInput).validate()
    Traceback (most recent call last):
    ...
    dipen.errors.NetError: net 'n', transition 't': needs a place to take from
    """

    def __init__(self, net: Net, transition: Transition) -> None:
        self.net_name = net.name
        self.transition = transition.name
        self.region = transition.region
        self.arcs: tuple[Arc, ...] = transition.arcs
        self.data = transition.data
        self.capacities = {name: place.capacity for name, place in net.places.items()}

    def arcs_taking(self) -> tuple[Arc, ...]:
        """Arcs the transition may take tokens through (``IN``, ``IN_OUT``)."""
        return tuple(a for a in self.arcs if a.kind.takes)

    def arcs_giving(self) -> tuple[Arc, ...]:
        """Arcs the transition may place tokens through (``OUT``, ``IN_OUT``, ``OUT_COND``)."""
        return tuple(a for a in self.arcs if a.kind.gives)

    def arcs_reading(self) -> tuple[Arc, ...]:
        """Arcs the transition only reads (``COND``, ``OUT_COND``)."""
        return tuple(a for a in self.arcs if a.kind.reads)

    def arc(self, name: str) -> Arc:
        """The arc named ``name`` (raises :class:`NetError` naming the transition)."""
        for arc in self.arcs:
            if arc.name == name:
                return arc
        raise NetError(f"net {self.net_name!r}, transition {self.transition!r}: no arc named {name!r}")

    def fail(self, reason: str) -> NetError:
        """A :class:`NetError` naming this transition, for ``validate`` to raise."""
        return NetError(f"net {self.net_name!r}, transition {self.transition!r}: {reason}")


class CreateContext(ValidateContext):
    """What ``Executor.__init__`` sees (the same as ``validate``).

    Examples
    --------
    >>> class Limit(dipen.Executor):
    ...     def __init__(self, ctx):
    ...         super().__init__(ctx)
    ...         self.limit = ctx.data["limit"]          # the transition's data=
    ...     def check_start(self, ctx):
    ...         small = [t for t in ctx.tokens("a") if t.data < self.limit]
    ...         return dipen.Enabled({"a": small[:1]}) if small else dipen.Disabled("none small")
    ...     async def run(self, ctx):
    ...         return {"b": list(ctx.taken["a"])}
    >>> net = (dipen.Net("n").place("a", tokens=[1, 5, 2]).place("b")
    ...        .transition("t", take="a", give="b", executor=Limit, data={"limit": 3}))
    >>> runner = dipen.Runner(net)
    >>> _ = runner.run_sync()
    >>> runner.marking.data()["b"]
    [1, 2]
    """


class StartContext:
    """What ``check_start`` sees: the tokens of the transition's input places, in the runner's
    replica of the state. One context per transition is reused across checks.

    Examples
    --------
    >>> class Pair(dipen.Executor):
    ...     def check_start(self, ctx):
    ...         if ctx.count("a") < 2:
    ...             return dipen.Disabled(f"{ctx.count('a')} token(s) in 'a', need 2")
    ...         return dipen.Enabled({"a": ctx.tokens("a")[:2]})
    ...     async def run(self, ctx):
    ...         return {"b": [sum(t.data for t in ctx.taken["a"])]}
    >>> net = (dipen.Net("n").place("a", tokens=[1, 2, 3]).place("b")
    ...        .transition("t", take="a", give="b", executor=Pair))
    >>> runner = dipen.Runner(net)
    >>> _ = runner.run_sync()
    >>> runner.marking.data()
    {'a': [3], 'b': [3]}
    >>> runner.explain("t")
    "...1 token(s) in 'a', need 2..."
    """

    __slots__ = ("_inputs", "_outputs", "_places", "clock_now", "data", "transition")

    def __init__(
        self, transition: Transition, places: Mapping[str, PlaceState], clock_now: Callable[[], float]
    ) -> None:
        self.transition = transition.name
        self.data = transition.data
        self._places = places
        self._inputs = {a.place for a in transition.arcs if a.kind.inputs}
        self._outputs = {a.place for a in transition.arcs if a.kind.gives}
        self.clock_now = clock_now

    @property
    def now(self) -> float:
        """The runner's clock."""
        return self.clock_now()

    def _input(self, place: str) -> PlaceState:
        if place not in self._inputs:
            raise ExecutorError(
                f"transition {self.transition!r} looked at place {place!r}, which it has no "
                f"IN/COND arc from (inputs: {', '.join(sorted(self._inputs)) or 'none'})"
            )
        return self._places[place]

    def tokens(self, place: str) -> tuple[Token, ...]:
        """The free tokens of input place ``place``, oldest first."""
        return tuple(self._input(place).free.values())

    def taken(self, place: str) -> tuple[Token, ...]:
        """Tokens of ``place`` that running firings hold (``token.firing`` says which)."""
        return tuple(self._input(place).taken.values())

    def count(self, place: str) -> int:
        """Number of free tokens in input place ``place``."""
        return len(self._input(place).free)

    def room(self, place: str) -> int | None:
        """How many more tokens output place ``place`` can take (``None``: unbounded)."""
        if place not in self._outputs:
            raise ExecutorError(f"transition {self.transition!r} has no OUT arc to {place!r}")
        return self._places[place].room()


class RunContext:
    """What ``Executor.run`` sees: the firing, the tokens it took, the transition's data, time.

    Examples
    --------
    >>> class Stamp(dipen.Executor):
    ...     def check_start(self, ctx):
    ...         tokens = ctx.tokens("a")
    ...         return dipen.Enabled({"a": tokens[:1]}) if tokens else dipen.Disabled("empty")
    ...     async def run(self, ctx):
    ...         (token,) = ctx.taken["a"]
    ...         return {"b": [token.update(by=ctx.transition, firing=ctx.firing_id)]}
    >>> net = (dipen.Net("n").place("a", tokens=[{}]).place("b")
    ...        .transition("t", take="a", give="b", executor=Stamp))
    >>> runner = dipen.Runner(net)
    >>> _ = runner.run_sync()
    >>> runner.marking.data()["b"]
    [{'by': 't', 'firing': 'f1'}]
    """

    __slots__ = ("_now", "data", "firing", "taken", "transition")

    def __init__(self, firing: Firing, data: Any, now: Callable[[], float]) -> None:
        self.firing = firing
        self.transition = firing.transition
        self.taken: dict[str, tuple[Token, ...]] = firing.taken
        self.data = data
        self._now = now

    @property
    def firing_id(self) -> str:
        """This attempt's firing id (new after a crash: deduplicate side effects with
        ``firing.key``)."""
        return self.firing.id

    @property
    def now(self) -> float:
        return self._now()

    def tokens(self) -> list[Token]:
        """All taken tokens, place by place."""
        return [token for tokens in self.taken.values() for token in tokens]
