"""``dipen ctl``: control a net in etcd from the command line (see :class:`dipen.Control`).

Examples
--------
``dipen ctl orders block --transition ship --why "inventory"``, ``dipen ctl orders fire approve
--data '{"amount": 20}'``, ``dipen ctl orders move TOKEN inbox rejected --why "spam"``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from .etcd_local import endpoints as endpoints_from

__all__ = ["add_parser", "main"]


def add_parser(commands: Any) -> None:
    """Add ``ctl`` and its actions to the ``dipen`` command's subparsers."""
    ctl = commands.add_parser("ctl", help="block, unblock, cancel, fire manual transitions and "
                                          "edit tokens of a net in etcd")
    ctl.add_argument("net", help="the net's name (its prefix is dipen/NAME/ unless --prefix)")
    ctl.add_argument("--etcd", action="append", metavar="HOST:PORT",
                     help="an etcd endpoint (default $DIPEN_ETCD_ENDPOINTS or 127.0.0.1:2379)")
    ctl.add_argument("--prefix", default=None)
    ctl.add_argument("--by", default=None, help="who acts (default user@host)")
    actions = ctl.add_subparsers(dest="action", required=True)
    for name, text in (("block", "stop new firings of a transition or region"),
                       ("unblock", "undo block"),
                       ("cancel", "cancel running firings of a transition or region")):
        action = actions.add_parser(name, help=text)
        which = action.add_mutually_exclusive_group(required=True)
        which.add_argument("--transition")
        which.add_argument("--region")
        action.add_argument("--why", default="")
    actions.add_parser("blocked", help="list what is blocked by hand")
    fire = actions.add_parser("fire", help="fire a manual transition with data; wait for it")
    fire.add_argument("transition")
    fire.add_argument("--data", default="null", help="JSON data for the firing")
    fire.add_argument("--timeout", type=float, default=60.0)
    add = actions.add_parser("add", help="add a token")
    add.add_argument("place")
    add.add_argument("--data", default="null", help="JSON token data")
    remove = actions.add_parser("remove", help="remove a free token")
    remove.add_argument("place")
    remove.add_argument("token")
    move = actions.add_parser("move", help="move a free token to another place")
    move.add_argument("token")
    move.add_argument("source")
    move.add_argument("target")
    update = actions.add_parser("update", help="replace a free token's data")
    update.add_argument("place")
    update.add_argument("token")
    update.add_argument("--data", required=True, help="JSON token data")
    for action in (add, remove, move, update):
        action.add_argument("--why", default="")


def _data(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"dipen ctl: --data is not JSON: {exc}") from None


async def _act(args: argparse.Namespace) -> str:
    from .control import Control
    from .stores.etcd import EtcdStore

    endpoints = endpoints_from(args.etcd)
    store = EtcdStore(endpoints, prefix=args.prefix or f"dipen/{args.net}/", timeout=3.0)
    control = Control(store, by=args.by)
    try:
        action = args.action
        if action in ("block", "unblock", "cancel"):
            change = await getattr(control, action)(args.transition, region=args.region,
                                                    why=args.why)
            what = f"transition {args.transition!r}" if args.transition else f"region {args.region!r}"
            return f"{action}: {what} (revision {change.revision})"
        if action == "blocked":
            blocked = await control.blocked()
            return "\n".join(f"{k}: {v}" for k, v in blocked.items()) or "nothing is blocked"
        if action == "fire":
            answer = await control.fire(args.transition, _data(args.data), timeout=args.timeout)
            return json.dumps(answer._asdict())
        if action == "add":
            token = await control.add(args.place, _data(args.data), why=args.why)
            return f"added token {token.id} to {args.place!r}"
        if action == "remove":
            await control.remove(args.place, args.token, why=args.why)
            return f"removed token {args.token} from {args.place!r}"
        if action == "move":
            await control.move(args.token, args.source, args.target, why=args.why)
            return f"moved token {args.token} from {args.source!r} to {args.target!r}"
        await control.update(args.place, args.token, _data(args.data), why=args.why)
        return f"updated token {args.token} in {args.place!r}"
    finally:
        await store.close()


def main(args: argparse.Namespace) -> int:
    """``dipen ctl`` with parsed arguments."""
    from .errors import DipenError

    try:
        print(asyncio.run(_act(args)))
    except (DipenError, TimeoutError) as exc:
        print(f"dipen ctl: {exc}", file=sys.stderr)
        return 1
    return 0
