"""Tests of dipen.tokens: Token, freeze and the frozen containers, JsonCodec, Marking."""

from __future__ import annotations

import copy
import json
import math
import operator
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dipen
from dipen import JsonCodec, Marking, Token, TokenError
from dipen.tokens import FrozenDict, FrozenList, freeze

# -- Token -----------------------------------------------------------------------------------------


@pytest.fixture
def token():
    return Token("t1", freeze({"n": 3, "tags": ["a", "b"]}))


def test_token_fields(token):
    assert token.id == "t1"
    assert token.data == {"n": 3, "tags": ["a", "b"]}
    assert token.firing is None
    assert token.taken is False
    assert token["n"] == 3
    assert token["tags"] == ["a", "b"]


def test_token_defaults_and_firing():
    plain = Token("t2")
    assert (plain.id, plain.data, plain.firing, plain.taken) == ("t2", None, None, False)
    held = Token("t3", 5, "f1")
    assert held.firing == "f1"
    assert held.taken is True
    assert held.data == 5


def test_token_getitem_errors(token):
    with pytest.raises(KeyError):
        token["missing"]
    with pytest.raises(KeyError, match="'t2' has no data"):
        Token("t2")["n"]


def test_token_getitem_on_list_data():
    assert Token("t", freeze([10, 20]))[1] == 20


def test_token_get(token):
    assert token.get("n") == 3
    assert token.get("missing") is None
    assert token.get("missing", 7) == 7
    assert Token("t", [1, 2]).get("n", "d") == "d"
    assert Token("t").get("n", "d") == "d"
    assert Token("t", "text").get("n") is None


@pytest.mark.parametrize("field", ["id", "data", "firing", "taken", "other"])
def test_token_attributes_cannot_be_assigned(token, field):
    with pytest.raises(AttributeError):
        setattr(token, field, "x")
    assert token.id == "t1" and token.firing is None and token.data["n"] == 3


def test_token_data_is_read_only(token):
    with pytest.raises(TypeError, match="read-only"):
        token.data["x"] = 1
    with pytest.raises(TypeError, match="read-only"):
        token.data["tags"].append("c")
    assert token.data == {"n": 3, "tags": ["a", "b"]}


def test_token_constructor_freezes_its_data():
    data = {"n": 3, "tags": ["a", ("b", {"c": 1})]}
    token = Token("t1", data)
    assert type(token.data) is FrozenDict
    assert type(token.data["tags"]) is FrozenList and type(token.data["tags"][1][1]) is FrozenDict
    for change in (lambda d: d.__setitem__("n", 4), lambda d: d["tags"].append("x"),
                   lambda d: d["tags"][1][1].update(c=2)):
        with pytest.raises(TypeError, match="read-only"):
            change(token.data)
    data["n"] = 4  # the caller's dict is copied, not shared
    assert token.data == {"n": 3, "tags": ["a", ["b", {"c": 1}]]}
    assert type(Token("t2", [1, 2]).data) is FrozenList
    assert type(Token("t3", (1, 2), "f1").data) is FrozenList
    frozen = freeze({"n": 1})
    assert Token("t4", frozen).data is frozen  # already frozen: kept, not copied


def test_token_constructor_refuses_data_it_cannot_freeze():
    with pytest.raises(TokenError, match="token 't1': token data of type set"):
        Token("t1", {"n": {1, 2}})
    with pytest.raises(TokenError, match="token 't2': token data has a key 1"):
        Token("t2", {1: "x"})


def test_update_returns_copy_with_same_id(token):
    held = Token("t1", token.data, "f9")
    updated = held.update(n=4, extra={"k": [1, (2, 3)]})
    assert type(updated) is Token
    assert updated.id == "t1"
    assert updated.firing == "f9"
    assert updated.data == {"n": 4, "tags": ["a", "b"], "extra": {"k": [1, [2, 3]]}}
    assert held.data == {"n": 3, "tags": ["a", "b"]}  # original unchanged
    assert "extra" not in token.data
    with pytest.raises(TypeError):
        updated.data["n"] = 5
    with pytest.raises(TypeError):
        updated.data["extra"]["k"].append(4)
    assert type(updated.data["extra"]["k"][1]) is FrozenList


