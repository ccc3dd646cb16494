"""The executor contract (:class:`Executor`) and the two built-in executors.

Every transition's behaviour is an executor. There are three ways to give one:

1. no code — :class:`PTExecutor`, classic P/T semantics;
2. ``run=``/``guard=`` or the decorator form — :class:`FunctionExecutor`;
3. a subclass of :class:`Executor` — the full contract: ``validate`` (class-level, once),
   ``__init__(ctx)``, ``check_start(ctx)`` and ``async run(ctx)``.

What executors are given and return (the contexts, ``Enabled``/``Disabled``) is in
:mod:`dipen.contexts`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .contexts import (
    CreateContext,
    Disabled,
    Enabled,
    RunContext,
    StartContext,
    ValidateContext,
)
from .elements import Transition
from .errors import ExecutorError, NetError
from .state import PlaceState
from .tokens import Token

if TYPE_CHECKING:
    from .events import Firing
    from .net import Net

__all__ = ["Executor", "FunctionExecutor", "PTExecutor", "create_executor"]

#: How many guard evaluations a transition with several input places may try per check.
GUARD_SEARCH_LIMIT = 10_000


# -- the contract ---------------------------------------------------------------------------------


class Executor:
    """Base class of the full executor contract.

    Subclasses implement ``check_start`` and ``async run``; ``validate`` and ``__init__`` are
    optional. ``run`` returns ``{place: [tokens or data]}`` (tokens it took, possibly changed
    with ``token.update``, move; plain data becomes new tokens) or ``None``; taken tokens it
    does not place are consumed.

    Examples
    --------
    >>> class TakeEven(dipen.Executor):
    ...     def check_start(self, ctx):
    ...         even = [t for t in ctx.tokens("numbers") if t.data % 2 == 0]
    ...         return dipen.Enabled({"numbers": even[:1]}) if even else dipen.Disabled("no even number")
    ...     async def run(self, ctx):
    ...         (token,) = ctx.taken["numbers"]
    ...         return {"even": [token]}
    >>> net = (dipen.Net("n").place("numbers", tokens=[1, 2, 3, 4]).place("even")
    ...        .transition("pick", take="numbers", give="even", executor=TakeEven))
    >>> runner = dipen.Runner(net)
    >>> runner.run_sync().firings
    2
    >>> runner.marking.data()["even"]
    [2, 4]
    """

    @classmethod
    def validate(cls, ctx: ValidateContext) -> None:
        """Check, once before anything runs, that the transition has what this executor needs;
        raise ``ctx.fail("reason")`` if not."""

    def __init__(self, ctx: CreateContext) -> None:
        self.context = ctx

    def check_start(self, ctx: StartContext) -> Enabled | Disabled:
        """Decide whether the transition may fire now and which tokens it takes."""
        raise NotImplementedError(f"{type(self).__qualname__}.check_start")

    async def run(self, ctx: RunContext) -> Any:
        """The firing itself."""
        raise NotImplementedError(f"{type(self).__qualname__}.run")

    def fire(self, firing: Firing, now: Callable[[], float]) -> Any:
        """Start ``run`` for ``firing`` (the runner calls this); returns a coroutine or a result."""
        return self.run(RunContext(firing, self.context.data, now))

    def outputs(self, result: Any) -> list[tuple[str, Any]]:
        """Turn what ``run`` returned into ``(place, token or data)`` pairs."""
        return placements_from_mapping(result, self.context.transition, self._gives)

    @property
    def _gives(self) -> frozenset[str]:
        gives = getattr(self, "_gives_cache", None)
        if gives is None:
            gives = frozenset(a.place for a in self.context.arcs if a.kind.gives)
            self._gives_cache = gives
        return gives


def placements_from_mapping(result: Any, transition: str, gives: frozenset[str]) -> list[tuple[str, Any]]:
    """``{place: [tokens or data]}`` (or ``None``) to ``(place, item)`` pairs, checked."""
    if result is None:
        return []
    if not isinstance(result, Mapping):
        raise ExecutorError(
            f"transition {transition!r}: run returned {type(result).__name__}; return "
            "{place: [tokens or data]} or None"
        )
    pairs: list[tuple[str, Any]] = []
    for place, items in result.items():
        if place not in gives:
            raise ExecutorError(
                f"transition {transition!r}: run placed tokens on {place!r}, which it has no "
                f"OUT arc to (outputs: {', '.join(sorted(gives)) or 'none'})"
            )
        if isinstance(items, (Token, str, bytes, Mapping)) or not isinstance(items, Sequence):
            raise ExecutorError(
                f"transition {transition!r}: the value for place {place!r} must be a list of "
                f"tokens or data, not {type(items).__name__} (write [{place!r}: [value]])"
            )
        pairs.extend((place, item) for item in items)
    return pairs


# -- built-in executors ----------------------------------------------------------------------------


class PTExecutor(Executor):
    """Classic P/T behaviour: take ``weight`` tokens (oldest first) from every ``IN`` place when
    each ``COND`` place holds at least ``weight`` tokens; place ``weight`` tokens on every ``OUT``
    place — moving the taken tokens (with their data) when their number matches, otherwise new
    tokens without data (or with the data given to ``runner.step(name, data)``)."""

    def __init__(self, ctx: CreateContext) -> None:
        super().__init__(ctx)
        self._takes = tuple((a.place, a.weight) for a in ctx.arcs if a.kind.takes)
        self._reads = tuple((a.place, a.weight) for a in ctx.arcs if a.kind.reads)
        self._outs = tuple((a.place, a.weight) for a in ctx.arcs if a.kind.gives)
        self._out_count = sum(w for _, w in self._outs)

    def check_start(self, ctx: StartContext) -> Enabled | Disabled:
        places = ctx._places
        take = {}
        for place, weight in self._reads:
            have = len(places[place].free)
            if have < weight:
                return Disabled(_shortage("read place", place, have, weight), wait_for=place)
        for place, weight in self._takes:
            free = places[place].free
            if len(free) < weight:
                return Disabled(_shortage("place", place, len(free), weight), wait_for=place)
            take[place] = tuple(itertools.islice(free.values(), weight))
        return Enabled(take)

    def fire(self, firing: Firing, now: Callable[[], float]) -> Any:
        taken = [token for tokens in firing.taken.values() for token in tokens]
        if len(taken) == self._out_count:
            items = iter(taken)
            return [(place, next(items)) for place, weight in self._outs for _ in range(weight)]
        data = firing.input  # data given to a manual step, else None
        return [(place, data) for place, weight in self._outs for _ in range(weight)]

    def outputs(self, result: Any) -> list[tuple[str, Any]]:
        return result  # type: ignore[no-any-return]

    async def run(self, ctx: RunContext) -> Any:
        return self.fire(ctx.firing, lambda: ctx.now)


def _shortage(label: str, place: str, have: int, need: int) -> str:
    noun = "token" if need == 1 else "tokens"
    return f"{label} {place!r} has {have} free {'token' if have == 1 else 'tokens'}, needs {need} {noun}"


class FunctionExecutor(Executor):
    """The decorator / ``run=`` form: ``run`` and ``guard`` get the taken token (one ``take``
    place of weight 1, nothing read) or ``{place: [tokens]}``; what ``run`` returns goes to the
    single output place, or is a ``{place: [tokens or data]}`` mapping, or ``None``."""

    def __init__(self, ctx: CreateContext, run: Callable[..., Any], guard: Callable[..., Any] | None) -> None:
        super().__init__(ctx)
        self._run = run
        self._guard = guard
        takes = [a for a in ctx.arcs if a.kind.takes]
        self._takes = tuple((a.place, a.weight) for a in takes)
        self._reads = tuple((a.place, a.weight) for a in ctx.arcs if a.kind.reads)
        self._single = takes[0].place if len(takes) == 1 and takes[0].weight == 1 and not self._reads else None
        if self._single is not None:
            self._empty = Disabled(_shortage("place", self._single, 0, 1), wait_for=self._single)
        outs = [a.place for a in ctx.arcs if a.kind.gives]
        self._only_out = outs[0] if len(outs) == 1 else None
        self._outs = frozenset(outs)
        self._places = frozenset(ctx.capacities)

    def check_start(self, ctx: StartContext) -> Enabled | Disabled:
        places = ctx._places
        single = self._single
        if single is not None:
            free = places[single].free
            if not free:
                return self._empty
            found = self.first(free)
            return found if isinstance(found, Disabled) else Enabled({single: (found,)})
        return self._check_mapping(places)

    def first(self, free: Mapping[str, Token]) -> Token | Disabled:
        """With one ``take`` place of weight 1 and nothing read: the oldest of its ``free``
        tokens (id to token, oldest first; not empty) that the guard accepts, or
        :class:`Disabled` saying why none. A token whose guard raises is skipped; when no
        token is accepted, the first such error is raised (a note names its token).

        Examples
        --------
        >>> async def move(token):
        ...     return token
        >>> net = dipen.Net("n").place("a").place("b")
        >>> net = net.transition("t", take="a", give="b", run=move, guard=lambda t: t.data > 1)
        >>> executor = dipen.executors.create_executor(net, net.transitions["t"])
        >>> executor.first({"t1": dipen.Token("t1", 1), "t2": dipen.Token("t2", 2)})
        Token('t2', 2)
        >>> executor.first({"t1": dipen.Token("t1", 1)})
        Disabled("guard <lambda> said no to the 1 free token of 'a'")
        """
        guard = self._guard
        if guard is None:
            return next(iter(free.values()))
        failures: list[tuple[Mapping[str, Sequence[Token]], Exception]] | None = None
        for token in free.values():
            try:  # free unless it raises (zero-cost exceptions)
                if guard(token):
                    return token
            except Exception as exc:  # this token is not enabled; the others still count
                failures = failures or []
                failures.append(({self._single: (token,)}, exc))  # type: ignore[dict-item]
        count = len(free)
        if failures:
            raise self._failed(failures, count)
        return Disabled(
            f"guard {_name(guard)} said no to {'the' if count == 1 else 'all'} "
            f"{count} free token{'s' if count != 1 else ''} of {self._single!r}"
        )

    def guard_failures(self, ctx: StartContext) -> list[tuple[dict[str, tuple[Token, ...]], Exception]]:
        """The bindings ``{place: tokens}`` whose guard raises now, with what it raised.

        ``check_start`` skips such a binding and goes on with the others; when no binding is
        enabled it raises the first error (the runner records a ``GuardFailed`` event). This
        asks the guard again about every binding (up to :data:`GUARD_SEARCH_LIMIT`), so that
        :meth:`dipen.Runner.explain` can name the tokens that are skipped.

        Examples
        --------
        >>> net = dipen.Net("orders").place("new", tokens=[{"qty": 2}, {"qty": None}]).place("big")
        >>> net = net.transition("pick", take="new", give="big", guard=lambda o: o["qty"] > 1)
        >>> runner = dipen.Runner(net)
        >>> runner.run_sync().firings
        1
        >>> print(runner.explain("pick"))
        'pick' is not enabled: the guard raised TypeError: '>' not supported between instances of 'NoneType' and 'int' (for token 't2' of 'new')
        """
        guard = self._guard
        if guard is None:
            return []
        places = ctx._places
        single = self._single
        read = {place: tuple(places[place].free.values()) for place, _ in self._reads}
        failures = []
        for take in itertools.islice(self._bindings(places), GUARD_SEARCH_LIMIT):
            try:
                guard(take[single][0] if single is not None else {**read, **take})
            except Exception as exc:
                failures.append((take, exc))
        return failures

    def _bindings(self, places: Mapping[str, PlaceState]) -> Iterator[dict[str, tuple[Token, ...]]]:
        """Every choice of tokens ``{place: tokens}`` the guard could be asked about."""
        options = [itertools.combinations(places[place].free.values(), weight)
                   for place, weight in self._takes]
        names = [place for place, _ in self._takes]
        return (dict(zip(names, choice)) for choice in itertools.product(*options))

    def _failed(self, failures: Sequence[tuple[Mapping[str, Sequence[Token]], Exception]],
                count: int) -> Exception:
        """The first error of a check whose every binding the guard refused or raised on, with
        a note naming its tokens and how many bindings raised."""
        take, error = failures[0]
        more = f"; it raised for {len(failures)} of {count} bindings" if len(failures) > 1 else ""
        note = (f"guard {_name(self._guard)} of transition {self.context.transition!r} raised "
                f"for {_binding(take)}{more}")
        if note not in getattr(error, "__notes__", ()):
            error.add_note(note)
        return error

    def _check_mapping(self, places: Mapping[str, PlaceState]) -> Enabled | Disabled:
        read = {}
        for place, weight in self._reads:
            tokens = tuple(places[place].free.values())
            if len(tokens) < weight:
                return Disabled(_shortage("read place", place, len(tokens), weight), wait_for=place)
            read[place] = tokens
        options = []
        for place, weight in self._takes:
            tokens = tuple(places[place].free.values())
            if len(tokens) < weight:
                return Disabled(_shortage("place", place, len(tokens), weight), wait_for=place)
            options.append(itertools.combinations(tokens, weight))
        guard = self._guard
        names = [place for place, _ in self._takes]
        tried = 0
        failures = None
        for choice in itertools.product(*options):
            take = dict(zip(names, choice))
            try:  # free unless it raises (zero-cost exceptions)
                if guard is None or guard({**read, **take}):
                    return Enabled(take)
            except Exception as exc:  # this binding is not enabled; the others still count
                failures = failures or []
                failures.append((take, exc))
            tried += 1
            if tried >= GUARD_SEARCH_LIMIT:
                break
        if failures:
            raise self._failed(failures, tried)
        if tried >= GUARD_SEARCH_LIMIT:
            return Disabled(
                f"guard {_name(guard)} said no to the first {tried} token combinations "
                "(search limit dipen.executors.GUARD_SEARCH_LIMIT)"
            )
        return Disabled(f"guard {_name(guard)} said no to all {tried} token combinations")

    def fire(self, firing: Firing, now: Callable[[], float]) -> Any:
        if self._single is not None:
            return self._run(firing.taken[self._single][0])
        return self._run({**firing.reads, **firing.taken})

    def outputs(self, result: Any) -> list[tuple[str, Any]]:
        if result is None:
            return []
        outs = self._outs
        if isinstance(result, Token):
            return [(self._single_output(result), result)]
        if (  # {place: [tokens or data]}: every key a place of the net, every value a list
            isinstance(result, Mapping)
            and result
            and all(key in self._places for key in result)
            and all(isinstance(v, (list, tuple)) for v in result.values())
        ):
            return placements_from_mapping(result, self.context.transition, outs)
        return [(self._single_output(result), result)]

    def _single_output(self, result: Any) -> str:
        if self._only_out is not None:
            return self._only_out
        transition = self.context.transition
        if not self._outs:
            raise ExecutorError(
                f"transition {transition!r}: run returned {type(result).__name__} but the "
                "transition has no output place; return None to consume the tokens"
            )
        raise ExecutorError(
            f"transition {transition!r}: run returned {type(result).__name__} but the transition "
            f"gives to {len(self._outs)} places ({', '.join(sorted(self._outs))}); return "
            "{place: [tokens or data]}"
        )

    async def run(self, ctx: RunContext) -> Any:
        return await self.fire(ctx.firing, lambda: ctx.now)


def _name(function: Callable[..., Any] | None) -> str:
    return getattr(function, "__qualname__", repr(function))


def explain_guard_failures(failures: Sequence[tuple[Mapping[str, Sequence[Token]], Exception]],
                           enabled: bool) -> str:
    """What :meth:`dipen.Runner.explain` adds about bindings whose guard raises: for an
    enabled transition the tokens it skips and why, else the tokens of the error it names."""
    if not failures:
        return ""
    take, error = failures[0]
    more = f" and {len(failures) - 1} more binding{'s' if len(failures) > 2 else ''}" if len(failures) > 1 else ""
    if enabled:
        return (f"; its guard raised {type(error).__name__}: {error} for {_binding(take)}{more}, "
                "which it skips")
    return f" (for {_binding(take)}{more})"


def _binding(take: Mapping[str, Sequence[Token]]) -> str:
    """``token 't2' of 'orders'``, or ``tokens 't1', 't2' of 'a' and 't3' of 'b'``."""
    parts = [f"{', '.join(repr(t.id) for t in tokens)} of {place!r}" for place, tokens in take.items()]
    plural = sum(len(tokens) for tokens in take.values()) != 1
    return f"token{'s' if plural else ''} {' and '.join(parts)}"


# -- choosing and validating executors -------------------------------------------------------------


def executor_class(transition: Transition) -> type[Executor]:
    """The executor class that gives ``transition`` its behaviour."""
    if transition.executor is not None:
        return transition.executor
    return FunctionExecutor if transition.run is not None else PTExecutor


def validate_transition(net: Net, transition: Transition) -> None:
    """Run the executor's class-level ``validate`` for ``transition``; errors name it."""
    cls = executor_class(transition)
    ctx = ValidateContext(net, transition)
    try:
        cls.validate(ctx)
    except NetError:
        raise
    except Exception as exc:
        raise NetError(
            f"net {net.name!r}, transition {transition.name!r}: {cls.__qualname__}.validate "
            f"raised {type(exc).__name__}: {exc}"
        ) from exc


