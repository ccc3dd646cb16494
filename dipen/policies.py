"""Error policies: what a runner does when a transition's ``run`` (or ``check_start``) raises.

``on_error=`` on a transition takes one of these objects, or the short forms ``"block"``
(the default), ``"retry"`` and ``"stop"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Block", "ErrorPolicy", "Retry", "Stop", "ToPlace", "error_policy"]


@dataclass(frozen=True, slots=True)
class ErrorPolicy:
    """Base class of the error policies.

    A transition's ``on_error`` is one of :class:`Block` (``"block"``, the default),
    :class:`Retry`, :class:`ToPlace` or :class:`Stop` (``"stop"``).

    Examples
    --------
    >>> net = dipen.Net("n").place("a").place("b").transition("t", take="a", give="b")
    >>> policy = net.transitions["t"].on_error
    >>> isinstance(policy, dipen.ErrorPolicy), policy.describe()
    (True, 'return tokens and block')
    """

    def describe(self) -> str:
        return type(self).__name__.lower()


@dataclass(frozen=True, slots=True)
class Block(ErrorPolicy):
    """Return the taken tokens to their places and block the transition until unblocked.

    Examples
    --------
    >>> dipen.Block().describe()
    'return tokens and block'
    """

    def describe(self) -> str:
        return "return tokens and block"


@dataclass(frozen=True, slots=True)
class Stop(ErrorPolicy):
    """Return the taken tokens and stop the runner: ``run()`` raises :class:`dipen.FiringError`.

    Examples
    --------
    >>> net = dipen.Net("n").place("a").place("b")
    >>> net.transition("t", take="a", give="b", on_error="stop").transitions["t"].on_error
    Stop()
    >>> dipen.Stop().describe()
    'return tokens and stop the runner'
    """

    def describe(self) -> str:
        return "return tokens and stop the runner"


@dataclass(frozen=True, slots=True)
class ToPlace(ErrorPolicy):
    """Move the taken tokens to ``place`` (an error place of the same net); the transition goes on.

    Examples
    --------
    >>> dipen.ToPlace("failed").describe()
    "move tokens to 'failed'"
    """

    place: str

    def describe(self) -> str:
        return f"move tokens to {self.place!r}"


@dataclass(frozen=True, slots=True)
class Retry(ErrorPolicy):
    """Return the tokens and try again after ``backoff`` seconds (times ``factor`` after each
    further failure, at most ``max_backoff``), up to ``times`` retries (``times + 1`` attempts
    in all); when the last retry fails too, apply ``then``.

    Examples
    --------
    >>> policy = dipen.Retry(times=3, backoff=0.5)
    >>> [policy.delay(n) for n in (1, 2, 3)]
    [0.5, 1.0, 2.0]
    """

    times: int = 3
    backoff: float = 0.1
    factor: float = 2.0
    max_backoff: float = 60.0
    then: ErrorPolicy = field(default_factory=Block)

    def __post_init__(self) -> None:
        import math

        from .errors import NetError

        if type(self.times) is not int or self.times < 1:
            raise NetError(f"Retry(times={self.times!r}): times must be an int >= 1")
        for name in ("backoff", "factor", "max_backoff"):
            value = getattr(self, name)
            if type(value) not in (int, float) or not math.isfinite(value):
                raise NetError(f"Retry({name}={value!r}): must be a finite number")
        if self.backoff < 0 or self.factor < 1 or self.max_backoff < 0:
            raise NetError("Retry: backoff and max_backoff must be >= 0 and factor >= 1")
        then = self.then
        if isinstance(then, str):
            then = error_policy(then, "Retry(then=...)")
            object.__setattr__(self, "then", then)
        if not isinstance(then, ErrorPolicy):
            raise NetError(f"Retry(then={then!r}) is not a policy; use 'block', 'stop', "
                           "dipen.ToPlace(...) or dipen.Block()")
        if isinstance(then, Retry):
            raise NetError("Retry(then=Retry(...)) is not allowed; raise `times` instead")

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row."""
        return float(min(self.max_backoff, self.backoff * self.factor ** (failures - 1)))

    def describe(self) -> str:
        return f"retry up to {self.times} times, then {self.then.describe()}"


_SHORT = {"block": Block, "stop": Stop, "retry": Retry}


def error_policy(spec: object, where: str) -> ErrorPolicy:
    """Turn an ``on_error=`` value into a policy object; ``where`` names the transition."""
    from .errors import NetError

    if isinstance(spec, ErrorPolicy):
        return spec
    if isinstance(spec, str) and spec in _SHORT:
        return _SHORT[spec]()
    raise NetError(
        f"{where}: on_error={spec!r} is not a policy; use 'block', 'retry', 'stop', "
        "dipen.Retry(...), dipen.ToPlace('place') or dipen.Block()"
    )
