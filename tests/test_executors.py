"""The three executor forms (P/T, ``run=``/decorator, ``dipen.Executor`` subclasses), their
results, and what happens when an executor breaks its contract."""

from __future__ import annotations

import asyncio

import pytest

import dipen
from dipen import events
from dipen.tokens import FrozenDict

# -- helpers ---------------------------------------------------------------------------------------


def ids(tokens):
    return [token.id for token in tokens]


def record_events(runner):
    seen = []
    runner.subscribe(seen.append)
    return seen


def free_tokens(runner, place):
    return [token for token in runner.marking[place] if token.firing is None]


# -- 1. P/T without code -------------------------------------------------------------------------------


def test_pt_moves_the_oldest_token_with_its_id_and_data():
    net = dipen.Net("pt").place("a", tokens=[1, 2, 3]).place("b").transition("t", take="a", give="b")
    runner = dipen.Runner(net)
    first, second, third = runner.marking["a"]

    firing = runner.step_sync("t")

    assert ids(firing.taken["a"]) == [first.id]
    assert runner.marking["b"] == (dipen.Token(first.id, 1),)
    assert ids(runner.marking["a"]) == [second.id, third.id]
    assert runner.marking.data() == {"a": [2, 3], "b": [1]}


@pytest.mark.parametrize(
    ("take", "give", "moved"),
    [
        ({"a": 2}, {"b": 2}, True),
        ({"a": 2}, {"b": 1, "c": 1}, True),
        ({"a": 2}, {"b": 1}, False),
        ({"a": 1}, {"b": 3}, False),
        ({"a": 3}, {"b": 1, "c": 1}, False),
    ],
)
def test_pt_weights(take, give, moved):
    net = (
        dipen.Net("pt").place("a", tokens=["x", "y", "z", "w"]).place("b").place("c")
        .transition("t", take=take, give=give)
    )
    runner = dipen.Runner(net)
    before = runner.marking["a"]
    need = take["a"]

    firing = runner.step_sync("t")

    taken = before[:need]
    assert ids(firing.taken["a"]) == ids(taken)
    assert ids(runner.marking["a"]) == ids(before[need:])
    counts = runner.marking.counts()
    assert counts["b"] == give.get("b", 0)
    assert counts["c"] == give.get("c", 0)
    placed = [*runner.marking["b"], *runner.marking["c"]]
    if moved:
        # the taken tokens move, in order: first the b's, then the c's
        assert [*runner.marking["b"], *runner.marking["c"]] == [
            dipen.Token(t.id, t.data) for t in taken
        ]
    else:
        assert all(token.data is None for token in placed)
        assert not set(ids(placed)) & set(ids(before))
        assert len(set(ids(placed))) == len(placed)


def test_pt_not_enabled_with_fewer_tokens_than_the_weight():
    net = dipen.Net("pt").place("a", tokens=1).place("b").transition("t", take={"a": 2}, give="b")
    runner = dipen.Runner(net)
    assert runner.enabled() == []
    assert "needs 2" in runner.explain("t")
    assert runner.step_sync() is None
    assert runner.marking.counts() == {"a": 1, "b": 0}


@pytest.mark.parametrize(("have", "enabled"), [(1, False), (2, True), (3, True)])
def test_pt_read_place_needs_weight_tokens_and_keeps_them(have, enabled):
    net = (
        dipen.Net("pt").place("a", tokens=2).place("r", tokens=have).place("b")
        .transition("t", take="a", read={"r": 2}, give="b")
    )
    arcs = {arc.place: arc for arc in net.transitions["t"].arcs}
    assert arcs["r"].kind is dipen.ArcKind.COND
    runner = dipen.Runner(net)
    read_before = runner.marking["r"]

    summary = runner.run_sync()

    assert runner.marking["r"] == read_before  # nothing moved, same ids
    if enabled:
        assert summary.firings == 2
        assert runner.marking.counts() == {"a": 0, "r": have, "b": 2}
    else:
        assert summary.firings == 0
        assert runner.marking.counts() == {"a": 2, "r": have, "b": 0}
        assert "read place 'r'" in runner.explain("t")


