"""The structure of a net as linear algebra: the incidence matrix and its P- and T-invariants.

The matrix comes from the arcs' weights, i.e. what P/T behaviour moves (code transitions are
counted as if they moved their arc weights). A read (``COND``) arc moves nothing and is not in
the matrix; ``IN_OUT`` moves nothing net; ``OUT_COND`` adds its weight.
"""

from __future__ import annotations

from math import gcd
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import AnalysisError

if TYPE_CHECKING:
    import numpy

    from ..net import Net

__all__ = ["IncidenceMatrix", "incidence_matrix", "p_invariants", "t_invariants"]

#: How many candidate vectors the Farkas algorithm may hold at once before giving up.
INVARIANT_LIMIT = 5_000


class FiringRule(NamedTuple):
    """What one P/T firing needs and does, by place number: ``(place, weight)`` pairs."""

    name: str
    takes: tuple[tuple[int, int], ...]
    reads: tuple[tuple[int, int], ...]
    gives: tuple[tuple[int, int], ...]


def firing_rules(net: Net) -> list[FiringRule]:
    """The P/T firing rule of every transition, in the net's order."""
    at = {place: number for number, place in enumerate(net.places)}
    rules = []
    for transition in net.transitions.values():
        arcs = transition.arcs
        rules.append(FiringRule(
            transition.name,
            tuple((at[a.place], a.weight) for a in arcs if a.kind.takes),
            tuple((at[a.place], a.weight) for a in arcs if a.kind.reads),
            tuple((at[a.place], a.weight) for a in arcs if a.kind.gives),
        ))
    return rules


class IncidenceMatrix(NamedTuple):
    """The incidence matrix ``C`` (places × transitions): ``C[p][t]`` is how many tokens one
    firing of ``t`` adds to ``p`` (negative: removes).

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> matrix = dipen.analysis.incidence_matrix(net)
    >>> matrix.rows, matrix.columns, matrix.matrix
    (('a', 'b'), ('t',), [[-1], [1]])
    >>> matrix.to_numpy().shape
    (2, 1)
    """

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    matrix: list[list[int]]

    def to_numpy(self) -> numpy.ndarray[Any, Any]:
        """The matrix as an integer numpy array (needs numpy)."""
        import numpy

        return numpy.array(self.matrix, dtype=int).reshape(len(self.rows), len(self.columns))

    def __str__(self) -> str:
        width = max([len(str(v)) for row in self.matrix for v in row] + [len(c) for c in self.columns]
                    + [1])
        left = max([len(r) for r in self.rows] + [0])
        lines = [" " * left + " " + " ".join(c.rjust(width) for c in self.columns)]
        lines += [r.ljust(left) + " " + " ".join(str(v).rjust(width) for v in row)
                  for r, row in zip(self.rows, self.matrix)]
        return "\n".join(lines)


def incidence_matrix(net: Net) -> IncidenceMatrix:
    """The incidence matrix of ``net``, rows in place order, columns in transition order.

    Examples
    --------
    >>> net = (dipen.Net("n").place("a", tokens=1).place("b")
    ...        .transition("t", take={"a": 2}, give="b").transition("u", take="b", read="a"))
    >>> print(dipen.analysis.incidence_matrix(net))
       t  u
    a -2  0
    b  1 -1
    """
    matrix = [[0] * len(net.transitions) for _ in net.places]
    for column, rule in enumerate(firing_rules(net)):
        for place, weight in rule.takes:
            matrix[place][column] -= weight
        for place, weight in rule.gives:
            matrix[place][column] += weight
    return IncidenceMatrix(tuple(net.places), tuple(net.transitions), matrix)


