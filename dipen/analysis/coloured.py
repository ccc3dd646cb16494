"""Reachability for coloured nets: states are multisets of token data, and transitions with
code declared pure are run to find their outputs.

Token data is kept in a state as canonical JSON text (sorted keys), so that equal data is one
key whatever its dict order, and ``1``, ``1.0`` and ``True`` stay apart as JSON keeps them.
"""

from __future__ import annotations

import inspect
import itertools
import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..contexts import Enabled, StartContext
from ..errors import AnalysisError, DipenError
from ..events import Firing
from ..executors import Executor, create_executor
from ..state import PlaceState
from ..tokens import Token, freeze
from .graph import ReachabilityGraph

if TYPE_CHECKING:
    from ..elements import Transition
    from ..net import Net

__all__ = ["explore_coloured"]

Key = tuple[tuple[str, ...], ...]
Binding = tuple[tuple[str, tuple[str, ...]], ...]


def explore_coloured(net: Net, max_states: int, pure: frozenset[str]) -> ReachabilityGraph:
    """Breadth-first exploration of ``net`` with token data (see :func:`reachability`)."""
    codes: dict[str, Any] = {}
    actions = [_Action(net, transition, codes) for transition in net.transitions.values()]
    initial: Key = tuple(
        tuple(sorted(_encode(data, codes) for data in place.initial)) for place in net.places.values()
    )
    started = time.perf_counter()
    index = {initial: 0}
    keys = [initial]
    parent = [-1]
    source: list[int] = []
    fired: list[int] = []
    target: list[int] = []
    bindings: list[Binding] = []
    incomplete = False
    i = 0
    while i < len(keys) and not incomplete:
        key = keys[i]
        for number, action in enumerate(actions):
            for binding, successor in action.successors(key):
                j = index.get(successor)
                if j is None:
                    if len(keys) >= max_states:
                        incomplete = True
                        break
                    j = index[successor] = len(keys)
                    keys.append(successor)
                    parent.append(len(source))
                source.append(i)
                fired.append(number)
                target.append(j)
                bindings.append(binding)
            if incomplete:
                break
        else:
            i += 1
    return ReachabilityGraph(
        net, keys, parent, (source, fired, target), explored=i, incomplete=incomplete,
        max_states=max_states, seconds=time.perf_counter() - started, coloured=True,
        data=codes, bindings=bindings,
    )


def _encode(data: Any, codes: dict[str, Any]) -> str:
    code = json.dumps(data, sort_keys=True, separators=(",", ":"))
    if code not in codes:
        codes[code] = data
    return code


