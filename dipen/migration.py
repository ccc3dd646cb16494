"""Changing the net of a running workflow: move transitions between regions, remove stale
ones, add or drop places (``dipen migrate``, ``dipen run --migrate``).

A migration is safe by construction: every transition it moves, changes or removes is first
blocked through the store (its old leader starts no new firing), its running firings end (or
are cancelled and give their tokens back), and only then is the new definition written, in one
change that also checks that nobody else changed the definition and that the places it drops
are empty. Runners of the old net stop when they see it (``NetMismatchError``: restart them
with the new net); runners of the new net then lead the new regions, and the blocks are lifted.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .control import Control
from .errors import NetError, RunnerError
from .state import Commit
from .stores.base import net_differences
from .tokens import Token

if TYPE_CHECKING:
    from .net import Net
    from .stores.base import Store

__all__ = ["Migration", "migrate", "plan"]


@dataclass
class Migration:
    """What a migration changes (and whether it was written).

    Examples
    --------
    >>> Migration(moved={"ship": ("left", "right")}).describe()
    "move transition 'ship' from region 'left' to region 'right'"
    """

    moved: dict[str, tuple[str, str]] = field(default_factory=dict)  # transition: (old, new region)
    changed: list[str] = field(default_factory=list)  # transitions whose arcs/kind changed
    removed: list[str] = field(default_factory=list)  # transitions no longer in the net
    added: list[str] = field(default_factory=list)  # transitions new in the net
    dropped: list[str] = field(default_factory=list)  # places no longer in the net
    created: list[str] = field(default_factory=list)  # places new in the net
    other: list[str] = field(default_factory=list)  # other differences (capacities, positions)
    revision: int | None = None  # where the new definition was written

    @property
    def stopping(self) -> list[str]:
        """The transitions that must stop before the new definition is written."""
        return sorted({*self.moved, *self.changed, *self.removed})

    @property
    def empty(self) -> bool:
        return not (self.moved or self.changed or self.removed or self.added or self.dropped
                    or self.created or self.other)

    def describe(self) -> str:
        """The steps in words, one per line."""
        lines = [f"move transition {t!r} from region {a!r} to region {b!r}"
                 for t, (a, b) in sorted(self.moved.items())]
        lines += [f"change transition {t!r} (it stops first)" for t in self.changed]
        lines += [f"remove transition {t!r} (it stops first)" for t in self.removed]
        lines += [f"add transition {t!r}" for t in self.added]
        lines += [f"add place {p!r}" for p in self.created]
        lines += [f"drop place {p!r} (it must be empty)" for p in self.dropped]
        lines += self.other
        return "\n".join(lines) or "nothing to migrate"


def _shape(transition: dict[str, Any]) -> Any:
    return (transition.get("kind"), transition.get("manual", False),
            sorted((a["place"], a["kind"], a["weight"]) for a in transition["arcs"]))


def plan(stored: dict[str, Any], net: Net) -> Migration:
    """What migrating from the ``stored`` definition to ``net`` changes.

    Raises
    ------
    NetError
        If the net has another name (that is another net: use another prefix).

    Examples
    --------
    >>> old = dipen.Net("n").place("a").transition("t", take="a", region="left")
    >>> new = dipen.Net("n").place("a").place("b").transition("t", take="a", region="right")
    >>> print(plan(old.to_dict(), new).describe())
    move transition 't' from region 'left' to region 'right'
    add place 'b'
    """
    given = net.to_dict()
    if stored["name"] != given["name"]:
        raise NetError(f"the store holds net {stored['name']!r}, not {given['name']!r}: a "
                       "migration keeps the name (use another prefix for another net)")
    old = {t["name"]: t for t in stored["transitions"]}
    new = {t["name"]: t for t in given["transitions"]}
    migration = Migration(
        moved={name: (old[name]["region"], new[name]["region"]) for name in sorted(old.keys() & new.keys())
               if old[name]["region"] != new[name]["region"]},
        changed=sorted(name for name in old.keys() & new.keys()
                       if _shape(old[name]) != _shape(new[name])),
        removed=sorted(old.keys() - new.keys()), added=sorted(new.keys() - old.keys()))
    old_places = {p["name"]: p for p in stored["places"]}
    new_places = {p["name"]: p for p in given["places"]}
    migration.dropped = sorted(old_places.keys() - new_places.keys())
    migration.created = sorted(new_places.keys() - old_places.keys())
    covered = {*migration.moved, *migration.changed, *migration.removed, *migration.added,
               *migration.dropped, *migration.created}
    migration.other = [line for line in net_differences(stored, given)
                       if not any(f"{name!r}" in line for name in covered)]
    return migration


async def _settle(store: Store, names: list[str], timeout: float) -> None:
    """Wait until no firing of ``names`` runs."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        running = [r for r in (await store.snapshot()).firings.values() if r.transition in names]
        if not running:
            return
        if asyncio.get_running_loop().time() > deadline:
            listed = ", ".join(f"{r.id} of {r.transition!r} on {r.node}" for r in running)
            raise RunnerError(f"migration: firings still run after {timeout:g}s ({listed}); "
                              "wait longer, or migrate with cancel=True (dipen migrate --cancel)")
        await asyncio.sleep(0.05)


