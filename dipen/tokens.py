"""Tokens, markings and the codec that decides what token data may be.

A :class:`Token` is immutable: its id, its data and, while a firing holds it, that
firing's id. A :class:`Marking` is an immutable snapshot of where every token is.
Token data is any JSON value by default; it is checked and frozen when it is placed,
so that nobody can change a stored token behind the store's back.
"""

from __future__ import annotations

from collections import _tuplegetter  # type: ignore[attr-defined]  # the C accessor namedtuple uses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .errors import TokenError

__all__ = ["FrozenDict", "FrozenList", "JsonCodec", "Marking", "PickleCodec", "Token", "freeze"]

_SCALARS = frozenset({str, int, float, bool, type(None)})


def _read_only(self: object, *args: object, **kwargs: object) -> None:
    raise TypeError(
        "token data is read-only; make a changed copy with token.update(key=value) "
        "or token.replace(data)"
    )


class FrozenDict(dict):  # type: ignore[type-arg]
    """A ``dict`` that cannot be changed: the form token data objects take once placed.

    It compares equal to a plain ``dict`` with the same items and serialises like one.

    Examples
    --------
    >>> d = dipen.tokens.freeze({"n": 1})
    >>> d == {"n": 1}
    True
    >>> d["n"] = 2
    Traceback (most recent call last):
    ...
    TypeError: token data is read-only; make a changed copy with token.update(key=value) or token.replace(data)
    """

    __slots__ = ()
    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _read_only  # type: ignore[assignment]
    __ior__ = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))


class FrozenList(list):  # type: ignore[type-arg]
    """A ``list`` that cannot be changed; equal to a plain list with the same items."""

    __slots__ = ()
    __setitem__ = __delitem__ = append = extend = insert = pop = remove = _read_only  # type: ignore[assignment]
    clear = reverse = sort = __iadd__ = __imul__ = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self),))

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList:
        return self

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))


def freeze(value: Any, where: str = "token data") -> Any:
    """Check that ``value`` is JSON data and return it frozen (dicts and lists read-only).

    Raises
    ------
    TokenError
        If ``value`` (or anything inside it) is not a JSON value; the message says
        ``where`` it was found and the offending type.

    Examples
    --------
    >>> dipen.tokens.freeze({"a": [1, 2.5, "x", None, True]})
    {'a': [1, 2.5, 'x', None, True]}
    >>> dipen.tokens.freeze({1, 2}, where="place 'p'")
    Traceback (most recent call last):
    ...
    dipen.errors.TokenError: place 'p': token data of type set is not JSON-serialisable (use dict, list, str, int, float, bool or None)
    """
    kind = type(value)
    if kind in _SCALARS or kind is FrozenDict or kind is FrozenList:
        return value
    if isinstance(value, dict):
        frozen = {}
        for key, item in value.items():
            if type(key) is not str:
                raise TokenError(
                    f"{where}: token data has a key {key!r} of type {type(key).__name__}; "
                    "JSON objects need str keys"
                )
            frozen[key] = freeze(item, where)
        return FrozenDict(frozen)
    if isinstance(value, (list, tuple)):
        return FrozenList([freeze(item, where) for item in value])
    if isinstance(value, (str, int, float)):  # subclasses such as IntEnum or str enums
        return value
    raise TokenError(
        f"{where}: token data of type {kind.__name__} is not JSON-serialisable "
        "(use dict, list, str, int, float, bool or None)"
    )


def flat_data(data: Any) -> tuple[Any, ...]:
    """Token data as a flat tuple for a long-lived history (no tuple inside for a dict of
    scalars, which the garbage collector can then stop tracking): ``(n, *keys, *values)`` for
    a :class:`FrozenDict` of ``n`` keys, else ``(-1, data)``. :func:`data_at` reads it back.

    Examples
    --------
    >>> flat_data(freeze({"n": 1, "s": "x"})), flat_data(7)
    ((2, 'n', 's', 1, 'x'), (-1, 7))
    """
    if type(data) is FrozenDict:
        return (len(data), *data, *data.values())
    return (-1, data)


