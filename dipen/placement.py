"""What a firing takes and what it places: the tokens a ``check_start`` chose (checked when
the executor is not a built-in one), and the tokens ``run`` returned, checked against the
transition's output arcs, the tokens it took, JSON, and the capacities of the places.

:class:`Placement` is a part of an :class:`~dipen.engine.Engine`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .contexts import Enabled
from .errors import ExecutorError
from .events import Firing
from .executors import FunctionExecutor
from .tokens import FrozenDict, FrozenList, Token

if TYPE_CHECKING:
    from .engine import Engine
    from .schedule import TransitionRecord

__all__ = ["Placement", "onward_place"]

_FROZEN = frozenset({FrozenDict, FrozenList, str, int, float, bool, type(None)})
_new_token = tuple.__new__


def onward_place(record: TransitionRecord) -> str | None:
    """The place a firing of ``record`` can move its one token on to without further checks:
    the one output place of the ``run=`` form with one ``take`` place of weight 1 and
    nothing read, when that place has no capacity; else ``None``.

    Examples
    --------
    >>> async def move(token):
    ...     return token
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").place("full", capacity=1)
    >>> net = net.transition("t", take="a", give="b", run=move)
    >>> net = net.transition("u", take="a", give="full", run=move)
    >>> engine = dipen.Runner(net)._open_now()
    >>> onward_place(engine.transition("t")), onward_place(engine.transition("u"))
    ('b', None)
    """
    executor = record.executor
    if type(executor) is not FunctionExecutor or executor._single is None or record.bounded:
        return None
    return executor._only_out


class Placement:
    """Takes and placements of one engine's firings."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def taking(
        self, record: TransitionRecord, enabled: Enabled
    ) -> tuple[tuple[tuple[str, str], ...], Mapping[str, Sequence[Token]]]:
        """The ``(place, token id)`` pairs to take and the tokens themselves, per place."""
        if record.trusted:  # built-in executors hand over free tokens of their own places
            return tuple([(p, t.id) for p, ts in enabled.take.items() for t in ts]), enabled.take
        free_in = self.engine.state.places  # type: ignore[union-attr]
        take: list[tuple[str, str]] = []
        taken: dict[str, Sequence[Token]] = {}
        for place, tokens in enabled.take.items():
            self._check_take(record, place, tokens)
            free = free_in[place].free
            chosen = tuple(free[t if isinstance(t, str) else t.id] for t in tokens)
            take.extend((place, token.id) for token in chosen)
            taken[place] = chosen
        return tuple(take), taken

    def _check_take(self, record: TransitionRecord, place: str, tokens: Any) -> None:
        state = self.engine.state.places.get(place)  # type: ignore[union-attr]
        arc_takes = any(a.place == place and a.kind.takes for a in record.transition.arcs)
        if state is None or not arc_takes:
            raise ExecutorError(
                f"transition {record.name!r}: check_start wants to take from {place!r}, which it "
                "has no IN arc from"
            )
        seen = set()
        for token in tokens:
            token_id = token if isinstance(token, str) else getattr(token, "id", None)
            if token_id not in state.free or token_id in seen:
                raise ExecutorError(
                    f"transition {record.name!r}: check_start wants token {token_id!r} of "
                    f"{place!r}, which is not free there (or listed twice)"
                )
            seen.add(token_id)

    def outputs(
        self, record: TransitionRecord, firing: Firing, result: Any
    ) -> tuple[tuple[str, Token], ...]:
        """The ``(place, token)`` pairs to add for what ``run`` returned (see :meth:`placing`);
        the token a firing took, moved on to its :func:`onward_place`, needs no other check."""
        onward = record.onward
        if onward is not None and type(result) is Token and result.id == firing.pairs[0][1]:
            data = result.data
            if type(data) not in _FROZEN:
                data = self.engine.store.codec.prepare(
                    data, f"transition {record.name!r}, place {onward!r}")
            return ((onward, _new_token(Token, (result.id, data, None))),)
        return self.placing(record, firing, record.executor.outputs(result))

    def placing(
        self, record: TransitionRecord, firing: Firing, pairs: list[tuple[str, Any]]
    ) -> tuple[tuple[str, Token], ...]:
        """The ``(place, token)`` pairs to add for what ``run`` returned, checked: output arcs,
        tokens moved at most once and only if taken, JSON data, capacity."""
        gives = record.gives
        taken_ids: set[str] | None = None
        add: list[tuple[str, Token]] = []
        for place, item in pairs:
            if place not in gives:
                raise ExecutorError(
                    f"transition {record.name!r}: run placed a token on {place!r}, which it has "
                    f"no OUT arc to (outputs: {', '.join(sorted(gives)) or 'none'})"
                )
            if type(item) is Token or isinstance(item, Token):
                if taken_ids is None:
                    taken_ids = {t.id for tokens in firing.taken.values() for t in tokens}
                token_id, data = item.id, item.data
                if token_id not in taken_ids:
                    raise ExecutorError(
                        f"transition {record.name!r}: run placed token {token_id!r} on {place!r}, "
                        + ("but placed it twice; return data for new tokens"
                           if any(t.id == token_id for _, t in add)
                           else "which this firing did not take; return data for new tokens")
                    )
                taken_ids.discard(token_id)
                if type(data) not in _FROZEN:
                    data = self.engine.store.codec.prepare(data, f"transition {record.name!r}, place {place!r}")
                token = _new_token(Token, (token_id, data, None))
            else:
                if type(item) not in _FROZEN:
                    item = self.engine.store.codec.prepare(item, f"transition {record.name!r}, place {place!r}")
                token = _new_token(Token, (self.engine.store.new_token_id(), item, None))
            add.append((place, token))
        if record.bounded:
            self._check_room(record, firing, add)
        return tuple(add)

    def _check_room(
        self, record: TransitionRecord, firing: Firing, add: list[tuple[str, Token]]
    ) -> None:
        counts: dict[str, int] = {}
        for place, _ in add:
            counts[place] = counts.get(place, 0) + 1
        places = self.engine.state.places  # type: ignore[union-attr]
        for place, count in counts.items():
            state = places[place]
            if state.capacity is None:
                continue
            leaving = len(firing.taken.get(place, ()))
            mine = sum(w for p, w in record.reserve if p == place)
            room = state.capacity - len(state) + leaving - (state.reserved - mine)
            if count > room:
                raise ExecutorError(
                    f"transition {record.name!r}: run placed {count} tokens on {place!r}, which "
                    f"has room for {max(room, 0)} (capacity {state.capacity})"
                )