def test_pt_in_out_self_loop_keeps_the_token():
    net = (
        dipen.Net("pt").place("lock", tokens=["key"]).place("jobs", tokens=[1, 2, 3]).place("done")
        .transition("work", take=["lock", "jobs"], give=["lock", "done"])
    )
    arcs = {arc.place: arc.kind for arc in net.transitions["work"].arcs}
    assert arcs == {"lock": dipen.ArcKind.IN_OUT, "jobs": dipen.ArcKind.IN, "done": dipen.ArcKind.OUT}
    runner = dipen.Runner(net)
    (key,) = runner.marking["lock"]
    jobs = runner.marking["jobs"]

    assert runner.run_sync().firings == 3

    assert runner.marking["lock"] == (key,)
    assert runner.marking["done"] == jobs
    assert runner.marking.counts()["jobs"] == 0


def test_pt_pure_self_loop_fires_on_the_same_token():
    net = dipen.Net("pt").place("p", tokens=1).transition("spin", take="p", give="p")
    assert net.transitions["spin"].arcs[0].kind is dipen.ArcKind.IN_OUT
    runner = dipen.Runner(net)
    (token,) = runner.marking["p"]
    summary = runner.run_sync(max_firings=5)
    assert summary.reason == "max_firings"
    assert summary.firings == 5
    assert runner.marking["p"] == (token,)
    assert all(f.taken["p"][0].id == token.id for f in runner.history.firings())


def test_pt_out_cond_reads_and_adds():
    net = (
        dipen.Net("pt").place("a", tokens=["x", "y"]).place("q", tokens=["q0"])
        .transition("t", take="a", give="q", read="q")
    )
    assert {arc.place: arc.kind for arc in net.transitions["t"].arcs}["q"] is dipen.ArcKind.OUT_COND
    runner = dipen.Runner(net)
    (q0,) = runner.marking["q"]
    moved = runner.marking["a"]
    assert runner.run_sync().firings == 2
    # the read token stays, the taken ones move onto the OUT_COND place
    assert runner.marking["q"] == (q0, *moved)


def test_pt_out_cond_needs_a_token_to_read():
    net = (
        dipen.Net("pt").place("a", tokens=2).place("q")
        .transition("t", take="a", give="q", read="q")
    )
    runner = dipen.Runner(net)
    assert runner.enabled() == []
    assert "read place 'q' has 0" in runner.explain("t")
    assert runner.run_sync().firings == 0


def test_pt_with_guard_on_two_places_sees_the_mapping():
    seen = []

    def guard(tokens):
        seen.append({p: [t.data for t in ts] for p, ts in tokens.items()})
        return tokens["a"][0].data > 1

    net = (
        dipen.Net("pt").place("a", tokens=[1, 2]).place("go", tokens=1).place("b")
        .transition("t", take=["a", "go"], give="b", guard=guard)
    )
    runner = dipen.Runner(net)
    (go,) = runner.marking["go"]
    assert runner.run_sync().firings == 1
    assert seen[:2] == [{"a": [1], "go": [None]}, {"a": [2], "go": [None]}]
    # P/T output: two taken, one placed: a new token without data
    assert runner.marking.data() == {"a": [1], "go": [], "b": [None]}
    assert runner.marking["b"][0].id != go.id


# -- 2. run= and the decorator -----------------------------------------------------------------------------


def test_decorator_single_token_form_moves_the_returned_token():
    net = dipen.Net("f").place("a", tokens=[{"n": 1}, {"n": 5}]).place("b")
    received = []

    @net.transition(take="a", give="b", guard=lambda token: token["n"] > 2)
    async def double(token):
        received.append(token)
        return token.update(n=token["n"] * 2)

    runner = dipen.Runner(net)
    small, big = runner.marking["a"]
    firing = runner.step_sync("double")

    assert isinstance(received[0], dipen.Token)
    assert received[0].id == big.id
    assert received[0].firing == firing.id
    assert runner.marking["b"] == (dipen.Token(big.id, {"n": 10}),)
    assert isinstance(runner.marking["b"][0].data, FrozenDict)
    assert runner.marking["a"] == (small,)
    assert firing.placed == {"b": (dipen.Token(big.id, {"n": 10}),)}


def test_run_keyword_form_is_the_same_as_the_decorator():
    async def rename(token):
        return token.replace("renamed")

    net = dipen.Net("f").place("a", tokens=["x"]).place("b").transition(
        "t", take="a", give="b", run=rename
    )
    runner = dipen.Runner(net)
    (token,) = runner.marking["a"]
    runner.run_sync()
    assert runner.marking["b"] == (dipen.Token(token.id, "renamed"),)


