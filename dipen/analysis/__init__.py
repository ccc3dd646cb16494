"""Analysis of nets: the state space (reachability and coverability graphs, deadlocks,
bounds, dead transitions, reversibility, home states) and the structure (incidence matrix,
P- and T-invariants, siphons and traps).

Examples
--------
>>> net = (dipen.Net("mutex").place("idle", tokens=2).place("busy").place("lock", tokens=1)
...        .transition("enter", take=["idle", "lock"], give="busy")
...        .transition("leave", take="busy", give=["idle", "lock"]))
>>> graph = dipen.analysis.reachability(net)
>>> len(graph.states), graph.deadlocks(), graph.bounds()
(2, [], {'idle': 2, 'busy': 1, 'lock': 1})
>>> dipen.analysis.p_invariants(net)
[{'idle': 1, 'busy': 1}, {'busy': 1, 'lock': 1}]
"""

from __future__ import annotations

from .coverability import CoverabilityGraph, coverability
from .graph import Deadlock, Edge, ReachabilityGraph, State
from .omega import OMEGA
from .reachability import reachability
from .siphons import siphons, traps
from .structure import IncidenceMatrix, incidence_matrix, p_invariants, t_invariants

__all__ = [
    "OMEGA",
    "CoverabilityGraph",
    "Deadlock",
    "Edge",
    "IncidenceMatrix",
    "ReachabilityGraph",
    "State",
    "coverability",
    "incidence_matrix",
    "p_invariants",
    "reachability",
    "siphons",
    "t_invariants",
    "traps",
]