def create_executor(net: Net, transition: Transition) -> Executor:
    """Create the executor instance for ``transition``."""
    ctx = CreateContext(net, transition)
    if transition.executor is not None:
        try:
            return transition.executor(ctx)  # type: ignore[no-any-return]
        except Exception as exc:
            raise NetError(
                f"net {net.name!r}, transition {transition.name!r}: creating "
                f"{transition.executor.__qualname__} raised {type(exc).__name__}: {exc}"
            ) from exc
    if transition.run is not None:
        return FunctionExecutor(ctx, transition.run, transition.guard)
    if transition.guard is not None:
        return _GuardedPT(ctx, transition.guard)
    return PTExecutor(ctx)


class _GuardedPT(PTExecutor):
    """P/T behaviour with a guard: the guard gets what a ``run`` would get (the token, with one
    ``take`` place of weight 1 and nothing read; otherwise ``{place: [tokens]}``)."""

    def __init__(self, ctx: CreateContext, guard: Callable[..., Any]) -> None:
        super().__init__(ctx)
        self._function = FunctionExecutor(ctx, _never_run, guard)

    def check_start(self, ctx: StartContext) -> Enabled | Disabled:
        return self._function.check_start(ctx)

    def guard_failures(self, ctx: StartContext) -> list[tuple[dict[str, tuple[Token, ...]], Exception]]:
        """See :meth:`FunctionExecutor.guard_failures`."""
        return self._function.guard_failures(ctx)


async def _never_run(*args: Any) -> None:  # pragma: no cover - never called
    raise AssertionError("unreachable")

