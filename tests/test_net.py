"""Tests of dipen.net: the fluent builder, the model elements and the errors for bad input."""

from __future__ import annotations

import dataclasses
import json
from types import MappingProxyType

import pytest

import dipen
from dipen import Arc, ArcKind, Net, NetError, Place, TokenError, Transition
from dipen.tokens import FrozenDict, FrozenList

# -- helpers: behaviour defined at module level so that __qualname__ is simple --------------------


async def work(token):
    return token


def positive(token):
    return token["n"] > 0


def sync_run(token):
    return token


async def async_guard(token):
    return True


class Good(dipen.Executor):
    def check_start(self, ctx):
        return dipen.Disabled("never")

    async def run(self, ctx):
        return None


class SyncRun:
    def check_start(self, ctx):
        return dipen.Disabled("never")

    def run(self, ctx):
        return None


class NoCheckStart:
    async def run(self, ctx):
        return None


class NeedsTwo(dipen.Executor):
    @classmethod
    def validate(cls, ctx):
        if len(ctx.arcs_taking()) < 2:
            raise ctx.fail("needs two inputs")

    def check_start(self, ctx):
        return dipen.Disabled("never")

    async def run(self, ctx):
        return None


class Broken(dipen.Executor):
    @classmethod
    def validate(cls, ctx):
        raise ValueError("boom")

    def check_start(self, ctx):
        return dipen.Disabled("never")

    async def run(self, ctx):
        return None


@pytest.fixture
def net():
    return Net("orders").place("inbox", tokens=1).place("outbox").place("audit")


# -- the fluent API ----------------------------------------------------------------------------------


def test_every_builder_method_returns_the_net():
    net = Net("n")
    assert net.place("a", tokens=2) is net
    assert net.place("b") is net
    assert net.transition("t", take="a", give="b") is net
    assert net.transition("u") is net
    assert net.arc("a", "u", ArcKind.IN) is net
    assert net.validate() is net
    assert net.name == "n"


def test_chained_build_gives_places_transitions_and_arcs():
    net = (
        Net("ring")
        .place("a", tokens=1)
        .place("b")
        .transition("forth", take="a", give="b")
        .transition("back", take="b", give="a")
    )
    assert list(net.places) == ["a", "b"]
    assert list(net.transitions) == ["forth", "back"]
    assert net.arcs == (
        Arc("a", "forth", ArcKind.IN),
        Arc("b", "forth", ArcKind.OUT),
        Arc("b", "back", ArcKind.IN),
        Arc("a", "back", ArcKind.OUT),
    )


@pytest.mark.parametrize(
    ("tokens", "initial"),
    [
        (None, ()),
        (0, ()),
        (3, (None, None, None)),
        ([], ()),
        ([1, "x", None], (1, "x", None)),
        ([{"n": 1}, [1, 2]], ({"n": 1}, [1, 2])),
        ([(1, 2)], ([1, 2],)),
        ((d for d in ["g1", "g2"]), ("g1", "g2")),
    ],
)
def test_place_initial_tokens(tokens, initial):
    net = Net("n").place("p", tokens=tokens)
    place = net.places["p"]
    assert place == Place("p", None, initial)
    assert place.initial == initial
    assert isinstance(place.initial, tuple)


def test_place_initial_data_is_frozen():
    net = Net("n").place("p", tokens=[{"n": [1]}, (1, 2)])
    first, second = net.places["p"].initial
    assert type(first) is FrozenDict
    assert type(first["n"]) is FrozenList
    assert type(second) is FrozenList
    with pytest.raises(TypeError):
        first["n"] = 2
    with pytest.raises(TypeError):
        first["n"].append(2)


def test_place_initial_data_is_copied_not_shared():
    data = {"n": [1]}
    net = Net("n").place("p", tokens=[data])
    data["n"].append(2)
    data["m"] = 3
    assert net.places["p"].initial == ({"n": [1]},)


