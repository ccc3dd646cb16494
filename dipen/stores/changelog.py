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
the keys and values of the token's data, go one after another into a list of *cells*. Any
other change is kept as it is, in a cell of its own. The cells of every 64 revisions are
then sealed into one tuple, which the collector stops tracking the first time it looks at it
(full collections then skip its cells). A change's cells say how many they are, so a block
is read by walking it. Reading turns the cells back into a :class:`~dipen.state.Change`
equal to the one written.

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


_SHIFT = 6  # a block holds the changes of 2 ** _SHIFT revisions
_BLOCK = 1 << _SHIFT
_MASK = _BLOCK - 1

Cells = list[Any] | tuple[Any, ...]


def _after(cells: Cells, at: int) -> int:
    """Where the change after the one whose cells begin at ``at`` begins."""
    if type(cells[at]) is Change:
        return at + 1
    keys = cells[at + 10]
    return at + 12 if keys < 0 else at + 11 + 2 * keys


class ChangeLog:
    """The changes of a store, one per revision in revision order: all of them, or the
    last ``limit`` (and up to two blocks more, until they are dropped).

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

    __slots__ = ("_blocks", "_cells", "_first", "_limit")

    def __init__(self, limit: int | None = None) -> None:
        #: the sealed blocks: the first kept holds the revisions from ``_first`` to the end
        #: of its block of 64, each other one the 64 revisions of its block
        self._blocks: list[tuple[Any, ...]] = []
        self._cells: list[Any] = []  # the block being written
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
        if not revision & _MASK or not cells:
            self._begin(revision)
            cells = self._cells
        data = _item(token, 1)  # kept as tokens.flat_data keeps it, written out: the hot path
        if type(data) is FrozenDict:
            cells += [at, node, firing, transition, region, place, token_id, target,
                      _item(token, 0), _item(token, 2), len(data), *data, *data.values()]
        else:
            cells += [at, node, firing, transition, region, place, token_id, target,
                      _item(token, 0), _item(token, 2), -1, data]

    def _keep(self, change: Change) -> None:
        revision = change.revision
        if not revision & _MASK or not self._cells:
            self._begin(revision)
        self._cells.append(change)

    def _begin(self, revision: int) -> None:
        """Before ``revision`` is kept: the first change kept, or the first of a block. The
        block before is sealed, and a bounded log drops its oldest blocks while it keeps
        its ``limit`` changes without them."""
        if not self._cells:  # the first change kept
            self._first = revision
            return
        blocks = self._blocks
        blocks.append(tuple(self._cells))
        self._cells = []
        limit = self._limit
        while limit is not None and blocks and revision + 1 - self._next(self._first) >= limit:
            del blocks[0]
            self._first = self._next(self._first)

    @staticmethod
    def _next(revision: int) -> int:
        """The first revision of the block after the one of ``revision``."""
        return (revision | _MASK) + 1

    def _block(self, revision: int) -> tuple[Cells, int]:
        """The block that keeps ``revision`` (kept, or the next one to be kept), and the
        revision its first cells are."""
        index = (revision >> _SHIFT) - (self._first >> _SHIFT)
        first = self._first if index == 0 else revision & ~_MASK
        blocks = self._blocks
        return (blocks[index] if index < len(blocks) else self._cells), first

    def _last(self) -> int:
        """The revision of the last change kept (the log is not empty)."""
        cells = self._cells
        blocks = len(self._blocks)  # the block being written comes after them
        revision = ((self._first >> _SHIFT) + blocks) << _SHIFT if blocks else self._first
        at = _after(cells, 0)
        while at < len(cells):
            at = _after(cells, at)
            revision += 1
        return revision

    def entry(self, revision: int) -> Any:
        """The cells kept for ``revision`` (a list), or the :class:`Change` kept as it is."""
        cells, at = self._locate(revision)
        return cells[at] if type(cells[at]) is Change else list(cells[at:_after(cells, at)])

    def _locate(self, revision: int) -> tuple[Cells, int]:
        """The block of ``revision`` and where in it its cells begin."""
        cells, current = self._block(revision)
        at = 0
        while current < revision:
            at = _after(cells, at)
            current += 1
        return cells, at

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
        changes: list[Change] = []
        if revision > stop:
            return changes
        cells, at = self._locate(revision)
        while revision <= stop:
            if at == len(cells):  # on to the next block
                cells, _ = self._block(revision)
                at = 0
            cell = cells[at]
            if type(cell) is Change:
                changes.append(cell)
                at += 1
            else:
                changes.append(_unflatten(cells, at, revision))
                at = _after(cells, at)
            revision += 1
        return changes


def _unflatten(cells: Cells, at: int, revision: int) -> Change:
    """The change of ``revision`` whose cells begin at ``at``."""
    time, node, firing, transition, region, place, token_id, target, moved, holder = cells[at:at + 10]
    token = _new(Token, (moved, data_at(cells, at + 10)[0], holder))
    return _new(Change, (revision, time, node, "fire", firing, transition, region, (),
                         ((place, token_id),), ((target, token),), (), None, 0, 1))
