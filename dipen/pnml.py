"""PNML import and export of P/T nets (ISO/IEC 15909-2, net type ``ptnet``).

:func:`dumps` and :func:`write` turn a net into PNML; :func:`loads` and :func:`read` turn PNML
into a net. Writing a net and reading it back gives an equal net (the same ``Net.to_dict()``);
reading a file and writing it again keeps what dipen models: places, transitions, arcs and their
weights, the initial marking, names, ids and node positions. Only the standard library parses
and writes the XML.

How dipen's concepts meet PNML P/T:

- **Names and ids.** A node's dipen name is its PNML ``<name>`` when that name is unique among
  the net's places and transitions and a valid dipen name (no ``/``); otherwise its PNML id.
  Writing uses the dipen name as the id when it is an XML name (else ``p1``, ``t1``, ...) and
  always writes the name. A net read from PNML remembers the ids and names of its file (for as
  long as the net object lives), so that writing it again keeps them.
- **Read arcs** (``COND``) are written as a self-loop: an arc each way with the read weight,
  both marked ``<toolspecific tool="dipen">`` so that dipen reads a read arc back. Other tools
  see the P/T equivalent, with the same reachable markings; dipen differs only in letting
  firings that read a place run at the same time. ``OUT_COND`` of weight w becomes w in, 2w
  out (read w, give w); ``IN_OUT`` is a plain self-loop.
- **Capacities, regions, concurrency and arc names** go into ``toolspecific tool="dipen"``
  elements, which other tools ignore: they see every place unbounded.
- **Coloured nets** cannot be written: PNML P/T carries token counts only, so token data and
  transitions that run code (``run``, ``guard``, ``executor``) are a :class:`PnmlError` naming
  each place and transition.
- **Graphics**: node positions only, in PNML coordinates (y grows downwards), kept in
  ``Place.position`` and ``Transition.position``; sizes, colours and arc bends are ignored.

Reading flattens nested pages, resolves reference places and transitions to the nodes they
stand for, adds the weights of several arcs between the same place and transition in the same
direction, ignores other tools' ``toolspecific`` elements (as the standard asks) and ProM's
final markings. Everything else dipen does not model is a :class:`PnmlError` listing every
problem with its line: several nets in a file, other net types (symmetric, high-level),
unknown labels (``hlinscription``, a ``capacity`` of another tool, ``arctype`` inhibitor or
reset, ...), arc types or stochastic timing in other tools' ``toolspecific`` elements, and
self-loops whose two arcs have different weights (one dipen arc has one weight).

DTDs and entity declarations are refused, so a document cannot expand entities (no XML bombs).

Examples
--------
>>> net = dipen.Net("pt").place("a", tokens=2).place("b").transition("t", take={"a": 2}, give="b")
>>> text = dipen.pnml.dumps(net)
>>> text.splitlines()[1]
'<pnml xmlns="http://www.pnml.org/version-2009/grammar/pnml">'
>>> dipen.pnml.loads(text).to_dict() == net.to_dict()
True
"""

from __future__ import annotations

import math
import os
import re
import weakref
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any
from xml.parsers.expat import ExpatError, ParserCreate

from .errors import NetError, PnmlError
from .net import Arc, ArcKind, Net

__all__ = ["PNML_NAMESPACE", "PTNET", "dumps", "loads", "read", "write"]

#: The namespace of PNML documents.
PNML_NAMESPACE = "http://www.pnml.org/version-2009/grammar/pnml"
#: The net type of P/T nets, the one dipen writes.
PTNET = "http://www.pnml.org/version-2009/grammar/ptnet"
_CORE_MODEL = "http://www.pnml.org/version-2009/grammar/pnmlcoremodel"  # pm4py and ProM write it
_NET_TYPES = (PTNET, _CORE_MODEL)
_TOOL, _TOOL_VERSION = "dipen", "1"  # the version of dipen's toolspecific format
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
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


# -- writing ----------------------------------------------------------------------------------


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


# -- reading ----------------------------------------------------------------------------------


@dataclass
class _Origin:
    """The PNML ids and names of a net read from a file, for writing it again."""

    net_id: str
    page_id: str
    ids: dict[str, str]  # dipen name -> PNML id
    labels: dict[str, str | None]  # dipen name -> PNML name, where they differ
    arc_ids: dict[tuple[str, str, bool], str]  # (place, transition, towards it) -> PNML id