@pytest.mark.parametrize(("capacity", "tokens"), [(None, 5), (0, None), (0, 0), (2, 2), (3, [1, 2])])
def test_place_capacity_accepted(capacity, tokens):
    net = Net("n").place("p", tokens=tokens, capacity=capacity)
    assert net.places["p"].capacity == capacity


def test_transition_defaults():
    net = Net("n").place("a").transition("t", take="a")
    t = net.transitions["t"]
    assert t.name == "t"
    assert t.region == "default"
    assert t.run is None and t.guard is None and t.executor is None
    assert t.data is None
    assert t.on_error == dipen.Block()
    assert t.concurrency == 1
    assert t.kind == "P/T"


def test_transition_stores_every_option():
    payload = {"anything": object()}
    policy = dipen.Retry(times=2, backoff=0.5)
    net = (
        Net("n")
        .place("a")
        .place("b")
        .transition(
            "t", take="a", give="b", region="east", run=work, guard=positive, data=payload,
            on_error=policy, concurrency=4,
        )
    )
    t = net.transitions["t"]
    assert t.region == "east"
    assert t.run is work
    assert t.guard is positive
    assert t.data is payload
    assert t.on_error is policy
    assert t.concurrency == 4
    assert t.kind == "code"


def test_transition_with_executor():
    net = Net("n").place("a").transition("t", take="a", executor=Good, data=[1])
    t = net.transitions["t"]
    assert t.executor is Good
    assert t.kind == "executor"
    assert t.data == [1]


def test_transition_guard_without_run_stays_pt():
    net = Net("n").place("a").transition("t", take="a", guard=positive)
    assert net.transitions["t"].guard is positive
    assert net.transitions["t"].kind == "P/T"


@pytest.mark.parametrize(
    ("spec", "policy"),
    [
        ("block", dipen.Block()),
        ("stop", dipen.Stop()),
        ("retry", dipen.Retry()),
        (dipen.ToPlace("audit"), dipen.ToPlace("audit")),
        (dipen.Retry(times=5, then=dipen.ToPlace("audit")), dipen.Retry(times=5, then=dipen.ToPlace("audit"))),
    ],
)
def test_on_error_forms(net, spec, policy):
    net.transition("pack", take="inbox", on_error=spec)
    assert net.transitions["pack"].on_error == policy
    assert type(net.transitions["pack"].on_error) is type(policy)


def test_decorator_form_names_transition_after_function_and_returns_it():
    net = Net("n").place("a", tokens=[{"n": 1}]).place("b")

    async def double(token):
        return token.update(n=token["n"] * 2)

    result = net.transition(take="a", give="b", guard=positive)(double)
    assert result is double
    t = net.transitions["double"]
    assert t.run is double
    assert t.guard is positive
    assert t.kind == "code"
    assert t.arcs == (Arc("a", "double", ArcKind.IN), Arc("b", "double", ArcKind.OUT))


def test_decorator_syntax_with_options():
    net = Net("n").place("a").place("b")

    @net.transition(take="a", give="b", region="r", concurrency=2, on_error="stop")
    async def move(token):
        return token

    assert callable(move) and move.__name__ == "move"
    t = net.transitions["move"]
    assert (t.region, t.concurrency, t.on_error) == ("r", 2, dipen.Stop())
    assert net.regions == {"r": ("move",)}


def test_bare_decorator():
    net = Net("n")

    @net.transition
    async def tick(token):
        return None

    assert net.transitions["tick"].run is tick
    assert net.transitions["tick"].arcs == ()
    assert net.transitions["tick"].kind == "code"
    assert tick.__name__ == "tick"


def test_decorator_on_sync_function_raises():
    net = Net("orders").place("a")
    decorate = net.transition(take="a")

    def plain(token):
        return token

    with pytest.raises(NetError, match="async def") as info:
        decorate(plain)
    assert "'orders'" in str(info.value) and "'plain'" in str(info.value)
    with pytest.raises(NetError, match="async def"):
        net.transition(plain)
    assert "plain" not in net.transitions


