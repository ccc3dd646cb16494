"""dipen.analysis.reachability on coloured nets: token data in states, pure code transitions,
custom executors, and the errors for code that is not declared pure or is not pure."""

from __future__ import annotations

import asyncio

import pytest

import dipen
from dipen.analysis import reachability
from dipen.errors import AnalysisError, DipenError


def _doubling(values: list[int]) -> dipen.Net:
    net = dipen.Net("doubling").place("numbers", tokens=values).place("doubled")

    @net.transition(take="numbers", give="doubled")
    async def double(token):
        return token.replace(token.data * 2)

    return net


def test_pure_code_transition_explores_every_order_and_agrees_with_the_runner():
    net = _doubling([1, 2, 3])
    graph = reachability(net, pure={"double"})
    assert len(graph.states) == 2 ** 3  # which of the three numbers are doubled yet
    (deadlock,) = graph.deadlocks()
    assert deadlock.state["numbers"] == () and sorted(deadlock.state["doubled"]) == [2, 4, 6]
    assert sorted(e.binding["numbers"] for e in graph.successors(graph.initial)) == [(1,), (2,), (3,)]
    assert len(deadlock.path) == 3
    runner = dipen.Runner(net)
    runner.run_sync()
    assert sorted(runner.marking.data()["doubled"]) == sorted(deadlock.state.data()["doubled"])
    assert reachability(net, pure=True).states[1].counts() == {"numbers": 2, "doubled": 1}


def test_undeclared_code_is_a_clear_error():
    net = _doubling([1])
    with pytest.raises(AnalysisError) as caught:
        reachability(net)
    message = str(caught.value)
    assert "net 'doubling', transition 'double'" in message and "pure={'double'}" in message
    assert isinstance(caught.value, DipenError)
    with pytest.raises(AnalysisError, match="unknown transition 'dubble'"):
        reachability(net, pure={"dubble"})
    guarded = (dipen.Net("guarded").place("a", tokens=[1, 2]).place("b")
               .transition("odd", take="a", give="b", guard=lambda token: token.data % 2 == 1))
    with pytest.raises(AnalysisError, match="transition 'odd'.*guard="):
        reachability(guarded)
    graph = reachability(guarded, pure="odd")
    assert [s.data() for s in graph.states] == [{"a": [1, 2], "b": []}, {"a": [2], "b": [1]}]


def test_equal_data_is_one_state_and_moves_with_pt_transitions():
    net = (dipen.Net("bag").place("bag", tokens=[1, 1, 2]).place("out")
           .transition("move", take="bag", give="out"))
    graph = reachability(net)
    assert graph.coloured
    assert sorted(tuple(sorted(s["out"])) for s in graph.states) == [
        (), (1,), (1, 1), (1, 1, 2), (1, 2), (2,)]
    assert len(graph.successors(graph.initial)) == 2  # take a 1 or the 2, not each 1 apart


def test_data_split_over_two_outputs_tries_every_assignment():
    net = (dipen.Net("split").place("pair", tokens=[{"n": 1}, {"n": 2}]).place("left").place("right")
           .transition("split", take={"pair": 2}, give=["left", "right"]))
    graph = reachability(net)
    assert sorted(repr((s["left"], s["right"])) for s in graph.states[1:]) == [
        "(({'n': 1},), ({'n': 2},))", "(({'n': 2},), ({'n': 1},))"]
    runner = dipen.Runner(net)  # the runner's choice (oldest first) is one of them
    runner.run_sync()
    runner_result = (tuple(runner.marking.data()["left"]), tuple(runner.marking.data()["right"]))
    assert runner_result in [(s["left"], s["right"]) for s in graph.states]
    mixed = (dipen.Net("mixed").place("a", tokens=[1]).place("b")
             .transition("grow", take="a", give={"b": 2}))  # counts differ: new plain tokens
    assert reachability(mixed).states[1].data() == {"a": [], "b": [None, None]}


