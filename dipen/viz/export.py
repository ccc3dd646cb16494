"""Export of a net for other tools: Graphviz DOT text (no Graphviz install needed to write it).

Places are circles labelled with their name and token count, transitions are boxes (one
cluster per region when the net has several), arcs follow the drawing's conventions: ``COND``
dashed, ``IN_OUT`` with heads at both ends, weights above 1 as labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..elements import ArcKind

from ..net import Net

__all__ = ["to_dot"]


def _quote(*lines: str) -> str:
    """A DOT string of ``lines`` (joined by DOT's line break ``\\n``)."""
    escaped = (line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)
    return '"' + "\\n".join(escaped) + '"'


def _count(net: Net, marking: Mapping[str, Any] | None, place: str) -> int:
    if marking is None:
        return len(net.places[place].initial)
    tokens = marking.get(place, 0)
    return tokens if isinstance(tokens, int) else len(tokens)


def to_dot(net: Net, marking: Mapping[str, Any] | None = None) -> str:
    """The net as Graphviz DOT text, with the initial marking or ``marking`` (a
    :class:`dipen.Marking` or ``{place: count}``).

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
    >>> print(net.to_dot())
    digraph "n" {
      rankdir=LR;
      node [fontname="Helvetica"];
      "a" [shape=circle, label="a\\n2"];
      "b" [shape=circle, label="b"];
      "t" [shape=box, style=filled, fillcolor="#eeeeee", label="t"];
      "a" -> "t";
      "t" -> "b";
    }
    """
    lines = [f"digraph {_quote(net.name)} {{", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for name, place in net.places.items():
        count = _count(net, marking, name)
        below = [str(count)] if count else []
        if place.capacity is not None:
            below = [f"{count}/{place.capacity}"]
        lines.append(f"  {_quote(name)} [shape=circle, label={_quote(name, *below)}];")
    regions = net.regions
    for region, names in regions.items():
        indent = "  "
        if len(regions) > 1:
            lines.append(f"  subgraph {_quote('cluster_' + region)} {{")
            lines.append(f"    label={_quote(region)}; style=rounded; color=\"#888888\";")
            indent = "    "
        for name in names:
            lines.append(f'{indent}{_quote(name)} [shape=box, style=filled, fillcolor="#eeeeee", '
                         f"label={_quote(name)}];")
        if len(regions) > 1:
            lines.append("  }")
    for arc in net.arcs:
        attributes = []
        if arc.kind.reads:
            attributes.append("style=dashed")
        if arc.kind in (ArcKind.IN_OUT, ArcKind.OUT_COND):
            attributes.append("dir=both")
        if arc.weight > 1:
            attributes.append(f'label="{arc.weight}"')
        source, target = ((arc.transition, arc.place) if arc.kind is ArcKind.OUT
                          else (arc.place, arc.transition))
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {_quote(source)} -> {_quote(target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"
