"""Finished firings kept as strings and numbers, so that a long event history costs
Python's garbage collector nothing.

A runner's :class:`~dipen.history.History` keeps up to 100,000 events by default. Each
finished firing leaves about ten objects the cyclic garbage collector tracks (its two events,
the :class:`~dipen.events.Firing` record, its dicts and tuples of tokens, the tokens and their
data), and full collections walk all of them again and again: with the default history, a run
of 64,000 firings spent more time in the collector than in the engine. So the history keeps
its older events flat: a finished firing's record becomes a run of strings and numbers
(:func:`flatten`) that the history writes, 64 events at a time, into a tuple of cells, which
the collector stops tracking once it has looked at it: no object per firing. Reading turns it
back (:func:`unflatten`) into a record equal to the original.

Examples
--------
>>> net = dipen.Net("n").place("a", tokens=[{"n": 1}]).place("b").transition("t", take="a", give="b")
>>> runner = dipen.Runner(net)
>>> firing = runner.step_sync("t")
>>> record = flatten(firing)
>>> record
['f1', 't', 'default', ..., 'finished', True, None, 1, 'a', 't1', 1, 'a', 1, 't1', 'f1', 1, 'n', 1, 0, 1, 'b', 1, 't1', None, 1, 'n', 1]
>>> again = unflatten(["before", *record], 1)
>>> (again.id, again.state, again.taken, again.placed) == (firing.id, firing.state, firing.taken, firing.placed)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .events import Firing
from .tokens import Token, data_at, flat_data

__all__ = ["flatten", "unflatten"]

_new = tuple.__new__


def flatten(firing: Firing) -> list[Any]:
    """The strings and numbers that hold everything of a finished ``firing`` (no error)."""
    out: list[Any] = [firing.id, firing.transition, firing.region, firing.started,
                      firing.finished, firing.state, firing.committed, firing.input,
                      len(firing.pairs)]
    for pair in firing.pairs:
        out += pair
    for tokens in (firing.taken, firing.reads, firing.placed):
        out.append(len(tokens))
        for place, group in tokens.items():
            out += (place, len(group))
            for token in group:
                out += (token.id, token.firing)
                out += flat_data(token.data)
    return out


def unflatten(cells: Sequence[Any], at: int = 0) -> Firing:
    """The firing record :func:`flatten` wrote into ``cells`` from position ``at`` on."""
    (firing_id, transition, region, started, finished, state, committed, given,
     pairs) = cells[at:at + 9]
    start = at + 9
    at = start + 2 * pairs
    firing = Firing(firing_id, transition, region, {}, started,
                    tuple(zip(cells[start:at:2], cells[start + 1:at:2])))
    maps = []
    for _ in range(3):
        places = cells[at]
        at += 1
        tokens: dict[str, tuple[Token, ...]] = {}
        for _ in range(places):
            place, count = cells[at], cells[at + 1]
            at += 2
            group = []
            for _ in range(count):
                token_id, holder = cells[at], cells[at + 1]
                data, at = data_at(cells, at + 2)
                group.append(_new(Token, (token_id, data, holder)))
            tokens[place] = tuple(group)
        maps.append(tokens)
    firing.taken, firing.reads, firing.placed = maps
    firing.finished = finished
    firing.state = state
    firing.committed = committed
    firing.input = given
    return firing