def p_invariants(net: Net) -> list[dict[str, int]]:
    """The minimal semi-positive P-invariants: weightings ``y >= 0`` of the places with
    ``y · C = 0``, so that the weighted token count stays the same whatever fires.

    Every semi-positive P-invariant is a non-negative combination of these (the minimal-support
    generating set, by the Farkas algorithm with Martínez–Silva's pruning). Each is given as
    ``{place: weight}`` without zero weights.

    Raises
    ------
    AnalysisError
        If the net is too large (more than ``INVARIANT_LIMIT`` candidates at once).

    Examples
    --------
    >>> net = (dipen.Net("mutex").place("idle", tokens=2).place("busy").place("lock", tokens=1)
    ...        .transition("enter", take=["idle", "lock"], give="busy")
    ...        .transition("leave", take="busy", give=["idle", "lock"]))
    >>> dipen.analysis.p_invariants(net)
    [{'idle': 1, 'busy': 1}, {'busy': 1, 'lock': 1}]
    """
    matrix = incidence_matrix(net)
    return _named(_farkas(matrix.matrix, len(matrix.columns), net.name, "P"), matrix.rows)


def t_invariants(net: Net) -> list[dict[str, int]]:
    """The minimal semi-positive T-invariants: firing counts ``x >= 0`` with ``C · x = 0``,
    i.e. sequences that, if they can fire, lead back to the marking they started from.

    Raises
    ------
    AnalysisError
        If the net is too large (more than ``INVARIANT_LIMIT`` candidates at once).

    Examples
    --------
    >>> net = (dipen.Net("ring").place("a", tokens=1).place("b")
    ...        .transition("forth", take="a", give="b").transition("back", take="b", give="a"))
    >>> dipen.analysis.t_invariants(net)
    [{'forth': 1, 'back': 1}]
    """
    matrix = incidence_matrix(net)
    transposed = [list(column) for column in zip(*matrix.matrix)] if matrix.rows else [
        [] for _ in matrix.columns]
    return _named(_farkas(transposed, len(matrix.rows), net.name, "T"), matrix.columns)


def _named(vectors: list[list[int]], names: tuple[str, ...]) -> list[dict[str, int]]:
    return [{names[i]: v for i, v in enumerate(vector) if v} for vector in vectors]


def _farkas(rows: list[list[int]], width: int, net: str, kind: str) -> list[list[int]]:
    """Minimal-support semi-positive solutions ``y`` of ``y · rows = 0``, sorted.

    Each candidate is ``(residue, y)``: the residue ``y · rows`` is driven to zero one column
    at a time by combining candidates of opposite sign; candidates whose support contains
    another's are dropped at every step (they cannot be minimal).
    """
    count = len(rows)
    candidates = [
        (list(row), [1 if i == j else 0 for j in range(count)]) for i, row in enumerate(rows)
    ]
    for column in range(width):
        keep = [c for c in candidates if c[0][column] == 0]
        positive = [c for c in candidates if c[0][column] > 0]
        negative = [c for c in candidates if c[0][column] < 0]
        if len(keep) + len(positive) * len(negative) > INVARIANT_LIMIT:
            raise AnalysisError(
                f"net {net!r}: too large for {kind}-invariants (more than {INVARIANT_LIMIT} "
                "candidate vectors); the Farkas algorithm is meant for small nets"
            )
        for up_residue, up in positive:
            for down_residue, down in negative:
                a, b = -down_residue[column], up_residue[column]
                residue = [a * x + b * y for x, y in zip(up_residue, down_residue)]
                vector = [a * x + b * y for x, y in zip(up, down)]
                divisor = 0
                for value in residue + vector:
                    divisor = gcd(divisor, value)
                keep.append(([x // divisor for x in residue], [x // divisor for x in vector]))
        candidates = _minimal_supports(keep)
    return sorted((vector for _, vector in candidates), key=lambda v: [-x for x in v])


def _minimal_supports(
    candidates: list[tuple[list[int], list[int]]]
) -> list[tuple[list[int], list[int]]]:
    """Drop candidates whose support strictly contains another's, and exact repeats."""
    supports = [frozenset(i for i, v in enumerate(vector) if v) for _, vector in candidates]
    kept: list[tuple[list[int], list[int]]] = []
    seen: set[tuple[int, ...]] = set()
    for candidate, support in zip(candidates, supports):
        key = (*candidate[0], *candidate[1])
        if key in seen or any(other < support for other in supports):
            continue
        seen.add(key)
        kept.append(candidate)
    return kept
