"""dipen.analysis structure: incidence matrix, P-/T-invariants (checked against C·x = 0 and
against a brute-force search for minimal supports), siphons and traps (against the definition
tried on every subset of places)."""

from __future__ import annotations

import itertools

import pytest

import dipen
from dipen.analysis import incidence_matrix, p_invariants, reachability, siphons, t_invariants, traps
from dipen.analysis.bench import dining_philosophers
from dipen.errors import AnalysisError


def _mutex() -> dipen.Net:
    return (dipen.Net("mutex").place("idle1", tokens=1).place("critical1")
            .place("idle2", tokens=1).place("critical2").place("lock", tokens=1)
            .transition("enter1", take=["idle1", "lock"], give="critical1")
            .transition("leave1", take="critical1", give=["idle1", "lock"])
            .transition("enter2", take=["idle2", "lock"], give="critical2")
            .transition("leave2", take="critical2", give=["idle2", "lock"]))


def _weighted() -> dipen.Net:
    return (dipen.Net("weighted").place("a", tokens=4).place("b").place("c")
            .transition("pack", take={"a": 2}, give="b")
            .transition("unpack", take="b", give={"a": 2})
            .transition("look", read="b", give="c"))


def _nets() -> list[dipen.Net]:
    return [dining_philosophers(2), dining_philosophers(3), _mutex(), _weighted()]


def test_incidence_matrix_by_hand():
    matrix = incidence_matrix(_weighted())
    assert matrix.rows == ("a", "b", "c") and matrix.columns == ("pack", "unpack", "look")
    assert matrix.matrix == [[-2, 2, 0], [1, -1, 0], [0, 0, 1]]
    assert matrix.to_numpy().tolist() == matrix.matrix
    in_out = (dipen.Net("io").place("p", tokens=1).place("q")
              .transition("t", take="p", give=["p", "q"]).transition("u", read="q", give="q"))
    assert incidence_matrix(in_out).matrix == [[0, 0], [1, 1]]  # IN_OUT: 0, OUT_COND: +w
    assert "pack" in str(matrix).splitlines()[0]


def _is_p_invariant(matrix: list[list[int]], vector: list[int]) -> bool:
    return all(sum(vector[p] * matrix[p][t] for p in range(len(vector))) == 0
               for t in range(len(matrix[0]) if matrix else 0))


def _minimal_supports_by_search(matrix: list[list[int]], size: int, top: int) -> set[frozenset[int]]:
    """Supports of the minimal semi-positive solutions, trying every vector in {0..top}^size."""
    supports = set()
    for vector in itertools.product(range(top + 1), repeat=size):
        if any(vector) and _is_p_invariant(matrix, list(vector)):
            supports.add(frozenset(i for i, v in enumerate(vector) if v))
    return {s for s in supports if not any(other < s for other in supports)}


@pytest.mark.parametrize("net", _nets(), ids=lambda net: net.name)
def test_invariants_solve_the_incidence_equations(net):
    matrix = incidence_matrix(net)
    transposed = [list(column) for column in zip(*matrix.matrix)]
    places, transitions = list(matrix.rows), list(matrix.columns)
    found_p = p_invariants(net)
    found_t = t_invariants(net)
    for invariant in found_p:
        vector = [invariant.get(place, 0) for place in places]
        assert min(vector) >= 0 and any(vector)
        assert _is_p_invariant(matrix.matrix, vector)  # y · C = 0
    for invariant in found_t:
        vector = [invariant.get(t, 0) for t in transitions]
        assert min(vector) >= 0 and any(vector)
        assert _is_p_invariant(transposed, vector)  # C · x = 0
    if len(places) <= 8:
        expected = _minimal_supports_by_search(matrix.matrix, len(places), 2)
        assert {frozenset(places.index(p) for p in y) for y in found_p} == expected
    if len(transitions) <= 6:
        expected = _minimal_supports_by_search(transposed, len(transitions), 2)
        assert {frozenset(transitions.index(t) for t in x) for x in found_t} == expected


def test_philosopher_invariants_by_hand():
    n = 4
    net = dining_philosophers(n)
    found = p_invariants(net)
    assert len(found) == 2 * n
    for i in range(n):
        assert {f"think{i}": 1, f"left{i}": 1, f"eat{i}": 1} in found  # a philosopher is in one state
        before = (i - 1) % n  # fork i is on the table, in philosopher i's left hand, or eaten with
        assert {f"fork{i}": 1, f"left{i}": 1, f"eat{i}": 1, f"eat{before}": 1} in found
    assert sorted(map(sorted, t_invariants(net))) == sorted(
        sorted([f"take_left{i}", f"take_right{i}", f"put_down{i}"]) for i in range(n))
    graph = reachability(net)  # and every reachable state keeps them
    for invariant in found:
        assert {sum(w * s.counts()[p] for p, w in invariant.items()) for s in graph.states} == {1}


def test_weighted_invariant():
    assert p_invariants(_weighted()) == [{"a": 1, "b": 2}]  # c grows: in no invariant
    assert t_invariants(_weighted()) == [{"pack": 1, "unpack": 1}]
    graph = reachability(_weighted(), max_states=30)
    assert {s.counts()["a"] + 2 * s.counts()["b"] for s in graph.states} == {4}


def test_invariants_refuse_large_nets():
    net = dipen.Net("wide")
    for i in range(80):
        net.place(f"in{i}", tokens=1).place(f"out{i}")
    net.transition("all", take=[f"in{i}" for i in range(80)], give=[f"out{i}" for i in range(80)])
    net.transition("back", take=[f"out{i}" for i in range(80)], give=[f"in{i}" for i in range(80)])
    with pytest.raises(AnalysisError, match="net 'wide': too large for P-invariants"):
        p_invariants(net)
    assert t_invariants(net) == [{"all": 1, "back": 1}]


def _by_definition(net: dipen.Net, trap: bool) -> set[frozenset[str]]:
    """Minimal siphons (traps) by trying every subset of places against •S ⊆ S• (S• ⊆ •S)."""
    found: set[frozenset[str]] = set()
    names = list(net.places)
    for size in range(1, len(names) + 1):
        for subset in map(frozenset, itertools.combinations(names, size)):
            if any(s <= subset for s in found):
                continue
            into = {t.name for t in net.transitions.values()
                    if any((a.kind.gives or a.kind.reads) and a.place in subset for a in t.arcs)}
            out_of = {t.name for t in net.transitions.values()
                      if any(a.kind.inputs and a.place in subset for a in t.arcs)}
            if (out_of <= into) if trap else (into <= out_of):
                found.add(subset)
    return found


@pytest.mark.parametrize("net", _nets(), ids=lambda net: net.name)
def test_siphons_and_traps_match_the_definition(net):
    assert set(siphons(net)) == _by_definition(net, trap=False)
    assert set(traps(net)) == _by_definition(net, trap=True)


def test_the_philosophers_deadlock_empties_a_siphon():
    net = dining_philosophers(3)
    (deadlock,) = reachability(net).deadlocks()
    empty = {place for place, count in deadlock.state.counts().items() if not count}
    assert any(siphon <= empty for siphon in siphons(net))
    assert not any(siphon <= empty for siphon in siphons(_mutex()))


def test_siphons_refuse_large_nets():
    net = dipen.Net("big")
    for i in range(61):
        net.place(f"p{i}")
    with pytest.raises(AnalysisError, match="61 places are too many"):
        siphons(net)
