"""``dipen run``: a net as a long-running service, one process per region (and standbys).

The net comes from Python code (``module:attribute`` or ``path/to/file.py:attribute``, naming
a :class:`dipen.Net` or a function that returns one), the state from etcd. The process runs
until it gets SIGTERM or SIGINT; then running firings are cancelled, their tokens go back, and
the leadership passes to a standby. A process killed outright loses its leadership when its
lease expires; the standby that takes over returns the tokens of the unfinished firings.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import os
import signal
import sys
from typing import Any

from .errors import DipenError, NetError
from .etcd_local import endpoints as endpoints_from
from .net import Net

__all__ = ["load_net", "serve"]

_LOGGER = logging.getLogger("dipen.service")


def load_net(target: str) -> Net:
    """The net that ``target`` names: ``module:attribute`` or ``file.py:attribute``.

    Raises
    ------
    NetError
        If the target cannot be imported or does not name a net.

    Examples
    --------
    >>> dipen.service.load_net("dipen.bench:ring_net")
    Traceback (most recent call last):
    ...
    dipen.errors.NetError: 'dipen.bench:ring_net' is a function that needs arguments; name a Net or a function without parameters
    """
    module_name, _, attribute = target.rpartition(":")
    if not module_name or not attribute:
        raise NetError(f"{target!r}: name the net as module:attribute or path/to/file.py:attribute")
    try:
        if module_name.endswith(".py") or os.sep in module_name:
            path = os.path.abspath(module_name)
            if not os.path.exists(path):
                raise NetError(f"{target!r}: no file {path}")
            spec = importlib.util.spec_from_file_location(f"dipen_net_{abs(hash(path))}", path)
            if spec is None or spec.loader is None:
                raise NetError(f"{target!r}: cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            sys.path.insert(0, os.path.dirname(path))
            try:
                spec.loader.exec_module(module)
            finally:
                sys.path.remove(os.path.dirname(path))
        else:
            module = importlib.import_module(module_name)
    except NetError:
        raise
    except Exception as exc:
        raise NetError(f"{target!r}: importing {module_name} raised {type(exc).__name__}: {exc}") from exc
    try:
        value: Any = getattr(module, attribute)
    except AttributeError:
        raise NetError(f"{target!r}: {module_name} has no attribute {attribute!r}") from None
    if callable(value) and not isinstance(value, Net):
        try:
            value = value()
        except TypeError as exc:
            raise NetError(
                f"{target!r} is a function that needs arguments; name a Net or a function "
                "without parameters"
            ) from exc
    if not isinstance(value, Net):
        raise NetError(f"{target!r} is a {type(value).__name__}, not a dipen.Net")
    return value


async def serve(
    net: Net,
    *,
    endpoints: list[str] | None = None,
    prefix: str | None = None,
    regions: list[str] | None = None,
    node: str | None = None,
    lease_ttl: float = 10.0,
    memory: bool = False,
    migrate: bool = False,
) -> str:
    """Run ``net`` until SIGTERM/SIGINT; returns why it stopped. ``migrate``: if the store
    holds another definition of the net, migrate it first (:func:`dipen.migrate`)."""
    from .runner import Runner
    from .stores.etcd import EtcdStore
    from .stores.memory import MemoryStore

    store: MemoryStore | EtcdStore
    if memory:
        store, where = MemoryStore(), "memory"
    else:
        store = EtcdStore(endpoints, prefix, lease_ttl=lease_ttl)
        where = f"etcd {', '.join(store.endpoints)} under {store.prefix or f'dipen/{net.name}/'}"
    if migrate:
        from .errors import StoreError
        from .migration import migrate as migrate_net

        try:
            await store.read_definition()
        except StoreError:
            pass  # nothing stored yet: the runner publishes the net
        else:
            await migrate_net(store, net, by=node or "dipen run --migrate",
                              report=lambda line: _LOGGER.info("migrate: %s", line))
    runner = Runner(net, store=store, region=regions or None, node=node)
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, runner.stop)
    _LOGGER.info("node %s runs net %r, regions %s, on %s", runner.node, net.name,
                 ", ".join(sorted(runner.regions)), where)
    try:
        summary = await runner.run(forever=True)
    finally:
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(number)
        await runner.close()
        await store.close()
    _LOGGER.info("node %s stopped (%s) after %d firings", runner.node, summary.reason,
                 summary.firings)
    return summary.reason


def main(args: Any) -> int:
    """``dipen run`` with parsed arguments."""
    logging.basicConfig(level=getattr(logging, args.log_level.upper()),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        net = load_net(args.target)
        endpoints = endpoints_from(args.etcd)
        asyncio.run(serve(net, endpoints=endpoints, prefix=args.prefix, regions=args.region,
                          node=args.node, lease_ttl=args.lease_ttl, memory=args.memory,
                          migrate=args.migrate))
    except DipenError as exc:
        print(f"dipen run: {exc}", file=sys.stderr)
        return 1
    return 0


def migrate_main(args: Any) -> int:
    """``dipen migrate`` with parsed arguments."""
    from .migration import migrate
    from .stores.etcd import EtcdStore

    async def main(net: Net) -> None:
        store = EtcdStore(endpoints, args.prefix or f"dipen/{net.name}/", timeout=5.0)
        try:
            await migrate(store, net, cancel=args.cancel, timeout=args.timeout,
                          dry_run=args.dry_run, by="dipen migrate")
        finally:
            await store.close()

    try:
        net = load_net(args.target)
        endpoints = endpoints_from(args.etcd)
        asyncio.run(main(net))
    except DipenError as exc:
        print(f"dipen migrate: {exc}", file=sys.stderr)
        return 1
    return 0
