"""The net model: :class:`Net`, the fluent builder of places, transitions and arcs (whose
small immutable objects are in :mod:`dipen.elements`).

A net is built in one chained expression (every builder method returns the net) or with
the decorator form for transitions that run code. Mistakes are reported at the call that
makes them, naming the net, the element and the problem.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from .elements import Arc, ArcKind, Place, Transition
from .errors import NetError, TokenError
from .policies import ErrorPolicy, ToPlace, error_policy
from .tokens import freeze

__all__ = ["Net"]

F = TypeVar("F", bound=Callable[..., Any])


class Net:
    """A coloured, timed Petri net, built with a fluent API.

    Examples
    --------
    >>> net = (
    ...     dipen.Net("ring")
    ...     .place("a", tokens=1)
    ...     .place("b")
    ...     .transition("forth", take="a", give="b")
    ...     .transition("back", take="b", give="a")
    ... )
    >>> net
    Net('ring', places=2, transitions=2, arcs=4)
    >>> list(net.places), list(net.transitions)
    (['a', 'b'], ['forth', 'back'])
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise NetError(f"a net needs a non-empty str name, not {name!r}")
        self.name = name
        self._places: dict[str, Place] = {}
        self._transitions: dict[str, Transition] = {}

    # -- read-only views ---------------------------------------------------------------------

    @property
    def places(self) -> Mapping[str, Place]:
        """The places by name (read-only)."""
        return MappingProxyType(self._places)

    @property
    def transitions(self) -> Mapping[str, Transition]:
        """The transitions by name (read-only)."""
        return MappingProxyType(self._transitions)

    @property
    def arcs(self) -> tuple[Arc, ...]:
        """All arcs, transition by transition."""
        return tuple(arc for t in self._transitions.values() for arc in t.arcs)

    @property
    def regions(self) -> dict[str, tuple[str, ...]]:
        """The transition names of each region."""
        regions: dict[str, list[str]] = {}
        for t in self._transitions.values():
            regions.setdefault(t.region, []).append(t.name)
        return {region: tuple(names) for region, names in regions.items()}

    def __repr__(self) -> str:
        return (
            f"Net({self.name!r}, places={len(self._places)}, "
            f"transitions={len(self._transitions)}, arcs={len(self.arcs)})"
        )

    def _where(self, kind: str, name: str) -> str:
        return f"net {self.name!r}, {kind} {name!r}"

    # -- building ----------------------------------------------------------------------------

    def place(
        self, name: str, tokens: int | Iterable[Any] | None = None, capacity: int | None = None,
        *, position: tuple[float, float] | None = None,
    ) -> Net:
        """Add a place and return the net.

        ``tokens`` is the initial marking: an int for that many plain tokens, or a list with
        the data of each token. ``capacity`` bounds how many tokens the place may hold.
        ``position`` is where an editor drew the place, ``(x, y)`` with y growing downwards
        (as in PNML and SVG); the drawing uses it when every node has one.

        Raises
        ------
        NetError
            On a duplicate or empty name, a negative capacity, more tokens than the capacity
            or a position that is not two finite numbers.
        TokenError
            If initial token data is not JSON.

        Examples
        --------
        >>> net = dipen.Net("n").place("plain", tokens=3).place("queue", tokens=[{"x": 1}], capacity=3)
        >>> net.places["queue"]
        Place('queue', capacity=3, tokens=[{'x': 1}])
        """
        self._check_new_name(name, "place")
        where = self._where("place", name)
        position = _position(position, where)
        if capacity is not None and (type(capacity) is not int or capacity < 0):
            raise NetError(f"{where}: capacity must be an int >= 0 or None, not {capacity!r}")
        if tokens is None:
            initial: tuple[Any, ...] = ()
        elif type(tokens) is int:
            if tokens < 0:
                raise NetError(f"{where}: tokens={tokens} is negative")
            initial = (None,) * tokens
        elif isinstance(tokens, (str, bytes, Mapping)) or not isinstance(tokens, Iterable):
            raise NetError(
                f"{where}: tokens must be an int or a list of token data, not "
                f"{type(tokens).__name__} (for one token with this data write tokens=[...])"
            )
        else:
            try:
                initial = tuple(freeze(data, where) for data in tokens)
            except TokenError:
                raise
        if capacity is not None and len(initial) > capacity:
            raise NetError(
                f"{where}: {len(initial)} initial tokens exceed its capacity of {capacity}"
            )
        self._places[name] = Place(name, capacity, initial, position)
        return self

    def transition(
        self,
        name: Any = None,
        *,
        take: Any = None,
        give: Any = None,
        read: Any = None,
        region: str = "default",
        run: Callable[..., Any] | None = None,
        guard: Callable[..., Any] | None = None,
        executor: type | None = None,
        data: Any = None,
        on_error: Any = "block",
        concurrency: int = 1,
        position: tuple[float, float] | None = None,
        manual: bool = False,
    ) -> Any:
        """Add a transition and return the net; without a name, return a decorator.

        ``take``/``give``/``read`` each accept a place name, a list of names or a
        ``{name: weight}`` dict and create ``IN``/``OUT``/``COND`` arcs (``IN_OUT`` where a
        place is both taken and given, ``OUT_COND`` where it is given and read).

        With no ``run``/``executor`` the transition is a classic P/T transition. With
        ``run`` (an ``async def``) or as a decorator on an ``async def``, the function gets
        the taken token (one ``take`` place of weight 1 and no ``read``) or a mapping
        ``{place: [tokens]}``; ``guard`` gets the same argument and says whether it may fire.
        ``executor`` is a :class:`dipen.Executor` subclass (the full contract). ``data`` is
        passed to the executor's contexts. ``on_error`` is the error policy.
        ``concurrency`` is how many firings of this transition may run at once.
        ``position`` is where an editor drew the transition (see :meth:`place`).
        A ``manual`` transition fires only when someone asks, with data
        (:meth:`dipen.Control.fire`, ``dipen ctl fire``, ``runner.step(name, data)``).

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=[{"n": 1}]).place("b")
        >>> @net.transition(take="a", give="b", guard=lambda token: token["n"] > 0)
        ... async def double(token):
        ...     return token.update(n=token["n"] * 2)
        >>> net.transitions["double"]
        Transition('double', take=[a], give=[b], code=double)
        """
        options = dict(
            take=take, give=give, read=read, region=region, guard=guard, data=data,
            on_error=on_error, concurrency=concurrency, position=position, manual=manual,
        )
        if callable(name) and not isinstance(name, str):  # @net.transition without parentheses
            self._add_transition(name.__name__, run=name, **options)
            return name
        if name is None:
            if run is not None or executor is not None:
                raise NetError(
                    f"net {self.name!r}: a transition given run= or executor= needs a name"
                )

            def decorate(function: F) -> F:
                self._add_transition(function.__name__, run=function, **options)
                return function

            return decorate
        self._add_transition(name, run=run, executor=executor, **options)
        return self

    def arc(
        self,
        place: str,
        transition: str,
        kind: ArcKind | str,
        name: str | None = None,
        weight: int = 1,
    ) -> Net:
        """Add one arc between an existing place and transition and return the net.

        Raises
        ------
        NetError
            On an unknown place or transition, a second arc for the pair, or a bad weight/kind.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=2).transition("t")
        >>> net.arc("a", "t", "IN", weight=2).arcs
        (Arc('a' -> 't', IN, weight=2),)
        """
        if transition not in self._transitions:
            raise NetError(
                f"net {self.name!r}: arc to unknown transition {transition!r} "
                f"(transitions: {', '.join(self._transitions) or 'none'})"
            )
        if isinstance(kind, str):
            try:
                kind = ArcKind[kind.upper()]
            except KeyError:
                raise NetError(
                    f"{self._where('transition', transition)}: unknown arc kind {kind!r} "
                    f"(kinds: {', '.join(k.name for k in ArcKind)})"
                ) from None
        elif not isinstance(kind, ArcKind):
            raise NetError(f"{self._where('transition', transition)}: {kind!r} is not an ArcKind")
        current = self._transitions[transition]
        where = self._where("transition", transition)
        new_arc = self._make_arc(place, transition, kind, name, weight, where, "arc()")
        if any(arc.place == place for arc in current.arcs):
            raise NetError(
                f"{where}: there is already an arc between place {place!r} and this transition; "
                "one arc per pair (use ArcKind.IN_OUT or OUT_COND to combine)"
            )
        self._check_arc_names(current.arcs + (new_arc,), where)
        updated = _replace_arcs(current, current.arcs + (new_arc,))
        self._check_policy(updated, where)
        self._transitions[transition] = updated
        return self

    # -- checks ------------------------------------------------------------------------------

    def validate(self) -> Net:
        """Check the whole net, including every executor's ``validate``; return the net.

        Building already checks names, weights and callables; this adds the checks that need
        the complete net (error places, executor contracts).

        Raises
        ------
        NetError
            Naming the net, the transition and the reason.

        Examples
        --------
        >>> dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b").validate()
        Net('n', places=2, transitions=1, arcs=2)
        """
        from .executors import validate_transition  # executors builds on this module

        for transition in self._transitions.values():
            where = self._where("transition", transition.name)
            self._check_policy(transition, where)
            validate_transition(self, transition)
        return self

    # -- pictures (dipen.viz, imported only when asked for) -------------------------------------

    def draw(self, marking: Any = None, **options: Any) -> Any:
        """A matplotlib figure of the net (see :func:`dipen.viz.draw` for the options).

        Examples
        --------
        >>> figure = dipen.Net("n").place("a", tokens=1).place("b").transition(
        ...     "t", take="a", give="b").draw()
        >>> len(figure.axes)
        1
        """
        from .viz.draw import draw

        return draw(self, marking, **options)

    def to_networkx(self, marking: Any = None) -> Any:
        """The net as a ``networkx.DiGraph`` (see :func:`dipen.viz.to_networkx`).

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> graph = net.to_networkx()
        >>> sorted(graph.nodes), sorted(graph.edges)
        (['a', 'b', 't'], [('a', 't'), ('t', 'b')])
        """
        from .viz.draw import to_networkx

        return to_networkx(self, marking)

    def to_dot(self, marking: Any = None) -> str:
        """The net as Graphviz DOT text (see :func:`dipen.viz.export.to_dot`).

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> net.to_dot().splitlines()[0]
        'digraph "n" {'
        """
        from .viz.export import to_dot

        return to_dot(self, marking)

    def to_pnml(self) -> str:
        """The net as PNML text, a P/T net (see :func:`dipen.pnml.dumps`).

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
        >>> dipen.pnml.loads(net.to_pnml()).to_dict() == net.to_dict()
        True
        """
        from .pnml import dumps

        return dumps(self)

    def _repr_svg_(self) -> str:
        from .viz.draw import to_svg

        return to_svg(self)

    def to_dict(self) -> dict[str, Any]:
        """The net's structure as JSON data: what a store publishes and compares.

        Behaviour (code) is named, not serialised. A ``position`` is listed only when set.

        Examples
        --------
        >>> dipen.Net("n").place("a", tokens=1).to_dict()["places"]
        [{'name': 'a', 'capacity': None, 'tokens': [None]}]
        """
        return {
            "name": self.name,
            "places": [
                {"name": p.name, "capacity": p.capacity, "tokens": list(p.initial),
                 **_position_dict(p.position)}
                for p in self._places.values()
            ],
            "transitions": [
                {
                    "name": t.name,
                    "region": t.region,
                    "kind": t.kind,
                    "arcs": [
                        {"place": a.place, "kind": a.kind.value, "weight": a.weight, "name": a.name}
                        for a in t.arcs
                    ],
                    **_position_dict(t.position),
                    **({"manual": True} if t.manual else {}),
                }
                for t in self._transitions.values()
            ],
        }

    @classmethod
    def from_dict(cls, definition: Mapping[str, Any]) -> Net:
        """The net a :meth:`to_dict` definition describes: its structure only.

        Places (capacity, initial tokens, position), transitions (region, position) and arcs
        (kind, weight, name) come back; behaviour does not, since ``to_dict`` only names it:
        every transition is a plain P/T transition. Enough to draw a net read from a store or
        a recording, or to replay its changes.

        Raises
        ------
        NetError
            If the definition lacks a field or describes an invalid net.

        Examples
        --------
        >>> net = dipen.Net("n").place("a", tokens=1).place("b", capacity=2)
        >>> net = net.transition("t", take="a", give={"b": 2}, region="r")
        >>> twin = dipen.Net.from_dict(net.to_dict())
        >>> twin.to_dict() == net.to_dict(), twin.transitions["t"]
        (True, Transition('t', take=[a], give=[b×2], region='r'))
        """
        try:
            net = cls(definition["name"])
            for place in definition["places"]:
                net.place(place["name"], place["tokens"], place["capacity"],
                          position=place.get("position"))
            for transition in definition["transitions"]:
                name = transition["name"]
                net._add_transition(
                    name, take=None, give=None, read=None, region=transition["region"],
                    guard=None, data=None, on_error="block", concurrency=1,
                    position=transition.get("position"), manual=transition.get("manual", False))
                for arc in transition["arcs"]:
                    net.arc(arc["place"], name, ArcKind(arc["kind"]), arc.get("name"),
                            arc["weight"])
        except (KeyError, TypeError, ValueError) as exc:
            raise NetError(f"not a net definition (Net.to_dict()): {type(exc).__name__}: "
                           f"{exc}") from None
        return net

    # -- internals ---------------------------------------------------------------------------

    def _check_new_name(self, name: Any, kind: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise NetError(f"net {self.name!r}: a {kind} needs a non-empty str name, not {name!r}")
        if "/" in name:
            raise NetError(f"{self._where(kind, name)}: names may not contain '/'")
        if name in self._places or name in self._transitions:
            other = "place" if name in self._places else "transition"
            raise NetError(f"{self._where(kind, name)}: the name is already used by a {other}")

    def _add_transition(
        self, name: Any, *, run: Callable[..., Any] | None = None, executor: type | None = None,
        take: Any, give: Any, read: Any, region: str, guard: Callable[..., Any] | None,
        data: Any, on_error: Any, concurrency: int, position: tuple[float, float] | None = None,
        manual: bool = False,
    ) -> None:
        self._check_new_name(name, "transition")
        where = self._where("transition", name)
        position = _position(position, where)
        if not isinstance(region, str) or not region or "/" in region:
            raise NetError(f"{where}: region must be a non-empty str without '/', not {region!r}")
        if type(concurrency) is not int or concurrency < 1:
            raise NetError(f"{where}: concurrency must be an int >= 1, not {concurrency!r}")
        if type(manual) is not bool:
            raise NetError(f"{where}: manual must be True or False, not {manual!r}")
        if run is not None and executor is not None:
            raise NetError(f"{where}: give either run= or executor=, not both")
        if run is not None:
            if not callable(run):
                raise NetError(f"{where}: run={run!r} is not callable")
            if not inspect.iscoroutinefunction(run):
                raise NetError(
                    f"{where}: run={getattr(run, '__qualname__', run)} must be an 'async def' "
                    "function (it runs on the event loop; write 'async def' even if it never awaits)"
                )
        if guard is not None:
            if not callable(guard):
                raise NetError(f"{where}: guard={guard!r} is not callable")
            if inspect.iscoroutinefunction(guard):
                raise NetError(f"{where}: guard must be a plain function, not 'async def'")
            if executor is not None:
                raise NetError(f"{where}: guard= does not combine with executor=; "
                               "decide in the executor's check_start")
        if executor is not None:
            if not isinstance(executor, type) or not all(
                callable(getattr(executor, m, None)) for m in ("check_start", "run")
            ):
                raise NetError(
                    f"{where}: executor={executor!r} must be a class with check_start and "
                    "run (subclass dipen.Executor)"
                )
            if not inspect.iscoroutinefunction(getattr(executor, "run", None)):
                raise NetError(f"{where}: {executor.__qualname__}.run must be 'async def'")
        policy = error_policy(on_error, where)
        weights = {
            "take": self._weights(take, "take", where),
            "give": self._weights(give, "give", where),
            "read": self._weights(read, "read", where),
        }
        arcs = []
        for place in dict.fromkeys([*weights["take"], *weights["give"], *weights["read"]]):
            taken, given, read_ = (place in weights[k] for k in ("take", "give", "read"))
            if taken and read_:
                raise NetError(
                    f"{where}: place {place!r} is both taken and read; taking already lets "
                    "the transition see its tokens"
                )
            if taken and given and weights["take"][place] != weights["give"][place]:
                raise NetError(
                    f"{where}: place {place!r} is taken with weight {weights['take'][place]} "
                    f"and given with weight {weights['give'][place]}; one arc per pair has one "
                    "weight"
                )
            kind = (
                ArcKind.IN_OUT if taken and given
                else ArcKind.OUT_COND if given and read_
                else ArcKind.IN if taken
                else ArcKind.OUT if given
                else ArcKind.COND
            )
            weight = next(weights[k][place] for k in ("take", "give", "read") if place in weights[k])
            arcs.append(self._make_arc(place, name, kind, None, weight, where, "take/give/read"))
        transition = Transition(
            name, region, tuple(arcs), run, guard, executor, data, policy, concurrency, position,
            manual,
        )
        self._check_policy(transition, where)
        self._transitions[name] = transition

    def _weights(self, spec: Any, label: str, where: str) -> dict[str, int]:
        if spec is None:
            return {}
        if isinstance(spec, str):
            return {spec: 1}
        if isinstance(spec, Mapping):
            return dict(spec)
        if isinstance(spec, Iterable):
            names = list(spec)
            for item in names:
                if not isinstance(item, str):
                    raise NetError(f"{where}: {label}= lists {item!r}, which is not a place name")
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise NetError(
                    f"{where}: {label}= names {duplicates[0]!r} twice; "
                    f"write {label}={{{duplicates[0]!r}: 2}} for a weight"
                )
            return dict.fromkeys(names, 1)
        raise NetError(
            f"{where}: {label}= must be a place name, a list of names or a {{name: weight}} "
            f"dict, not {type(spec).__name__}"
        )

    def _make_arc(
        self, place: Any, transition: str, kind: ArcKind, name: str | None, weight: Any,
        where: str, origin: str,
    ) -> Arc:
        if place not in self._places:
            known = ", ".join(self._places) or "none yet"
            raise NetError(
                f"{where}: unknown place {place!r} in {origin} (places: {known}); "
                "define places before the transitions that use them"
            )
        if type(weight) is not int or weight < 1:
            raise NetError(f"{where}: arc with place {place!r} has weight {weight!r}; "
                           "weights are ints >= 1")
        if name is not None and not isinstance(name, str):
            raise NetError(f"{where}: arc name must be a str, not {name!r}")
        return Arc(place, transition, kind, name, weight)

    def _check_arc_names(self, arcs: tuple[Arc, ...], where: str) -> None:
        names = [arc.name for arc in arcs if arc.name is not None]
        for arc_name in names:
            if names.count(arc_name) > 1:
                raise NetError(f"{where}: two arcs are named {arc_name!r}")

    def _check_policy(self, transition: Transition, where: str) -> None:
        policy: ErrorPolicy | None = transition.on_error
        while policy is not None:
            if isinstance(policy, ToPlace) and policy.place not in self._places:
                raise NetError(
                    f"{where}: on_error moves tokens to unknown place {policy.place!r} "
                    f"(places: {', '.join(self._places)})"
                )
            policy = getattr(policy, "then", None)


def _position(position: Any, where: str) -> tuple[float, float] | None:
    """``position`` as two floats, or a NetError naming ``where``."""
    if position is None:
        return None
    try:
        x, y = position
        point = (float(x), float(y))
        valid = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                    and math.isfinite(v) for v in (x, y))
    except (TypeError, ValueError):
        valid = False
    if not valid or isinstance(position, (str, bytes)):
        raise NetError(f"{where}: position must be two finite numbers (x, y), not {position!r}")
    return point


def _position_dict(position: tuple[float, float] | None) -> dict[str, list[float]]:
    return {} if position is None else {"position": list(position)}


def _replace_arcs(transition: Transition, arcs: tuple[Arc, ...]) -> Transition:
    from dataclasses import replace

    return replace(transition, arcs=arcs)
