"""Drawing nets: networkx graphs, layouts, matplotlib figures and SVG.

Importing this package is cheap; matplotlib and networkx load when a function needs them.

Examples
--------
>>> from dipen import viz
>>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
>>> figure = viz.draw(net)
>>> viz.to_networkx(net).number_of_nodes(), sorted(viz.layout(net))
(3, ['a', 'b', 't'])
"""

from __future__ import annotations

from .draw import STATES, draw, draw_marking, layout, to_networkx, to_svg

__all__ = ["STATES", "draw", "draw_marking", "layout", "to_networkx", "to_svg"]
