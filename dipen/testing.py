"""The pytest plugin of dipen's snapshot tests (:mod:`dipen.snapshots`): the
``dipen_snapshot`` fixture and the ``--dipen-update-snapshots`` option.

Enable it with ``pytest -p dipen.testing`` (or the ``pytest11`` entry point dipen installs)::

    def test_shop(dipen_snapshot):
        dipen_snapshot.check(shop_net(), until=3600, seed=7)

The first run fails (no snapshot yet); ``pytest --dipen-update-snapshots`` (or the
environment variable ``DIPEN_UPDATE_SNAPSHOTS=1``) writes
``__snapshots__/<test module>/<test name>.jsonl`` beside the test file, to be committed with it.
The snapshot classes and functions are re-exported here for convenience.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from .errors import SnapshotError
from .snapshots import _UPDATE_ENV, Snapshot, _safe, differences, run, snapshot_steps
from .timeline import Timeline

__all__ = ["Snapshot", "differences", "dipen_snapshot", "run", "snapshot_steps"]


# -- the pytest plugin ---------------------------------------------------------------------------

_WRITTEN = pytest.StashKey[list[pathlib.Path]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--dipen-update-snapshots`` to pytest's options."""
    parser.getgroup("dipen").addoption(
        "--dipen-update-snapshots", action="store_true", default=False,
        help=f"write the snapshots of dipen_snapshot tests instead of comparing them "
             f"(also: {_UPDATE_ENV}=1)")


def pytest_configure(config: pytest.Config) -> None:
    """Keep the list of snapshots this session writes."""
    config.stash[_WRITTEN] = []


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say which snapshots were written."""
    written = config.stash.get(_WRITTEN, [])
    if written:
        terminalreporter.write_line(f"dipen: {len(written)} snapshot(s) written:")
        for path in written:
            terminalreporter.write_line(f"  {path}")


class _PytestSnapshot(Snapshot):
    """A :class:`Snapshot` that fails its test with the differences only (no traceback)."""

    def check(self, source: Any, **options: Any) -> Timeline:
        try:
            return super().check(source, **options)
        except SnapshotError as exc:
            pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def dipen_snapshot(request: pytest.FixtureRequest) -> Iterator[Snapshot]:
    """A :class:`Snapshot` for this test, stored in ``__snapshots__/<module>/<test>.jsonl``
    beside the test file; ``--dipen-update-snapshots`` (or ``DIPEN_UPDATE_SNAPSHOTS=1``) writes
    it instead of comparing."""
    test = pathlib.Path(request.node.path)
    update = bool(request.config.getoption("dipen_update_snapshots")) or os.environ.get(
        _UPDATE_ENV, "") not in ("", "0")
    snapshot = _PytestSnapshot(test.parent / "__snapshots__" / test.stem
                               / f"{_safe(request.node.name)}.jsonl", update=update)
    yield snapshot
    request.config.stash.get(_WRITTEN, []).extend(snapshot.written)