def test_run_returning_plain_data_makes_a_new_token():
    net = dipen.Net("f").place("a", tokens=["x"]).place("b")

    @net.transition(take="a", give="b")
    async def greet(token):
        return {"greeting": f"hello {token.data}"}

    runner = dipen.Runner(net)
    (old,) = runner.marking["a"]
    firing = runner.step_sync("greet")
    (new,) = runner.marking["b"]
    assert new.id != old.id
    assert new.data == {"greeting": "hello x"}
    assert runner.marking.counts()["a"] == 0
    assert firing.placed == {"b": (new,)}


def test_run_returning_a_mapping_places_on_several_places():
    net = dipen.Net("f").place("a", tokens=[7]).place("b").place("c")

    @net.transition(take="a", give=["b", "c"])
    async def split(token):
        return {"b": [token], "c": ["x", {"k": [1, 2]}]}

    runner = dipen.Runner(net)
    (token,) = runner.marking["a"]
    runner.step_sync("split")
    assert runner.marking["b"] == (token,)
    assert runner.marking.data()["c"] == ["x", {"k": [1, 2]}]
    assert token.id not in ids(runner.marking["c"])


def test_run_returning_none_consumes_the_tokens():
    net = dipen.Net("f").place("a", tokens=3).place("b")

    @net.transition(take="a", give="b")
    async def eat(token):
        return None

    runner = dipen.Runner(net)
    assert runner.run_sync().firings == 3
    assert runner.marking.counts() == {"a": 0, "b": 0}


def test_mapping_form_with_weight_and_read_place():
    net = (
        dipen.Net("f").place("a", tokens=[1, 2, 3, 4, 5]).place("config", tokens=[{"factor": 10}])
        .place("b")
    )
    calls = []

    @net.transition(take={"a": 2}, read="config", give="b")
    async def combine(tokens):
        calls.append(tokens)
        factor = tokens["config"][0]["factor"]
        return sum(t.data for t in tokens["a"]) * factor

    runner = dipen.Runner(net)
    (config,) = runner.marking["config"]
    assert runner.run_sync().firings == 2
    assert set(calls[0]) == {"a", "config"}
    assert [t.data for t in calls[0]["a"]] == [1, 2]
    assert calls[0]["config"] == (config,)
    assert runner.marking.data() == {"a": [5], "config": [{"factor": 10}], "b": [30, 70]}
    assert runner.marking["config"] == (config,)


def test_mapping_form_for_two_take_places_gets_a_mapping():
    net = dipen.Net("f").place("a", tokens=[1]).place("b", tokens=[2]).place("c")
    seen = []

    @net.transition(take=["a", "b"], give="c")
    async def join(tokens):
        seen.append({p: [t.data for t in ts] for p, ts in tokens.items()})
        return tokens["a"][0].data + tokens["b"][0].data

    runner = dipen.Runner(net)
    runner.run_sync()
    assert seen == [{"a": [1], "b": [2]}]
    assert runner.marking.data()["c"] == [3]


def test_guard_tries_candidate_tokens_oldest_first():
    net = dipen.Net("f").place("a", tokens=[1, 2, 3, 4]).place("b")
    asked = []

    def even(token):
        asked.append(token.data)
        return token.data % 2 == 0

    @net.transition(take="a", give="b", guard=even)
    async def pick(token):
        return token

    runner = dipen.Runner(net)
    assert runner.run_sync().firings == 2
    assert asked[:2] == [1, 2]
    assert runner.marking.data() == {"a": [1, 3], "b": [2, 4]}
    assert "said no" in runner.explain("pick")
    assert "guard" in runner.explain("pick")


def test_mapping_guard_searches_combinations():
    net = dipen.Net("f").place("a", tokens=[1, 2, 3]).place("b", tokens=[5, 8, 9]).place("c")
    tried = []

    def ten(tokens):
        pair = (tokens["a"][0].data, tokens["b"][0].data)
        tried.append(pair)
        return sum(pair) == 10

    @net.transition(take=["a", "b"], give="c", guard=ten)
    async def pair(tokens):
        return [tokens["a"][0].data, tokens["b"][0].data]

    runner = dipen.Runner(net)
    firing = runner.step_sync("pair")
    assert tried[:3] == [(1, 5), (1, 8), (1, 9)]
    assert [t.data for t in firing.taken["a"]] == [1]
    assert [t.data for t in firing.taken["b"]] == [9]
    assert runner.marking.data()["c"] == [[1, 9]]
    runner.run_sync()
    assert runner.marking.data() == {"a": [3], "b": [5], "c": [[1, 9], [2, 8]]}
    assert "said no to all" in runner.explain("pair")