# -- take / give / read and arc kinds ---------------------------------------------------------------


@pytest.fixture
def abc():
    return Net("n").place("a").place("b").place("c")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("a", {"a": 1}),
        (["a"], {"a": 1}),
        (["a", "b"], {"a": 1, "b": 1}),
        (("b", "c"), {"b": 1, "c": 1}),
        ({"a": 2}, {"a": 2}),
        ({"a": 3, "c": 1}, {"a": 3, "c": 1}),
        ([], {}),
        ({}, {}),
    ],
)
@pytest.mark.parametrize(
    ("keyword", "kind"), [("take", ArcKind.IN), ("give", ArcKind.OUT), ("read", ArcKind.COND)]
)
def test_take_give_read_forms(abc, keyword, kind, spec, expected):
    abc.transition("t", **{keyword: spec})
    arcs = abc.transitions["t"].arcs
    assert {arc.place: arc.weight for arc in arcs} == expected
    assert all(arc.kind is kind and arc.transition == "t" and arc.name is None for arc in arcs)


@pytest.mark.parametrize(
    ("options", "kinds"),
    [
        (dict(take="a", give="a"), {"a": ArcKind.IN_OUT}),
        (dict(give="a", read="a"), {"a": ArcKind.OUT_COND}),
        (dict(take="a", give="b", read="c"), {"a": ArcKind.IN, "b": ArcKind.OUT, "c": ArcKind.COND}),
        (dict(take={"a": 2}, give={"a": 2}), {"a": ArcKind.IN_OUT}),
        (dict(take=["a", "b"], give=["b", "c"], read=[]), {"a": ArcKind.IN, "b": ArcKind.IN_OUT, "c": ArcKind.OUT}),
    ],
)
def test_combined_arc_kinds(abc, options, kinds):
    abc.transition("t", **options)
    arcs = abc.transitions["t"].arcs
    assert {arc.place: arc.kind for arc in arcs} == kinds
    assert len(arcs) == len(kinds)  # one arc per pair


def test_in_out_keeps_the_weight(abc):
    abc.transition("t", take={"a": 2}, give={"a": 2})
    assert abc.transitions["t"].arcs == (Arc("a", "t", ArcKind.IN_OUT, weight=2),)


def test_give_and_read_weights():
    net = Net("n").place("a").place("b").transition("t", give={"a": 3}, read={"b": 2})
    assert net.transitions["t"].arcs == (
        Arc("a", "t", ArcKind.OUT, weight=3),
        Arc("b", "t", ArcKind.COND, weight=2),
    )


@pytest.mark.parametrize(
    ("kind", "takes", "gives", "reads", "inputs"),
    [
        (ArcKind.IN, True, False, False, True),
        (ArcKind.OUT, False, True, False, False),
        (ArcKind.COND, False, False, True, True),
        (ArcKind.IN_OUT, True, True, False, True),
        (ArcKind.OUT_COND, False, True, True, True),
    ],
)
def test_arc_kind_properties(kind, takes, gives, reads, inputs):
    assert (kind.takes, kind.gives, kind.reads, kind.inputs) == (takes, gives, reads, inputs)


def test_arc_kind_values_and_repr():
    assert [k.value for k in ArcKind] == ["in", "out", "cond", "in_out", "out_cond"]
    assert repr(ArcKind.IN_OUT) == "ArcKind.IN_OUT"
    assert repr(ArcKind.COND) == "ArcKind.COND"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (ArcKind.IN, ArcKind.IN),
        ("in", ArcKind.IN),
        ("OUT", ArcKind.OUT),
        ("cond", ArcKind.COND),
        ("in_out", ArcKind.IN_OUT),
        ("Out_Cond", ArcKind.OUT_COND),
    ],
)
def test_arc_method_kinds(abc, kind, expected):
    abc.transition("t").arc("a", "t", kind)
    assert abc.transitions["t"].arcs == (Arc("a", "t", expected),)


