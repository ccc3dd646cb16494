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

The package: :mod:`.dialect` holds what both directions share (namespaces, dipen's
``toolspecific`` element, the ids and names remembered from a file), :mod:`.writing` the export,
:mod:`.reading` the import and its checks, with :mod:`.parsing` (safe XML with line numbers) and
:mod:`.building` (names, references and arcs into a net) beside it.

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

from .dialect import _XML_NAME, PNML_NAMESPACE, PTNET  # noqa: F401  (_XML_NAME: for the tests)
from .reading import loads, read
from .writing import _halves, dumps, write  # noqa: F401  (_halves: for the tests)

__all__ = ["PNML_NAMESPACE", "PTNET", "dumps", "loads", "read", "write"]