def test_guard_that_raises_counts_as_not_enabled():
    net = dipen.Net("f").place("a", tokens=1).place("b")

    def broken(token):
        raise ValueError("boom")

    @net.transition(take="a", give="b", guard=broken)
    async def t(token):
        return token

    runner = dipen.Runner(net)
    summary = runner.run_sync()
    assert summary.reason == "quiescent"
    assert summary.firings == 0
    failed = runner.history.of(events.GuardFailed)
    assert failed
    assert failed[0].transition == "t"
    assert isinstance(failed[0].error, ValueError)
    assert "ValueError: boom" in runner.explain("t")
    assert runner.enabled() == []
    assert runner.marking.counts() == {"a": 1, "b": 0}


def bigger_than_one(order):
    return order["qty"] > 1


@pytest.mark.parametrize("form", ["run", "no code"])
def test_guard_raising_for_one_token_leaves_the_other_tokens_enabled(form):
    net = dipen.Net("orders").place("new", tokens=[{"qty": 2}, {"qty": None}, {"qty": 5}])
    net.place("big")
    if form == "run":
        async def pick(order):
            return order

        net.transition("pick", take="new", give="big", guard=bigger_than_one, run=pick)
    else:
        net.transition("pick", take="new", give="big", guard=bigger_than_one)
    runner = dipen.Runner(net)
    (bad,) = [token for token in runner.marking["new"] if token["qty"] is None]
    assert runner.explain("pick").startswith("'pick' is enabled: it would take 1 from 'new'; "
                                             "its guard raised TypeError")
    summary = runner.run_sync()
    assert summary.firings == 2
    assert runner.marking.data() == {"new": [{"qty": None}], "big": [{"qty": 2}, {"qty": 5}]}
    (failed,) = runner.history.of(events.GuardFailed)  # recorded once, when nothing else was left
    assert isinstance(failed.error, TypeError)
    assert f"raised for token {bad.id!r} of 'new'" in failed.error.__notes__[0]
    assert runner.explain("pick") == (
        "'pick' is not enabled: the guard raised TypeError: '>' not supported between instances "
        f"of 'NoneType' and 'int' (for token {bad.id!r} of 'new')"
    )


def test_explain_names_the_tokens_a_raising_guard_skips():
    net = dipen.Net("orders").place("new", tokens=[{"qty": None}, {"qty": 5}, {}]).place("big")
    net.transition("pick", take="new", give="big", guard=bigger_than_one)
    runner = dipen.Runner(net)
    first, _, third = runner.marking["new"]
    assert runner.explain("pick") == (
        "'pick' is enabled: it would take 1 from 'new'; its guard raised TypeError: '>' not "
        "supported between instances of 'NoneType' and 'int' for token "
        f"{first.id!r} of 'new' and 1 more binding, which it skips"
    )
    assert runner.run_sync().firings == 1
    assert runner.marking.data()["big"] == [{"qty": 5}]
    (failed,) = runner.history.of(events.GuardFailed)  # the first error, once both raise
    assert isinstance(failed.error, TypeError)
    assert failed.error.__notes__ == [
        f"guard bigger_than_one of transition 'pick' raised for token {first.id!r} of 'new'; "
        "it raised for 2 of 2 bindings"
    ]
    record = runner._engine.transition("pick")
    failures = record.executor.guard_failures(record.context)
    assert [(take["new"][0].id, type(error)) for take, error in failures] == [
        (first.id, TypeError), (third.id, KeyError)]


