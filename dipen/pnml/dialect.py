"""What reading and writing PNML share: the namespaces and net types, dipen's ``toolspecific``
element, XML names, and the memory of the ids and names of a net read from a file.

A net read from PNML is remembered (in a weak dictionary, for as long as the net object lives)
with the ids and names of its file, so that writing it again keeps them.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

from ..net import Net

#: The namespace of PNML documents.
PNML_NAMESPACE = "http://www.pnml.org/version-2009/grammar/pnml"
#: The net type of P/T nets, the one dipen writes.
PTNET = "http://www.pnml.org/version-2009/grammar/ptnet"
_CORE_MODEL = "http://www.pnml.org/version-2009/grammar/pnmlcoremodel"  # pm4py and ProM write it
_NET_TYPES = (PTNET, _CORE_MODEL)
_TOOL, _TOOL_VERSION = "dipen", "1"  # the version of dipen's toolspecific format
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@dataclass
class _Origin:
    """The PNML ids and names of a net read from a file, for writing it again."""

    net_id: str
    page_id: str
    ids: dict[str, str]  # dipen name -> PNML id
    labels: dict[str, str | None]  # dipen name -> PNML name, where they differ
    arc_ids: dict[tuple[str, str, bool], str]  # (place, transition, towards it) -> PNML id


_ORIGINS: weakref.WeakKeyDictionary[Net, _Origin] = weakref.WeakKeyDictionary()
