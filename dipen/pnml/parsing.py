"""Parsing PNML's XML safely: the element tree with the line of every element, and no DTDs.

Only the standard library's expat parses. A document that declares a DTD or entities is
refused, so it cannot expand entities (no XML bombs); XML that is not well-formed is a
:class:`~dipen.errors.PnmlError` naming the line and the element it stopped inside.
Namespaces are dropped from tags and attributes: PNML has one.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from xml.parsers.expat import ExpatError, ParserCreate

from ..errors import PnmlError


def _local(name: str) -> str:
    """``name`` without its namespace (expat joins them with a space)."""
    return name.rpartition(" ")[2]


def _parse(data: str | bytes, where: str) -> tuple[ET.Element, dict[int, int]]:
    """The root element of the document and the line of each element (by ``id()``)."""
    lines: dict[int, int] = {}
    encoding = None
    if isinstance(data, str):
        data, encoding = data.encode("utf-8"), "utf-8"
    parser = ParserCreate(encoding, " ")
    builder = ET.TreeBuilder()
    open_elements: list[tuple[str, int]] = []

    def start(tag: str, attributes: dict[str, str]) -> None:
        element = builder.start(_local(tag), {_local(k): v for k, v in attributes.items()})
        lines[id(element)] = parser.CurrentLineNumber
        open_elements.append((_local(tag), parser.CurrentLineNumber))

    def end(tag: str) -> None:
        builder.end(_local(tag))
        open_elements.pop()

    def refuse(*_: Any) -> Any:
        raise PnmlError(
            f"{where}: line {parser.CurrentLineNumber}: the document declares a DTD or "
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
        raise PnmlError(f"{where}: not well-formed XML: {error}{inside}") from None
    return builder.close(), lines