def test_mapping_guard_raising_for_one_binding_tries_the_next():
    def divides(tokens):
        (a,) = tokens["a"]
        (b,) = tokens["b"]
        return b.data % a.data == 0

    async def pair(tokens):
        return [tokens["a"][0].data, tokens["b"][0].data]

    def runner_for(numbers):
        net = dipen.Net("pairs").place("a", tokens=numbers).place("b", tokens=[6]).place("c")
        net.transition("pair", take=["a", "b"], give="c", guard=divides, run=pair)
        return dipen.Runner(net)

    runner = runner_for([0, 1, 2])
    assert runner.run_sync().firings == 1
    assert runner.marking.data() == {"a": [0, 2], "b": [], "c": [[1, 6]]}
    assert runner.history.of(events.GuardFailed) == []

    only_zero = runner_for([0])
    (zero,) = only_zero.marking["a"]
    (six,) = only_zero.marking["b"]
    assert only_zero.run_sync().firings == 0
    (failed,) = only_zero.history.of(events.GuardFailed)
    assert isinstance(failed.error, ZeroDivisionError)
    assert failed.error.__notes__ == [
        f"guard test_mapping_guard_raising_for_one_binding_tries_the_next.<locals>.divides of "
        f"transition 'pair' raised for tokens {zero.id!r} of 'a' and {six.id!r} of 'b'"
    ]
    assert only_zero.explain("pair").endswith(f"(for tokens {zero.id!r} of 'a' and {six.id!r} of 'b')")


def test_current_firing_inside_run():
    net = dipen.Net("f").place("a", tokens=1).place("b")
    seen = []

    @net.transition(take="a", give="b")
    async def look(token):
        first = dipen.current_firing()
        await asyncio.sleep(0)
        seen.append((first, dipen.current_firing()))
        return token

    runner = dipen.Runner(net)
    assert dipen.current_firing() is None
    firing = runner.step_sync("look")
    ((first, later),) = seen
    assert first is not None
    assert first.id == later.id == firing.id
    assert first.transition == "look"
    assert dipen.current_firing() is None


def test_current_firing_in_inline_run_and_mapping_form():
    net = dipen.Net("f").place("a", tokens=2).place("r", tokens=1).place("b")
    seen = []

    @net.transition(take="a", read="r", give="b")
    async def look(tokens):
        seen.append(dipen.current_firing())
        return None

    runner = dipen.Runner(net)
    runner.run_sync()
    assert [f.transition for f in seen] == ["look", "look"]
    assert [f.id for f in seen] == [f.id for f in runner.history.firings()]
    assert seen[0].id != seen[1].id


# -- 3. Executor subclasses ---------------------------------------------------------------------------------


class Batch(dipen.Executor):
    """Takes up to ``data['batch']`` tokens at a time (as many as the output has room for)."""

    validated: list = []
    created: list = []
    runs: list = []

    @classmethod
    def validate(cls, ctx):
        cls.validated.append((ctx.transition, [a.place for a in ctx.arcs_taking()],
                              [a.place for a in ctx.arcs_giving()], ctx.data))
        if not ctx.arcs_taking():
            raise ctx.fail("Batch needs an input place")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.batch = ctx.data["batch"]
        self.source = ctx.arcs_taking()[0].place
        self.target = ctx.arcs_giving()[0].place
        type(self).created.append((ctx.data, [(a.place, a.kind) for a in ctx.arcs]))

    def check_start(self, ctx):
        count = ctx.count(self.source)
        if count == 0:
            return dipen.Disabled("nothing to batch", wait_for=self.source)
        room = ctx.room(self.target)
        size = min(self.batch, count, count if room is None else room)
        if size == 0:
            return dipen.Disabled("no room", wait_for=self.target)
        return dipen.Enabled({self.source: ctx.tokens(self.source)[:size]})

    async def run(self, ctx):
        type(self).runs.append((ctx.firing_id, ctx.data, {p: ids(ts) for p, ts in ctx.taken.items()}))
        return {self.target: [[t.data for t in ctx.taken[self.source]]]}


@pytest.fixture
def batch():
    Batch.validated = []
    Batch.created = []
    Batch.runs = []
    return Batch


def test_executor_subclass_full_contract(batch):
    net = (
        dipen.Net("ex").place("in", tokens=list(range(7))).place("out")
        .transition("group", take="in", give="out", executor=batch, data={"batch": 3})
    )
    runner = dipen.Runner(net)
    summary = runner.run_sync()
    assert summary.firings == 3
    assert batch.validated == [("group", ["in"], ["out"], {"batch": 3})]
    assert batch.created == [({"batch": 3}, [("in", dipen.ArcKind.IN), ("out", dipen.ArcKind.OUT)])]
    assert runner.marking.data() == {"in": [], "out": [[0, 1, 2], [3, 4, 5], [6]]}
    firings = runner.history.firings()
    assert [r[0] for r in batch.runs] == [f.id for f in firings]
    assert all(r[1] == {"batch": 3} for r in batch.runs)
    assert [r[2]["in"] for r in batch.runs] == [ids(f.taken["in"]) for f in firings]