class _Action:
    """One transition's firings from a state: which bindings are enabled, what they lead to."""

    def __init__(self, net: Net, transition: Transition, codes: dict[str, Any]) -> None:
        at = {place: number for number, place in enumerate(net.places)}
        self.net = net
        self.transition = transition
        self.codes = codes
        self.places = tuple(net.places)
        self.capacities = tuple(place.capacity for place in net.places.values())
        arcs = transition.arcs
        self.takes = tuple((at[a.place], a.weight) for a in arcs if a.kind.takes)
        self.reads = tuple((at[a.place], a.weight) for a in arcs if a.kind.reads)
        self.gives = tuple((at[a.place], a.weight) for a in arcs if a.kind.gives)
        self.taken_count = sum(weight for _, weight in self.takes)
        self.moves = self.taken_count == sum(weight for _, weight in self.gives)
        # the order of the taken tokens matters only when they move to several places
        self.ordered = self.moves and len(self.gives) > 1
        self.single = (self.places[self.takes[0][0]] if len(self.takes) == 1
                       and self.takes[0][1] == 1 and not self.reads else None)
        self.executor: Executor | None = None
        if transition.run is not None or transition.executor is not None:
            self.executor = create_executor(net, transition)
        self.where = f"net {net.name!r}, transition {transition.name!r}"

    # -- enabling -------------------------------------------------------------------------------

    def successors(self, key: Key) -> Iterator[tuple[Binding, Key]]:
        for place, weight in self.reads:
            if len(key[place]) < weight:
                return
        for place, weight in self.takes:
            if len(key[place]) < weight:
                return
        taken_from = dict(self.takes)
        for place, weight in self.gives:  # the runner's check: room for the arc's weight
            capacity = self.capacities[place]
            if capacity is not None and len(key[place]) - taken_from.get(place, 0) + weight > capacity:
                return
        if self.transition.executor is not None:
            yield from self._executor_firing(key)
            return
        choose = itertools.permutations if self.ordered else itertools.combinations
        options = [sorted(set(choose(key[place], weight))) for place, weight in self.takes]
        for choice in itertools.product(*options):
            binding = tuple((self.places[place], codes) for (place, _), codes in zip(self.takes, choice))
            tokens = self._tokens(binding)
            if self.transition.guard is not None and not self._guard(self._argument(key, tokens)):
                continue
            if self.transition.run is None:
                added = self._pt_outputs(choice)
            else:
                added = self._run_outputs(key, tokens, binding)
            yield binding, self._after(key, binding, added)

    def _tokens(self, binding: Binding) -> dict[str, tuple[Token, ...]]:
        codes = self.codes
        return {place: tuple(Token(f"{place}/{k}", codes[code]) for k, code in enumerate(taken))
                for place, taken in binding}

    def _argument(self, key: Key, taken: dict[str, tuple[Token, ...]]) -> Any:
        """What ``guard`` and ``run`` get: the token, or ``{place: [tokens]}`` with reads."""
        if self.single is not None:
            return taken[self.single][0]
        codes = self.codes
        read = {self.places[place]: tuple(Token(f"{self.places[place]}/{k}", codes[code])
                                          for k, code in enumerate(key[place]))
                for place, _ in self.reads}
        return {**read, **taken}

    def _guard(self, argument: Any) -> bool:
        try:
            return bool(self.transition.guard(argument))  # type: ignore[misc]
        except Exception:  # the runner counts a guard that raises as "not enabled"
            return False

    # -- outputs --------------------------------------------------------------------------------

    def _pt_outputs(self, choice: tuple[tuple[str, ...], ...]) -> list[tuple[int, str]]:
        if self.moves:
            moving = iter([code for codes in choice for code in codes])
            return [(place, next(moving)) for place, weight in self.gives for _ in range(weight)]
        plain = _encode(None, self.codes)
        return [(place, plain) for place, weight in self.gives for _ in range(weight)]

    def _run_outputs(self, key: Key, tokens: dict[str, tuple[Token, ...]],
                     binding: Binding) -> list[tuple[int, str]]:
        call = self.transition.run
        assert call is not None and self.executor is not None
        result = self._finish(lambda: call(self._argument(key, tokens)), binding)
        return self._placed(result, tokens, binding)

    def _executor_firing(self, key: Key) -> Iterator[tuple[Binding, Key]]:
        executor = self.executor
        assert executor is not None
        states = {}
        for number, place in enumerate(self.places):
            state = PlaceState(place, self.capacities[number])
            for k, code in enumerate(key[number]):
                token = Token(f"{place}/{k}", self.codes[code])
                state.free[token.id] = token
            states[place] = state
        context = StartContext(self.transition, states, lambda: 0.0)
        try:
            outcome = executor.check_start(context)
        except Exception:  # the runner counts a check_start that raises as "not enabled"
            return
        if not isinstance(outcome, Enabled):
            return
        taken = {}
        for place, chosen in outcome.take.items():
            free = states[place].free
            taken[place] = tuple(free[t if isinstance(t, str) else t.id] for t in chosen)
        binding = tuple((place, tuple(sorted(_encode(t.data, self.codes) for t in ts)))
                        for place, ts in taken.items())
        firing = Firing("analysis", self.transition.name, self.transition.region, taken, 0.0)
        firing.reads = {self.places[p]: tuple(states[self.places[p]].free.values())
                        for p, _ in self.reads}
        result = self._finish(lambda: executor.fire(firing, lambda: 0.0), binding)
        yield binding, self._after(key, binding, self._placed(result, taken, binding))

    def _finish(self, call: Callable[[], Any], binding: Binding) -> Any:
        """Call pure code and drive its coroutine to the end without an event loop."""
        try:
            result = call()
            if inspect.iscoroutine(result):
                try:
                    result.send(None)
                except StopIteration as stop:
                    return stop.value
                result.close()
                raise AnalysisError(
                    f"{self.where}: declared pure, but its run awaited something that suspends "
                    f"(a sleep, I/O) when taking {self._show(binding)}; pure transitions "
                    "finish without waiting"
                )
            return result
        except DipenError:
            raise
        except Exception as exc:
            raise AnalysisError(
                f"{self.where}: declared pure, but it raised {type(exc).__name__}: {exc} "
                f"when taking {self._show(binding)}"
            ) from exc

    def _placed(self, result: Any, taken: dict[str, tuple[Token, ...]],
                binding: Binding) -> list[tuple[int, str]]:
        assert self.executor is not None
        at = {place: number for number, place in enumerate(self.places)}
        try:
            pairs = self.executor.outputs(result)
        except DipenError as exc:
            raise AnalysisError(f"{self.where}: {exc}") from exc
        movable = {token.id for tokens in taken.values() for token in tokens}
        added = []
        for place, item in pairs:
            if isinstance(item, Token):
                if item.id not in movable:
                    raise AnalysisError(
                        f"{self.where}: run placed token {item.id!r} on {place!r}, which this "
                        f"firing did not take (or placed twice) when taking {self._show(binding)}"
                    )
                movable.discard(item.id)
                item = item.data
            data = freeze(item, f"{self.where}, place {place!r}")
            added.append((at[place], _encode(data, self.codes)))
        return added

    def _after(self, key: Key, binding: Binding, added: list[tuple[int, str]]) -> Key:
        places = [list(tokens) for tokens in key]
        at = {place: number for number, place in enumerate(self.places)}
        for place, codes in binding:
            tokens = places[at[place]]
            for code in codes:
                tokens.remove(code)
        for number, code in added:
            places[number].append(code)
        for number, tokens in enumerate(places):
            capacity = self.capacities[number]
            if capacity is not None and len(tokens) > capacity:
                raise AnalysisError(
                    f"{self.where}: run placed more tokens on {self.places[number]!r} than its "
                    f"capacity of {capacity} when taking {self._show(binding)} (the runner "
                    "fails such a firing)"
                )
        return tuple(tuple(sorted(tokens)) for tokens in places)

    def _show(self, binding: Binding) -> str:
        shown = {place: [self.codes[code] for code in codes] for place, codes in binding}
        return repr(shown) if shown else "no tokens"