def test_update_on_no_data_makes_a_dict():
    updated = Token("t").update(a=1)
    assert updated.data == {"a": 1}
    assert type(updated.data) is FrozenDict


def test_update_with_no_fields_keeps_data(token):
    assert token.update() == token


@pytest.mark.parametrize("data", [[1, 2], "text", 5, 1.5, True])
def test_update_on_non_dict_data_raises(data):
    with pytest.raises(TokenError) as info:
        Token("t7", freeze(data)).update(n=1)
    message = str(info.value)
    assert "'t7'" in message and type(data).__name__ in message.lower() and "replace" in message


@pytest.mark.parametrize(
    ("value", "type_name"), [({1}, "set"), (b"x", "bytes"), (object(), "object"), ([1, {2: 3}], "int")]
)
def test_update_with_non_json_value_raises(token, value, type_name):
    with pytest.raises(TokenError) as info:
        token.update(bad=value)
    message = str(info.value)
    assert "'t1'" in message and "'bad'" in message and type_name in message


def test_replace(token):
    held = Token("t1", token.data, "f2")
    replaced = held.replace({"m": (1, 2)})
    assert type(replaced) is Token
    assert (replaced.id, replaced.firing) == ("t1", "f2")
    assert replaced.data == {"m": [1, 2]}
    assert type(replaced.data) is FrozenDict
    with pytest.raises(TypeError):
        replaced.data["m"] = 0
    assert held.replace(None).data is None
    assert held.replace(7).data == 7
    assert held.data == {"n": 3, "tags": ["a", "b"]}


@pytest.mark.parametrize(("value", "type_name"), [({1, 2}, "set"), ({"a": b"x"}, "bytes"), (object(), "object")])
def test_replace_with_non_json_raises(token, value, type_name):
    with pytest.raises(TokenError) as info:
        token.replace(value)
    assert "'t1'" in str(info.value) and type_name in str(info.value)


def test_token_equality_and_hash():
    a = Token("a", freeze({"n": 1}))
    assert a == Token("a", {"n": 1})
    assert hash(a) == hash(Token("a", freeze({"n": 1})))
    assert a != Token("a", {"n": 2})
    assert a != Token("b", {"n": 1})
    assert a != Token("a", {"n": 1}, "f1")
    assert len({a, Token("a", freeze({"n": 1})), Token("b")}) == 2
    assert a.update(n=1) == a


def test_token_is_not_iterable_and_has_no_len(token):
    with pytest.raises(TypeError, match="not iterable"):
        iter(token)
    with pytest.raises(TypeError):
        list(token)
    with pytest.raises(TypeError):
        identifier, data, firing = token
    with pytest.raises(TypeError, match="no length"):
        len(token)


@pytest.mark.parametrize("data", [None, 0, "", [], {}, False])
def test_token_is_truthy(data):
    assert bool(Token("t", freeze(data))) is True


@pytest.mark.parametrize(
    "original",
    [
        Token("t1"),
        Token("t2", 5),
        Token("t3", freeze({"n": [1, {"m": None}]}), "f1"),
        Token("t4", freeze([1.5, "x", True])),
    ],
)
def test_token_pickle_and_deepcopy_round_trip(original):
    for copied in (pickle.loads(pickle.dumps(original)), copy.deepcopy(original), copy.copy(original)):
        assert type(copied) is Token
        assert copied == original
        assert (copied.id, copied.data, copied.firing) == (original.id, original.data, original.firing)
        assert type(copied.data) is type(original.data)
    if isinstance(original.data, dict):
        with pytest.raises(TypeError):
            pickle.loads(pickle.dumps(original)).data["n"] = 0