def test_executor_room_limits_the_batch(batch):
    net = (
        dipen.Net("ex").place("in", tokens=list(range(5))).place("out", capacity=2)
        .transition("group", take="in", give="out", executor=batch, data={"batch": 4})
    )
    runner = dipen.Runner(net)
    runner.run_sync()
    # room is 2, then 1 (one token out), then 0
    assert runner.marking.data()["out"] == [[0, 1], [2]]
    assert runner.marking.data()["in"] == [3, 4]
    assert runner.explain("group") == "'group' is not enabled: no room"


def test_executor_validate_failure_names_the_transition(batch):
    net = dipen.Net("ex").place("out").transition("group", give="out", executor=batch, data={"batch": 1})
    with pytest.raises(dipen.NetError, match="group") as info:
        net.validate()
    assert "needs an input place" in str(info.value)
    with pytest.raises(dipen.NetError, match="needs an input place"):
        dipen.Runner(net).run_sync()


class OneAtATime(dipen.Executor):
    """Enabled only while no other firing holds a token of ``a``: uses ``ctx.taken``."""

    seen_taken: list = []

    def check_start(self, ctx):
        held = ctx.taken("a")
        type(self).seen_taken.append([t.firing for t in held])
        if held:
            return dipen.Disabled(f"{held[0].firing} holds a token", wait_for="a")
        if not ctx.count("a"):
            return dipen.Disabled("empty", wait_for="a")
        return dipen.Enabled({"a": ctx.tokens("a")[:1]})

    async def run(self, ctx):
        await dipen.sleep(10)
        return {"b": list(ctx.taken["a"])}


def test_check_start_sees_tokens_taken_by_running_firings():
    OneAtATime.seen_taken = []
    net = (
        dipen.Net("ex").place("a", tokens=3).place("b")
        .transition("t", take="a", give="b", executor=OneAtATime, concurrency=3)
    )
    runner = dipen.Runner(net, clock="simulated")
    summary = runner.run_sync()
    assert summary.firings == 3
    assert runner.now == 30.0  # one at a time although concurrency allows three
    assert any(OneAtATime.seen_taken)  # it did see a running firing's token
    for firing_ids in OneAtATime.seen_taken:
        assert all(f is not None for f in firing_ids)


def test_check_start_disabled_reason_shows_in_explain():
    class Never(dipen.Executor):
        def check_start(self, ctx):
            return dipen.Disabled("the moon is not full", wait_for="a")

        async def run(self, ctx):
            raise AssertionError("never runs")

    net = dipen.Net("ex").place("a", tokens=1).place("b").transition(
        "t", take="a", give="b", executor=Never
    )
    runner = dipen.Runner(net)
    assert runner.run_sync().firings == 0
    assert runner.explain("t") == "'t' is not enabled: the moon is not full"


def test_start_context_refuses_places_without_an_arc():
    class Peek(dipen.Executor):
        def check_start(self, ctx):
            return dipen.Enabled({"a": ctx.tokens("elsewhere")})

        async def run(self, ctx):
            return None

    net = (
        dipen.Net("ex").place("a", tokens=1).place("b").place("elsewhere", tokens=1)
        .transition("t", take="a", give="b", executor=Peek)
    )
    runner = dipen.Runner(net)
    assert runner.run_sync().firings == 0
    (failed,) = runner.history.of(events.GuardFailed)
    assert isinstance(failed.error, dipen.ExecutorError)
    assert "elsewhere" in str(failed.error)


# -- bad results of run ----------------------------------------------------------------------------------


class ToWrongPlace(dipen.Executor):
    def check_start(self, ctx):
        tokens = ctx.tokens("a")
        return dipen.Enabled({"a": tokens[:1]}) if tokens else dipen.Disabled("empty", wait_for="a")

    async def run(self, ctx):
        if ctx.data["awaits"]:
            await asyncio.sleep(0)
        return ctx.data["result"](ctx.taken["a"][0])


def _forged(token):
    return dipen.Token("forged", 1)


