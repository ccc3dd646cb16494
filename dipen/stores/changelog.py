"""The memory store's change history, kept so that Python's garbage collector can ignore it.

The memory store keeps every change of a run, so its history grows with every firing. Kept
as :class:`~dipen.state.Change` records (a tuple holding tuples that hold tokens that hold
dicts), each firing leaves five objects that the cyclic garbage collector tracks for good,
and its full collections walk all of them again and again: over 64,000 firings that was a
fifth of the run's time, and it grows with the length of the run.

So the commonest change, a firing that moves one token on (what :meth:`State.move
<dipen.state.State.move>` writes), is kept as one *flat* tuple: strings and numbers, and the
keys and values of the token's data. The collector stops tracking such a tuple the first
time it looks at it (a tuple holding other tuples needs one look per level of nesting, and
by then it has been promoted to the generation that full collections walk). Reading turns
every entry back into a :class:`~dipen.state.Change` equal to the one written. Other changes
are kept as they are.

Examples
--------
>>> from dipen.state import Change
>>> log = ChangeLog()
>>> move = Change(7, 0.5, "n", "fire", "f1", "t", "r", (), (("a", "t1"),),
...               (("b", dipen.Token("t1", {"n": 2})),), ())
>>> log.append(move)
>>> log.entry(7)
(7, 0.5, 'n', 'f1', 't', 'r', 'a', 't1', 'b', 't1', None, 1, 'n', 2)
>>> log.since(6) == [move]
True
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import Any

from ..errors import CompactedError
from ..state import Change
from ..tokens import FrozenDict, Token, data_at

__all__ = ["ChangeLog"]

_item = tuple.__getitem__
_new = tuple.__new__


class ChangeLog:
    """The changes of a store in revision order: all of them, or the last ``limit``.

    Examples
    --------
    >>> from dipen.state import Change
    >>> log = ChangeLog(limit=2)
    >>> for revision in (1, 2, 3):
    ...     log.append(Change(revision, 0.0, "n", "put", None, None, None, (), (), (), ()))
    >>> [change.revision for change in log.since(1)]
    [2, 3]
    >>> log.since(0)
    Traceback (most recent call last):
    ...
    dipen.errors.CompactedError: revision 1 was compacted (the history starts at revision 2); reload a snapshot
    """

    __slots__ = ("_entries",)

    def __init__(self, limit: int | None = None) -> None:
        # a list indexes in constant time; a deque drops the oldest entry as it appends
        self._entries: list[Any] | deque[Any] = [] if limit is None else deque(maxlen=limit)

    def __len__(self) -> int:
        return len(self._entries)

    def append(self, change: Change) -> None:
        """Keep ``change``, flat if it moves one token (see the module's description)."""
        if (change[3] == "fire" and len(change[8]) == 1 and len(change[9]) == 1
                and not change[7] and not change[10]):
            self.append_move(change)
        else:
            self._entries.append(change)

    def append_move(self, change: Change) -> None:
        """Keep ``change``, a ``"fire"`` change that removes one token and adds one and takes
        and releases nothing (what :meth:`State.move <dipen.state.State.move>` writes)."""
        (revision, at, node, _, firing, transition, region, _, ((place, token_id),),
         ((target, token),), _, note, _, parts) = change
        if note is not None or parts != 1:
            self._entries.append(change)
            return
        data = _item(token, 1)  # kept as tokens.flat_data keeps it, written out: the hot path
        if type(data) is FrozenDict:
            self._entries.append((revision, at, node, firing, transition, region, place,
                                  token_id, target, _item(token, 0), _item(token, 2),
                                  len(data), *data, *data.values()))
        else:
            self._entries.append((revision, at, node, firing, transition, region, place,
                                  token_id, target, _item(token, 0), _item(token, 2), -1, data))

    def entry(self, revision: int) -> Any:
        """The entry kept for ``revision``, as it is kept (for tests and for the curious)."""
        entries = self._entries
        return entries[revision - entries[0][0]]

    def since(self, after: int, until: int | None = None) -> list[Change]:
        """The changes after revision ``after`` up to ``until`` (default: the last one).

        Raises
        ------
        CompactedError
            If revision ``after + 1`` is no longer kept.
        """
        entries = self._entries
        if not entries:
            return []
        first, last = entries[0][0], entries[-1][0]
        if after + 1 < first:
            raise CompactedError(
                f"revision {after + 1} was compacted (the history starts at revision {first}); "
                "reload a snapshot"
            )
        start = max(after + 1, first) - first
        stop = (last if until is None else min(until, last)) - first + 1
        if stop <= start:
            return []
        chosen = entries[start:stop] if type(entries) is list else islice(entries, start, stop)
        return [entry if type(entry) is Change else _unflatten(entry) for entry in chosen]


def _unflatten(entry: tuple[Any, ...]) -> Change:
    """The change a flat entry was made from."""
    revision, at, node, firing, transition, region, place, token_id, target, moved, holder = entry[:11]
    token = _new(Token, (moved, data_at(entry, 11)[0], holder))
    return _new(Change, (revision, at, node, "fire", firing, transition, region, (),
                         ((place, token_id),), ((target, token),), (), None, 0, 1))