@pytest.mark.parametrize(
    ("token", "text"),
    [
        (Token("t1"), "Token('t1')"),
        (Token("t1", freeze({"n": 3})), "Token('t1', {'n': 3})"),
        (Token("t1", freeze([1, "a"]), "f1"), "Token('t1', [1, 'a'], firing='f1')"),
        (Token("t1", None, "f1"), "Token('t1', firing='f1')"),
        (Token("t1", 0), "Token('t1', 0)"),
        (Token("t1", {"n": 3}).update(n=2), "Token('t1', {'n': 2})"),
    ],
)
def test_token_repr(token, text):
    assert repr(token) == text


# -- freeze and the frozen containers ------------------------------------------------------------


def test_freeze_makes_read_only_containers():
    frozen = freeze({"a": [1, {"b": (2, 3)}], "c": None})
    assert type(frozen) is FrozenDict
    assert type(frozen["a"]) is FrozenList
    assert type(frozen["a"][1]) is FrozenDict
    assert type(frozen["a"][1]["b"]) is FrozenList
    assert frozen == {"a": [1, {"b": [2, 3]}], "c": None}
    assert isinstance(frozen, dict) and isinstance(frozen["a"], list)


def test_freeze_copies_the_input():
    data = {"a": [1]}
    frozen = freeze(data)
    data["a"].append(2)
    assert frozen == {"a": [1]}


@pytest.mark.parametrize("value", [None, True, False, 0, -5, 2**70, 1.5, "", "text"])
def test_freeze_scalars_unchanged(value):
    assert freeze(value) is value


def test_freeze_frozen_is_identity():
    frozen = freeze({"a": [1]})
    assert freeze(frozen) is frozen
    assert freeze(frozen["a"]) is frozen["a"]


def test_frozen_containers_hash_and_copy():
    frozen = freeze({"a": [1, {"b": 2}]})
    assert hash(frozen) == hash(freeze({"a": [1, {"b": 2}]}))
    assert copy.copy(frozen) is frozen
    assert copy.deepcopy(frozen) is frozen
    restored = pickle.loads(pickle.dumps(frozen))
    assert type(restored) is FrozenDict and restored == frozen
    assert type(restored["a"]) is FrozenList


DICT_MUTATIONS = {
    "setitem": lambda d: d.__setitem__("z", 1),
    "setitem-existing": lambda d: d.__setitem__("a", 9),
    "delitem": lambda d: d.__delitem__("a"),
    "clear": lambda d: d.clear(),
    "pop": lambda d: d.pop("a"),
    "pop-default": lambda d: d.pop("zz", None),
    "popitem": lambda d: d.popitem(),
    "setdefault": lambda d: d.setdefault("z", 1),
    "update": lambda d: d.update(z=1),
    "update-mapping": lambda d: d.update({"z": 1}),
    "ior": lambda d: operator.ior(d, {"z": 1}),
}


@pytest.mark.parametrize("mutate", DICT_MUTATIONS.values(), ids=DICT_MUTATIONS.keys())
def test_frozen_dict_mutations_raise(mutate):
    frozen = freeze({"a": 1, "b": [2]})
    with pytest.raises(TypeError, match="read-only"):
        mutate(frozen)
    assert frozen == {"a": 1, "b": [2]}


LIST_MUTATIONS = {
    "setitem": lambda x: x.__setitem__(0, 9),
    "setitem-slice": lambda x: x.__setitem__(slice(0, 1), [9]),
    "delitem": lambda x: x.__delitem__(0),
    "append": lambda x: x.append(4),
    "extend": lambda x: x.extend([4]),
    "insert": lambda x: x.insert(0, 4),
    "pop": lambda x: x.pop(),
    "remove": lambda x: x.remove(1),
    "clear": lambda x: x.clear(),
    "reverse": lambda x: x.reverse(),
    "sort": lambda x: x.sort(),
    "iadd": lambda x: operator.iadd(x, [4]),
    "imul": lambda x: operator.imul(x, 2),
}


@pytest.mark.parametrize("mutate", LIST_MUTATIONS.values(), ids=LIST_MUTATIONS.keys())
def test_frozen_list_mutations_raise(mutate):
    frozen = freeze([3, 1, 2])
    with pytest.raises(TypeError, match="read-only"):
        mutate(frozen)
    assert frozen == [3, 1, 2]


