"""Writing PNML: a net as one P/T net (``ptnet``) on one page.

Read arcs become self-loops marked ``<toolspecific tool="dipen">``; capacities, regions,
concurrency and arc names go into dipen's ``toolspecific`` elements; a net read from a file keeps
that file's ids and names. Coloured nets (tokens with data, transitions that run code) are a
:class:`~dipen.errors.PnmlError`.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from typing import IO, Any

from ..errors import PnmlError
from ..elements import Arc, ArcKind
from ..net import Net
from .dialect import (
    _ORIGINS,
    _TOOL,
    _TOOL_VERSION,
    _XML_NAME,
    PNML_NAMESPACE,
    PTNET,
    _Origin,
)


def dumps(net: Net) -> str:
    """The net as PNML text: one P/T net (``ptnet``) on one page.

    Raises
    ------
    PnmlError
        If the net is coloured: places hold tokens with data or transitions run code.

    Examples
    --------
    >>> from dipen import pnml
    >>> net = dipen.Net("n").place("a", tokens=2, capacity=3).place("b").transition(
    ...     "t", take={"a": 2}, give="b")
    >>> print(pnml.dumps(net))
    <?xml version="1.0" encoding="UTF-8"?>
    <pnml xmlns="http://www.pnml.org/version-2009/grammar/pnml">
      <net id="n" type="http://www.pnml.org/version-2009/grammar/ptnet">
        <name>
          <text>n</text>
        </name>
        <page id="page">
          <place id="a">
            <name>
              <text>a</text>
            </name>
            <initialMarking>
              <text>2</text>
            </initialMarking>
            <toolspecific tool="dipen" version="1">
              <capacity>3</capacity>
            </toolspecific>
          </place>
          <place id="b">
            <name>
              <text>b</text>
            </name>
          </place>
          <transition id="t">
            <name>
              <text>t</text>
            </name>
          </transition>
          <arc id="a1" source="a" target="t">
            <inscription>
              <text>2</text>
            </inscription>
          </arc>
          <arc id="a2" source="t" target="b" />
        </page>
      </net>
    </pnml>
    """
    _check_writable(net)
    origin = _ORIGINS.get(net)
    used: set[str] = set()
    ids: dict[str, str] = {}
    for name in [*net.places, *net.transitions]:  # first the ids that are wanted ...
        wanted = origin.ids.get(name) if origin else None
        if wanted is None and _XML_NAME.fullmatch(name):
            wanted = name
        if wanted is not None and wanted not in used:
            ids[name] = wanted
            used.add(wanted)
    own_id = net.name if _XML_NAME.fullmatch(net.name) else None
    net_id = _fresh(origin.net_id if origin else own_id, "net", used)
    page_id = _fresh(origin.page_id if origin else "page", "page", used)
    for name in [*net.places, *net.transitions]:  # ... then made-up ones for the rest
        if name not in ids:
            ids[name] = _fresh(None, "p" if name in net.places else "t", used)

    root = ET.Element("pnml", xmlns=PNML_NAMESPACE)
    element = ET.SubElement(root, "net", id=net_id, type=PTNET)
    _text(ET.SubElement(element, "name"), net.name)
    page = ET.SubElement(element, "page", id=page_id)
    for place in net.places.values():
        node = _node(page, "place", ids[place.name], _label(origin, place.name), place.position)
        if place.initial:
            _text(ET.SubElement(node, "initialMarking"), str(len(place.initial)))
        _tool(node, capacity=place.capacity)
    for transition in net.transitions.values():
        node = _node(page, "transition", ids[transition.name], _label(origin, transition.name),
                     transition.position)
        _tool(node, region=None if transition.region == "default" else transition.region,
              concurrency=None if transition.concurrency == 1 else transition.concurrency)
    for arc in net.arcs:
        for towards, weight, kind in _halves(arc):
            wanted = origin.arc_ids.get((arc.place, arc.transition, towards)) if origin else None
            ends = (ids[arc.place], ids[arc.transition])
            source, target = ends if towards else ends[::-1]
            pnml_arc = ET.SubElement(page, "arc", id=_fresh(wanted, "a", used), source=source,
                                     target=target)
            if weight != 1:
                _text(ET.SubElement(pnml_arc, "inscription"), str(weight))
            _tool(pnml_arc, kind=kind, name=arc.name)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def write(net: Net, target: str | os.PathLike[str] | IO[Any]) -> None:
    """Write the net as PNML (see :func:`dumps`) to a path or an open file (text or binary).

    Raises
    ------
    PnmlError
        If the net is coloured: places hold tokens with data or transitions run code.

    Examples
    --------
    >>> import io
    >>> from dipen import pnml
    >>> file = io.StringIO()
    >>> pnml.write(dipen.Net("n").place("a", tokens=1), file)
    >>> pnml.loads(file.getvalue()).places["a"]
    Place('a', tokens=1)
    """
    text = dumps(net)
    if hasattr(target, "write"):
        try:
            target.write(text)
        except TypeError:  # a binary file
            target.write(text.encode("utf-8"))
        return
    with open(target, "w", encoding="utf-8", newline="\n") as file:
        file.write(text)


def _check_writable(net: Net) -> None:
    problems = [f"place {p.name!r} holds tokens with data" for p in net.places.values()
                if any(data is not None for data in p.initial)]
    for t in net.transitions.values():
        code = [f"{label}=" for label, value in
                (("run", t.run), ("guard", t.guard), ("executor", t.executor)) if value is not None]
        if code:
            problems.append(f"transition {t.name!r} runs code ({', '.join(code)})")
    if problems:
        raise PnmlError(
            f"net {net.name!r} is coloured and cannot be written as a PNML P/T net, which carries "
            "token counts only:\n" + "\n".join(f"  - {problem}" for problem in problems),
            tuple(problems),
        )


def _halves(arc: Arc) -> list[tuple[bool, int, str | None]]:
    """The PNML arcs of a dipen arc: (towards the transition, weight, dipen kind marker)."""
    w = arc.weight
    halves: dict[ArcKind, list[tuple[bool, int, str | None]]] = {
        ArcKind.IN: [(True, w, None)],
        ArcKind.OUT: [(False, w, None)],
        ArcKind.IN_OUT: [(True, w, None), (False, w, None)],
        ArcKind.COND: [(True, w, "cond"), (False, w, "cond")],
        ArcKind.OUT_COND: [(True, w, "out_cond"), (False, 2 * w, "out_cond")],
    }
    return halves[arc.kind]


def _fresh(wanted: str | None, prefix: str, used: set[str]) -> str:
    """``wanted`` if it is an unused id (an XML name unless it came from a file), else the first
    unused ``prefix1``, ``prefix2``, ...; the id is marked used."""
    if wanted is None or wanted in used or not wanted:
        number = 1
        while f"{prefix}{number}" in used:
            number += 1
        wanted = f"{prefix}{number}"
    used.add(wanted)
    return wanted


def _label(origin: _Origin | None, name: str) -> str | None:
    return origin.labels.get(name, name) if origin else name


def _text(parent: ET.Element, text: str) -> None:
    ET.SubElement(parent, "text").text = text


def _node(page: ET.Element, tag: str, pnml_id: str, label: str | None,
          position: tuple[float, float] | None) -> ET.Element:
    node = ET.SubElement(page, tag, id=pnml_id)
    if label is not None:
        _text(ET.SubElement(node, "name"), label)
    if position is not None:
        x, y = (repr(int(v)) if v.is_integer() else repr(v) for v in position)
        ET.SubElement(ET.SubElement(node, "graphics"), "position", x=x, y=y)
    return node


def _tool(parent: ET.Element, **settings: Any) -> None:
    """A dipen ``toolspecific`` element with the settings that are not None, if any."""
    given = {key: value for key, value in settings.items() if value is not None}
    if given:
        tool = ET.SubElement(parent, "toolspecific", tool=_TOOL, version=_TOOL_VERSION)
        for key, value in given.items():
            ET.SubElement(tool, key).text = str(value)