def test_arc_method_with_name_and_weight(abc):
    abc.transition("t", take="a")
    abc.arc("b", "t", "out", name="result", weight=3).arc("c", "t", ArcKind.COND, name="gate")
    t = abc.transitions["t"]
    assert t.arcs == (
        Arc("a", "t", ArcKind.IN),
        Arc("b", "t", ArcKind.OUT, "result", 3),
        Arc("c", "t", ArcKind.COND, "gate", 1),
    )
    assert abc.arcs == t.arcs
    assert t.arcs_of(lambda kind: kind.inputs) == (t.arcs[0], t.arcs[2])
    assert t.arcs_of(lambda kind: kind.gives) == (t.arcs[1],)


def test_arc_method_keeps_other_transition_fields(abc):
    abc.transition("t", take="a", run=work, region="r", data={"k": 1}, concurrency=3)
    abc.arc("b", "t", "out")
    t = abc.transitions["t"]
    assert (t.run, t.region, t.data, t.concurrency) == (work, "r", {"k": 1}, 3)


# -- read-only views, immutability, reprs ---------------------------------------------------------


def test_places_and_transitions_are_read_only(net):
    net.transition("pack", take="inbox", give="outbox")
    assert isinstance(net.places, MappingProxyType)
    with pytest.raises(TypeError):
        net.places["x"] = Place("x")  # type: ignore[index]
    with pytest.raises(TypeError):
        del net.places["inbox"]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        net.transitions["x"] = Transition("x")  # type: ignore[index]
    with pytest.raises(TypeError):
        del net.transitions["pack"]  # type: ignore[attr-defined]
    assert isinstance(net.arcs, tuple)
    assert "x" not in net.places and "x" not in net.transitions
    assert list(net.places) == ["inbox", "outbox", "audit"]


def test_views_follow_later_building(net):
    places = net.places
    net.place("later")
    assert "later" in places


@pytest.mark.parametrize(
    ("element", "field", "value"),
    [
        (Place("p", 1, (None,)), "capacity", 5),
        (Place("p"), "name", "q"),
        (Arc("p", "t", ArcKind.IN), "weight", 2),
        (Arc("p", "t", ArcKind.IN), "kind", ArcKind.OUT),
        (Transition("t"), "region", "east"),
        (Transition("t"), "arcs", ()),
    ],
)
def test_elements_are_frozen(element, field, value):
    before = getattr(element, field)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(element, field, value)
    # slots: no new attributes (CPython 3.11 reports this as TypeError for frozen slotted
    # dataclasses, a known interpreter quirk, so either error is accepted)
    with pytest.raises((AttributeError, TypeError)):
        element.extra = 1
    assert getattr(element, field) == before


def test_net_elements_are_frozen(net):
    net.transition("pack", take="inbox")
    with pytest.raises(AttributeError):
        net.places["inbox"].capacity = 3
    with pytest.raises(AttributeError):
        net.transitions["pack"].region = "other"
    with pytest.raises(AttributeError):
        net.arcs[0].weight = 7
    assert net.places["inbox"].capacity is None
    assert net.transitions["pack"].region == "default"
    assert net.arcs[0].weight == 1


@pytest.mark.parametrize(
    ("element", "text"),
    [
        (Place("p"), "Place('p')"),
        (Place("buffer", capacity=3, initial=(None, None)), "Place('buffer', capacity=3, tokens=2)"),
        (Place("p", initial=({"n": 1}, 2)), "Place('p', tokens=[{'n': 1}, 2])"),
        (Place("p", capacity=0), "Place('p', capacity=0)"),
        (Arc("p", "t", ArcKind.IN, weight=2), "Arc('p' -> 't', IN, weight=2)"),
        (Arc("p", "t", ArcKind.OUT), "Arc('t' -> 'p', OUT)"),
        (Arc("p", "t", ArcKind.COND, name="gate"), "Arc('p' -> 't', COND, name='gate')"),
        (Arc("p", "t", ArcKind.IN_OUT), "Arc('p' <-> 't', IN_OUT)"),
        (Arc("p", "t", ArcKind.OUT_COND, "x", 3), "Arc('p' <-> 't', OUT_COND, weight=3, name='x')"),
        (ArcKind.OUT, "ArcKind.OUT"),
    ],
)
def test_element_reprs(element, text):
    assert repr(element) == text