def test_frozen_containers_equal_plain_ones():
    assert freeze({"a": 1}) == {"a": 1}
    assert {"a": 1} == freeze({"a": 1})
    assert freeze([1, 2]) == [1, 2]
    assert freeze((1, 2)) == [1, 2]
    assert freeze((1, 2)) != (1, 2)
    assert freeze({"a": 1}) != {"a": 2}
    # non-mutating operations still give plain, changeable values
    merged = freeze({"a": 1}) | {"b": 2}
    merged["c"] = 3
    assert merged == {"a": 1, "b": 2, "c": 3}
    joined = freeze([1]) + [2]
    joined.append(3)
    assert joined == [1, 2, 3]


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ({1: "a"}, ["key 1", "int", "str keys"]),
        ({"a": {None: 1}}, ["key None", "NoneType"]),
        ({(1, 2): "a"}, ["tuple"]),
        ({1, 2}, ["set"]),
        (frozenset(), ["frozenset"]),
        (b"x", ["bytes"]),
        (bytearray(b"x"), ["bytearray"]),
        (object(), ["object"]),
        ({"a": [1, 2, {3}]}, ["set"]),
        ([1j], ["complex"]),
    ],
)
def test_freeze_rejects_non_json(value, parts):
    with pytest.raises(TokenError) as info:
        freeze(value, where="place 'p'")
    message = str(info.value)
    assert message.startswith("place 'p': ")
    for part in parts:
        assert part in message


def test_freeze_default_where():
    with pytest.raises(TokenError, match="^token data: "):
        freeze({1})


# -- JsonCodec ---------------------------------------------------------------------------------------


def test_json_codec_round_trip():
    codec = JsonCodec()
    assert codec.name == "json"
    raw = codec.encode({"n": 1, "l": [1, 2.5, None, True, "x"]})
    assert isinstance(raw, bytes)
    assert raw == b'{"n":1,"l":[1,2.5,null,true,"x"]}'
    decoded = codec.decode(raw)
    assert decoded == {"n": 1, "l": [1, 2.5, None, True, "x"]}
    assert type(decoded) is FrozenDict and type(decoded["l"]) is FrozenList
    assert codec.decode(codec.encode(freeze((1, 2)))) == [1, 2]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, {"a": [math.nan]}])
def test_json_codec_rejects_nan_and_infinity(bad):
    with pytest.raises(ValueError):
        JsonCodec().encode(bad)


def test_json_codec_prepare_freezes():
    codec = JsonCodec()
    prepared = codec.prepare({"a": (1,)})
    assert type(prepared) is FrozenDict and prepared == {"a": [1]}
    with pytest.raises(TokenError, match="^here: "):
        codec.prepare({1}, "here")


# -- properties ---------------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.lists(children, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