BAD_RESULTS = {
    # name: (give, result(token), expected error type)
    "no OUT arc (executor)": (["b"], lambda token: {"c": [1]}, dipen.ExecutorError),
    "no OUT arc, IN only (executor)": (["b"], lambda token: {"a": [token]}, dipen.ExecutorError),
    "token not taken": (["b"], lambda token: {"b": [_forged(token)]}, dipen.ExecutorError),
    "same token twice": (["b"], lambda token: {"b": [token, token]}, dipen.ExecutorError),
    "token twice on two places": (["b", "c"], lambda token: {"b": [token], "c": [token]},
                                  dipen.ExecutorError),
    "non-JSON data": (["b"], lambda token: {"b": [{1, 2}]}, dipen.TokenError),
    "non-JSON nested": (["b"], lambda token: {"b": [{"x": object()}]}, dipen.TokenError),
    "non-str key": (["b"], lambda token: {"b": [{1: "x"}]}, dipen.TokenError),
    "not a mapping": (["b"], lambda token: [token], dipen.ExecutorError),
    "value not a list": (["b"], lambda token: {"b": token}, dipen.ExecutorError),
}


def _assert_failed_and_blocked(runner, name, original, error_type):
    failures = runner.history.of(events.FiringFailed)
    assert len(failures) == 1
    (failure,) = failures
    assert isinstance(failure.error, error_type), failure.error
    assert failure.firing.state == "failed"
    assert failure.firing.error is failure.error
    assert failure.firing.transition == name
    assert "blocked" in failure.action
    assert runner.history.firings() == []
    # the taken token went back, unchanged and free
    assert runner.marking["a"] == original
    assert all(t.firing is None for t in runner.marking["a"])
    assert runner.marking.counts()["b"] == 0
    assert name in runner.blocked()
    assert "blocked" in runner.explain(name)
    assert runner.enabled() == []
    assert runner.stats.failures == {name: 1}
    assert runner.stats.total == 0


@pytest.mark.parametrize("awaits", [False, True], ids=["inline", "awaiting"])
@pytest.mark.parametrize("case", list(BAD_RESULTS))
def test_executor_bad_results_fail_the_firing(case, awaits):
    give, result, error_type = BAD_RESULTS[case]
    net = (
        dipen.Net("bad").place("a", tokens=[1]).place("b").place("c")
        .transition("t", take="a", give=give, executor=ToWrongPlace,
                    data={"result": result, "awaits": awaits})
    )
    runner = dipen.Runner(net)
    original = runner.marking["a"]
    summary = runner.run_sync()
    assert summary.reason == "quiescent"
    assert summary.firings == 0
    _assert_failed_and_blocked(runner, "t", original, error_type)
    assert runner.marking.counts()["c"] == 0


FUNCTION_BAD_RESULTS = {
    "token not taken": (["b"], _forged, dipen.ExecutorError),
    "same token twice": (["b"], lambda token: {"b": [token, token]}, dipen.ExecutorError),
    "non-JSON data": (["b"], lambda token: {1, 2}, dipen.TokenError),
    "non-JSON object": (["b"], lambda token: object(), dipen.TokenError),
    "plain data, two outputs": (["b", "c"], lambda token: 5, dipen.ExecutorError),
    "token, two outputs": (["b", "c"], lambda token: token, dipen.ExecutorError),
    "mapping to a place without OUT arc": (["b", "c"], lambda token: {"b": [1], "d": [2]},
                                           dipen.ExecutorError),
    "data, no output place": ([], lambda token: 5, dipen.ExecutorError),
}


@pytest.mark.parametrize("awaits", [False, True], ids=["inline", "awaiting"])
@pytest.mark.parametrize("case", list(FUNCTION_BAD_RESULTS))
def test_function_bad_results_fail_the_firing(case, awaits):
    give, result, error_type = FUNCTION_BAD_RESULTS[case]
    net = dipen.Net("bad").place("a", tokens=[1]).place("b").place("c").place("d")

    async def t(token):
        if awaits:
            await asyncio.sleep(0)
        return result(token)

    net.transition("t", take="a", give=give, run=t)
    runner = dipen.Runner(net)
    original = runner.marking["a"]
    seen = record_events(runner)
    summary = runner.run_sync()
    assert summary.firings == 0
    _assert_failed_and_blocked(runner, "t", original, error_type)
    assert runner.marking.counts()["c"] == 0
    assert runner.marking.counts()["d"] == 0
    kinds = [type(e) for e in seen]
    assert events.FiringFailed in kinds
    assert events.TransitionBlocked in kinds
    assert events.FiringFinished not in kinds