def test_net_and_transition_reprs():
    net = (
        Net("shop")
        .place("a", tokens=[{"n": 1}])
        .place("b")
        .place("c")
        .transition("pt", take={"a": 2}, give="b", read="c", region="east")
        .transition("work", take="a", give="a", run=work)
        .transition("exec", take="b", executor=Good)
        .transition("empty")
    )
    assert repr(net) == "Net('shop', places=3, transitions=4, arcs=5)"
    assert repr(net.transitions["pt"]) == "Transition('pt', take=[a×2], give=[b], read=[c], region='east')"
    assert repr(net.transitions["work"]) == "Transition('work', take=[a], give=[a], code=work)"
    assert repr(net.transitions["exec"]) == "Transition('exec', take=[b], executor=Good)"
    assert repr(net.transitions["empty"]) == "Transition('empty')"
    assert repr(net.places["a"]) == "Place('a', tokens=[{'n': 1}])"


def test_regions():
    net = (
        Net("n")
        .place("a")
        .transition("t1")
        .transition("t2", region="east")
        .transition("t3", region="west")
        .transition("t4", region="east")
    )
    assert net.regions == {"default": ("t1",), "east": ("t2", "t4"), "west": ("t3",)}
    assert Net("empty").regions == {}


def test_to_dict():
    net = (
        Net("shop")
        .place("a", tokens=[{"n": 1}, (1, 2)], capacity=5)
        .place("b", tokens=2)
        .transition("t", take={"a": 2}, give="b", region="east", run=work)
        .transition("u", executor=Good)
        .arc("a", "u", "cond", name="gate")
    )
    expected = {
        "name": "shop",
        "places": [
            {"name": "a", "capacity": 5, "tokens": [{"n": 1}, [1, 2]]},
            {"name": "b", "capacity": None, "tokens": [None, None]},
        ],
        "transitions": [
            {
                "name": "t",
                "region": "east",
                "kind": "code",
                "arcs": [
                    {"place": "a", "kind": "in", "weight": 2, "name": None},
                    {"place": "b", "kind": "out", "weight": 1, "name": None},
                ],
            },
            {
                "name": "u",
                "region": "default",
                "kind": "executor",
                "arcs": [{"place": "a", "kind": "cond", "weight": 1, "name": "gate"}],
            },
        ],
    }
    data = net.to_dict()
    assert data == expected
    assert json.loads(json.dumps(data)) == expected


# -- errors for bad input ----------------------------------------------------------------------------


def _sync_guard_executor_pair(n):
    return n.transition("pack", take="inbox", executor=Good, guard=positive)


