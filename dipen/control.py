"""Controlling a running net from anywhere: blocks, cancels, manual firings and audited edits.

A :class:`Control` talks to the store, not to a runner: every action is one atomic change
that all runners see within one watch round trip (``dipen ctl`` on the command line uses the
same class). Edits name who made them and why, never touch a token a firing holds, and
are checked by the store against the tokens they touch, so they never race with running
firings.
"""

from __future__ import annotations

import asyncio
import getpass
import socket
import time
import uuid
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import ConflictError, NetError, RunnerError, StoreError
from .state import Change, Commit, State
from .tokens import Token

if TYPE_CHECKING:
    from .stores.base import Store

__all__ = ["Answer", "Control"]

_ATTEMPTS = 5  # an edit is checked again on fresh state this often when places change under it


class Answer(NamedTuple):
    """How a manual firing request ended: ``state`` is ``"finished"``, ``"failed"`` or
    ``"cancelled"``; ``placed`` maps places to the ``[token id, data]`` it placed.

    Examples
    --------
    >>> answer = dipen.Answer("r1", "approve", "f3", "finished",
    ...                       {"done": [["t7", {"ok": True}]]}, None, 12)
    >>> answer.state, answer.placed["done"][0][1]
    ('finished', {'ok': True})
    """

    id: str
    transition: str
    firing: str
    state: str
    placed: dict[str, list[list[Any]]]
    error: str | None
    revision: int