async def migrate(store: Store, net: Net, *, cancel: bool = False, timeout: float = 60.0,
                  by: str = "migration", dry_run: bool = False,
                  report: Callable[[str], Any] = print) -> Migration:
    """Change the net stored in ``store`` to ``net``, safely (see the module's docstring).

    ``cancel`` cancels the running firings of the transitions that must stop (their tokens go
    back) instead of waiting up to ``timeout`` seconds for them to end. ``dry_run`` only plans.

    Raises
    ------
    RunnerError
        If firings still run after ``timeout``, or a dropped place holds tokens, or a place
        holds more tokens than its new capacity; nothing is changed then (blocks are lifted).

    Examples
    --------
    >>> import asyncio
    >>> old = dipen.Net("shop").place("orders", tokens=1).place("sent")
    >>> old = old.transition("ship", take="orders", give="sent", region="left")
    >>> store = dipen.MemoryStore()
    >>> new = dipen.Net("shop").place("orders", tokens=1).place("sent")
    >>> new = new.transition("ship", take="orders", give="sent", region="right")
    >>> async def main():
    ...     await dipen.Runner(old, store=store).open()
    ...     await dipen.migrate(store, new, report=lambda line: None)
    ...     return (await dipen.Runner(new, store=store, region="right").run()).firings
    >>> asyncio.run(main())
    1
    """
    stored, revision = await store.read_definition()
    migration = plan(stored, net)
    report(migration.describe())
    if migration.empty or dry_run:
        return migration
    state = await store.snapshot()
    problems = [f"place {name!r} is dropped but holds {len(state.places[name])} token(s)"
                for name in migration.dropped if len(state.places[name])]
    capacities = {p["name"]: p["capacity"] for p in net.to_dict()["places"]}
    problems += [f"place {name!r} holds {len(place)} tokens, more than its new capacity "
                 f"{capacities[name]}" for name, place in state.places.items()
                 if capacities.get(name) is not None and len(place) > capacities[name]]
    if problems:
        raise RunnerError("migration refused: " + "; ".join(problems))
    control = Control(store, by=by)
    stopping = migration.stopping
    for name in stopping:
        await control.block(name, why="migration")
        report(f"blocked {name!r}")
    try:
        if cancel:
            for name in stopping:
                await control.cancel(name, why="migration")
        await _settle(store, stopping, timeout)
        add = tuple((place.name, Token(store.new_token_id(), data))
                    for place in net.places.values() if place.name in migration.created
                    for data in place.initial)
        change = await store.commit(Commit(
            "migrate", None, None, None, add=add, time=time.time(), node=by,
            note={"definition": net.to_dict(), "revision": revision,
                  "dropped": migration.dropped, "describe": migration.describe()}))
        migration.revision = change.revision
        report(f"wrote the new definition at revision {change.revision}")
    finally:
        for name in stopping:  # lift the blocks (also those of removed transitions)
            await control._control({"action": "unblock", "target": "transition", "name": name,
                                    "why": "migration"})
    return migration