BAD_NETS = [
    # unknown places and transitions
    ("take-unknown", lambda n: n.transition("pack", take="nowhere"), ["unknown place", "'nowhere'"]),
    ("give-unknown", lambda n: n.transition("pack", give=["outbox", "nowhere"]), ["unknown place", "'nowhere'"]),
    ("read-unknown", lambda n: n.transition("pack", read={"nowhere": 1}), ["unknown place", "'nowhere'"]),
    ("arc-unknown-place", lambda n: n.transition("pack").arc("nowhere", "pack", "in"), ["unknown place", "'nowhere'"]),
    ("arc-unknown-transition", lambda n: n.arc("inbox", "pack", "in"), ["unknown transition", "'pack'"]),
    # duplicate names
    ("duplicate-place", lambda n: n.place("inbox"), ["'inbox'", "already used by a place"]),
    ("duplicate-transition", lambda n: n.transition("pack").transition("pack"), ["'pack'", "already used by a transition"]),
    ("transition-named-like-place", lambda n: n.transition("inbox"), ["'inbox'", "already used by a place"]),
    ("place-named-like-transition", lambda n: n.transition("pack").place("pack"), ["'pack'", "already used by a transition"]),
    # arcs
    ("second-arc-same-pair", lambda n: n.transition("pack", take="inbox").arc("inbox", "pack", "cond"), ["'pack'", "'inbox'", "already an arc"]),
    ("second-arc-same-pair-arc", lambda n: n.transition("pack").arc("inbox", "pack", "in").arc("inbox", "pack", "out"), ["'pack'", "'inbox'", "already an arc"]),
    ("unknown-kind", lambda n: n.transition("pack").arc("inbox", "pack", "sideways"), ["'pack'", "unknown arc kind", "'sideways'"]),
    ("kind-not-arckind", lambda n: n.transition("pack").arc("inbox", "pack", 3), ["'pack'", "not an ArcKind"]),
    ("arc-name-not-str", lambda n: n.transition("pack").arc("inbox", "pack", "in", name=5), ["'pack'", "arc name"]),
    ("duplicate-arc-names", lambda n: n.transition("pack").arc("inbox", "pack", "in", name="x").arc("outbox", "pack", "out", name="x"), ["'pack'", "two arcs are named 'x'"]),
    # take/give/read specs
    ("take-twice-in-list", lambda n: n.transition("pack", take=["inbox", "inbox"]), ["'pack'", "'inbox' twice"]),
    ("take-not-a-name", lambda n: n.transition("pack", take=[1]), ["'pack'", "not a place name"]),
    ("take-wrong-type", lambda n: n.transition("pack", take=42), ["'pack'", "take= must be"]),
    ("take-and-read", lambda n: n.transition("pack", take="inbox", read="inbox"), ["'pack'", "'inbox'", "both taken and read"]),
    ("take-give-weights-differ", lambda n: n.transition("pack", take={"inbox": 2}, give={"inbox": 1}), ["'pack'", "'inbox'", "weight 2", "weight 1"]),
    # places
    ("negative-capacity", lambda n: n.place("box", capacity=-1), ["'box'", "capacity"]),
    ("float-capacity", lambda n: n.place("box", capacity=1.5), ["'box'", "capacity"]),
    ("tokens-over-capacity", lambda n: n.place("box", tokens=3, capacity=2), ["'box'", "3 initial tokens", "capacity of 2"]),
    ("token-list-over-capacity", lambda n: n.place("box", tokens=[1, 2], capacity=1), ["'box'", "capacity of 1"]),
    ("tokens-over-zero-capacity", lambda n: n.place("box", tokens=1, capacity=0), ["'box'", "capacity of 0"]),
    ("negative-tokens", lambda n: n.place("box", tokens=-1), ["'box'", "negative"]),
    ("tokens-str", lambda n: n.place("box", tokens="abc"), ["'box'", "str", "tokens must be"]),
    ("tokens-dict", lambda n: n.place("box", tokens={"n": 1}), ["'box'", "dict", "tokens must be"]),
    ("tokens-float", lambda n: n.place("box", tokens=1.0), ["'box'", "float", "tokens must be"]),
    # callables
    ("guard-not-callable", lambda n: n.transition("pack", take="inbox", guard=42), ["'pack'", "guard", "not callable"]),
    ("run-not-callable", lambda n: n.transition("pack", run=42), ["'pack'", "run", "not callable"]),
    ("run-not-async", lambda n: n.transition("pack", run=sync_run), ["'pack'", "sync_run", "async def"]),
    ("async-guard", lambda n: n.transition("pack", take="inbox", guard=async_guard), ["'pack'", "guard", "async def"]),
    ("run-and-executor", lambda n: n.transition("pack", run=work, executor=Good), ["'pack'", "run=", "executor="]),
    ("guard-with-executor", _sync_guard_executor_pair, ["'pack'", "guard=", "executor="]),
    ("executor-instance", lambda n: n.transition("pack", executor=Good.__new__(Good)), ["'pack'", "check_start"]),
    ("executor-function", lambda n: n.transition("pack", executor=work), ["'pack'", "check_start"]),
    ("executor-plain-class", lambda n: n.transition("pack", executor=object), ["'pack'", "check_start"]),
    ("executor-missing-check-start", lambda n: n.transition("pack", executor=NoCheckStart), ["'pack'", "check_start"]),
    ("executor-sync-run", lambda n: n.transition("pack", executor=SyncRun), ["'pack'", "SyncRun.run", "async def"]),
    ("decorator-with-run", lambda n: n.transition(run=work), ["needs a name"]),
    ("decorator-with-executor", lambda n: n.transition(executor=Good), ["needs a name"]),
    # error policies
    ("unknown-policy", lambda n: n.transition("pack", on_error="explode"), ["'pack'", "on_error='explode'"]),
    ("policy-not-a-policy", lambda n: n.transition("pack", on_error=3), ["'pack'", "on_error=3"]),
    ("to-place-unknown", lambda n: n.transition("pack", on_error=dipen.ToPlace("ghost")), ["'pack'", "'ghost'"]),
    ("retry-then-to-place-unknown", lambda n: n.transition("pack", on_error=dipen.Retry(then=dipen.ToPlace("ghost"))), ["'pack'", "'ghost'"]),
    # concurrency, regions
    ("concurrency-zero", lambda n: n.transition("pack", concurrency=0), ["'pack'", "concurrency"]),
    ("concurrency-negative", lambda n: n.transition("pack", concurrency=-2), ["'pack'", "concurrency"]),
    ("concurrency-float", lambda n: n.transition("pack", concurrency=1.5), ["'pack'", "concurrency"]),
    ("concurrency-bool", lambda n: n.transition("pack", concurrency=True), ["'pack'", "concurrency"]),
    ("region-slash", lambda n: n.transition("pack", region="a/b"), ["'pack'", "region", "'a/b'"]),
    ("region-empty", lambda n: n.transition("pack", region=""), ["'pack'", "region"]),
    # names
    ("place-slash", lambda n: n.place("a/b"), ["'a/b'", "'/'"]),
    ("transition-slash", lambda n: n.transition("a/b"), ["'a/b'", "'/'"]),
    ("place-empty", lambda n: n.place(""), ["place", "non-empty"]),
    ("place-blank", lambda n: n.place("   "), ["place", "non-empty"]),
    ("place-not-str", lambda n: n.place(3), ["place", "non-empty", "3"]),
    ("transition-empty", lambda n: n.transition(""), ["transition", "non-empty"]),
]