def default_user() -> str:
    """``user@host``: who an edit is by, unless told."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name (some containers)
        user = "someone"
    return f"{user}@{socket.gethostname()}"


class Control:
    """Block, unblock, cancel, fire manual transitions and edit tokens of the net in ``store``.

    Parameters
    ----------
    store
        Any store holding a net (a :class:`~dipen.MemoryStore` a runner connected, or an
        :class:`~dipen.EtcdStore` on the net's prefix, from any machine).
    by
        Who acts, recorded in every change (default ``user@host``).

    Examples
    --------
    >>> import asyncio
    >>> net = dipen.Net("shop").place("orders", tokens=[{"item": "tea"}]).place("shipped")
    >>> net = net.transition("ship", take="orders", give="shipped")
    >>> store = dipen.MemoryStore()
    >>> runner = dipen.Runner(net, store=store)
    >>> control = dipen.Control(store, by="ann")
    >>> async def main():
    ...     await runner.open()
    ...     await control.block("ship", why="inventory")
    ...     blocked = (await runner.run()).firings
    ...     token = await control.add("orders", {"item": "cake"}, why="phone order")
    ...     await control.unblock("ship")
    ...     return blocked, (await runner.run()).firings
    >>> asyncio.run(main())
    (0, 2)
    >>> sorted(t["item"] for t in runner.marking["shipped"])
    ['cake', 'tea']
    """

    def __init__(self, store: Store, *, by: str | None = None) -> None:
        self.store = store
        self.by = by or default_user()
        self._definition: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"Control({self.store!r}, by={self.by!r})"

    async def _net(self) -> dict[str, Any]:
        if self._definition is None:
            self._definition = await self.store.definition()
        return self._definition

    async def _names(self, section: str, name: str) -> None:
        definition = await self._net()
        names = [item["name"] for item in definition[section]]
        if name not in names:
            kind = section[:-1]
            raise NetError(f"net {definition['name']!r} has no {kind} {name!r} "
                           f"({section}: {', '.join(names)})")

    async def _target(self, transition: str | None, region: str | None) -> tuple[str, str]:
        if (transition is None) == (region is None):
            raise RunnerError("name either a transition or a region=")
        if transition is not None:
            await self._names("transitions", transition)
            return "transition", transition
        definition = await self._net()
        regions = sorted({t["region"] for t in definition["transitions"]})
        if region not in regions:
            raise NetError(f"net {definition['name']!r} has no region {region!r} "
                           f"(regions: {', '.join(regions)})")
        return "region", region  # type: ignore[return-value]

    async def _control(self, note: dict[str, Any], region: str | None = None) -> Change:
        return await self.store.commit(Commit("control", None, note.get("transition"), region,
                                              time=time.time(), node=self.by, note=note))

    # -- blocks and cancels ----------------------------------------------------------------------

    async def block(self, transition: str | None = None, *, region: str | None = None,
                    why: str = "") -> Change:
        """Stop new firings of ``transition`` (or of every transition of ``region``) until
        :meth:`unblock`; running firings go on. Every runner sees it, now and after restarts."""
        target, name = await self._target(transition, region)
        return await self._control({"action": "block", "target": target, "name": name,
                                    "why": why})

    async def unblock(self, transition: str | None = None, *, region: str | None = None,
                      why: str = "") -> Change:
        """Undo :meth:`block`."""
        target, name = await self._target(transition, region)
        return await self._control({"action": "unblock", "target": target, "name": name,
                                    "why": why})

    async def cancel(self, transition: str | None = None, *, region: str | None = None,
                     why: str = "") -> Change:
        """Cancel the running firings of ``transition`` (or of ``region``): their leaders stop
        their ``run`` and return the tokens. Firings that start later are not affected."""
        target, name = await self._target(transition, region)
        return await self._control({"action": "cancel", "target": target, "name": name,
                                    "why": why})

    async def blocked(self) -> dict[str, str]:
        """What is blocked by hand now: ``{"transition t" | "region r": why (by whom)}``."""
        state = await self.store.snapshot()
        return {f"{c['target']} {c['name']}": f"{c.get('why') or 'no reason'} (by {c.get('by')})"
                for key, c in state.controls.items() if key.startswith("block/")}

    # -- manual firings --------------------------------------------------------------------------

    async def request(self, transition: str, data: Any = None) -> str:
        """Ask for one firing of manual ``transition`` with ``data`` (its ``firing.input``);
        returns the request id. The leader of its region fires it when it is enabled."""
        await self._names("transitions", transition)
        prepared = self.store.codec.prepare(data, f"data for transition {transition!r}")
        request = uuid.uuid4().hex[:12]
        await self._control({"action": "request", "id": request, "transition": transition,
                             "data": prepared})
        return request

    async def withdraw(self, request: str, transition: str) -> None:
        """Take back a request that was not answered yet (:class:`ConflictError` if it was)."""
        await self._control({"action": "withdraw", "id": request, "transition": transition})

    async def fire(self, transition: str, data: Any = None, *,
                   timeout: float | None = None) -> Answer:
        """Request a firing of manual ``transition`` with ``data`` and wait for its answer.

        Raises
        ------
        TimeoutError
            If no answer came within ``timeout`` seconds; the request is withdrawn then
            (unless it was answered meanwhile).
        """
        state = await self.store.snapshot()
        answered: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        wanted: list[str] = []

        def seen(change: Change) -> None:
            note = change.note
            if (change.kind == "control" and wanted and note.get("action") == "answer"
                    and note.get("id") == wanted[0] and not answered.done()):
                answered.set_result(Answer(note["id"], note["transition"], note["firing"],
                                           note["state"], note.get("placed", {}),
                                           note.get("error"), change.revision))

        unsubscribe = self.store.subscribe(seen, state.revision)
        try:
            wanted.append(await self.request(transition, data))
            try:
                return await asyncio.wait_for(asyncio.shield(answered), timeout)
            except TimeoutError:
                try:
                    await self.withdraw(wanted[0], transition)
                except ConflictError:  # answered just now
                    return await answered
                raise TimeoutError(f"no answer to the request to fire {transition!r} within "
                                   f"{timeout:g}s (withdrawn)") from None
        finally:
            unsubscribe()

    # -- edits -------------------------------------------------------------------------------------

    async def add(self, place: str, data: Any = None, *, why: str = "") -> Token:
        """Add a token with ``data`` to ``place``; returns it."""
        await self._names("places", place)
        token = Token(self.store.new_token_id(), self.store.codec.prepare(
            data, f"token data for place {place!r}"))
        await self._edit(lambda state: ((), ((place, token),)), why, "add")
        return token

    async def remove(self, place: str, token: str, *, why: str = "") -> None:
        """Remove free token ``token`` from ``place``."""
        await self._names("places", place)
        await self._edit(lambda state: (((place, self._free(state, place, token).id),), ()),
                         why, "remove")

    async def move(self, token: str, source: str, target: str, *, why: str = "") -> None:
        """Move free token ``token`` (id and data kept) from ``source`` to ``target``."""
        for place in (source, target):
            await self._names("places", place)

        def edit(state: State) -> tuple[Any, Any]:
            found = self._free(state, source, token)
            return ((source, token),), ((target, Token(found.id, found.data)),)

        await self._edit(edit, why, "move")

    async def update(self, place: str, token: str, data: Any, *, why: str = "") -> None:
        """Replace the data of free token ``token`` in ``place``."""
        await self._names("places", place)
        prepared = self.store.codec.prepare(data, f"token data for place {place!r}")

        def edit(state: State) -> tuple[Any, Any]:
            self._free(state, place, token)
            return ((place, token),), ((place, Token(token, prepared)),)

        await self._edit(edit, why, "update")

    @staticmethod
    def _free(state: State, place: str, token: str) -> Token:
        found = state.places[place]
        if token in found.free:
            return found.free[token]
        if token in found.taken:
            holder = found.taken[token].firing
            raise ConflictError(f"token {token!r} in place {place!r} is held by firing {holder!r}: "
                                "wait until it ends, or cancel it first")
        raise StoreError(f"place {place!r} has no token {token!r}")

    async def _edit(self, make: Any, why: str, what: str) -> Change:
        """Commit an edit made from fresh state, comparing the revisions of its places."""
        attempt = 0
        while True:
            # the store checks that every token it removes is free (no firing holds it) and
            # that every token it adds is new: nothing else can race with an edit
            remove, add = make(await self.store.snapshot())
            commit = Commit("edit", None, None, None, remove=remove, add=add, time=time.time(),
                            node=self.by, note=f"{what}: {why}" if why else what)
            try:
                return await self.store.commit(commit)
            except ConflictError:  # a firing took the token meanwhile: look again
                attempt += 1
                if attempt == _ATTEMPTS:
                    raise
