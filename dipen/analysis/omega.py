"""``OMEGA`` (ω): the token count of a place without bound in a coverability graph."""

from __future__ import annotations

__all__ = ["OMEGA"]


class _Omega(float):
    """Infinity that prints as ``ω``: larger than every count, and ``ω ± n = ω``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ω"

    __str__ = __repr__


#: The count of a place that can hold arbitrarily many tokens (equal to ``math.inf``).
OMEGA: float = _Omega("inf")