@pytest.mark.parametrize(("build", "expected"), [case[1:] for case in BAD_NETS], ids=[case[0] for case in BAD_NETS])
def test_bad_input_raises_net_error_naming_net_and_element(net, build, expected):
    with pytest.raises(NetError) as info:
        build(net)
    message = str(info.value)
    assert isinstance(info.value, dipen.DipenError)
    assert "'orders'" in message
    for part in expected:
        assert part in message


WEIGHTS = [0, -1, 1.5, True, "2", None]


@pytest.mark.parametrize("weight", WEIGHTS)
def test_bad_arc_weight(net, weight):
    net.transition("pack")
    with pytest.raises(NetError) as info:
        net.arc("inbox", "pack", "in", weight=weight)
    message = str(info.value)
    assert "'orders'" in message and "'pack'" in message and "'inbox'" in message
    assert "weight" in message
    assert net.transitions["pack"].arcs == ()


@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("keyword", ["take", "give", "read"])
def test_bad_weight_in_take_give_read_dict(net, keyword, weight):
    with pytest.raises(NetError) as info:
        net.transition("pack", **{keyword: {"inbox": weight}})
    message = str(info.value)
    assert "'orders'" in message and "'pack'" in message and "'inbox'" in message
    assert "weight" in message
    assert "pack" not in net.transitions


def test_net_needs_a_name():
    for bad in ("", None, 3):
        with pytest.raises(NetError, match="non-empty str name"):
            Net(bad)  # type: ignore[arg-type]


