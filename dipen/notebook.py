"""Jupyter glue: running a coroutine to completion from code that cannot ``await``.

``nest-asyncio2`` (the maintained fork of nest-asyncio that ipykernel depends on) is applied
only when a blocking call is made inside an already running event loop (a notebook cell),
never at import.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from .errors import RunnerError

__all__ = ["allow_nested", "run_blocking"]

T = TypeVar("T")
_PATCHED: set[int] = set()


def allow_nested(loop: asyncio.AbstractEventLoop) -> None:
    """Make ``loop`` re-entrant so a blocking call can run inside it (idempotent)."""
    if id(loop) in _PATCHED:
        return
    try:
        import nest_asyncio2
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise RunnerError(
            "a blocking call inside a running event loop (a notebook cell) needs the "
            "'nest-asyncio2' package: pip install nest-asyncio2, or use 'await' instead"
        ) from exc
    nest_asyncio2.apply(loop)
    _PATCHED.add(id(loop))


_THREAD = threading.local()


def _private_runner() -> asyncio.Runner:
    """This thread's private event loop for blocking calls, kept between calls so that
    firings paused by one ``run_sync`` continue in the next; closed at exit."""
    runner = getattr(_THREAD, "runner", None)
    if runner is None:
        runner = _THREAD.runner = asyncio.Runner()
        atexit.register(runner.close)
    return runner


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion: on this thread's private loop when no loop is
    running (a script), or nested inside the running loop (a notebook cell)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is None:
        loop = _private_runner().get_loop()
    else:
        allow_nested(loop)
    task = loop.create_task(coroutine)
    try:
        return loop.run_until_complete(task)
    except KeyboardInterrupt:  # an interrupt: let the coroutine clean up, then re-raise
        if not task.done():
            task.cancel()
            try:
                loop.run_until_complete(task)
            except (asyncio.CancelledError, Exception):
                pass
        raise