def data_at(record: Sequence[Any], at: int) -> tuple[Any, int]:
    """The token data :func:`flat_data` put at position ``at`` of ``record``, and the position
    after it.

    Examples
    --------
    >>> record = ("t1", *flat_data(freeze({"n": 1, "s": "x"})), "next")
    >>> data_at(record, 1)
    ({'n': 1, 's': 'x'}, 6)
    """
    keys = record[at]
    if keys < 0:
        return record[at + 1], at + 2
    start = at + 1
    end = start + 2 * keys
    return FrozenDict(zip(record[start:start + keys], record[start + keys:end])), end


class JsonCodec:
    """The default codec: token data is JSON; ``prepare`` checks and freezes, ``encode``/``decode``
    turn it into bytes for stores that need them.

    Examples
    --------
    >>> codec = dipen.JsonCodec()
    >>> codec.decode(codec.encode({"n": 1}))
    {'n': 1}
    """

    name = "json"

    def prepare(self, value: Any, where: str = "token data") -> Any:
        return freeze(value, where)

    def encode(self, value: Any) -> bytes:
        import json

        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()

    def decode(self, raw: bytes) -> Any:
        import json

        return freeze(json.loads(raw))


class PickleCodec:
    """Token data of any picklable Python type, stored as pickles: only by explicit choice
    (``EtcdStore(..., codec=dipen.PickleCodec())``), never by default.

    Reading a pickle runs code chosen by whoever wrote it: use it only with a store that
    nobody untrusted can write to, and only if the data cannot be JSON. Each value is copied
    through pickle when it is placed, so later changes to the original do not reach the store.

    Examples
    --------
    >>> import fractions
    >>> codec = dipen.PickleCodec()
    >>> codec.decode(codec.encode(codec.prepare(fractions.Fraction(1, 3))))
    Fraction(1, 3)
    """

    name = "pickle"

    def prepare(self, value: Any, where: str = "token data") -> Any:
        import pickle

        try:
            return pickle.loads(pickle.dumps(value))
        except Exception as exc:
            raise TokenError(f"{where}: token data of type {type(value).__name__} cannot be "
                             f"pickled: {exc}") from None

    def encode(self, value: Any) -> bytes:
        import pickle

        return pickle.dumps(value)

    def decode(self, raw: bytes) -> Any:
        import pickle

        return pickle.loads(raw)  # noqa: S301 - the user chose this codec for a trusted store


_FROZEN = _SCALARS | {FrozenDict, FrozenList}  # data of these types is frozen already


class Token(tuple):  # type: ignore[type-arg]
    """One token: an id, its data, and the id of the firing that holds it (or ``None``).

    Tokens are immutable; :meth:`replace` and :meth:`update` return changed copies with the
    same id (returning such a copy from a transition moves the token with its new data).
    The constructor freezes ``data``: dicts, lists and tuples in it become read-only
    (:func:`freeze`; a :class:`TokenError` if they hold something that is not JSON), other
    values are kept as given.

    Examples
    --------
    >>> token = dipen.Token("t1", {"n": 3})
    >>> token["n"], token.data, token.firing
    (3, {'n': 3}, None)
    >>> token.data["n"] = 4
    Traceback (most recent call last):
    ...
    TypeError: token data is read-only; make a changed copy with token.update(key=value) or token.replace(data)
    >>> token.update(n=2)
    Token('t1', {'n': 2})
    """

    __slots__ = ()

    def __new__(cls, id: str, data: Any = None, firing: str | None = None) -> Token:
        # the engine builds tokens from frozen data with tuple.__new__ and skips this check
        if type(data) not in _FROZEN and isinstance(data, (dict, list, tuple)):
            data = freeze(data, f"token {id!r}")
        return tuple.__new__(cls, (id, data, firing))

    id: str = _tuplegetter(0, "The token's id, stable for its whole life.")
    data: Any = _tuplegetter(1, "The token's data (read-only JSON value), or None.")
    firing: str | None = _tuplegetter(2, "Id of the firing that has taken this token, or None.")

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        try:
            return self.data[key]
        except TypeError:
            if self.data is None:
                raise KeyError(f"token {self.id!r} has no data") from None
            raise

    def get(self, key: str, default: Any = None) -> Any:
        """``token.data.get(key, default)``; ``default`` when the data is not a dict."""
        data = tuple.__getitem__(self, 1)
        return data.get(key, default) if isinstance(data, dict) else default

    def __iter__(self) -> Iterator[Any]:
        raise TypeError("a Token is not iterable; use token.data")

    def __len__(self) -> int:
        raise TypeError("a Token has no length; use len(token.data)")

    def __bool__(self) -> bool:
        return True

    def __hash__(self) -> int:
        return hash(tuple.__getitem__(self, 0))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (tuple.__getitem__(self, 0), tuple.__getitem__(self, 1), tuple.__getitem__(self, 2))

    def __repr__(self) -> str:
        args = [repr(self.id)]
        if self.data is not None:
            args.append(repr(self.data))
        if self.firing is not None:
            args.append(f"firing={self.firing!r}")
        return f"Token({', '.join(args)})"

    @property
    def taken(self) -> bool:
        """True while a firing holds this token."""
        return tuple.__getitem__(self, 2) is not None

    def replace(self, data: Any) -> Token:
        """A copy of this token (same id) with ``data`` instead of its data."""
        return tuple.__new__(Token, (self.id, freeze(data, f"token {self.id!r}"), self.firing))

    def update(self, **fields: Any) -> Token:
        """A copy of this token (same id) whose dict data has ``fields`` set.

        Raises
        ------
        TokenError
            If the token's data is not a dict, or a value is not JSON.
        """
        data = self.data
        if type(data) is not FrozenDict:
            if data is None:
                data = {}
            elif not isinstance(data, dict):
                raise TokenError(
                    f"token {self.id!r}: update() needs dict data, not {type(data).__name__}; "
                    "use replace(data)"
                )
        for key, value in fields.items():
            if type(value) not in _FROZEN:
                fields[key] = freeze(value, f"token {self.id!r}, field {key!r}")
        return tuple.__new__(Token, (self.id, FrozenDict({**data, **fields}), self.firing))