_ORIGINS: weakref.WeakKeyDictionary[Net, _Origin] = weakref.WeakKeyDictionary()


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


@dataclass
class _Node:
    """A place or transition as the file gives it."""

    id: str
    tag: str
    line: int
    label: str | None = None
    position: tuple[float, float] | None = None
    tokens: int = 0
    settings: dict[str, str] = field(default_factory=dict)  # from dipen's toolspecific


@dataclass
class _PnmlArc:
    id: str | None
    source: str
    target: str
    line: int
    weight: int = 1
    settings: dict[str, str] = field(default_factory=dict)


def _local(name: str) -> str:
    """``name`` without its namespace (expat joins them with a space)."""
    return name.rpartition(" ")[2]


class _Reader:
    """Parses a PNML document and collects its nodes, arcs and problems."""

    def __init__(self, data: str | bytes, where: str) -> None:
        self.where = where
        self.lines: dict[int, int] = {}
        self.root = self._parse(data)
        self.problems: list[str] = []
        self.nodes: dict[str, _Node] = {}  # places and transitions by id
        self.references: dict[str, tuple[str, str, int]] = {}  # id -> (ref, tag, line)
        self.arcs: list[_PnmlArc] = []
        self.seen: dict[str, int] = {}  # every id -> its line
        self.page_id: str | None = None

    def _parse(self, data: str | bytes) -> ET.Element:
        encoding = None
        if isinstance(data, str):
            data, encoding = data.encode("utf-8"), "utf-8"
        parser = ParserCreate(encoding, " ")
        builder = ET.TreeBuilder()
        open_elements: list[tuple[str, int]] = []

        def start(tag: str, attributes: dict[str, str]) -> None:
            element = builder.start(_local(tag), {_local(k): v for k, v in attributes.items()})
            self.lines[id(element)] = parser.CurrentLineNumber
            open_elements.append((_local(tag), parser.CurrentLineNumber))

        def end(tag: str) -> None:
            builder.end(_local(tag))
            open_elements.pop()

        def refuse(*_: Any) -> Any:
            raise PnmlError(
                f"{self.where}: line {parser.CurrentLineNumber}: the document declares a DTD or "
                "entities, which dipen refuses (entities can expand without bound); remove the "
                "<!DOCTYPE ...> declaration"
            )

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = builder.data
        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        parser.ExternalEntityRefHandler = refuse
        parser.buffer_text = True
        try:
            parser.Parse(data, True)
        except ExpatError as error:
            inside = ""
            if open_elements:
                tag, line = open_elements[-1]
                inside = f" (inside <{tag}> opened on line {line})"
            raise PnmlError(f"{self.where}: not well-formed XML: {error}{inside}") from None
        return builder.close()

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
            return self._build(name, net_id)
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

    # -- the net ------------------------------------------------------------------------------

    def _build(self, name: str, net_id: str) -> Net:
        names = self._names()
        problems: list[str] = []
        groups: dict[tuple[str, str], list[tuple[bool, _PnmlArc]]] = {}
        for arc in self.arcs:
            ends = [self._resolve(end, arc, problems) for end in (arc.source, arc.target)]
            if None in ends:
                continue
            tags = [self.nodes[end].tag for end in ends]  # type: ignore[index]
            if tags[0] == tags[1]:
                problems.append(f"line {arc.line}: arc {arc.id!r} joins two {tags[0]}s")
                continue
            towards = tags[0] == "place"
            place, transition = ends if towards else ends[::-1]
            groups.setdefault((place, transition), []).append((towards, arc))  # type: ignore[arg-type]
        arcs: dict[str, list[tuple[str, ArcKind, int, str | None]]] = {}
        for (place, transition), group in groups.items():
            resolved = self._kind(group, problems)
            if resolved is not None:
                arc_name = next((a.settings["name"] for _, a in group if "name" in a.settings), None)
                arcs.setdefault(transition, []).append((place, *resolved, arc_name))
        problems = self.problems + problems
        if problems:
            raise PnmlError(
                f"{self.where}: net {name!r} uses what dipen does not model:\n"
                + "\n".join(f"  - {problem}" for problem in problems),
                tuple(problems),
            )
        net = Net(name)
        for node in self.nodes.values():
            settings = node.settings
            if node.tag == "place":
                capacity = settings.get("capacity")
                net.place(names[node.id], tokens=node.tokens, position=node.position,
                          capacity=None if capacity is None else _integer(capacity))
            else:
                net.transition(names[node.id], region=settings.get("region", "default"),
                               concurrency=_integer(settings.get("concurrency", "1")),
                               position=node.position)
        for transition, listed in arcs.items():
            for place, kind, weight, arc_name in listed:
                net.arc(names[place], names[transition], kind, name=arc_name, weight=weight)
        arc_ids: dict[tuple[str, str, bool], str] = {}
        for (place, transition), group in groups.items():
            for towards, arc in group:
                if arc.id:
                    arc_ids.setdefault((names[place], names[transition], towards), arc.id)
        _ORIGINS[net] = _Origin(
            net_id, self.page_id or "page",
            ids={names[i]: i for i in self.nodes},
            labels={names[i]: n.label for i, n in self.nodes.items() if n.label != names[i]},
            arc_ids=arc_ids,
        )
        return net

    def _names(self) -> dict[str, str]:
        """The dipen name of every node by id: its PNML name if unique and valid, else its id."""
        nodes = list(self.nodes.values())
        counts = Counter(node.label for node in nodes)
        by_id = {node.id for node in nodes
                 if node.label is None or counts[node.label] > 1 or not _valid(node.label)}
        while True:  # a name that equals the id of a node named by its id must give way too
            more = {node.id for node in nodes if node.id not in by_id and node.label in by_id}
            if not more:
                break
            by_id |= more
        names = {}
        for node in nodes:
            names[node.id] = node.id if node.id in by_id else node.label or ""
            if not _valid(names[node.id]):
                self.problems.append(
                    f"line {node.line}: {node.tag} {node.id!r}: neither its name {node.label!r} "
                    "(not unique or not valid) nor its id can be a dipen name (non-empty, "
                    "without '/')"
                )
        return names

    def _resolve(self, end: str, arc: _PnmlArc, problems: list[str]) -> str | None:
        """The place or transition an arc end stands for, following references."""
        seen = []
        while end in self.references and end not in seen:
            seen.append(end)
            end = self.references[end][0]
        if end in self.nodes:
            if not seen or self.references[seen[0]][1] == f"reference{self.nodes[end].tag.title()}":
                return end
            problems.append(f"line {arc.line}: arc {arc.id!r}: {self.references[seen[0]][1]} "
                            f"{seen[0]!r} refers to {self.nodes[end].tag} {end!r}")
        elif end in seen:
            problems.append(f"line {arc.line}: arc {arc.id!r}: references form a cycle "
                            f"({' -> '.join(seen)} -> {end})")
        else:
            problems.append(f"line {arc.line}: arc {arc.id!r}: no place or transition "
                            f"{end!r}{' (through references)' if seen else ''}")
        return None

    def _kind(self, group: list[tuple[bool, _PnmlArc]], problems: list[str]
              ) -> tuple[ArcKind, int] | None:
        """The dipen arc (kind, weight) for the PNML arcs between one place and transition."""
        taken = sum(arc.weight for towards, arc in group if towards)
        given = sum(arc.weight for towards, arc in group if not towards)
        marks = {arc.settings.get("kind") for _, arc in group}
        if len(group) == 2 and taken and given and len(marks) == 1:  # dipen's read arcs
            mark = marks.pop()
            if mark == "cond" and taken == given:
                return ArcKind.COND, taken
            if mark == "out_cond" and given == 2 * taken:
                return ArcKind.OUT_COND, taken
        if taken and given:
            if taken == given:
                return ArcKind.IN_OUT, taken
            arc = group[0][1]
            problems.append(
                f"line {arc.line}: arc {arc.id!r}: a self-loop taking {taken} and giving {given} "
                "tokens; one dipen arc per place and transition has one weight"
            )
            return None
        return (ArcKind.IN, taken) if taken else (ArcKind.OUT, given)


def _integer(value: str) -> Any:
    """A number from dipen's toolspecific, else the text: the net builder checks both."""
    return int(value) if value.strip().isdigit() else value


def _valid(name: str | None) -> bool:
    return name is not None and bool(name.strip()) and "/" not in name