def test_net_error_hierarchy():
    assert issubclass(NetError, dipen.DipenError)
    assert issubclass(TokenError, dipen.DipenError)
    assert not issubclass(NetError, ValueError)


def test_failed_calls_leave_the_net_unchanged(net):
    net.transition("pack", take="inbox", give="outbox")
    before = net.to_dict()
    bad_calls = [
        lambda: net.transition("ship", take="inbox", give="nowhere"),
        lambda: net.transition("ship", take="inbox", read="inbox"),
        lambda: net.transition("ship", take="inbox", on_error=dipen.ToPlace("ghost")),
        lambda: net.place("box", tokens=5, capacity=1),
        lambda: net.arc("audit", "pack", "in", weight=0),
        lambda: net.arc("inbox", "pack", "cond"),
        lambda: net.arc("audit", "pack", "sideways"),
    ]
    for call in bad_calls:
        with pytest.raises(NetError):
            call()
    assert net.to_dict() == before
    assert "ship" not in net.transitions and "box" not in net.places


@pytest.mark.parametrize(
    ("data", "type_name"),
    [({1, 2}, "set"), (b"raw", "bytes"), (object(), "object"), ({"a": [1, {2}]}, "set"), ({"a": 1j}, "complex")],
)
def test_initial_token_data_not_json_raises_token_error(net, data, type_name):
    with pytest.raises(TokenError) as info:
        net.place("box", tokens=[1, data])
    message = str(info.value)
    assert "'orders'" in message and "'box'" in message and type_name in message
    assert "box" not in net.places


def test_initial_token_data_non_str_key(net):
    with pytest.raises(TokenError) as info:
        net.place("box", tokens=[{1: "a"}])
    message = str(info.value)
    assert "'box'" in message and "int" in message and "str keys" in message


# -- error policy objects ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(times=0),
        dict(times=-1),
        dict(backoff=-0.1),
        dict(factor=0.5),
        dict(max_backoff=-1),
        dict(then=dipen.Retry()),
        dict(times="3"),
        dict(times=2.5),
        dict(backoff=float("nan")),
        dict(then="sometimes"),
        dict(then=42),
    ],
    ids=repr,
)
def test_retry_bad_parameters_raise_net_error(kwargs):
    with pytest.raises(NetError) as info:
        dipen.Retry(**kwargs)
    assert "Retry" in str(info.value)


def test_retry_then_accepts_the_short_forms():
    assert dipen.Retry(then="stop").then == dipen.Stop()
    assert dipen.Retry(then="block").then == dipen.Block()


def test_retry_good_parameters():
    policy = dipen.Retry(times=4, backoff=1.0, factor=3.0, max_backoff=5.0, then=dipen.Stop())
    assert [policy.delay(n) for n in (1, 2, 3)] == [1.0, 3.0, 5.0]
    assert policy.describe() == "retry up to 4 times, then return tokens and stop the runner"


# -- validate ------------------------------------------------------------------------------------------


def test_validate_runs_executor_validate(net):
    net.transition("pair", take="inbox", executor=NeedsTwo)
    with pytest.raises(NetError) as info:
        net.validate()
    message = str(info.value)
    assert "'orders'" in message and "'pair'" in message and "needs two inputs" in message


def test_validate_passes_when_executor_is_satisfied(net):
    net.transition("pair", take=["inbox", "audit"], give="outbox", executor=NeedsTwo)
    assert net.validate() is net


def test_validate_wraps_plain_exceptions(net):
    net.transition("broken", take="inbox", executor=Broken)
    with pytest.raises(NetError) as info:
        net.validate()
    message = str(info.value)
    for part in ("'orders'", "'broken'", "Broken.validate", "ValueError", "boom"):
        assert part in message
    assert isinstance(info.value.__cause__, ValueError)


def test_validate_plain_net(net):
    net.transition("pack", take="inbox", give="outbox").transition("code", take="outbox", run=work)
    assert net.validate() is net
