"""What the browser sets in a live view, checked before the view takes it: the selected
place, the speed of a simulated clock, the history position and the token limit. A value that
does not fit raises :class:`traitlets.TraitError` with a message that says what would.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import traitlets

if TYPE_CHECKING:
    from .widget_state import LiveState

__all__ = ["check_setting"]


def check_setting(state: LiveState, name: str, value: Any) -> Any:
    """``value`` for the trait ``name`` of the live view of ``state``, checked.

    Raises
    ------
    traitlets.TraitError
        If ``value`` does not fit.

    Examples
    --------
    >>> from dipen.viz.settings import check_setting
    >>> from dipen.viz.widget_state import LiveState
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> state = LiveState([dipen.Runner(net, clock="simulated")])
    >>> check_setting(state, "speed", 2), check_setting(state, "selected_place", "a")
    (2.0, 'a')
    >>> check_setting(state, "position", -1)
    Traceback (most recent call last):
    ...
    traitlets.traitlets.TraitError: position is a store revision (>= 0), or None for the live marking, not -1
    """
    net = state.net
    if name == "selected_place":
        if value and value not in net.places:
            raise traitlets.TraitError(f"net {net.name!r} has no place {value!r} "
                                       f"(places: {', '.join(net.places) or 'none'})")
        return value
    if name == "speed":
        if value is None:
            return None
        clock = state.runners[0].clock
        if not clock.simulated:
            raise traitlets.TraitError(f"speed paces a simulated clock; the runners of net "
                                       f"{net.name!r} run on {clock!r}")
        if not (math.isfinite(value) and value > 0):
            raise traitlets.TraitError(f"speed is a positive number of simulated seconds per "
                                       f"second, or None (as fast as possible), not {value!r}")
        return float(value)
    if name == "position":
        if value is not None and value < 0:
            raise traitlets.TraitError(f"position is a store revision (>= 0), or None for the "
                                       f"live marking, not {value!r}")
        return value
    if name == "token_limit":
        if value < 1:
            raise traitlets.TraitError(f"token_limit is at least 1, not {value}")
        return value
    raise traitlets.TraitError(f"the browser does not set {name!r}")