def _describe(tokens: tuple[Token, ...], limit: int = 4) -> str:
    if all(token.data is None for token in tokens):
        return str(len(tokens))
    shown = ", ".join(repr(token.data) for token in tokens[:limit])
    more = f", … +{len(tokens) - limit}" if len(tokens) > limit else ""
    return f"[{shown}{more}]"


class Marking(Mapping[str, tuple[Token, ...]]):
    """An immutable snapshot of a net's state: for every place, its tokens (oldest first).

    Tokens held by a running firing are still in their place (``token.firing`` is set).

    Examples
    --------
    >>> m = dipen.Marking({"a": (dipen.Token("t1"),), "b": ()})
    >>> m["a"], m.counts()
    ((Token('t1'),), {'a': 1, 'b': 0})
    >>> m
    Marking(a=1, b=0)
    """

    __slots__ = ("_places", "_revision", "_time")

    def __init__(
        self,
        places: Mapping[str, tuple[Token, ...]],
        *,
        revision: int | None = None,
        time: float | None = None,
    ) -> None:
        self._places = {name: tuple(tokens) for name, tokens in places.items()}
        self._revision = revision
        self._time = time

    @property
    def revision(self) -> int | None:
        """The store revision this snapshot was taken at (``None`` if unknown)."""
        return self._revision

    @property
    def time(self) -> float | None:
        """The clock time of the snapshot (``None`` if unknown)."""
        return self._time

    def __getitem__(self, place: str) -> tuple[Token, ...]:
        try:
            return self._places[place]
        except KeyError:
            known = ", ".join(self._places) or "none"
            raise KeyError(f"no place {place!r} in this marking (places: {known})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._places)

    def __len__(self) -> int:
        return len(self._places)

    def counts(self, *, free_only: bool = False) -> dict[str, int]:
        """Number of tokens per place; with ``free_only`` the ones no firing holds."""
        if free_only:
            return {p: sum(1 for t in ts if t.firing is None) for p, ts in self._places.items()}
        return {place: len(tokens) for place, tokens in self._places.items()}

    def data(self) -> dict[str, list[Any]]:
        """The data of the tokens per place, oldest first."""
        return {place: [token.data for token in tokens] for place, tokens in self._places.items()}

    def tokens(self) -> Iterator[tuple[str, Token]]:
        """Every ``(place, token)`` pair."""
        for place, tokens in self._places.items():
            for token in tokens:
                yield place, token

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Marking):
            return self._places == other._places
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple((p, tuple(t.id for t in ts)) for p, ts in self._places.items()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{place}={_describe(tokens)}" for place, tokens in self._places.items())
        return f"Marking({inner})"

    def _repr_svg_(self) -> str:
        from .viz.draw import to_svg  # drawing is imported only when a notebook asks

        return to_svg(self)
