"""Finished firings kept as flat tuples, so that a long event history costs Python's garbage
collector nothing.

A runner's :class:`~dipen.history.History` keeps up to 100,000 events by default. Each
finished firing leaves about ten objects the cyclic garbage collector tracks (its two events,
the :class:`~dipen.events.Firing` record, its dicts and tuples of tokens, the tokens and their
data), and full collections walk all of them again and again: with the default history, a run
of 64,000 firings spent more time in the collector than in the engine. So the history keeps
its older events flat: a finished firing's record becomes one tuple of strings and numbers
(:func:`flatten`), which the collector stops tracking once it has looked at it, and its start
and finish events become ``(kind, time, revision, record)`` tuples sharing it. Reading turns
them back (:func:`unflatten`) into events and a record equal to the originals.

Examples
--------
>>> net = dipen.Net("n").place("a", tokens=[{"n": 1}]).place("b").transition("t", take="a", give="b")
>>> runner = dipen.Runner(net)
>>> firing = runner.step_sync("t")
>>> record = flatten(firing)
>>> record
('f1', 't', 'default', ..., 'finished', True, None, 1, 'a', 't1', 1, 'a', 1, 't1', 'f1', 1, 'n', 1, 0, 1, 'b', 1, 't1', None, 1, 'n', 1)
>>> again = unflatten(record)
>>> (again.id, again.state, again.taken, again.placed) == (firing.id, firing.state, firing.taken, firing.placed)
True
"""

from __future__ import annotations

from typing import Any

from .events import Firing
from .tokens import Token, data_at, flat_data

__all__ = ["flatten", "unflatten"]

_new = tuple.__new__


def flatten(firing: Firing) -> tuple[Any, ...]:
    """One flat tuple that holds everything of a finished ``firing`` (no error)."""
    out: list[Any] = [firing.id, firing.transition, firing.region, firing.started,
                      firing.finished, firing.state, firing.committed, firing.input,
                      len(firing.pairs)]
    for place, token_id in firing.pairs:
        out.append(place)
        out.append(token_id)
    for tokens in (firing.taken, firing.reads, firing.placed):
        out.append(len(tokens))
        for place, group in tokens.items():
            out.append(place)
            out.append(len(group))
            for token in group:
                out.append(token.id)
                out.append(token.firing)
                out += flat_data(token.data)
    return tuple(out)


def unflatten(record: tuple[Any, ...]) -> Firing:
    """The firing record :func:`flatten` made ``record`` from."""
    (firing_id, transition, region, started, finished, state, committed, given,
     pairs) = record[:9]
    at = 9 + 2 * pairs
    firing = Firing(firing_id, transition, region, {}, started,
                    tuple(zip(record[9:at:2], record[10:at:2])))
    maps = []
    for _ in range(3):
        places = record[at]
        at += 1
        tokens: dict[str, tuple[Token, ...]] = {}
        for _ in range(places):
            place, count = record[at], record[at + 1]
            at += 2
            group = []
            for _ in range(count):
                token_id, holder = record[at], record[at + 1]
                data, at = data_at(record, at + 2)
                group.append(_new(Token, (token_id, data, holder)))
            tokens[place] = tuple(group)
        maps.append(tokens)
    firing.taken, firing.reads, firing.placed = maps
    firing.finished = finished
    firing.state = state
    firing.committed = committed
    firing.input = given
    return firing
