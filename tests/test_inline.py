"""Simple transitions fire inline on the memory store (dipen.inline): what they leave behind is
what the general path leaves behind."""

from __future__ import annotations

import asyncio

import dipen
from dipen import events


async def _step(token):
    return token.update(counter=token["counter"] - 1)


def _positive(token):
    return token["counter"] > 0


class Step(dipen.Executor):
    """The ring's transition written as a full executor: it takes the general path."""

    def __init__(self, ctx):
        super().__init__(ctx)
        (self.source,) = [arc.place for arc in ctx.arcs_taking()]
        (self.target,) = [arc.place for arc in ctx.arcs_giving()]

    def check_start(self, ctx):
        for token in ctx.tokens(self.source):
            if _positive(token):
                return dipen.Enabled({self.source: [token]})
        return dipen.Disabled("no token with a positive counter")

    async def run(self, ctx):
        (token,) = ctx.taken[self.source]
        return {self.target: [await _step(token)]}


def _rings(general: bool) -> dipen.Net:
    net = dipen.Net("rings")
    for i in range(3):
        net.place(f"p1_{i}", tokens=[{"counter": 7}, {"counter": 2}]).place(f"p2_{i}")
        for name, source, target in ((f"t1_{i}", f"p1_{i}", f"p2_{i}"),
                                     (f"t2_{i}", f"p2_{i}", f"p1_{i}")):
            if general:
                net.transition(name, take=source, give=target, executor=Step)
            else:
                net.transition(name, take=source, give=target, run=_step, guard=_positive)
    return net


def _changes(store: dipen.Store) -> list[dipen.state.Change]:
    return asyncio.run(store.changes())


def _trace(runner: dipen.Runner) -> dict[str, object]:
    changes = _changes(runner.store)
    return {
        "changes": [(c.kind, c.firing, c.transition, c.take, c.remove,
                     tuple((place, token.id, token.data) for place, token in c.add), c.release)
                    for c in changes],
        "events": [(type(e).__name__, e.revision, e.firing.id) for e in runner.history],
        "firings": runner.stats.firings,
        "marking": runner.marking.data(),
    }


def test_inline_firings_leave_what_the_general_path_leaves():
    inline, general = dipen.Runner(_rings(general=False)), dipen.Runner(_rings(general=True))
    assert inline.run_sync().firings == general.run_sync().firings == 3 * 9
    engine = inline._engine
    assert all(engine.transition(name).single is not None for name in inline.net.transitions)
    assert all(general._engine.transition(name).single is None for name in general.net.transitions)
    assert _trace(inline) == _trace(general)
    assert {c.kind for c in _changes(inline.store)} == {"init", "fire"}


def test_code_fired_inline_sees_its_firing_and_so_do_the_tasks_it_starts():
    net = dipen.Net("n").place("a", tokens=1).place("b")
    seen: list[object] = []
    children: list[asyncio.Task[None]] = []

    @net.transition(take="a", give="b")
    async def move(token):
        firing = dipen.current_firing()

        async def child() -> None:
            seen.append(dipen.current_firing() is firing)

        children.append(asyncio.ensure_future(child()))
        seen.append((firing.id, firing.taken["a"][0].firing, firing.state))
        return token

    async def main() -> dipen.Runner:
        runner = dipen.Runner(net)
        await runner.run()
        await asyncio.gather(*children)
        return runner

    runner = asyncio.run(main())
    assert runner._engine.transition("move").single == "a"
    assert seen == [("f1", "f1", "running"), True]
    assert dipen.current_firing() is None
    assert runner.marking.counts() == {"a": 0, "b": 1}


def test_a_transition_blocked_or_firing_already_is_checked_the_general_way():
    net = dipen.Net("n").place("a", tokens=2).place("b")

    @net.transition(take="a", give="b", concurrency=1)
    async def slow(token):
        await dipen.sleep(10)
        return token

    runner = dipen.Runner(net, clock="simulated")
    assert runner.explain("slow") == "'slow' is enabled: it would take 1 from 'a'"
    runner.block("slow")
    assert runner.run_sync().firings == 0
    runner.unblock("slow")
    summary = runner.run_sync()
    assert summary.firings == 2 and summary.time == 20.0
    started = [e for e in runner.history if isinstance(e, events.FiringStarted)]
    assert [e.time for e in started] == [0.0, 10.0]  # one at a time: the second waited
