"""Which runners one live view may show together: runners of one net on one store (one
store object, or :class:`dipen.EtcdStore` objects on the same etcd and prefix, as runners on
several machines each open their own).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import RunnerError
from ..runner import Runner
from ..stores.base import net_differences

__all__ = ["check_runners"]


def check_runners(runners: Sequence[Runner]) -> None:
    """Raise :class:`RunnerError` unless ``runners`` are runners of one net on one store.

    One store is one store object, or several :class:`dipen.EtcdStore` objects on the same
    etcd (an endpoint in common) and the same prefix: runners in different processes or on
    different machines each open their own, and a view may still show them together.

    Examples
    --------
    >>> from dipen.viz.sharing import check_runners
    >>> net = dipen.Net("n").place("a", tokens=1).place("b").transition("t", take="a", give="b")
    >>> check_runners([dipen.Runner(net, store=dipen.EtcdStore(prefix="x")),
    ...                dipen.Runner(net, store=dipen.EtcdStore(prefix="x"))])
    >>> check_runners([dipen.Runner(net, store=dipen.EtcdStore(prefix="x")),
    ...                dipen.Runner(net, store=dipen.EtcdStore(prefix="y"), node="there")])
    Traceback (most recent call last):
    ...
    dipen.errors.RunnerError: the runners of one live view must work on one net's state: runner there uses etcd prefix 'y/', runner ... uses prefix 'x/'
    """
    if not runners:
        raise RunnerError("a live view needs a runner (or a list of runners sharing one store)")
    for runner in runners:
        if not isinstance(runner, Runner):
            raise RunnerError(f"a live view shows dipen.Runner objects, not {runner!r}")
    first = runners[0]
    for runner in runners[1:]:
        if runner.net is not first.net and runner.net.to_dict() != first.net.to_dict():
            differences = net_differences(first.net.to_dict(), runner.net.to_dict())
            raise RunnerError(
                f"the runners of one live view must run one net: runner {runner.node} runs net "
                f"{runner.net.name!r}, runner {first.node} runs net {first.net.name!r}, and they "
                f"differ: {'; '.join(differences[:3]) or 'in their initial tokens'}"
            )
        difference = _store_difference(runner, first)
        if difference:
            raise RunnerError(
                f"the runners of one live view must work on one net's state: {difference}"
            )


def _store_difference(runner: Runner, first: Runner) -> str:
    """What makes the stores of two runners of one net hold different states ('' if nothing):
    the same store object, or etcd stores on one etcd and prefix, hold the same state."""
    store, other = runner.store, first.store
    if store is other:
        return ""
    kind, other_kind = type(store).__name__, type(other).__name__
    if kind != other_kind:
        return f"runner {runner.node} uses a {kind}, runner {first.node} a {other_kind}"
    endpoints, other_endpoints = getattr(store, "endpoints", None), getattr(other, "endpoints", None)
    if endpoints is None or other_endpoints is None:  # an in-process store: its own state
        return (f"runners {runner.node} and {first.node} use two {kind} objects, each with a "
                f"state of its own; give both runners the same store=")
    prefix, other_prefix = _prefix(runner), _prefix(first)
    if prefix != other_prefix:
        return (f"runner {runner.node} uses etcd prefix {prefix!r}, runner {first.node} uses "
                f"prefix {other_prefix!r}")
    if not set(endpoints) & set(other_endpoints):
        return (f"runner {runner.node} uses etcd at {', '.join(endpoints)}, runner {first.node} "
                f"at {', '.join(other_endpoints)} (no endpoint in common)")
    return ""


def _prefix(runner: Runner) -> str:
    """The etcd prefix of a runner's store, also before it connected (then the default)."""
    prefix = getattr(runner.store, "prefix", None)
    return f"dipen/{runner.net.name}/" if prefix is None else str(prefix)
