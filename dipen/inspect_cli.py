"""``dipen history``, ``dipen stats``, ``dipen record`` and ``dipen replay``: a net's past from
the command line, read from etcd by any machine (see :func:`dipen.history`,
:func:`dipen.statistics`, :func:`dipen.record` and :func:`dipen.replay`).

Every command takes a window of store revisions (``--since REV --until REV``: the changes with
``since < revision <= until``) or of clock times (``--since-time T --until-time T``, ISO 8601
such as ``2024-05-01T09:30`` in local time unless it names a zone, or epoch seconds).

Examples
--------
``dipen history orders --since-time 2024-05-01T09:00``, ``dipen stats orders --json``,
``dipen record orders incident.jsonl --since 1200 --until 1260``, ``dipen replay
incident.jsonl --step 3``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .etcd_local import endpoints as endpoints_from

if TYPE_CHECKING:
    from .stores.etcd import EtcdStore
    from .timeline import Step, Timeline
    from .tokens import Marking, Token

__all__ = ["add_parsers", "describe_step", "main", "parse_time"]

_SHOWN = 4  # tokens shown per place in a one-line description of a step


def parse_time(text: str) -> float:
    """A ``--since-time``/``--until-time`` value as clock seconds: a number (epoch seconds, or
    model seconds of a simulated clock) or an ISO 8601 date and time (local time unless it
    names its zone).

    Raises
    ------
    argparse.ArgumentTypeError
        If ``text`` is neither.

    Examples
    --------
    >>> from dipen.inspect_cli import parse_time
    >>> parse_time("1700000000.5"), parse_time("2024-05-01T09:30:00+00:00")
    (1700000000.5, 1714555800.0)
    """
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: give ISO 8601 (2024-05-01T09:30, local time unless it "
            "names a zone such as +00:00) or epoch seconds") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time
    return moment.timestamp()


def _when(time: float) -> str:
    """A change's clock time: ISO 8601 in local time, or model seconds."""
    from .clock import readable_time

    return readable_time(time, "{:.3f} s")


def _data(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return repr(value)


def _token(token: Token) -> str:
    return token.id if token.data is None else f"{token.id} {_data(token.data)}"


def _tokens(tokens: dict[str, tuple[Token, ...]]) -> str:
    parts = []
    for place, held in tokens.items():
        shown = ", ".join(_token(token) for token in held[:_SHOWN])
        more = f", … +{len(held) - _SHOWN}" if len(held) > _SHOWN else ""
        parts.append(f"{place}: {shown}{more}")
    return "; ".join(parts)


def describe_step(step: Step, node_width: int = 0) -> str:
    """One line for a step of a history: revision, time, node, what happened
    (:meth:`dipen.timeline.Step.describe`) and the tokens it moved.

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=[{"job": 1}]).place("b")
    >>> runner = dipen.Runner(net.transition("t", take="a", give="b"), clock="simulated",
    ...                       node="w1")
    >>> _ = runner.run_sync()
    >>> from dipen.inspect_cli import describe_step
    >>> print(describe_step(dipen.history_sync(runner)[1]))
         2  0.000 s  w1  fire of 't' (firing 'f1') | removed a: t1 {"job": 1}; added b: t1 {"job": 1}
    """
    moved = [f"{label} {_tokens(tokens)}"
             for label, tokens in (("took", step.taken), ("removed", step.removed),
                                   ("added", step.added), ("released", step.released)) if tokens]
    text = f"{step.revision:>6}  {_when(step.time)}  {step.node:<{node_width}}  {step.describe()}"
    return text + (f" | {'; '.join(moved)}" if moved else "")


def _lines(steps: Iterable[Step], number: bool = False) -> list[str]:
    steps = list(steps)
    width = max((len(step.node) for step in steps), default=0)
    return [(f"{index:>5}" if number else "") + describe_step(step, width)
            for index, step in enumerate(steps, 1)]


def _plain(tokens: dict[str, tuple[Token, ...]]) -> dict[str, list[list[Any]]]:
    return {place: [[token.id, token.data] for token in held] for place, held in tokens.items()}


def _step_json(step: Step) -> dict[str, Any]:
    return {"revision": step.revision, "time": step.time, "when": _when(step.time),
            "node": step.node, "kind": step.kind, "transition": step.transition,
            "firing": step.firing, "region": step.region, "describe": step.describe(),
            "taken": _plain(step.taken), "removed": _plain(step.removed),
            "added": _plain(step.added), "released": _plain(step.released), "note": step.note}


def _timeline_json(timeline: Timeline) -> dict[str, Any]:
    return {"net": timeline.definition["name"], "since": timeline.since,
            "until": timeline.until, "steps": [_step_json(step) for step in timeline],
            "failures": [failure._asdict() for failure in timeline.failures]}


def _marking_json(marking: Marking) -> dict[str, list[list[Any]]]:
    return {place: [[t.id, t.data, t.firing] for t in tokens] for place, tokens in marking.items()}


def _marking_text(marking: Marking) -> list[str]:
    width = max((len(place) for place in marking), default=0)
    lines = []
    for place, tokens in marking.items():
        shown = ", ".join(_token(t) + (f" (held by firing {t.firing})" if t.firing else "")
                          for t in tokens)
        lines.append(f"  {place:<{width}}  {len(tokens)}" + (f": {shown}" if shown else ""))
    return lines


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=repr)


