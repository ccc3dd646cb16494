"""The memory store's change history, kept so that Python's garbage collector has nothing
in it to do.

The memory store keeps every change of a run, so its history grows with every firing. Kept
as :class:`~dipen.state.Change` records (a tuple holding tuples that hold tokens that hold
dicts), each firing left five objects that the cyclic garbage collector tracks for good,
and its full collections walked all of them again and again: over 64,000 firings that was
a fifth of the run's time. Kept as one flat tuple per firing, the collector stopped
tracking each tuple at its first look, but every new tuple still counted towards the next
young collection, and each such collection walked every young object of the runner too:
another tenth of the run's time.

So the commonest change, a firing that moves one token on (what :meth:`State.move
<dipen.state.State.move>` writes), makes no object at all: its strings and numbers, and
the keys and values of the token's data, go one after another into one long list of
*cells*. Any other change is kept as it is, in a cell of its own. A change's cells say how
many they are, so the log is read by walking it; a *mark* every 64 revisions says where
that revision's cells begin, so that a walk is never longer than 63 changes. Reading turns
the cells back into a :class:`~dipen.state.Change` equal to the one written.

Examples
--------
>>> from dipen.state import Change
>>> log = ChangeLog()
>>> move = Change(7, 0.5, "n", "fire", "f1", "t", "r", (), (("a", "t1"),),
...               (("b", dipen.Token("t1", {"n": 2})),), ())
>>> log.append(move)
>>> log.entry(7)
[0.5, 'n', 'f1', 't', 'r', 'a', 't1', 'b', 't1', None, 1, 'n', 2]
>>> log.since(6) == [move]
True
"""

from __future__ import annotations

from typing import Any

from ..errors import CompactedError
from ..state import Change
from ..tokens import FrozenDict, Token, data_at

__all__ = ["ChangeLog"]

_item = tuple.__getitem__
_new = tuple.__new__


_SHIFT = 6  # one mark every 2 ** _SHIFT revisions
_BLOCK = 1 << _SHIFT


def _after(cells: list[Any], at: int) -> int:
    """Where the change after the one whose cells begin at ``at`` begins."""
    if type(cells[at]) is Change:
        return at + 1
    keys = cells[at + 10]
    return at + 12 if keys < 0 else at + 11 + 2 * keys


class ChangeLog:
    """The changes of a store, one per revision in revision order: all of them, or the
    last ``limit``.

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

    __slots__ = ("_cells", "_first", "_limit", "_marks")

    def __init__(self, limit: int | None = None) -> None:
        self._cells: list[Any] = []  # the cells of every kept change, one after another
        self._marks: dict[int, int] = {}  # revision >> _SHIFT: where that revision begins
        self._first = 0  # the revision of the first kept change
        self._limit = limit

    def __len__(self) -> int:
        if not self._cells:
            return 0
        count = self._last() - self._first + 1
        return count if self._limit is None else min(self._limit, count)

    def append(self, change: Change) -> None:
        """Keep ``change`` (the revision after the last one kept), in cells if it moves one
        token (see the module's description)."""
        if (change[3] == "fire" and len(change[8]) == 1 and len(change[9]) == 1
                and not change[7] and not change[10]):
            self.append_move(change)
        else:
            self._keep(change)

    def append_move(self, change: Change) -> None:
        """Keep ``change``, a ``"fire"`` change that removes one token and adds one and takes
        and releases nothing (what :meth:`State.move <dipen.state.State.move>` writes)."""
        (revision, at, node, _, firing, transition, region, _, ((place, token_id),),
         ((target, token),), _, note, _, parts) = change
        if note is not None or parts != 1:
            self._keep(change)
            return
        cells = self._cells
        if not revision & (_BLOCK - 1) or not cells:
            self._mark(revision)
        data = _item(token, 1)  # kept as tokens.flat_data keeps it, written out: the hot path
        if type(data) is FrozenDict:
            cells += [at, node, firing, transition, region, place, token_id, target,
                      _item(token, 0), _item(token, 2), len(data), *data, *data.values()]
        else:
            cells += [at, node, firing, transition, region, place, token_id, target,
                      _item(token, 0), _item(token, 2), -1, data]

    def _keep(self, change: Change) -> None:
        revision = change.revision
        if not revision & (_BLOCK - 1) or not self._cells:
            self._mark(revision)
        self._cells.append(change)

    def _mark(self, revision: int) -> None:
        """Before ``revision`` is kept: the first change kept, or a mark; a bounded log that
        has kept twice its ``limit`` changes forgets all but the last ``limit`` (so that it
        costs a constant time per change)."""
        cells = self._cells
        if not cells:
            self._first = revision
        elif self._limit is not None and revision - self._first >= 2 * self._limit:
            first = revision - self._limit
            offset = self._position(first)
            del cells[:offset]
            self._first = first
            self._marks = {block: at - offset for block, at in self._marks.items()
                           if block << _SHIFT >= first}
        if not revision & (_BLOCK - 1):
            self._marks[revision >> _SHIFT] = len(cells)

    def _position(self, revision: int) -> int:
        """Where the cells of ``revision`` (kept, or the next one to be kept) begin."""
        block = revision >> _SHIFT
        at = self._marks.get(block)
        current = block << _SHIFT
        if at is None or current < self._first:  # in the first block kept, which has no mark
            at, current = 0, self._first
        cells = self._cells
        while current < revision:
            at = _after(cells, at)
            current += 1
        return at

    def _last(self) -> int:
        """The revision of the last change kept (the log is not empty)."""
        cells = self._cells
        last = max(self._marks, default=None)
        if last is None or last << _SHIFT < self._first:
            at, revision = 0, self._first
        else:
            at, revision = self._marks[last], last << _SHIFT
        end = len(cells)
        while (at := _after(cells, at)) < end:
            revision += 1
        return revision

    def entry(self, revision: int) -> Any:
        """The cells kept for ``revision`` (a list), or the :class:`Change` kept as it is."""
        cells = self._cells
        at = self._position(revision)
        return cells[at] if type(cells[at]) is Change else cells[at:_after(cells, at)]

    def since(self, after: int, until: int | None = None) -> list[Change]:
        """The changes after revision ``after`` up to ``until`` (default: the last one).

        Raises
        ------
        CompactedError
            If revision ``after + 1`` is no longer kept.
        """
        if not self._cells:
            return []
        last = self._last()
        first = last - len(self) + 1
        if after + 1 < first:
            raise CompactedError(
                f"revision {after + 1} was compacted (the history starts at revision {first}); "
                "reload a snapshot"
            )
        revision = max(after + 1, first)
        stop = last if until is None else min(until, last)
        cells = self._cells
        at = self._position(revision) if revision <= stop else 0
        changes = []
        while revision <= stop:
            cell = cells[at]
            if type(cell) is Change:
                changes.append(cell)
                at += 1
            else:
                changes.append(_unflatten(cells, at, revision))
                at = _after(cells, at)
            revision += 1
        return changes


def _unflatten(cells: list[Any], at: int, revision: int) -> Change:
    """The change of ``revision`` whose cells begin at ``at``."""
    time, node, firing, transition, region, place, token_id, target, moved, holder = cells[at:at + 10]
    token = _new(Token, (moved, data_at(cells, at + 10)[0], holder))
    return _new(Change, (revision, time, node, "fire", firing, transition, region, (),
                         ((place, token_id),), ((target, token),), (), None, 0, 1))
