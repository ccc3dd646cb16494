"""Building the net from what a PNML document gave: dipen names for the nodes, references
followed to the nodes they stand for, the PNML arcs between a place and a transition merged
into one dipen arc, and every problem reported at once.

Names: a node's dipen name is its PNML name when that name is unique among the net's places and
transitions and a valid dipen name (no ``/``); otherwise its PNML id. Arcs: several arcs between
the same place and transition in the same direction add their weights; an arc each way is a
self-loop (``IN_OUT``), or a read arc when dipen marked both halves; a self-loop whose two
directions have different weights is a problem (one dipen arc has one weight).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..errors import PnmlError
from ..elements import ArcKind
from ..net import Net
from .dialect import _ORIGINS, _Origin


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


class _Builder:
    """Turns the nodes, references and arcs a reader collected into a net."""

    def __init__(self, where: str, nodes: dict[str, _Node],
                 references: dict[str, tuple[str, str, int]], arcs: list[_PnmlArc],
                 problems: list[str], page_id: str | None) -> None:
        self.where = where
        self.nodes = nodes  # places and transitions by id
        self.references = references  # id -> (ref, tag, line)
        self.arcs = arcs
        self.problems = problems  # found while reading; naming the nodes adds more
        self.page_id = page_id

    def net(self, name: str, net_id: str) -> Net:
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
