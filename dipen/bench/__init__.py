"""Benchmarks: ``dipen bench local`` (the engine on the memory store), ``dipen bench etcd``
(the engine on a local etcd, beside etcd's own rates) and ``dipen bench viz`` (the live view,
in :mod:`dipen.viz.bench`). They print figures; tests run them small and never assert
timings.
"""

from __future__ import annotations

from .local import local, ring_net

__all__ = ["local", "ring_net"]