# -- the parsers -----------------------------------------------------------------------------------


def _add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("net", help="the net's name (its prefix is dipen/NAME/ unless --prefix)")
    parser.add_argument("--etcd", action="append", metavar="HOST:PORT",
                        help="an etcd endpoint (default $DIPEN_ETCD_ENDPOINTS or 127.0.0.1:2379)")
    parser.add_argument("--prefix", default=None)


def _add_window(parser: argparse.ArgumentParser) -> None:
    window = parser.add_argument_group(
        "window", "revisions since < revision <= until; times since-time <= time <= until-time")
    window.add_argument("--since", type=int, metavar="REV", help="after this store revision")
    window.add_argument("--until", type=int, metavar="REV", help="up to this store revision")
    window.add_argument("--since-time", type=parse_time, metavar="T",
                        help="from this time (ISO 8601, local unless zoned, or epoch seconds)")
    window.add_argument("--until-time", type=parse_time, metavar="T", help="up to this time")


def add_parsers(commands: Any) -> None:
    """Add ``history``, ``stats``, ``record`` and ``replay`` to the ``dipen`` command's
    subparsers."""
    history = commands.add_parser(
        "history", help="print the stored changes of a net in etcd: who did what, when")
    _add_store(history)
    _add_window(history)
    history.add_argument("--json", action="store_true", help="print JSON instead of text")
    stats = commands.add_parser(
        "stats", help="statistics of a net's stored history: firings, rates, durations, waits")
    _add_store(stats)
    _add_window(stats)
    stats.add_argument("--json", action="store_true", help="print JSON instead of a table")
    record = commands.add_parser(
        "record", help="export a window of a net's stored history to a recording (JSON lines)")
    _add_store(record)
    record.add_argument("file", help="the recording to write (read it with dipen replay)")
    _add_window(record)
    replay = commands.add_parser(
        "replay", help="print the steps of a recording, or the marking after one of them")
    replay.add_argument("file", help="a recording (dipen record, dipen.record, Timeline.save)")
    replay.add_argument("--step", type=int, metavar="N",
                        help="print the marking after step N (0: the marking it starts from)")
    replay.add_argument("--json", action="store_true", help="print JSON instead of text")


# -- the commands ----------------------------------------------------------------------------------


