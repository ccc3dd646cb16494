"""Recordings: a run written to a JSON-lines file, and :func:`replay`, which reads it back.

A recording is self-contained: the net definition (``Net.to_dict()``), the marking the
recording starts from, then every change in revision order with the data of the tokens it
added (what the firings' code returned) and the failures the runner saw. Record a live runner
or any window of a store's history (an incident on etcd, from any machine) and replay it in a
test, step by step.

The format, one JSON object per line::

    {"format": "dipen-recording", "version": 1, "net": {...}, "start": {...}}
    {"revision": 2, "time": 0.5, "node": "...", "kind": "fire", "firing": "f1",
     "transition": "t", "region": "default", "take": [], "remove": [["a", "t1"]],
     "add": [["b", "t1", {"n": 1}]], "release": [], "note": null}
    {"failure": {"time": 3.0, "revision": 7, "transition": "t", "firing": "f4",
     "error": "ValueError: ...", "action": "tokens returned; transition blocked"}}

``start`` holds the revision the recording starts after, each place's tokens oldest first
(``[id, data, firing]``) and the running firings.

Examples
--------
>>> import io
>>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
>>> runner = dipen.Runner(net)
>>> _ = runner.run_sync()
>>> file = io.StringIO()
>>> _ = dipen.record_sync(runner, file)
>>> [step.describe() for step in dipen.replay(io.StringIO(file.getvalue()))]
['init', "fire of 't' (firing 'f1')"]
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import IO, Any

from .errors import RecordingError
from .state import Change, FiringRecord, State
from .timeline import Failure, Timeline, _empty_state, history
from .tokens import Token, freeze

__all__ = ["record", "record_sync", "replay", "write"]

FORMAT = "dipen-recording"
VERSION = 1


@contextlib.contextmanager
def _opened(file: Any, mode: str) -> Iterator[IO[str]]:
    if isinstance(file, (str, os.PathLike)):
        with open(file, mode, encoding="utf-8") as handle:
            yield handle
    else:
        yield file


def _state_to_json(state: State) -> dict[str, Any]:
    return {
        "revision": state.revision,
        "places": {name: [[t.id, t.data, t.firing] for t in place.tokens()]
                   for name, place in state.places.items()},
        "firings": [[r.id, r.transition, r.region, r.node, [list(p) for p in r.taken], r.time]
                    for r in state.firings.values()],
    }


def _state_from_json(definition: dict[str, Any], data: dict[str, Any]) -> State:
    state = _empty_state(definition)
    revision = state.revision = data["revision"]
    for name, tokens in data["places"].items():
        place = state.places[name]
        for token_id, token_data, firing in tokens:
            token = Token(token_id, freeze(token_data), firing)
            (place.free if firing is None else place.taken)[token_id] = token
            state.sequence += 1
            place.added[token_id] = state.sequence
            place.rev = revision
    for firing_id, transition, region, node, taken, time in data["firings"]:
        state.firings[firing_id] = FiringRecord(
            firing_id, transition, region, node, tuple((p, t) for p, t in taken), time)
    return state


def _change_to_json(change: Change) -> dict[str, Any]:
    return {
        "revision": change.revision, "time": change.time, "node": change.node,
        "kind": change.kind, "firing": change.firing, "transition": change.transition,
        "region": change.region, "take": [list(p) for p in change.take],
        "remove": [list(p) for p in change.remove],
        "add": [[place, token.id, token.data] for place, token in change.add],
        "release": [list(p) for p in change.release], "note": change.note,
        **({"part": change.part, "parts": change.parts} if change.parts > 1 else {}),
    }


def _change_from_json(data: dict[str, Any]) -> Change:
    def pairs(key: str) -> tuple[tuple[str, str], ...]:
        return tuple((place, token_id) for place, token_id in data[key])

    return Change(
        data["revision"], data["time"], data["node"], data["kind"], data["firing"],
        data["transition"], data["region"], pairs("take"), pairs("remove"),
        tuple((place, Token(token_id, freeze(value))) for place, token_id, value in data["add"]),
        pairs("release"), data["note"], data.get("part", 0), data.get("parts", 1))


def _dumps(value: Any, where: str) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise RecordingError(f"{where} cannot be written as JSON: {exc}") from None


def write(timeline: Timeline, file: Any) -> None:
    """Write ``timeline`` as a recording to ``file`` (a path or a text file).

    Raises
    ------
    RecordingError
        If token data (from a codec other than JSON) or a note cannot be written as JSON.

    Examples
    --------
    >>> import io
    >>> net = dipen.Net("n").place("a", tokens=[{"n": 1}]).place("b")
    >>> net = net.transition("t", take="a", give="b")
    >>> runner = dipen.Runner(net)
    >>> _ = runner.run_sync()
    >>> file = io.StringIO()
    >>> from dipen.recording import write
    >>> from dipen.timeline import history_sync
    >>> write(history_sync(runner), file)
    >>> print(file.getvalue().splitlines()[-1])
    {"revision":2,...,"kind":"fire",...,"remove":[["a","t1"]],"add":[["b","t1",{"n":1}]],...}
    """
    name = timeline.definition["name"]
    with _opened(file, "w") as out:
        header = {"format": FORMAT, "version": VERSION, "net": timeline.definition,
                  "start": _state_to_json(timeline.start_state())}
        out.write(_dumps(header, f"the start marking of net {name!r}") + "\n")
        for change in timeline.changes:
            out.write(_dumps(_change_to_json(change),
                             f"net {name!r}, the change at revision {change.revision}") + "\n")
        for failure in timeline.failures:
            out.write(_dumps({"failure": failure._asdict()},
                             f"net {name!r}, the failure of firing {failure.firing!r}") + "\n")


def replay(file: Any) -> Timeline:
    """Re-create a recorded run step by step: a :class:`dipen.timeline.Timeline` whose steps
    carry each change and the marking after it, and whose ``net`` can be drawn.

    Parameters
    ----------
    file
        A path or a text file holding a recording (:func:`record`, ``Timeline.save``).

    Raises
    ------
    RecordingError
        If the file is not a dipen recording, a line is broken, or a change does not apply to
        the marking before it; the message names the file and the line.

    Examples
    --------
    >>> import io
    >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
    >>> runner = dipen.Runner(net)
    >>> _ = runner.run_sync()
    >>> file = io.StringIO()
    >>> from dipen.recording import record_sync
    >>> record_sync(runner, file)
    Timeline(net='n', revisions 1–3, 3 steps)
    >>> from dipen.recording import replay
    >>> replayed = replay(io.StringIO(file.getvalue()))
    >>> [step.marking.counts() for step in replayed]
    [{'a': 2, 'b': 0}, {'a': 1, 'b': 1}, {'a': 0, 'b': 2}]
    >>> replayed.marking == runner.marking, replayed.net
    (True, Net('n', places=2, transitions=1, arcs=2))
    """
    where = os.fspath(file) if isinstance(file, (str, os.PathLike)) else getattr(
        file, "name", "the recording")
    with _opened(file, "r") as handle:
        changes: list[Change] = []
        failures: list[Failure] = []
        header: dict[str, Any] | None = None
        start: State | None = None
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if header is None:
                    if not isinstance(data, dict) or data.get("format") != FORMAT:
                        raise RecordingError(
                            f"{where} is not a dipen recording (its first line must be a "
                            f'{{"format": "{FORMAT}", ...}} header)')
                    if data.get("version") != VERSION:
                        raise RecordingError(f"{where}: recording version {data.get('version')!r} "
                                             f"is not supported (this dipen reads {VERSION})")
                    header = data
                    start = _state_from_json(data["net"], data["start"])
                elif "failure" in data:
                    failures.append(Failure(**data["failure"]))
                else:
                    changes.append(_change_from_json(data))
            except RecordingError:
                raise
            except (ValueError, KeyError, TypeError) as exc:
                raise RecordingError(
                    f"{where}, line {number}: not a recording line ({type(exc).__name__}: {exc})"
                ) from None
    if header is None:
        raise RecordingError(f"{where} is empty: no dipen recording header")
    timeline = Timeline(header["net"], changes, start, failures)
    timeline.steps  # noqa: B018  # check now that every change applies
    return timeline


async def record(
    source: Any, file: Any, *, since: int | None = None, until: int | None = None,
    since_time: float | None = None, until_time: float | None = None,
) -> Timeline:
    """Export a run to a recording: a live :class:`dipen.Runner` (on any store), a store's
    history (an ``EtcdStore`` from any machine) or a :class:`~dipen.timeline.Timeline`, in a
    window of revisions or times (see :mod:`dipen.timeline`). Returns what was written.

    Raises
    ------
    CompactedError
        If the store no longer keeps its history from the start up to the window's end.
    RecordingError
        If token data cannot be written as JSON.

    Examples
    --------
    >>> import asyncio, io
    >>> net = dipen.Net("n").place("a", tokens=3).place("b").transition("t", take="a", give="b")
    >>> store = dipen.MemoryStore()
    >>> _ = dipen.Runner(net, store=store).run_sync()
    >>> incident = io.StringIO()
    >>> from dipen.recording import record
    >>> asyncio.run(record(store, incident, since=2, until=3))
    Timeline(net='n', revisions 3–3, 1 steps)
    >>> from dipen.recording import replay
    >>> replay(io.StringIO(incident.getvalue())).start.counts()
    {'a': 2, 'b': 1}
    """
    if isinstance(source, Timeline):
        timeline = source.window(since=since, until=until, since_time=since_time,
                                 until_time=until_time)
    else:
        timeline = await history(source, since=since, until=until, since_time=since_time,
                                 until_time=until_time)
    write(timeline, file)
    return timeline


def record_sync(
    source: Any, file: Any, *, since: int | None = None, until: int | None = None,
    since_time: float | None = None, until_time: float | None = None,
) -> Timeline:
    """:func:`record`, blocking (in a script, or nested in a notebook's event loop).

    Examples
    --------
    >>> import io
    >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
    >>> runner = dipen.Runner(net)
    >>> _ = runner.run_sync()
    >>> file = io.StringIO()
    >>> dipen.record_sync(runner, file)
    Timeline(net='n', revisions 1–3, 3 steps)
    >>> dipen.replay(io.StringIO(file.getvalue())).marking.counts()
    {'a': 0, 'b': 2}
    """
    from .notebook import run_blocking

    return run_blocking(record(source, file, since=since, until=until, since_time=since_time,
                               until_time=until_time))
