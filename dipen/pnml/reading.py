"""Reading PNML: a P/T net (``ptnet``, or ``pnmlcoremodel`` as pm4py and ProM write it) into a
dipen net, with every feature dipen does not model refused at once.

Reading flattens nested pages, resolves reference places and transitions to the nodes they
stand for, adds the weights of several arcs between the same place and transition in the same
direction, ignores other tools' ``toolspecific`` elements (as the standard asks) and ProM's
final markings. Everything else dipen does not model is a :class:`~dipen.errors.PnmlError`
listing every problem with its line: several nets in a file, other net types (symmetric,
high-level), unknown labels (``hlinscription``, a ``capacity`` of another tool, ``arctype``
inhibitor or reset, ...; see ``_HINTS``), arc types or stochastic timing in other tools'
``toolspecific`` elements, and self-loops whose two arcs have different weights.

This module walks the document and checks it; :mod:`.parsing` parses the XML safely and
:mod:`.building` turns what was collected into the net.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from typing import IO, Any

from ..errors import NetError, PnmlError
from ..net import Net
from .building import _Builder, _Node, _PnmlArc
from .dialect import _NET_TYPES, _TOOL
from .parsing import _parse

_HINTS = {
    "hlinitialMarking": "a high-level (coloured) marking",
    "hlinscription": "a high-level (coloured) inscription",
    "condition": "a transition guard of high-level nets",
    "declaration": "declarations of high-level nets",
    "type": "a sort of high-level nets",
    "capacity": "a capacity, which PNML P/T does not have",
    "variables": "variables of data Petri nets",
    "readVariable": "variables of data Petri nets",
    "writeVariable": "variables of data Petri nets",
}


def read(source: str | os.PathLike[str] | IO[Any]) -> Net:
    """The net in a PNML file, given by path or as an open file (text or binary).

    Raises
    ------
    PnmlError
        If the file is not well-formed XML (naming the line), declares a DTD or entities, or
        uses what dipen does not model (listing every such feature with its line).

    Examples
    --------
    >>> import io
    >>> from dipen import pnml
    >>> file = io.BytesIO(dipen.Net("n").place("a", tokens=1).to_pnml().encode())
    >>> pnml.read(file)
    Net('n', places=1, transitions=0, arcs=0)
    """
    if hasattr(source, "read"):
        data = source.read()
        where = f"PNML file {getattr(source, 'name', '<stream>')!s}"
    else:
        with open(source, "rb") as file:
            data = file.read()
        where = f"PNML file {os.fspath(source)}"
    return _Reader(data, where).net()


def loads(text: str | bytes) -> Net:
    """The net in PNML text.

    Raises
    ------
    PnmlError
        If the text is not well-formed XML (naming the line), declares a DTD or entities, or
        uses what dipen does not model (listing every such feature with its line).

    Examples
    --------
    >>> from dipen import pnml
    >>> net = pnml.loads('''<pnml xmlns="http://www.pnml.org/version-2009/grammar/pnml">
    ...   <net id="n1" type="http://www.pnml.org/version-2009/grammar/ptnet">
    ...     <page id="g1">
    ...       <place id="p1"><name><text>ready</text></name>
    ...         <initialMarking><text>2</text></initialMarking></place>
    ...       <transition id="t1"><name><text>go</text></name></transition>
    ...       <arc id="a1" source="p1" target="t1"><inscription><text>2</text></inscription></arc>
    ...     </page>
    ...   </net>
    ... </pnml>''')
    >>> net.transitions["go"]
    Transition('go', take=[ready×2])
    >>> pnml.loads('<pnml><net id="n" type="http://www.pnml.org/version-2009/grammar/symmetricnet">'
    ...            '</net></pnml>')
    Traceback (most recent call last):
    dipen.errors.PnmlError: PNML text: net 'n' uses what dipen does not model:
      - line 1: net 'n': net type 'http://www.pnml.org/version-2009/grammar/symmetricnet' (dipen reads P/T nets: ptnet or pnmlcoremodel)
    """
    return _Reader(text, "PNML text").net()


class _Reader:
    """Parses a PNML document and collects its nodes, arcs and problems."""

    def __init__(self, data: str | bytes, where: str) -> None:
        self.where = where
        self.root, self.lines = _parse(data, where)
        self.problems: list[str] = []
        self.nodes: dict[str, _Node] = {}  # places and transitions by id
        self.references: dict[str, tuple[str, str, int]] = {}  # id -> (ref, tag, line)
        self.arcs: list[_PnmlArc] = []
        self.seen: dict[str, int] = {}  # every id -> its line
        self.page_id: str | None = None

    def line(self, element: ET.Element) -> int:
        return self.lines.get(id(element), 0)

    def problem(self, element: ET.Element, what: str, text: str) -> None:
        self.problems.append(f"line {self.line(element)}: {what}: {text}")

    def unexpected(self, element: ET.Element, what: str) -> None:
        hint = _HINTS.get(element.tag, "not part of PNML P/T nets")
        if element.tag in ("arctype", "type") and what.startswith("arc"):
            value = self._value(element)
            if value.lower() == "normal":
                return
            hint = f"arc type {value!r}, which dipen does not model"
        self.problem(element, what, f"<{element.tag}> ({hint})")

    def attributes(self, element: ET.Element, what: str, allowed: tuple[str, ...]) -> None:
        for key, value in element.attrib.items():
            if key not in allowed:
                self.problem(element, what, f"attribute {key}={value!r} (not part of PNML P/T nets)")

    def register(self, element: ET.Element, what: str) -> str | None:
        pnml_id = element.get("id")
        if not pnml_id:
            self.problem(element, what, "has no id")
            return None
        if pnml_id in self.seen:
            self.problem(element, what, f"its id is already used on line {self.seen[pnml_id]}")
            return None
        self.seen[pnml_id] = self.line(element)
        return pnml_id

    # -- the document ---------------------------------------------------------------------------

    def net(self) -> Net:
        if self.root.tag != "pnml":
            raise PnmlError(f"{self.where}: not a PNML document: its root element is "
                            f"<{self.root.tag}>, not <pnml>")
        nets = [child for child in self.root if child.tag == "net"]
        if len(nets) != 1:
            listed = ", ".join(repr(n.get("id")) for n in nets)
            raise PnmlError(
                f"{self.where}: holds {len(nets)} nets{f' ({listed})' if nets else ''}; dipen "
                "reads one net per file (split the file, one net in each)"
            )
        element = nets[0]
        net_id = element.get("id") or "net"
        what = f"net {net_id!r}"
        for child in self.root:
            if child.tag != "net":
                self.unexpected(child, "document")
        self.attributes(element, what, ("id", "type"))
        if element.get("type") not in _NET_TYPES:
            self.problem(element, what, f"net type {element.get('type')!r} (dipen reads P/T "
                         "nets: ptnet or pnmlcoremodel)")
        label = None
        for child in element:
            if child.tag == "name":
                label = self._label(child)
            elif child.tag == "finalmarkings":
                pass  # ProM's and pm4py's goal marking: says nothing about behaviour
            else:
                self._content(child, what)
        name = label if label and label.strip() else net_id
        try:
            return _Builder(self.where, self.nodes, self.references, self.arcs,
                            self.problems, self.page_id).net(name, net_id)
        except PnmlError:
            raise
        except NetError as error:
            raise PnmlError(f"{self.where}: {error}", (str(error),)) from error

    def _content(self, element: ET.Element, what: str) -> None:
        """One child of a net or page: a page, a node, an arc or a label."""
        tag = element.tag
        if tag == "page":
            page_id = self.register(element, "page")
            self.page_id = self.page_id or page_id
            self.attributes(element, f"page {page_id!r}", ("id",))
            for child in element:
                if child.tag not in ("name", "graphics"):
                    self._content(child, f"page {page_id!r}")
        elif tag in ("place", "transition"):
            self._node(element)
        elif tag in ("referencePlace", "referenceTransition"):
            pnml_id = self.register(element, tag)
            self.attributes(element, f"{tag} {pnml_id!r}", ("id", "ref"))
            for child in element:
                if child.tag not in ("name", "graphics"):
                    self._toolspecific(child, f"{tag} {pnml_id!r}", arc=False)
            if pnml_id is not None:
                self.references[pnml_id] = (element.get("ref", ""), tag, self.line(element))
        elif tag == "arc":
            self._arc(element)
        else:
            self._toolspecific(element, what, arc=False)

    def _node(self, element: ET.Element) -> None:
        pnml_id = self.register(element, element.tag)
        what = f"{element.tag} {pnml_id!r}"
        self.attributes(element, what, ("id",))
        node = _Node(pnml_id or "", element.tag, self.line(element))
        for child in element:
            if child.tag == "name":
                node.label = self._label(child)
            elif child.tag == "graphics":
                node.position = self._position(child, what)
            elif child.tag == "initialMarking" and element.tag == "place":
                node.tokens = self._number(child, what, 0)
            else:
                node.settings.update(self._toolspecific(child, what, arc=False))
        if pnml_id is not None:
            self.nodes[pnml_id] = node

    def _arc(self, element: ET.Element) -> None:
        pnml_id = element.get("id")
        what = f"arc {pnml_id!r}" if pnml_id else "arc"
        if pnml_id:
            self.register(element, what)
        self.attributes(element, what, ("id", "source", "target"))
        arc = _PnmlArc(pnml_id, element.get("source", ""), element.get("target", ""),
                       self.line(element))
        if not arc.source or not arc.target:
            self.problem(element, what, "needs both a source and a target")
        for child in element:
            if child.tag == "inscription":
                arc.weight = self._number(child, what, 1)
            elif child.tag != "graphics":
                arc.settings.update(self._toolspecific(child, what, arc=True))
        self.arcs.append(arc)

    def _toolspecific(self, element: ET.Element, what: str, *, arc: bool) -> dict[str, str]:
        """dipen's settings in ``element`` if it is dipen's toolspecific; other tools' are
        ignored unless they change behaviour; any other element is a problem."""
        if element.tag != "toolspecific":
            self.unexpected(element, what)
            return {}
        tool = element.get("tool", "")
        if tool == _TOOL:
            known = ("kind", "name") if arc else ("capacity", "region", "concurrency")
            settings = {}
            for child in element:
                if child.tag in known:
                    settings[child.tag] = child.text or ""
                else:
                    self.problem(child, what, f"unknown dipen setting <{child.tag}> (written by "
                                 "a newer dipen?)")
            return settings
        if tool == "StochasticPetriNet":
            self.problem(element, what, "stochastic timing, priorities and weights "
                         "(toolspecific of StochasticPetriNet), which dipen does not model")
        elif arc:
            for part in element.iter():
                for key, value in [*part.attrib.items(), (part.tag, self._value(part))]:
                    if "type" in key.lower() and value and value.lower() != "normal":
                        self.problem(element, what, f"arc type {value!r} in toolspecific of "
                                     f"{tool!r}, which dipen does not model")
                        return {}
        return {}

    def _value(self, element: ET.Element) -> str:
        """The value of a label: its ``<text>``, its ``value`` attribute or its own text."""
        text = element.find("text")
        value = text.text if text is not None else element.get("value", element.text)
        return (value or "").strip()

    def _label(self, element: ET.Element) -> str | None:
        text = element.find("text")
        return None if text is None or not text.text else text.text

    def _number(self, element: ET.Element, what: str, minimum: int) -> int:
        text = element.find("text")
        value = "" if text is None or text.text is None else text.text.strip()
        if value.isdigit() and value.isascii() and int(value) >= minimum:
            return int(value)
        self.problem(element, what, f"<{element.tag}> is {value!r}, not a whole number "
                     f">= {minimum}")
        return minimum

    def _position(self, element: ET.Element, what: str) -> tuple[float, float] | None:
        position = element.find("position")
        if position is None:
            return None
        try:
            point = (float(position.get("x", "")), float(position.get("y", "")))
        except ValueError:
            point = (math.nan, math.nan)
        if not all(map(math.isfinite, point)):
            self.problem(position, what, f"position x={position.get('x')!r} "
                         f"y={position.get('y')!r} is not two finite numbers")
            return None
        return point