def test_run_that_raises_fails_the_firing_and_unblock_lets_it_fire_again():
    net = dipen.Net("bad").place("a", tokens=[1]).place("b")
    attempts = []

    @net.transition(take="a", give="b")
    async def flaky(token):
        attempts.append(token.id)
        if len(attempts) == 1:
            raise RuntimeError("first time")
        return token

    runner = dipen.Runner(net)
    original = runner.marking["a"]
    assert runner.run_sync().firings == 0
    _assert_failed_and_blocked(runner, "flaky", original, RuntimeError)
    assert "RuntimeError: first time" in runner.blocked()["flaky"]
    runner.unblock("flaky")
    assert runner.blocked() == {}
    assert runner.run_sync().firings == 1
    assert runner.marking["b"] == original
    assert attempts == [original[0].id] * 2


@pytest.mark.parametrize(
    "result",
    [42, "yes", None, False, object(), dipen.Disabled],
    ids=["int", "str", "None", "False", "object", "class"],
)
def test_check_start_returning_garbage_counts_as_not_enabled(result):
    class Garbage(dipen.Executor):
        def check_start(self, ctx):
            return result

        async def run(self, ctx):
            raise AssertionError("never runs")

    net = dipen.Net("bad").place("a", tokens=1).place("b").transition(
        "t", take="a", give="b", executor=Garbage
    )
    runner = dipen.Runner(net)
    summary = runner.run_sync()
    assert summary.reason == "quiescent"
    assert summary.firings == 0
    assert runner.enabled() == []
    assert runner.step_sync() is None
    assert "'t' is not enabled" in runner.explain("t")
    assert "check_start" in runner.explain("t")
    assert runner.marking.counts() == {"a": 1, "b": 0}


@pytest.mark.parametrize(
    "choose",
    [
        lambda ctx: dipen.Enabled({"a": [dipen.Token("nope")]}),
        lambda ctx: dipen.Enabled({"a": [*ctx.tokens("a"), *ctx.tokens("a")]}),
        lambda ctx: dipen.Enabled({"b": list(ctx.tokens("a"))}),
        lambda ctx: dipen.Enabled({"a": [42]}),
        lambda ctx: dipen.Enabled(list(ctx.tokens("a"))),
    ],
    ids=["unknown token", "token twice", "place without IN arc", "not a token", "take not a mapping"],
)
def test_check_start_choosing_impossible_tokens_never_crashes_the_runner(choose):
    class Impossible(dipen.Executor):
        def check_start(self, ctx):
            return choose(ctx)

        async def run(self, ctx):
            raise AssertionError("never runs")

    net = dipen.Net("bad").place("a", tokens=1).place("b").transition(
        "t", take="a", give="b", executor=Impossible
    )
    runner = dipen.Runner(net)
    summary = runner.run_sync()
    assert summary.firings == 0
    assert runner.marking.counts() == {"a": 1, "b": 0}
    assert all(t.firing is None for t in runner.marking["a"])
    assert runner.history.of(events.GuardFailed)
    assert isinstance(runner.explain("t"), str)


def test_check_start_that_raises_is_a_guard_failure():
    class Raises(dipen.Executor):
        def check_start(self, ctx):
            raise KeyError("missing")

        async def run(self, ctx):
            raise AssertionError("never runs")

    net = dipen.Net("bad").place("a", tokens=1).place("b").transition(
        "t", take="a", give="b", executor=Raises
    )
    runner = dipen.Runner(net)
    seen = record_events(runner)
    summary = runner.run_sync()
    assert summary.reason == "quiescent"
    assert summary.firings == 0
    guard_failures = [e for e in seen if isinstance(e, events.GuardFailed)]
    assert guard_failures
    assert guard_failures[0].transition == "t"
    assert isinstance(guard_failures[0].error, KeyError)
    assert "the guard raised KeyError" in runner.explain("t")
    with pytest.raises(dipen.NotEnabledError, match="KeyError"):
        runner.step_sync("t")
    assert runner.marking.counts() == {"a": 1, "b": 0}