def _plain(value):
    """The expected frozen value in plain types: tuples become lists."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _all_frozen(value):
    if isinstance(value, dict):
        return type(value) is FrozenDict and all(_all_frozen(v) for v in value.values())
    if isinstance(value, list):
        return type(value) is FrozenList and all(_all_frozen(v) for v in value)
    return not isinstance(value, tuple)


@settings(database=None, max_examples=200)
@given(json_like)
def test_freeze_property(value):
    frozen = freeze(value)
    expected = _plain(value)
    assert frozen == expected
    assert _all_frozen(frozen)
    assert freeze(frozen) is frozen
    codec = JsonCodec()
    decoded = codec.decode(codec.encode(frozen))
    assert decoded == expected
    assert _all_frozen(decoded)
    assert json.loads(codec.encode(value)) == expected
    token = Token("t", frozen)
    assert pickle.loads(pickle.dumps(token)) == token
    assert token.replace(value).data == expected


# -- Marking -------------------------------------------------------------------------------------


@pytest.fixture
def marking():
    return Marking(
        {
            "a": (Token("t1"), Token("t2", None, "f1")),
            "b": [Token("t3", freeze({"n": 1}))],
            "c": (),
        },
        revision=7,
        time=1.5,
    )


def test_marking_getitem(marking):
    assert marking["a"] == (Token("t1"), Token("t2", None, "f1"))
    assert marking["b"] == (Token("t3", {"n": 1}),)
    assert isinstance(marking["b"], tuple)
    assert marking["c"] == ()


def test_marking_unknown_place(marking):
    with pytest.raises(KeyError) as info:
        marking["zzz"]
    message = info.value.args[0]
    assert "'zzz'" in message and "a, b, c" in message
    with pytest.raises(KeyError, match="places: none"):
        Marking({})["a"]


def test_marking_counts(marking):
    assert marking.counts() == {"a": 2, "b": 1, "c": 0}
    assert marking.counts(free_only=True) == {"a": 1, "b": 1, "c": 0}


def test_marking_data_and_tokens(marking):
    assert marking.data() == {"a": [None, None], "b": [{"n": 1}], "c": []}
    assert list(marking.tokens()) == [
        ("a", Token("t1")),
        ("a", Token("t2", None, "f1")),
        ("b", Token("t3", {"n": 1})),
    ]


def test_marking_mapping_behaviour(marking):
    assert len(marking) == 3
    assert list(marking) == ["a", "b", "c"]
    assert "a" in marking and "zzz" not in marking
    assert dict(marking.items())["c"] == ()
    assert marking.get("zzz") is None


def test_marking_attributes(marking):
    assert marking.revision == 7
    assert marking.time == 1.5
    bare = Marking({"a": ()})
    assert bare.revision is None and bare.time is None


def test_marking_equality(marking):
    same = Marking(
        {"a": [Token("t1"), Token("t2", None, "f1")], "b": [Token("t3", {"n": 1})], "c": []},
        revision=99,
    )
    assert marking == same
    assert hash(marking) == hash(same)
    assert marking != Marking({"a": (Token("t1"), Token("t2")), "b": (Token("t3", {"n": 1}),), "c": ()})
    assert marking != Marking({"a": (Token("t1"), Token("t2", None, "f1")), "b": (Token("t3", {"n": 2}),), "c": ()})
    assert marking != Marking({"a": (Token("t1"), Token("t2", None, "f1")), "b": (Token("t3", {"n": 1}),)})
    assert marking != {"a": marking["a"], "b": marking["b"], "c": ()}


def test_marking_is_immutable(marking):
    with pytest.raises(TypeError):
        marking["d"] = ()  # type: ignore[index]
    with pytest.raises(AttributeError):
        marking.other = 1  # type: ignore[attr-defined]
    assert marking.counts() == {"a": 2, "b": 1, "c": 0}


def test_marking_copies_its_input():
    places = {"a": [Token("t1")]}
    marking = Marking(places)
    places["a"].append(Token("t2"))
    places["b"] = []
    assert marking.counts() == {"a": 1}


@pytest.mark.parametrize(
    ("places", "text"),
    [
        ({"a": (Token("t1"),), "b": ()}, "Marking(a=1, b=0)"),
        ({}, "Marking()"),
        ({"a": (Token("t1", freeze({"n": 1})), Token("t2"))}, "Marking(a=[{'n': 1}, None])"),
        ({"q": tuple(Token(f"t{i}", i) for i in range(1, 7))}, "Marking(q=[1, 2, 3, 4, … +2])"),
        ({"q": tuple(Token(f"t{i}", i) for i in range(1, 5)), "r": (Token("x", None, "f"),)}, "Marking(q=[1, 2, 3, 4], r=1)"),
    ],
)
def test_marking_repr(places, text):
    assert repr(Marking(places)) == text


def test_tokens_module_exports():
    assert set(dipen.tokens.__all__) == {"FrozenDict", "FrozenList", "JsonCodec", "Marking",
                                         "PickleCodec", "Token", "freeze"}
    assert dipen.Token is Token and dipen.Marking is Marking and dipen.JsonCodec is JsonCodec
