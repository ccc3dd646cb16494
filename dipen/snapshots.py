"""Snapshot tests of nets: run a net, compare what it did with a stored snapshot, show where
it differs. No pytest needed here; :mod:`dipen.testing` is the pytest plugin around it.

A snapshot test runs a net (simulated clock, seeded) and compares what it did, step by step
(which transition fired when, the data of the tokens it took and placed, the marking of the
places it touched), with a snapshot file stored next to the test. When the net's behaviour
changes the test fails and shows where: the step, the place, the tokens expected and found.

Enable the plugin with ``pytest -p dipen.testing`` (or the ``pytest11`` entry point dipen
installs), then use the ``dipen_snapshot`` fixture::

    def test_shop(dipen_snapshot):
        dipen_snapshot.check(shop_net(), until=3600, seed=7)

The first run fails (no snapshot yet); ``pytest --dipen-update-snapshots`` (or the
environment variable ``DIPEN_UPDATE_SNAPSHOTS=1``) writes
``__snapshots__/<test module>/<test name>.jsonl`` beside the test file, to be committed with it;
run it again whenever a change in behaviour is intended.

*Seeded* means: dipen's runner draws no random numbers itself, so ``seed`` seeds Python's
:mod:`random` for the duration of the run (its previous state is restored afterwards); code
in transitions that uses ``random`` is then repeatable. Token and firing ids, node names and
the wall-clock stamp of the initial marking are left out of snapshots, so the same snapshot
holds for a run on the memory store and one on etcd.
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import re
from typing import Any

from .errors import SnapshotError
from .timeline import Step, Timeline

__all__ = ["Snapshot", "differences", "run", "snapshot_steps"]

FORMAT = "dipen-snapshot"
VERSION = 1
_MOVES = ("took", "removed", "added", "released")
_UPDATE_ENV = "DIPEN_UPDATE_SNAPSHOTS"


def run(net: Any, *, seed: int = 0, until: float | None = None, max_firings: int | None = None,
        store: Any = None, timeout: float | None = None) -> Timeline:
    """Run ``net`` on a simulated clock with :mod:`random` seeded by ``seed`` and return its
    history (a fresh :class:`dipen.MemoryStore` unless ``store`` is given, e.g. an etcd one).

    Examples
    --------
    >>> from dipen.testing import run
    >>> net = dipen.Net("n").place("a", tokens=2).place("b").transition("t", take="a", give="b")
    >>> [step.describe() for step in run(net, seed=1)]
    ['init', "fire of 't' (firing 'f1')", "fire of 't' (firing 'f2')"]
    """
    from .notebook import run_blocking
    from .runner import Runner
    from .timeline import history_sync

    runner = Runner(net, store=store, clock="simulated", node="snapshot")
    saved = random.getstate()
    random.seed(seed)
    try:
        runner.run_sync(until=until, max_firings=max_firings, timeout=timeout)
    finally:
        random.setstate(saved)
        run_blocking(runner.close())
    return history_sync(runner)


def _data(tokens: dict[str, tuple[Any, ...]]) -> dict[str, list[Any]]:
    return {place: [token.data for token in found] for place, found in tokens.items()}


def _step(index: int, step: Step) -> dict[str, Any]:
    record: dict[str, Any] = {"step": index, "time": None if step.kind == "init" else step.time,
                              "kind": step.kind, "transition": step.transition}
    for key, tokens in zip(_MOVES, (step.taken, step.removed, step.added, step.released),
                           strict=True):
        if tokens:
            record[key] = _data(tokens)
    if step.note is not None:
        record["note"] = step.note
    touched = step.change.places
    record["marking"] = {place: [token.data for token in tokens]
                         for place, tokens in step.marking.items() if place in touched}
    return record


def snapshot_steps(timeline: Timeline) -> list[dict[str, Any]]:
    """A timeline as a snapshot holds it: per step its time, kind, transition, the data of the
    tokens it took, removed, added and released per place, and the data in the places it touched.

    Examples
    --------
    >>> from dipen.testing import run, snapshot_steps
    >>> net = dipen.Net("n").place("a", tokens=[{"n": 1}]).place("b")
    >>> net = net.transition("t", take="a", give="b")
    >>> snapshot_steps(run(net))[1]
    {'step': 1, 'time': 0.0, 'kind': 'fire', 'transition': 't', 'removed': {'a': [{'n': 1}]}, 'added': {'b': [{'n': 1}]}, 'marking': {'a': [], 'b': [{'n': 1}]}}
    """
    return [_step(index, step) for index, step in enumerate(timeline)]


def _describe(record: dict[str, Any]) -> str:
    if record["transition"] is None:
        return record["kind"] if record["kind"] == "init" else f"{record['kind']} ({record.get('note')})"
    return f"{record['kind']} of {record['transition']!r} at time {record['time']:g}"


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def differences(expected: list[dict[str, Any]], actual: list[dict[str, Any]],
                limit: int = 5) -> list[str]:
    """What differs between two snapshots' steps, in words (at most ``limit`` steps shown):
    for each differing step what was expected and what happened, then each move and each place
    whose tokens differ.

    Examples
    --------
    >>> from dipen.testing import differences, run, snapshot_steps
    >>> net = dipen.Net("n").place("a", tokens=[1, 2]).place("b")
    >>> before = snapshot_steps(run(net.transition("t", take="a", give="b")))
    >>> changed = dipen.Net("n").place("a", tokens=[1, 3]).place("b")
    >>> after = snapshot_steps(run(changed.transition("t", take="a", give="b")))
    >>> print("\\n".join(differences(before, after)))
    step 0 (init):
      added: expected {"a": [1, 2]}, got {"a": [1, 3]}
      place 'a': expected [1, 2], got [1, 3]
    step 1 (fire of 't' at time 0):
      place 'a': expected [2], got [3]
    step 2 (fire of 't' at time 0):
      removed: expected {"a": [2]}, got {"a": [3]}
      added: expected {"b": [2]}, got {"b": [3]}
      place 'b': expected [1, 2], got [1, 3]
    """
    lines: list[str] = []
    shown = 0
    differing = 0
    for index in range(max(len(expected), len(actual))):
        want = expected[index] if index < len(expected) else None
        got = actual[index] if index < len(actual) else None
        if want == got:
            continue
        differing += 1
        if shown == limit:
            continue
        shown += 1
        if want is None:
            lines.append(f"step {index}: not in the snapshot, the run went on: {_describe(got)}")  # type: ignore[arg-type]
            continue
        if got is None:
            lines.append(f"step {index}: expected {_describe(want)}, but the run had ended")
            continue
        if _describe(want) == _describe(got):
            lines.append(f"step {index} ({_describe(want)}):")
        else:
            lines.append(f"step {index}: expected {_describe(want)}, got {_describe(got)}")
        for key in (*_MOVES, "note"):
            if want.get(key) != got.get(key):
                lines.append(f"  {key}: expected {_show(want.get(key, {}))}, "
                             f"got {_show(got.get(key, {}))}")
        places = dict.fromkeys([*want["marking"], *got["marking"]])
        for place in places:
            if want["marking"].get(place) != got["marking"].get(place):
                lines.append(f"  place {place!r}: expected {_show(want['marking'].get(place))}, "
                             f"got {_show(got['marking'].get(place))}")
    if differing > shown:
        lines.append(f"... and {differing - shown} more differing steps")
    return lines


class Snapshot:
    """The snapshot(s) of one test: :meth:`check` compares a run with the stored file, or writes
    it when ``update`` is set.

    Parameters
    ----------
    path
        The snapshot file of the first :meth:`check`; later checks in the same test add
        ``-2``, ``-3``, ... (or give each a ``name``).
    update
        Write snapshots instead of comparing.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from dipen.testing import Snapshot
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = Snapshot(folder / "n.jsonl", update=True).check(net)
    >>> _ = Snapshot(folder / "n.jsonl").check(net)  # the same behaviour: passes
    >>> slower = dipen.Net("n").place("a", tokens=1).place("b")
    >>> @slower.transition(take="a", give="b")
    ... async def t(token):
    ...     await dipen.sleep(1)
    ...     return token
    >>> Snapshot(folder / "n.jsonl").check(slower)
    Traceback (most recent call last):
    ...
    dipen.errors.SnapshotError: net 'n' behaves differently from its snapshot .../n.jsonl:
    step 1: expected fire of 't' at time 0, got start of 't' at time 0
    ...
    """

    def __init__(self, path: str | os.PathLike[str], *, update: bool = False) -> None:
        self.path = pathlib.Path(path)
        self.update = update
        self.written: list[pathlib.Path] = []
        self._checks = 0

    def __repr__(self) -> str:
        return f"Snapshot({str(self.path)!r}, update={self.update})"

    def _path(self, name: str | None) -> pathlib.Path:
        self._checks += 1
        if name is not None:
            return self.path.with_name(f"{self.path.stem}-{_safe(name)}{self.path.suffix}")
        if self._checks == 1:
            return self.path
        return self.path.with_name(f"{self.path.stem}-{self._checks}{self.path.suffix}")

    def check(self, source: Any, *, seed: int = 0, until: float | None = None,
              max_firings: int | None = None, store: Any = None, timeout: float | None = None,
              name: str | None = None) -> Timeline:
        """Compare a run with the stored snapshot (or store it, when updating); return the run.

        ``source`` is a :class:`dipen.Net` (run with :func:`run` and the other arguments), a
        runner that has run, a :class:`~dipen.timeline.Timeline` or a recording file.

        Raises
        ------
        SnapshotError
            If the run differs from the snapshot (the message shows the first differing steps,
            place by place) or no snapshot is stored yet.
        """
        from .net import Net

        if isinstance(source, Net):
            timeline = run(source, seed=seed, until=until, max_firings=max_firings, store=store,
                           timeout=timeout)
        else:
            from .statistics import _timeline

            timeline = _timeline(source)
        header = {"format": FORMAT, "version": VERSION, "net": timeline.definition["name"],
                  "seed": seed}
        steps = snapshot_steps(timeline)
        path = self._path(name)
        if self.update:
            text = "".join(json.dumps(line, sort_keys=True) + "\n" for line in [header, *steps])
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                self.written.append(path)
            return timeline
        if not path.exists():
            raise SnapshotError(
                f"net {header['net']!r} has no snapshot {path} yet; run pytest with "
                f"--dipen-update-snapshots (or {_UPDATE_ENV}=1) to write it")
        stored = _load(path)
        found = differences(stored[1:], steps)
        found[:0] = [f"{key}: expected {stored[0].get(key)!r}, got {header[key]!r}"
                     for key in ("net", "seed") if stored[0].get(key) != header[key]]
        if found:
            raise SnapshotError(
                f"net {header['net']!r} behaves differently from its snapshot {path}:\n"
                + "\n".join(found)
                + f"\nIf the new behaviour is right, run pytest with --dipen-update-snapshots "
                  f"(or {_UPDATE_ENV}=1) to update the snapshot.")
        return timeline


def _load(path: pathlib.Path) -> list[dict[str, Any]]:
    try:
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    except ValueError as exc:
        raise SnapshotError(f"snapshot {path} is not JSON lines ({exc}); update it") from None
    if not lines or lines[0].get("format") != FORMAT:
        raise SnapshotError(f"{path} is not a dipen snapshot (no {FORMAT!r} header); update it")
    return lines


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("_") or "snapshot"
