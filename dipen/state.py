"""The state of a net as a store holds it, and the changes that move it from revision to revision.

:class:`State` is used twice with one code path: a store keeps the authoritative copy, and
every runner keeps a replica that it updates by applying the same :class:`Change` records
the store hands out (synchronously for the memory store, from a watch for etcd).

A change is one atomic step: a firing *starts* (tokens become taken), *finishes* (taken
tokens are removed, moved and new tokens are added), *returns* its tokens (cancel, error,
crash recovery), tokens are *put*/edited by hand, or someone *controls* the net: blocks or
unblocks a transition or region, cancels firings, requests a manual firing or answers one
(``kind == "control"``; its ``note`` is the action, see :func:`control_key`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from .errors import ConflictError, StoreError
from .tokens import Marking, Token

__all__ = ["CONTROL_ACTIONS", "Change", "Commit", "FiringRecord", "PlaceState", "State",
           "control_key"]

#: what a control change can do; the ``note`` of a control commit is a dict with ``action``
CONTROL_ACTIONS = frozenset({"block", "unblock", "cancel", "request", "withdraw", "answer"})

_new_token = tuple.__new__


class FiringRecord(NamedTuple):
    """A running firing as the store records it."""

    id: str
    transition: str
    region: str
    node: str
    taken: tuple[tuple[str, str], ...]  # (place, token id) pairs
    time: float


class Commit(NamedTuple):
    """What a runner asks a store to write atomically.

    ``expect`` maps places to the revision the writer saw them at (the optimistic compare);
    ``fence`` is the writer's leadership (``None`` for writers outside any region, such as
    the initial marking or manual edits).
    """

    # "start" | "finish" | "fire" (start and finish at once) | "return" | "put" (tokens by hand,
    # any ids) | "edit" (an audited edit: new ids minted by the store) | "init" | "control"
    # | "migrate" (a new net definition: ``note["definition"]``; tokens of new places in ``add``)
    kind: str
    firing: str | None
    transition: str | None
    region: str | None
    take: tuple[tuple[str, str], ...] = ()
    remove: tuple[tuple[str, str], ...] = ()
    add: tuple[tuple[str, Token], ...] = ()
    release: tuple[tuple[str, str], ...] = ()
    expect: tuple[tuple[str, int], ...] = ()
    fence: Any = None
    time: float = 0.0
    node: str = ""
    note: Any = None


class Change(NamedTuple):
    """One committed, atomic step of the net's state, numbered by its revision.

    Several changes on disjoint places may be written in one store transaction and so share
    a revision (the etcd store batches concurrent commits): ``part`` is a change's position
    among the ``parts`` changes of its revision. A change alone in its revision has
    ``part=0, parts=1``.
    """

    revision: int
    time: float
    node: str
    kind: str
    firing: str | None
    transition: str | None
    region: str | None
    take: tuple[tuple[str, str], ...]
    remove: tuple[tuple[str, str], ...]
    add: tuple[tuple[str, Token], ...]
    release: tuple[tuple[str, str], ...]
    note: Any = None
    part: int = 0
    parts: int = 1

    @property
    def places(self) -> set[str]:
        """The places this change touched."""
        return {place for pairs in (self.take, self.remove, self.add, self.release)
                for place, _ in pairs}


def control_key(note: Any) -> str | None:
    """The standing control a control change sets or clears (``None`` for a cancel, which
    leaves nothing standing).

    ``block/transition/{name}`` and ``block/region/{name}`` while blocked by hand,
    ``request/{id}`` while a manual firing request waits for its answer.

    Examples
    --------
    >>> control_key({"action": "block", "target": "region", "name": "r1"})
    'block/region/r1'
    >>> control_key({"action": "answer", "id": "q1"})
    'request/q1'
    >>> control_key({"action": "cancel", "target": "transition", "name": "t"}) is None
    True
    """
    action = note["action"]
    if action in ("block", "unblock"):
        return f"block/{note['target']}/{note['name']}"
    if action in ("request", "withdraw", "answer"):
        return f"request/{note['id']}"
    return None


def _where(commit: Commit) -> str:
    if commit.firing is None:
        return f"{commit.kind} ({commit.note or 'manual'})"
    return f"{commit.kind} of firing {commit.firing!r} of transition {commit.transition!r}"


class PlaceState:
    """One place in a :class:`State`: free and taken tokens (each oldest first), the revision of
    its last change, its capacity and the room reserved by running firings."""

    __slots__ = ("added", "capacity", "free", "name", "reserved", "rev", "taken")

    def __init__(self, name: str, capacity: int | None) -> None:
        self.name = name
        self.capacity = capacity
        self.free: dict[str, Token] = {}
        self.taken: dict[str, Token] = {}
        self.added: dict[str, int] = {}  # token id -> placement sequence number (its age)
        self.rev = 0
        self.reserved = 0

    def __len__(self) -> int:
        return len(self.free) + len(self.taken)

    def tokens(self) -> tuple[Token, ...]:
        """All tokens, oldest first."""
        if not self.taken:
            return tuple(self.free.values())
        added = self.added
        return tuple(sorted([*self.free.values(), *self.taken.values()], key=lambda t: added[t.id]))

    def room(self) -> int | None:
        """How many more tokens fit, after what running firings reserved; ``None`` = unbounded."""
        if self.capacity is None:
            return None
        return self.capacity - len(self.free) - len(self.taken) - self.reserved

    def __repr__(self) -> str:
        return f"PlaceState({self.name!r}, free={len(self.free)}, taken={len(self.taken)})"


class State:
    """Places, tokens and running firings at one revision."""

    __slots__ = ("controls", "firings", "part", "parts", "places", "revision", "sequence")

    def __init__(self, places: Iterable[tuple[str, int | None]]) -> None:
        self.places = {name: PlaceState(name, capacity) for name, capacity in places}
        self.firings: dict[str, FiringRecord] = {}
        #: standing controls by :func:`control_key`: blocks by hand, waiting manual requests
        self.controls: dict[str, dict[str, Any]] = {}
        self.revision = 0
        #: the last change applied is part ``part`` of the ``parts`` changes of ``revision``
        self.part = 0
        self.parts = 1
        self.sequence = 0  # counts placed tokens: orders tokens oldest first

    # -- checking a commit against this state --------------------------------------------------

    def check(self, commit: Commit) -> None:
        """Raise :class:`StoreError` if ``commit`` cannot apply to this state; change nothing."""
        kind, firing, _, _, take, remove, add, release, expect, _, _, _, _ = commit
        places = self.places
        for place, rev in expect:
            state = places.get(place)
            if state is None or state.rev != rev:
                raise ConflictError(
                    f"place {place!r} changed (revision {getattr(state, 'rev', None)}, "
                    f"expected {rev}) while transition {commit.transition!r} was being checked"
                )
        if kind == "migrate":
            self._check_migration(commit)
            return
        if kind == "control":
            self.check_control(commit)
            key = control_key(commit.note)
            action = commit.note["action"]
            if action == "request" and key in self.controls:
                raise StoreError(f"control: request {commit.note['id']!r} exists already")
            if action in ("answer", "withdraw") and key not in self.controls:
                raise ConflictError(f"control: no waiting request {commit.note['id']!r} "
                                    "(answered or withdrawn already)")
            return
        try:
            if kind == "start":
                if firing in self.firings:
                    raise StoreError(f"{_where(commit)}: firing id already in use")
                for place, token_id in take:
                    if token_id not in places[place].free:
                        raise ConflictError(
                            f"{_where(commit)}: token {token_id!r} is not free in {place!r}")
            elif kind == "finish" or kind == "return":
                record = self.firings.get(firing)  # type: ignore[arg-type]
                if record is None:
                    raise StoreError(f"{_where(commit)}: no such running firing")
                listed = remove + release
                if len(listed) != len(record.taken) or set(listed) != set(record.taken):
                    raise StoreError(
                        f"{_where(commit)}: must remove or release exactly the tokens it holds "
                        f"({', '.join(t for _, t in record.taken)})"
                    )
            else:
                for place, token_id in remove:
                    if token_id not in places[place].free:
                        raise ConflictError(
                            f"{_where(commit)}: token {token_id!r} is not free in {place!r}")
            if add:
                self._check_adds(commit)
        except KeyError as missing:
            raise StoreError(f"{_where(commit)}: unknown place {missing.args[0]!r}") from None

    def _check_migration(self, commit: Commit) -> None:
        definition = (commit.note or {}).get("definition")
        if not isinstance(definition, dict) or not isinstance(definition.get("places"), list):
            raise StoreError("migrate: needs note={'definition': Net.to_dict()}")
        if commit.take or commit.remove or commit.release:
            raise StoreError("migrate: a migration only adds the tokens of new places")
        kept = {p["name"]: p.get("capacity") for p in definition["places"]}
        for name, place in self.places.items():
            if name not in kept and (place.free or place.taken):
                raise StoreError(f"migrate: place {name!r} is not in the new net but holds "
                                 f"{len(place.free) + len(place.taken)} token(s); move them first")
            capacity = kept.get(name)
            if name in kept and capacity is not None and len(place) > capacity:
                raise StoreError(f"migrate: place {name!r} holds {len(place)} tokens, more than its "
                                 f"new capacity {capacity}")
        for name, _ in commit.add:
            if name in self.places or name not in kept:
                raise StoreError(f"migrate: initial tokens only for places new in the net, not "
                                 f"{name!r}")

    @staticmethod
    def check_control(commit: Commit) -> None:
        """Raise :class:`StoreError` unless ``commit`` is a well-formed control change."""
        note = commit.note
        if not isinstance(note, dict) or note.get("action") not in CONTROL_ACTIONS:
            raise StoreError(f"control: unknown action in {note!r} (one of "
                             f"{', '.join(sorted(CONTROL_ACTIONS))})")
        if commit.take or commit.remove or commit.add or commit.release:
            raise StoreError("control: a control change moves no tokens")
        action = note["action"]
        needed = (("target", "name") if action in ("block", "unblock", "cancel")
                  else ("id", "transition"))
        missing = [field for field in needed if not isinstance(note.get(field), str)]
        if missing or (action in ("block", "unblock", "cancel")
                       and note["target"] not in ("transition", "region")):
            raise StoreError(f"control: {action} needs {', '.join(needed)} (target 'transition' "
                             f"or 'region'), not {note!r}")

    def _check_adds(self, commit: Commit) -> None:
        places = self.places
        _, _, _, _, _, remove, add, _, _, _, _, _, _ = commit
        # tokens it removes may come back (moved, changed); one add needs no twin check
        removed = (remove[0][1],) if len(remove) == 1 else {token_id for _, token_id in remove}
        fresh: set[str] | None = set() if len(add) > 1 else None
        everywhere = commit.kind == "put" or commit.kind == "init"  # ids from outside
        for place, token in add:
            token_id = token.id
            state = places[place]
            if fresh is not None:
                if token_id in fresh:
                    raise StoreError(f"{_where(commit)}: token {token_id!r} is added twice")
                fresh.add(token_id)
            if token_id in removed:
                continue
            if everywhere:  # look in every place
                for other in places.values():
                    if token_id in other.free or token_id in other.taken:
                        raise StoreError(
                            f"{_where(commit)}: token {token_id!r} is already in {other.name!r}")
            elif token_id in state.free or token_id in state.taken:
                raise StoreError(f"{_where(commit)}: token {token_id!r} would be in {place!r} twice")

    # -- where this state stands in the store's sequence of changes ----------------------------

    def has_seen(self, change: Change) -> bool:
        """Whether ``change`` (or a later one) is applied to this state already.

        A state read as a whole at a revision (a snapshot) has seen every part of it.

        Examples
        --------
        >>> state = State([("a", None)])
        >>> state.revision = 7
        >>> state.has_seen(Change(7, 0.0, "n", "put", None, None, None, (), (), (), (),
        ...                       part=1, parts=2))
        True
        """
        return change.revision < self.revision or (change.revision == self.revision and (
            change.part <= self.part or self.part == self.parts - 1))

    def is_next(self, change: Change) -> bool:
        """Whether ``change`` comes directly after the last change applied, so that it can
        be applied without waiting for any other (the next part of the same revision, or
        the first of the next revision).

        Examples
        --------
        >>> state = State([("a", None)])
        >>> first, second = (Change(1, 0.0, "n", "put", None, None, None, (), (), (), (),
        ...                         part=i, parts=2) for i in range(2))
        >>> state.is_next(first), state.is_next(second)
        (True, False)
        """
        if self.part + 1 < self.parts:
            return change.revision == self.revision and change.part == self.part + 1
        return change.revision == self.revision + 1 and change.part == 0

    # -- applying a change ---------------------------------------------------------------------

    def move(self, commit: Commit) -> Change | None:
        """Check and apply, as the next revision, a ``"fire"`` commit that removes one free
        token and adds one (a firing that moves a token on: the commonest change), and return
        its change; ``None``, changing nothing, for any other commit and for one that
        :meth:`check` would refuse (it says why). A store's own copy of the state uses it.

        Examples
        --------
        >>> state = State([("a", None), ("b", None)])
        >>> state.apply(Change(1, 0.0, "n", "put", None, None, None, (), (),
        ...                    (("a", Token("t1", 5)),), ()))
        ['a']
        >>> refused = Commit("fire", "f1", "t", "r", remove=(("a", "t9"),), add=(("b", Token("t9")),))
        >>> state.move(refused) is None
        True
        >>> change = state.move(Commit("fire", "f1", "t", "r", remove=(("a", "t1"),),
        ...                            add=(("b", Token("t1", 4)),)))
        >>> change.revision, state.marking().data()
        (2, {'a': [], 'b': [4]})
        """
        kind, firing, transition, region, take, remove, add, release, expect, _, at, node, note = commit
        if kind != "fire" or take or release or expect or len(remove) != 1 or len(add) != 1:
            return None
        ((place, token_id),) = remove
        ((target, token),) = add
        moved = token.id
        try:
            source = self.places[place]
            destination = self.places[target]
        except KeyError:
            return None
        if token_id not in source.free or (
                moved != token_id and (moved in destination.free or moved in destination.taken)):
            return None
        self.revision = revision = self.revision + 1
        self.part = 0
        self.parts = 1
        del source.free[token_id]
        del source.added[token_id]
        source.rev = revision
        destination.free[moved] = token
        destination.added[moved] = self.sequence = self.sequence + 1
        destination.rev = revision
        return _new_token(Change, (revision, at, node, kind, firing, transition, region, take,
                                   remove, add, release, note, 0, 1))

    def apply(self, change: Change) -> list[str]:
        """Apply ``change`` (assumed valid) and return the names of the places it touched."""
        revision, _, _, kind, firing, _, _, take, remove, add, release, note, part, parts = change
        places = self.places
        touched = []
        if kind == "migrate":
            self._migrate(note["definition"])
        for place, token_id in release:
            state = places[place]
            token = state.taken.pop(token_id)
            state.free[token_id] = _new_token(Token, (token_id, token.data, None))
            if len(state.free) > 1:
                added = state.added
                state.free = dict(sorted(state.free.items(), key=lambda kv: added[kv[0]]))
            state.rev = revision
            touched.append(place)
        for place, token_id in take:
            state = places[place]
            token = state.free.pop(token_id)
            state.taken[token_id] = _new_token(Token, (token_id, token.data, firing))
            state.rev = revision
            touched.append(place)
        for place, token_id in remove:
            state = places[place]
            if state.taken.pop(token_id, None) is None:
                del state.free[token_id]
            del state.added[token_id]
            state.rev = revision
            touched.append(place)
        if add:
            sequence = self.sequence
            for place, token in add:
                state = places[place]
                token_id = token.id
                state.free[token_id] = token
                sequence += 1
                state.added[token_id] = sequence
                state.rev = revision
                touched.append(place)
            self.sequence = sequence
        if kind == "control":
            key = control_key(note)
            if key is not None:
                if note["action"] in ("block", "request"):
                    self.controls[key] = dict(note, by=change.node, time=change.time)
                else:
                    self.controls.pop(key, None)
        elif kind == "start":
            self.firings[firing] = FiringRecord(  # type: ignore[index]
                firing, change.transition, change.region, change.node, change.take, change.time  # type: ignore[arg-type]
            )
        elif kind == "finish" or kind == "return":
            del self.firings[firing]  # type: ignore[arg-type]
        self.revision = revision
        self.part = part
        self.parts = parts
        return touched

    def _migrate(self, definition: dict[str, Any]) -> None:
        """Take the places of a new net definition: new ones empty, gone ones dropped."""
        kept = {p["name"]: p.get("capacity") for p in definition["places"]}
        for name in [name for name in self.places if name not in kept]:
            del self.places[name]
        for name, capacity in kept.items():
            if name not in self.places:
                self.places[name] = PlaceState(name, capacity)
            self.places[name].capacity = capacity

    def marking(self, time: float | None = None) -> Marking:
        """An immutable snapshot of the tokens in every place (at clock ``time``, if given)."""
        return Marking(
            {name: state.tokens() for name, state in self.places.items()},
            revision=self.revision, time=time,
        )

    def copy(self) -> State:
        """An independent copy (tokens are immutable and shared)."""
        twin = State((name, s.capacity) for name, s in self.places.items())
        for name, state in self.places.items():
            other = twin.places[name]
            other.free = dict(state.free)
            other.taken = dict(state.taken)
            other.added = dict(state.added)
            other.rev = state.rev
        twin.firings = dict(self.firings)
        twin.controls = dict(self.controls)
        twin.revision = self.revision
        twin.part = self.part
        twin.parts = self.parts
        twin.sequence = self.sequence
        return twin