def test_mapping_form_with_reads_and_guard():
    net = (dipen.Net("adder").place("x", tokens=[1, 2]).place("y", tokens=[10]).place("offset", tokens=[100])
           .place("sum"))

    def small(tokens):
        return tokens["x"][0].data + tokens["y"][0].data < 15

    @net.transition(take=["x", "y"], read="offset", give="sum", guard=small)
    async def add(tokens):
        return {"sum": [tokens["x"][0].data + tokens["y"][0].data + tokens["offset"][0].data]}

    graph = reachability(net, pure=True)
    assert [s.data()["sum"] for s in graph.states] == [[], [111], [112]]
    assert [e.binding for e in graph.successors(graph.initial)] == [
        {"x": (1,), "y": (10,)}, {"x": (2,), "y": (10,)}]
    assert {e.source.index for e in graph.edges} == {0}


def test_custom_executor_fires_the_tokens_its_check_start_picks():
    class TakeEven(dipen.Executor):
        def check_start(self, ctx):
            even = [t for t in ctx.tokens("numbers") if t.data % 2 == 0]
            return dipen.Enabled({"numbers": even[:1]}) if even else dipen.Disabled("no even")

        async def run(self, ctx):
            (token,) = ctx.taken["numbers"]
            return {"even": [token]}

    net = (dipen.Net("evens").place("numbers", tokens=[1, 2, 3, 4]).place("even")
           .transition("pick", take="numbers", give="even", executor=TakeEven))
    with pytest.raises(AnalysisError, match="executor=.*TakeEven"):
        reachability(net)
    graph = reachability(net, pure={"pick"})
    assert [s.data()["even"] for s in graph.states] == [[], [2], [2, 4]]
    (deadlock,) = graph.deadlocks()
    runner = dipen.Runner(net)
    runner.run_sync()
    assert sorted(runner.marking.data()["even"]) == deadlock.state.data()["even"]


def test_code_that_is_not_pure_is_reported():
    net = dipen.Net("sleepy").place("a", tokens=[1]).place("b")

    @net.transition(take="a", give="b")
    async def wait(token):
        await asyncio.sleep(0)
        return token

    with pytest.raises(AnalysisError, match="transition 'wait'.*awaited something"):
        reachability(net, pure=True)

    timed = dipen.Net("timed").place("a", tokens=[1]).place("b")

    @timed.transition(take="a", give="b")
    async def later(token):
        await dipen.sleep(1)  # the runner's clock: there is none in an analysis
        return token

    with pytest.raises(AnalysisError, match="'timed', transition 'later'.*raised RuntimeError"):
        reachability(timed, pure=True)

    broken = dipen.Net("broken").place("a", tokens=[0]).place("b")

    @broken.transition(take="a", give="b")
    async def divide(token):
        return 1 / token.data

    with pytest.raises(AnalysisError, match="raised ZeroDivisionError.*taking {'a': \\[0\\]}") as caught:
        reachability(broken, pure=True)
    assert isinstance(caught.value.__cause__, ZeroDivisionError)

    forged = dipen.Net("forged").place("a", tokens=[1]).place("b")

    @forged.transition(take="a", give="b")
    async def forge(token):
        return {"b": [dipen.Token("not-taken", 5)]}

    with pytest.raises(AnalysisError, match="did not take"):
        reachability(forged, pure=True)


def test_code_that_overflows_a_capacity_is_reported():
    net = dipen.Net("flood").place("a", tokens=[1]).place("b", capacity=1)

    @net.transition(take="a", give="b")
    async def flood(token):
        return {"b": [1, 2]}

    with pytest.raises(AnalysisError, match="capacity of 1"):
        reachability(net, pure=True)


def test_coloured_incomplete_graph_cannot_answer_bounds():
    net = dipen.Net("counter").place("n", tokens=[0])

    @net.transition(take="n", give="n")
    async def count(token):
        return token.replace(token.data + 1)

    graph = reachability(net, pure=True, max_states=20)
    assert graph.incomplete and len(graph.states) == 20
    assert [s["n"] for s in graph.states[:3]] == [(0,), (1,), (2,)]
    with pytest.raises(AnalysisError, match="max_states=20"):
        graph.bounds()
    assert [e.transition for e in graph.path_to(graph.states[5])] == ["count"] * 5