def _store(args: argparse.Namespace) -> EtcdStore:
    from .stores.etcd import EtcdStore

    endpoints = endpoints_from(args.etcd)
    return EtcdStore(endpoints, prefix=args.prefix or f"dipen/{args.net}/", timeout=3.0)


def _window(args: argparse.Namespace) -> dict[str, Any]:
    return {"since": args.since, "until": args.until, "since_time": args.since_time,
            "until_time": args.until_time}


def _read(args: argparse.Namespace, use: Callable[[EtcdStore], Any]) -> Any:
    """``await use(store)`` on the net's store, closed afterwards."""
    async def main() -> Any:
        store = _store(args)
        try:
            return await use(store)
        finally:
            await store.close()

    return asyncio.run(main())


def _history(args: argparse.Namespace) -> str:
    from .timeline import history

    timeline: Timeline = _read(args, lambda store: history(store, **_window(args)))
    if args.json:
        return _dumps(_timeline_json(timeline))
    span = (f"revisions {timeline[0].revision}–{timeline.until}" if len(timeline)
            else f"no changes after revision {timeline.since} in this window")
    return "\n".join([f"net {timeline.definition['name']!r}: {span}", *_lines(timeline)])


def _stats(args: argparse.Namespace) -> str:
    from .statistics import statistics
    from .timeline import history

    until = {"until": args.until} if args.until is not None else {}
    whole: Timeline = _read(args, lambda store: history(store, **until))
    numbers = statistics(whole, **_window(args))
    if args.json:
        return _dumps(numbers.as_dict())
    if numbers.span is None:
        return numbers.table()
    start, end = numbers.span
    return f"from {_when(start)} to {_when(end)} ({end - start:g} s)\n{numbers.table()}"


def _record(args: argparse.Namespace) -> str:
    from .recording import record

    timeline: Timeline = _read(args, lambda store: record(store, args.file, **_window(args)))
    span = (f"revisions {timeline[0].revision}–{timeline.until}" if len(timeline)
            else f"no changes after revision {timeline.since}")
    return (f"recorded {len(timeline)} changes of net {timeline.definition['name']!r} "
            f"({span}) to {args.file}")


def _replay(args: argparse.Namespace) -> str:
    from .errors import RecordingError
    from .recording import replay

    try:
        timeline = replay(args.file)
    except OSError as exc:
        raise RecordingError(f"cannot read the recording {args.file}: {exc.strerror or exc}") from None
    name = timeline.definition["name"]
    if args.step is None:
        if args.json:
            return _dumps(_timeline_json(timeline))
        title = (f"recording of net {name!r}: {len(timeline)} steps after revision "
                 f"{timeline.since}, starting from {timeline.start.counts()}")
        return "\n".join([title, *_lines(timeline, number=True)])
    if not 0 <= args.step <= len(timeline):
        raise RecordingError(f"{args.file} has steps 1–{len(timeline)} (0 is the marking it "
                             f"starts from), not {args.step}")
    step = timeline[args.step - 1] if args.step else None
    marking = step.marking if step is not None else timeline.start
    revision = step.revision if step is not None else timeline.since
    if args.json:
        return _dumps({"net": name, "step": args.step, "revision": revision,
                       "time": None if step is None else step.time,
                       "marking": _marking_json(marking)})
    after = (f"after step {args.step} (revision {revision}, {_when(step.time)}: "
             f"{step.node} {step.describe()})" if step is not None
             else f"at the start (revision {revision})")
    return "\n".join([f"marking of net {name!r} {after}", *_marking_text(marking)])


_COMMANDS: dict[str, Callable[[argparse.Namespace], str]] = {
    "history": _history, "stats": _stats, "record": _record, "replay": _replay}


def main(args: argparse.Namespace) -> int:
    """``dipen history|stats|record|replay`` with parsed arguments."""
    from .errors import DipenError

    try:
        print(_COMMANDS[args.command](args))
    except (DipenError, TimeoutError) as exc:
        print(f"dipen {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0
