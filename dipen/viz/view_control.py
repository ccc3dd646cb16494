"""Manual control from the live view, through the store: blocks by hand of a transition or a
whole region (every runner of the store obeys them, on a memory store as on etcd), cancels of
running firings, manual firings with data and their answers, and tokens added by hand (audited
edits, with an optional reason).

:class:`ViewControl` carries out these commands of :class:`~dipen.viz.widgets.LiveView` with
one :class:`dipen.Control` on the store of the view's runners; :func:`standing` turns the
store's standing controls (as a runner's replica of the store sees them) into the view's
``controls`` trait.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import NetError, RunnerError, TokenError
from ..manual import hold_reason

if TYPE_CHECKING:
    from ..control import Answer, Control
    from ..net import Net
    from .widget_state import LiveState

__all__ = ["ViewControl", "held_states", "read_data", "standing"]

FIRE_TIMEOUT = 30.0  #: seconds a manual firing request from the view waits for its answer
_TARGETED = ("block", "unblock", "cancel")  # a transition or a region=


def standing(controls: Mapping[str, Mapping[str, Any]], net: Net) -> dict[str, Any]:
    """The ``controls`` trait: the blocks by hand of transitions and of regions (who, why,
    when), why each transition is held by them, and the manual firing requests waiting.

    Examples
    --------
    >>> from dipen.viz.view_control import standing
    >>> net = dipen.Net("n").place("a").transition("t", take="a", region="r")
    >>> controls = {"block/region/r": {"action": "block", "target": "region", "name": "r",
    ...                                "why": "maintenance", "by": "ann", "time": 1.0}}
    >>> view = standing(controls, net)
    >>> view["regions"], view["held"]
    ({'r': {'by': 'ann', 'why': 'maintenance', 'time': 1.0}}, {'t': "blocked by ann (region 'r'): maintenance"})
    """
    blocks: dict[str, dict[str, Any]] = {"transition": {}, "region": {}}
    requests: dict[str, int] = {}
    for key, note in controls.items():
        if key.startswith("block/"):
            blocks[note["target"]][note["name"]] = {
                "by": note.get("by") or "someone", "why": note.get("why") or "",
                "time": note.get("time")}
        elif key.startswith("request/"):
            requests[note["transition"]] = requests.get(note["transition"], 0) + 1
    held = {}
    if blocks["transition"] or blocks["region"]:
        for name, transition in net.transitions.items():
            reason = hold_reason(controls, name, transition.region)  # type: ignore[arg-type]
            if reason:
                held[name] = reason
    return {"transitions": blocks["transition"], "regions": blocks["region"], "held": held,
            "requests": requests}


def held_states(states: dict[str, str], held: Mapping[str, str]) -> dict[str, str]:
    """``states`` with the transitions held by a block by hand shown as ``"blocked"`` (the
    firing ones go on, and those blocked by their error policy stay ``"failed"``).

    Examples
    --------
    >>> from dipen.viz.view_control import held_states
    >>> held_states({"t": "idle", "u": "firing", "v": "enabled"}, {"t": "by ann", "u": "by ann"})
    {'t': 'blocked', 'u': 'firing', 'v': 'enabled'}
    """
    if not held:
        return states
    return {name: "blocked" if name in held and state in ("idle", "enabled") else state
            for name, state in states.items()}


def read_data(message: Mapping[str, Any], what: str) -> Any:
    """The data of a command: ``message["json"]`` (JSON text as typed in the side panel; empty
    for none) or else ``message["data"]`` (a JSON value).

    Raises
    ------
    TokenError
        If the text is not JSON; the message names ``what`` the data is for.

    Examples
    --------
    >>> from dipen.viz.view_control import read_data
    >>> read_data({"json": '{"n": 1}'}, "data for 't'"), read_data({"json": " "}, "x")
    ({'n': 1}, None)
    >>> read_data({"json": "{oops"}, "data for transition 't'")
    Traceback (most recent call last):
    ...
    dipen.errors.TokenError: data for transition 't' is not JSON: Expecting property name enclosed in double quotes (line 1, column 2)
    """
    if "json" not in message:
        return message.get("data")
    text = message["json"]
    if not isinstance(text, str):
        raise TokenError(f"{what}: 'json' is JSON text, not {text!r}")
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TokenError(f"{what} is not JSON: {exc.msg} (line {exc.lineno}, column "
                         f"{exc.colno})") from None


def answer_text(answer: Answer) -> tuple[bool, str]:
    """``(ok, text)``: how a manual firing request from the view ended, for its notice."""
    from .widget_state import jsonable  # which imports this module

    head = f"{answer.transition!r} {answer.state} (firing {answer.firing})"
    if answer.state != "finished":
        return False, f"{head}: {answer.error or 'no error given'}"
    placed = "; ".join(
        f"{place}: " + ", ".join(
            token[0] if len(token) < 2 else f"{token[0]} {json.dumps(jsonable(token[1], 200))}"
            for token in tokens)
        for place, tokens in answer.placed.items() if tokens)
    return True, f"{head}: placed {placed}" if placed else f"{head}: placed no tokens"


class ViewControl:
    """The view's commands that go through the store, with one :class:`dipen.Control`.

    ``by`` names who acts (default: the node of the view's first runner).

    Examples
    --------
    >>> import asyncio
    >>> from dipen.viz.view_control import ViewControl
    >>> from dipen.viz.widget_state import LiveState
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> runner = dipen.Runner(net, node="n1")
    >>> control = ViewControl(LiveState([runner]))
    >>> asyncio.run(control.carry_out("block", {"transition": "t", "why": "checks"}))
    (True, "blocked 't': checks")
    >>> runner.explain("t")
    "'t' is not enabled: blocked by n1 (transition 't'): checks"
    """

    def __init__(self, state: LiveState, by: str | None = None) -> None:
        self.state = state
        self.by = by
        self._control: Control | None = None

    @property
    def control(self) -> Control:
        """The :class:`dipen.Control` on the store of the view's runners."""
        if self._control is None:
            from ..control import Control

            first = self.state.runners[0]
            self._control = Control(first.store, by=self.by or first.node)
        return self._control

    async def carry_out(self, action: str, message: Mapping[str, Any],
                        progress: Callable[[str], None] | None = None) -> tuple[bool, str]:
        """Carry out ``action`` (``block``, ``unblock``, ``cancel``, ``fire`` of a manual
        transition, ``add``) as ``message`` asks; ``(ok, text)`` for the notice. ``progress``
        hears what happens meanwhile (a request waiting for its answer)."""
        why = message.get("why") or ""
        if not isinstance(why, str):
            raise RunnerError(f"'why' is a reason in words, not {why!r}")
        await self.state.runners[0].open()  # the store holds the net (at once if it does)
        if action in _TARGETED:
            transition, region = self._target(action, message)
            return True, await getattr(self, action)(transition, region, why)
        if action == "fire":
            transition = message["transition"]
            data = read_data(message, f"data for transition {transition!r}")
            timeout = message.get("timeout", FIRE_TIMEOUT)
            if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
                raise RunnerError(f"'timeout' is a positive number of seconds, not {timeout!r}")
            return await self.fire(transition, data, float(timeout), progress)
        if action == "add":
            place = message.get("place")
            if not isinstance(place, str) or place not in self.state.net.places:
                net = self.state.net
                raise NetError(f"'add' needs a place of net {net.name!r} (places: "
                               f"{', '.join(net.places)}), not {place!r}")
            return True, await self.add(place, read_data(message, f"token data for place "
                                                                  f"{place!r}"), why)
        raise RunnerError(f"the store does not carry out {action!r}")  # pragma: no cover

    def _target(self, action: str, message: Mapping[str, Any]) -> tuple[str | None, str | None]:
        transition, region = message.get("transition"), message.get("region")
        if (transition is None) == (region is None):
            raise RunnerError(f"{action!r} needs a transition or a region")
        net = self.state.net
        if region is not None and region not in net.regions:
            raise NetError(f"net {net.name!r} has no region {region!r} "
                           f"(regions: {', '.join(net.regions)})")
        return transition, region

    @staticmethod
    def _what(transition: str | None, region: str | None) -> str:
        return repr(transition) if transition is not None else f"region {region!r}"

    async def block(self, transition: str | None, region: str | None, why: str) -> str:
        await self.control.block(transition, region=region, why=why)
        return f"blocked {self._what(transition, region)}" + (f": {why}" if why else "")

    async def unblock(self, transition: str | None, region: str | None, why: str) -> str:
        """Undo a block by hand through the store, and (for a transition) the block its error
        policy set in the view's runners."""
        state = self.state
        names = [transition] if transition is not None else [
            name for name, t in state.net.transitions.items() if t.region == region]
        for runner in state.runners:
            failed = runner.blocked()
            for name in names:
                if name in failed:
                    try:
                        runner.unblock(name)  # the block its error policy set, if any
                    except RunnerError:  # (and it says the store holds one: lifted below)
                        pass
        for name in names:
            state.forget_error(name)
        await self.control.unblock(transition, region=region, why=why)
        text = f"unblocked {self._what(transition, region)}"
        if transition is not None:
            own = state.net.transitions[transition].region
            block = state.runners[0].standing_controls().get(f"block/region/{own}")
            if block is not None:
                text += (f"; its region {own!r} is still blocked by {block.get('by')}"
                         f" ({block.get('why') or 'no reason given'})")
        return text

    async def cancel(self, transition: str | None, region: str | None, why: str) -> str:
        """Ask the leaders to cancel the running firings (their tokens go back)."""
        net = self.state.net
        running: dict[str, int] = {}
        for record in self.state.runners[0]._store_firings():
            if record.transition == transition or (
                    region is not None and net.transitions[record.transition].region == region):
                running[record.node] = running.get(record.node, 0) + 1
        await self.control.cancel(transition, region=region, why=why)
        if not running:
            return f"asked to cancel the firings of {self._what(transition, region)} (none " \
                   "was running as the view saw it)"
        where = ", ".join(f"{n} on {node}" for node, n in sorted(running.items()))
        return f"asked to cancel the running firings of {self._what(transition, region)} " \
               f"({where}); their tokens go back"

    async def fire(self, transition: str, data: Any, timeout: float,
                   progress: Callable[[str], None] | None = None) -> tuple[bool, str]:
        """Request a firing of manual ``transition`` with ``data`` and wait for the answer."""
        state = self.state
        region = state.net.transitions[transition].region
        here = any(r.running for r in state.candidates.get(region, ()))
        elsewhere = [node for node, _ in (state.candidates_seen or {}).get(region, ())
                     if node not in state.nodes]
        idle = not here and not elsewhere
        hint = (f" (no runner of this view is running region {region!r}: press Run, or a "
                f"runner elsewhere must lead it)") if idle else ""
        if progress is not None:
            progress(f"asked for a firing of {transition!r}; waiting for the leader of "
                     f"region {region!r}{hint}")
        try:
            answer = await self.control.fire(transition, data, timeout=timeout)
        except TimeoutError as exc:
            return False, f"{exc}{hint}"
        return answer_text(answer)

    async def add(self, place: str, data: Any, why: str) -> str:
        token = await self.control.add(place, data, why=why)
        return f"added token {token.id} to {place!r}" + (f": {why}" if why else "")
