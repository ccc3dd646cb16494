"""Tests of dipen.pnml: round trips on classic nets, names and ids, what PNML P/T lacks, the
errors for files dipen cannot read, and PNML written and read by another tool (pm4py)."""

from __future__ import annotations

import io
import textwrap
import xml.etree.ElementTree as ET

import pytest

import dipen
from dipen import Net, NetError, pnml
from dipen.errors import PnmlError
from dipen.viz.layout import resolve_positions

# -- classic nets -----------------------------------------------------------------------------------


def philosophers(n: int) -> Net:
    net = Net(f"philosophers-{n}")
    for i in range(n):
        net.place(f"thinking {i}", tokens=1).place(f"eating {i}").place(f"fork {i}", tokens=1)
    for i in range(n):
        forks = [f"fork {i}", f"fork {(i + 1) % n}"]
        net.transition(f"pick up {i}", take=[f"thinking {i}", *forks], give=f"eating {i}")
        net.transition(f"put down {i}", take=f"eating {i}", give=[f"thinking {i}", *forks])
    return net


def producer_consumer(slots: int = 3) -> Net:
    """A bounded buffer twice over: a capacity, and a complement place of free slots."""
    return (
        Net("producer-consumer")
        .place("ready to produce", tokens=1).place("ready to deliver")
        .place("buffer", capacity=slots).place("free slots", tokens=slots)
        .place("ready to consume").place("ready to take", tokens=1)
        .transition("produce", take="ready to produce", give="ready to deliver")
        .transition("deliver", take=["ready to deliver", "free slots"],
                    give=["ready to produce", "buffer"])
        .transition("take", take=["ready to take", "buffer"],
                    give=["ready to consume", "free slots"])
        .transition("consume", take="ready to consume", give="ready to take")
    )


def mutual_exclusion() -> Net:
    net = Net("mutex").place("mutex", tokens=1)
    for who in ("left", "right"):
        net.place(f"{who} idle", tokens=1).place(f"{who} critical")
        net.transition(f"{who} enter", take=[f"{who} idle", "mutex"], give=f"{who} critical",
                       region=who)
        net.transition(f"{who} leave", take=f"{who} critical", give=[f"{who} idle", "mutex"],
                       region=who)
    return net


def weighted() -> Net:
    return (
        Net("weights and capacities")
        .place("raw", tokens=7, capacity=10).place("parts", capacity=6).place("kits")
        .place("stock", tokens=2)
        .transition("cut", take={"raw": 2}, give={"parts": 3})
        .transition("pack", take={"parts": 3}, give="kits", concurrency=2)
        .transition("restock", take={"stock": 2}, give={"stock": 2, "raw": 4})  # IN_OUT, weight 2
    )


def read_arcs() -> Net:
    net = (
        Net("read arcs")
        .place("switch", tokens=1).place("jobs", tokens=3).place("done").place("log")
        .place("light", tokens=2)
        .transition("work", take="jobs", give="done", read="switch")
        .transition("note", give={"log": 2}, read={"log": 2, "light": 2})  # OUT_COND, weight 2
    )
    return net.arc("switch", "note", "cond", name="gate")


def drawn() -> Net:
    """Names that are not XML ids, positions, regions and arc names."""
    return (
        Net("drawn net: v2")
        .place("1st", tokens=1, position=(40, 60)).place("a b", position=(200, 60.5))
        .place("p1", position=(120, -10))
        .transition("t1", take="1st", give="a b", region="east", position=(120, 60))
        .transition("go back!", take="a b", give=["1st", "p1"], position=(120, 140))
    )


CLASSIC = {
    "philosophers-2": lambda: philosophers(2),
    "philosophers-5": lambda: philosophers(5),
    "producer-consumer": producer_consumer,
    "mutual-exclusion": mutual_exclusion,
    "weights-and-capacities": weighted,
    "read-arcs": read_arcs,
    "drawn": drawn,
    "empty": lambda: Net("empty"),
}


def canonical(text: str) -> dict:
    """What a PNML document says, whatever the order: ids, names, markings, positions, arcs."""
    root = ET.fromstring(text)

    def local(element):
        return element.tag.rpartition("}")[2]

    def child_text(element, tag):
        for child in element:
            if local(child) == tag:
                return "".join(t.text or "" for t in child if local(t) == "text")
        return None

    nodes, arcs = set(), set()
    for element in root.iter():
        if local(element) in ("place", "transition") and element.get("id"):  # not final markings
            position = next((tuple(float(p.get(k)) for k in "xy") for p in element.iter()
                             if local(p) == "position"), None)
            nodes.add((local(element), element.get("id"), child_text(element, "name"),
                       int(child_text(element, "initialMarking") or 0), position))
        elif local(element) == "arc":
            arcs.add((element.get("id"), element.get("source"), element.get("target"),
                      int(child_text(element, "inscription") or 1)))
    return {"nodes": nodes, "arcs": arcs}


# -- round trips ------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", CLASSIC.values(), ids=CLASSIC.keys())
def test_round_trip_from_dipen(make):
    net = make()
    text = pnml.dumps(net)
    back = pnml.loads(text)
    assert back.to_dict() == net.to_dict()
    assert pnml.dumps(back) == text  # and again: the same document


@pytest.mark.parametrize("make", CLASSIC.values(), ids=CLASSIC.keys())
def test_round_trip_from_pnml(make):
    text = pnml.dumps(make())
    assert canonical(pnml.dumps(pnml.loads(text))) == canonical(text)


def test_write_and_read_paths_and_files(tmp_path):
    net = weighted()
    path = tmp_path / "net.pnml"
    pnml.write(net, path)
    assert pnml.read(path).to_dict() == net.to_dict()
    assert pnml.read(str(path)).to_dict() == net.to_dict()
    with open(path, "rb") as binary:
        assert pnml.read(binary).to_dict() == net.to_dict()
    text, binary_file = io.StringIO(), io.BytesIO()
    pnml.write(net, text)
    pnml.write(net, binary_file)
    assert text.getvalue().encode() == binary_file.getvalue() == path.read_bytes()
    assert pnml.loads(binary_file.getvalue()).to_dict() == net.to_dict()
    assert net.to_pnml() == text.getvalue()


def test_document_is_ptnet_with_namespace_and_xml_ids():
    root = ET.fromstring(pnml.dumps(drawn()))
    ns = "{http://www.pnml.org/version-2009/grammar/pnml}"
    assert root.tag == f"{ns}pnml"
    (net,) = root.findall(f"{ns}net")
    assert net.get("type") == "http://www.pnml.org/version-2009/grammar/ptnet"
    ids = [e.get("id") for e in root.iter() if e.get("id") is not None]
    assert len(ids) == len(set(ids))
    assert all(pnml._XML_NAME.fullmatch(i) for i in ids)  # "1st", "a b" and "go back!" are not ids
    names = {e.get("id"): e.find(f"{ns}name/{ns}text").text for e in net.iter()
             if e.tag in (f"{ns}place", f"{ns}transition")}
    assert names["p1"] == "p1" and names["t1"] == "t1"
    assert sorted(names.values()) == ["1st", "a b", "go back!", "p1", "t1"]


def test_read_arcs_are_self_loops_for_other_tools():
    root = ET.fromstring(pnml.dumps(read_arcs()))
    ns = "{http://www.pnml.org/version-2009/grammar/pnml}"
    arcs = {(a.get("source"), a.get("target")): int(a.findtext(f"{ns}inscription/{ns}text", "1"))
            for a in root.iter(f"{ns}arc")}
    assert arcs[("switch", "work")] == arcs[("work", "switch")] == 1  # COND
    assert arcs[("log", "note")] == 2 and arcs[("note", "log")] == 4  # OUT_COND: read 2, give 2
    assert arcs[("light", "note")] == arcs[("note", "light")] == 2


def test_self_loop_without_dipen_marks_is_in_out():
    text = pnml.dumps(read_arcs())
    plain = text.replace("<kind>cond</kind>", "").replace("<kind>out_cond</kind>", "")
    with pytest.raises(PnmlError, match="a self-loop taking 2 and giving 4 tokens"):
        pnml.loads(plain)
    net = pnml.loads(pnml.dumps(Net("n").place("a").transition("t", read="a")).replace(
        "<kind>cond</kind>", ""))
    assert net.transitions["t"].arcs[0].kind is dipen.ArcKind.IN_OUT


# -- reading files dipen did not write -------------------------------------------------------------


def document(body: str, net_type: str = "ptnet", net_id: str = "n1") -> str:
    return textwrap.dedent(f"""\
        <?xml version="1.0" encoding="UTF-8"?>
        <pnml xmlns="http://www.pnml.org/version-2009/grammar/pnml">
          <net id="{net_id}" type="http://www.pnml.org/version-2009/grammar/{net_type}">
        """) + textwrap.indent(textwrap.dedent(body), "    ") + "  </net>\n</pnml>\n"


def test_names_unique_else_ids_and_both_kept():
    text = document("""\
        <name><text>shop</text></name>
        <page id="g1">
          <place id="p1"><name><text>stock</text></name>
            <initialMarking><text> 3 </text></initialMarking></place>
          <place id="p2"><name><text>p3</text></name></place>
          <place id="p3"><name><text>a</text></name></place>
          <place id="p4"/>
          <transition id="t1"><name><text>a</text></name></transition>
          <transition id="t2"><name><text>sell/buy</text></name></transition>
          <arc id="a1" source="p1" target="t1"/>
          <arc id="a2" source="t1" target="p2"/>
          <arc id="a3" source="p3" target="t2"/>
          <arc id="a4" source="t2" target="p4"/>
        </page>
        """)
    net = pnml.loads(text)
    # "a" is not unique and "sell/buy" is no dipen name: their ids; "p3" gives way to place p3
    assert list(net.places) == ["stock", "p2", "p3", "p4"]
    assert list(net.transitions) == ["t1", "t2"]
    assert net.name == "shop"
    assert net.places["stock"].initial == (None,) * 3
    again = pnml.dumps(net)
    assert canonical(again) == canonical(text)
    assert '<net id="n1"' in again and '<page id="g1">' in again
    assert "<place id=\"p4\" />" in again  # still without a name


def test_pages_are_flattened_and_references_resolved():
    net = pnml.loads(document("""\
        <page id="top">
          <place id="p1"><initialMarking><text>1</text></initialMarking></place>
          <page id="inner">
            <name><text>details</text></name>
            <referencePlace id="r1" ref="p1"/>
            <referencePlace id="r2" ref="r1"/>
            <transition id="t1"/>
            <arc id="a1" source="r2" target="t1"/>
            <page id="deeper">
              <place id="p2"/>
              <arc id="a2" source="t1" target="p2"/>
            </page>
          </page>
          <referenceTransition id="rt" ref="t1"/>
          <arc id="a3" source="p1" target="rt"><inscription><text>2</text></inscription></arc>
        </page>
        """))
    assert list(net.places) == ["p1", "p2"]
    (take, give) = net.transitions["t1"].arcs
    assert (take.place, take.kind, take.weight) == ("p1", dipen.ArcKind.IN, 3)  # 1 + 2: added
    assert (give.place, give.kind, give.weight) == ("p2", dipen.ArcKind.OUT, 1)


def test_other_tools_toolspecific_and_final_markings_are_ignored():
    net = pnml.loads(document("""\
        <page id="g">
          <place id="p"><graphics><position x="10" y="20"/><dimension x="40" y="40"/></graphics>
            <toolspecific tool="Yasper" version="2"><roles/></toolspecific></place>
          <transition id="t"><name><text>t</text><graphics><offset x="0" y="5"/></graphics></name>
            <toolspecific tool="ProM" version="6.4" activity="$invisible$" localNodeID="x"/>
          </transition>
          <arc id="a" source="p" target="t">
            <graphics><position x="15" y="30"/></graphics>
            <toolspecific tool="Other" version="1"><colour>red</colour></toolspecific>
          </arc>
        </page>
        <finalmarkings><marking><place idref="p"><text>1</text></place></marking></finalmarkings>
        """, net_type="pnmlcoremodel"))
    assert net.places["p"].position == (10.0, 20.0)
    assert net.transitions["t"].arcs[0].kind is dipen.ArcKind.IN


# -- errors ------------------------------------------------------------------------------------------


def test_unsupported_features_are_all_listed_with_lines():
    text = document("""\
        <page id="g">
          <place id="p"><capacity><value>3</value></capacity></place>
          <place id="q"><hlinitialMarking><text>1'x</text></hlinitialMarking></place>
          <transition id="t" guard="x &gt; 1"/>
          <transition id="u">
            <toolspecific tool="StochasticPetriNet" version="0.2">
              <property key="distributionType">EXPONENTIAL</property>
            </toolspecific>
          </transition>
          <arc id="a1" source="p" target="t"><arctype><text>inhibitor</text></arctype></arc>
          <arc id="a2" source="q" target="t"><hlinscription><text>x</text></hlinscription></arc>
          <arc id="a3" source="p" target="u">
            <toolspecific tool="TAPAAL" version="3"><arc type="tapnInhibitor"/></toolspecific>
          </arc>
          <arc id="a4" source="u" target="q"><arctype><text>normal</text></arctype></arc>
        </page>
        """)
    with pytest.raises(PnmlError) as caught:
        pnml.loads(text)
    problems = caught.value.problems
    assert problems == (
        "line 5: place 'p': <capacity> (a capacity, which PNML P/T does not have)",
        "line 6: place 'q': <hlinitialMarking> (a high-level (coloured) marking)",
        "line 7: transition 't': attribute guard='x > 1' (not part of PNML P/T nets)",
        "line 9: transition 'u': stochastic timing, priorities and weights (toolspecific of "
        "StochasticPetriNet), which dipen does not model",
        "line 13: arc 'a1': <arctype> (arc type 'inhibitor', which dipen does not model)",
        "line 14: arc 'a2': <hlinscription> (a high-level (coloured) inscription)",
        "line 16: arc 'a3': arc type 'tapnInhibitor' in toolspecific of 'TAPAAL', which dipen "
        "does not model",
    )
    message = str(caught.value)
    assert message.startswith("PNML text: net 'n1' uses what dipen does not model:\n  - line 5")
    assert isinstance(caught.value, NetError) and isinstance(caught.value, dipen.DipenError)


@pytest.mark.parametrize("net_type", ["symmetricnet", "highlevelnet", "pt-hlpng"])
def test_other_net_types(net_type):
    with pytest.raises(PnmlError, match=f"net type '.*/{net_type}' .dipen reads P/T nets"):
        pnml.loads(document("<page id='g'/>\n", net_type=net_type))


def test_several_nets():
    text = document("<page id='g'/>\n").replace(
        "</pnml>", '<net id="n2" type="http://www.pnml.org/version-2009/grammar/ptnet"/></pnml>')
    with pytest.raises(PnmlError, match=r"holds 2 nets \('n1', 'n2'\); dipen reads one net per"):
        pnml.loads(text)
    with pytest.raises(PnmlError, match="holds 0 nets"):
        pnml.loads("<pnml/>")


BROKEN = [
    ("dangling", '<arc id="a" source="p" target="x"/>', "line 6: arc 'a': no place or transition 'x'"),
    ("two places", '<arc id="a" source="p" target="q"/>', "line 6: arc 'a' joins two places"),
    ("cycle", '<referencePlace id="r" ref="s"/><referencePlace id="s" ref="r"/>'
              '<arc id="a" source="r" target="t"/>', "references form a cycle (r -> s -> r)"),
    ("wrong reference", '<referenceTransition id="r" ref="p"/><arc id="a" source="r" target="t"/>',
     "referenceTransition 'r' refers to place 'p'"),
    ("marking", '<place id="x"><initialMarking><text>1.5</text></initialMarking></place>',
     "line 6: place 'x': <initialMarking> is '1.5', not a whole number >= 0"),
    ("weight", '<arc id="a" source="p" target="t"><inscription><text>0</text></inscription></arc>',
     "line 6: arc 'a': <inscription> is '0', not a whole number >= 1"),
    ("duplicate id", '<place id="t"/>', "line 6: place: its id is already used on line 5"),
    ("no id", "<transition/>", "line 6: transition: has no id"),
    ("position", '<transition id="u"><graphics><position x="a" y="1"/></graphics></transition>',
     "line 6: transition 'u': position x='a' y='1' is not two finite numbers"),
    ("self-loop", '<arc id="a" source="p" target="t"/><arc id="b" source="t" target="p">'
                  '<inscription><text>2</text></inscription></arc>',
     "line 6: arc 'a': a self-loop taking 1 and giving 2 tokens"),
    ("dipen setting", '<transition id="u"><toolspecific tool="dipen" version="9"><colour/>'
                      '</toolspecific></transition>', "unknown dipen setting <colour>"),
]


@pytest.mark.parametrize("body, expected", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_nets(body, expected):
    text = document(f"""\
        <page id="g">
          <place id="p"/><place id="q"/><transition id="t"/>
          {body}
        </page>
        """)
    with pytest.raises(PnmlError, match="uses what dipen does not model") as caught:
        pnml.loads(text)
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_bad_dipen_settings_are_net_errors():
    text = pnml.dumps(weighted()).replace("<capacity>10</capacity>", "<capacity>1</capacity>")
    with pytest.raises(PnmlError, match="7 initial tokens exceed its capacity of 1"):
        pnml.loads(text)


def test_malformed_xml_names_line_and_element():
    text = document("""\
        <page id="g">
          <place id="p"><name><text>a</text></place>
        </page>
        """)
    with pytest.raises(PnmlError, match=r"^PNML text: not well-formed XML: mismatched tag: "
                       r"line 5, column \d+ \(inside <name> opened on line 5\)$"):
        pnml.loads(text)
    with pytest.raises(PnmlError, match="not well-formed XML: no element found: line 1"):
        pnml.loads("")


def test_malformed_file_is_named(tmp_path):
    path = tmp_path / "broken.pnml"
    path.write_text("<pnml><net>")
    with pytest.raises(PnmlError, match=f"PNML file {path}: not well-formed XML"):
        pnml.read(path)


def test_not_pnml():
    with pytest.raises(PnmlError, match="not a PNML document: its root element is <svg>"):
        pnml.loads("<svg/>")


BOMB = """<?xml version="1.0"?>
<!DOCTYPE pnml [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<pnml><net id="&lol3;"/></pnml>
"""


@pytest.mark.parametrize("text", [
    BOMB,
    '<!DOCTYPE pnml SYSTEM "http://example.org/pnml.dtd"><pnml/>',
    '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><pnml>&x;</pnml>',
], ids=["entity expansion", "external dtd", "external entity"])
def test_dtds_and_entities_are_refused(text):
    with pytest.raises(PnmlError, match="declares a DTD or entities, which dipen refuses"):
        pnml.loads(text)


def test_undeclared_entity_is_malformed():
    with pytest.raises(PnmlError, match="undefined entity"):
        pnml.loads("<pnml>&x;</pnml>")


async def work(token):
    return token


def test_coloured_nets_cannot_be_written():
    net = (
        Net("shop").place("orders", tokens=[{"id": 1}]).place("plain", tokens=2).place("done")
        .transition("pack", take="orders", give="done", run=work)
        .transition("move", take="plain", give="done", guard=lambda tokens: True)
        .transition("count", take="done", give="plain")
    )
    with pytest.raises(PnmlError) as caught:
        pnml.dumps(net)
    assert caught.value.problems == (
        "place 'orders' holds tokens with data",
        "transition 'pack' runs code (run=)",
        "transition 'move' runs code (guard=)",
    )
    assert str(caught.value).startswith(
        "net 'shop' is coloured and cannot be written as a PNML P/T net, which carries token "
        "counts only:\n  - place 'orders'"
    )


# -- positions in the net model and the drawing ------------------------------------------------------


def test_positions_in_the_net_model():
    net = Net("n").place("a", position=(1, 2)).place("b").transition("t", take="a",
                                                                       position=(3.5, -1))
    assert net.places["a"].position == (1.0, 2.0) and net.places["b"].position is None
    data = net.to_dict()
    assert data["places"][0]["position"] == [1.0, 2.0] and "position" not in data["places"][1]
    assert data["transitions"][0]["position"] == [3.5, -1.0]


@pytest.mark.parametrize("position", [(1,), (1, 2, 3), ("1", 2), (float("nan"), 0), "ab", 5,
                                      (True, 1)])
def test_bad_positions(position):
    with pytest.raises(NetError, match="position must be two finite numbers"):
        Net("n").place("a", position=position)
    with pytest.raises(NetError, match="transition 't': position must be two finite numbers"):
        Net("n").transition("t", position=position)


def test_drawing_uses_positions_when_every_node_has_one():
    # flipped (y grows downwards in PNML, upwards in the drawing) and scaled so that the median
    # distance to the nearest node (80) is the layered layout's gap between layers (1.6)
    assert resolve_positions(drawn(), None) == {
        "1st": (0.0, -1.4), "a b": (3.2, -1.41), "p1": (1.6, 0.0), "t1": (1.6, -1.4),
        "go back!": (1.6, -3.0),
    }
    partly = Net("n").place("a", position=(0, 0)).place("b")
    assert resolve_positions(partly, None) == dipen.viz.layout(partly)


# -- another tool: pm4py writes and reads PNML -------------------------------------------------------


@pytest.fixture(scope="module")
def pm4py():
    import pm4py  # in the test extra: a missing pm4py fails these tests, never skips them

    return pm4py


def pm4py_net(name, places, transitions, arcs, net_class=None):
    """A pm4py net and its initial marking: ``places`` ``{name: tokens}``, ``transitions``
    ``{name: label}`` (None: invisible), ``arcs`` ``[(source, target, add_arc_from_to options)]``."""
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils.petri_utils import add_arc_from_to

    net_class = net_class or PetriNet
    net, marking, nodes = net_class(name), Marking(), {}
    for place, tokens in places.items():
        nodes[place] = net_class.Place(place)
        net.places.add(nodes[place])
        if tokens:
            marking[nodes[place]] = tokens
    for transition, label in transitions.items():
        nodes[transition] = net_class.Transition(transition, label)
        net.transitions.add(nodes[transition])
    for source, target, options in arcs:
        add_arc_from_to(nodes[source], nodes[target], net, **options)
    return net, marking


def pm4py_philosophers(n):
    places, transitions, arcs = {}, {}, []
    for i in range(n):
        places.update({f"think{i}": 1, f"eat{i}": 0, f"fork{i}": 1})
    for i in range(n):
        transitions[f"pick{i}"] = "pick up"  # the same label for every philosopher
        transitions[f"drop{i}"] = None  # invisible
        for place in (f"think{i}", f"fork{i}", f"fork{(i + 1) % n}"):
            arcs += [(place, f"pick{i}", {}), (f"drop{i}", place, {})]
        arcs += [(f"pick{i}", f"eat{i}", {}), (f"eat{i}", f"drop{i}", {})]
    return pm4py_net(f"philosophers{n}", places, transitions, arcs)


def test_reads_pm4py_philosophers(pm4py, tmp_path):
    from pm4py.objects.petri_net.obj import Marking

    pm_net, marking = pm4py_philosophers(3)
    path = tmp_path / "philosophers.pnml"
    pm4py.write_pnml(pm_net, marking, Marking({next(iter(pm_net.places)): 1}), str(path))
    net = pnml.read(path)
    assert net.name == "philosophers3"
    assert set(net.places) == {p.name for p in pm_net.places}
    # the label "pick up" is not unique: ids; invisible transitions are named by their ids
    assert set(net.transitions) == {t.name for t in pm_net.transitions}
    assert {p: len(place.initial) for p, place in net.places.items() if place.initial} == {
        p.name: count for p, count in marking.items()}
    assert sorted_dict(net) == sorted_dict(philosophers_like(3))
    again = pnml.dumps(net)
    assert canonical(again) == canonical(path.read_text())  # ids, names and arc ids kept


def philosophers_like(n):
    """The net dipen should read from pm4py_philosophers (pm4py writes its sets in any order, so
    compare after sorting)."""
    net = Net(f"philosophers{n}")
    for i in range(n):
        net.place(f"think{i}", tokens=1).place(f"eat{i}").place(f"fork{i}", tokens=1)
    for i in range(n):
        inputs = [f"think{i}", f"fork{i}", f"fork{(i + 1) % n}"]
        net.transition(f"pick{i}", take=inputs, give=f"eat{i}")
        net.transition(f"drop{i}", take=f"eat{i}", give=inputs)
    return net


def sorted_dict(net: Net) -> dict:
    """Net.to_dict() with places, transitions and arcs sorted, for nets from pm4py's sets."""
    data = net.to_dict()
    data["places"].sort(key=lambda p: p["name"])
    data["transitions"].sort(key=lambda t: t["name"])
    for t in data["transitions"]:
        t["arcs"].sort(key=lambda a: (a["place"], a["kind"]))
    return data


def test_reads_pm4py_weights_and_discovered_models(pm4py, tmp_path):
    import pandas as pd
    from pm4py.objects.petri_net.obj import Marking

    pm_net, marking = pm4py_net("batch", {"raw": 5, "parts": 0}, {"cut": "cut"},
                                [("raw", "cut", {"weight": 2}), ("cut", "parts", {"weight": 3})])
    path = tmp_path / "batch.pnml"
    pm4py.write_pnml(pm_net, marking, Marking(), str(path))
    expected = Net("batch").place("raw", tokens=5).place("parts").transition(
        "cut", take={"raw": 2}, give={"parts": 3})
    assert sorted_dict(pnml.read(path)) == sorted_dict(expected)

    log = pd.DataFrame({
        "case:concept:name": ["1", "1", "1", "2", "2", "2", "3", "3"],
        "concept:name": ["register", "check", "pay", "register", "pay", "check", "register",
                         "cancel"],
        "time:timestamp": pd.date_range("2024-01-01", periods=8, freq="h"),
    })
    for discover in (pm4py.discover_petri_net_inductive, pm4py.discover_petri_net_alpha):
        pm_net, initial, final = discover(log)
        path = tmp_path / f"{discover.__name__}.pnml"
        pm4py.write_pnml(pm_net, initial, final, str(path))
        net = pnml.read(path)
        assert len(net.places) == len(pm_net.places)
        assert len(net.transitions) == len(pm_net.transitions)
        assert len(net.arcs) == len(pm_net.arcs)
        assert {p for p, place in net.places.items() if place.initial} == {p.name for p in initial}
        labels = {t.label for t in pm_net.transitions if t.label}
        assert labels <= set(net.transitions)  # unique labels name the transitions
        assert canonical(pnml.dumps(net)) == canonical(path.read_text())


def test_pm4py_reset_and_inhibitor_arcs_are_refused(pm4py, tmp_path):
    from pm4py.objects.petri_net.obj import Marking, ResetInhibitorNet

    pm_net, marking = pm4py_net(
        "special", {"p": 1, "q": 0}, {"t": "t"},
        [("p", "t", {"type": "inhibitor"}), ("q", "t", {"type": "reset"})], ResetInhibitorNet,
    )
    path = tmp_path / "special.pnml"
    pm4py.write_pnml(pm_net, marking, Marking(), str(path))
    with pytest.raises(PnmlError, match="uses what dipen does not model") as caught:
        pnml.read(path)
    assert sorted(problem.split(": ", 2)[2] for problem in caught.value.problems) == [
        f"<arctype> (arc type {kind!r}, which dipen does not model)"
        for kind in ("inhibitor", "reset")
    ]


@pytest.mark.parametrize("make", CLASSIC.values(), ids=CLASSIC.keys())
def test_pm4py_reads_what_dipen_writes(pm4py, tmp_path, make):
    net = make()
    path = tmp_path / "net.pnml"
    pnml.write(net, path)
    pm_net, initial, _ = pm4py.read_pnml(str(path), auto_guess_final_marking=True)
    places = {p.name: p for p in pm_net.places}
    transitions = {t.name: t for t in pm_net.transitions}
    names = {**{p.name: p.properties["place_name_tag"] for p in pm_net.places},
             **{t.name: t.label for t in pm_net.transitions}}
    assert sorted(names.values()) == sorted([*net.places, *net.transitions])
    by_name = {name: pnml_id for pnml_id, name in names.items()}
    assert {names[p.name]: count for p, count in initial.items()} == {
        name: len(place.initial) for name, place in net.places.items() if place.initial}
    expected = set()
    for arc in net.arcs:  # what other tools see: read arcs as self-loops
        place, transition = by_name[arc.place], by_name[arc.transition]
        for towards, weight, _ in pnml._halves(arc):
            expected.add((place, transition, weight) if towards else (transition, place, weight))
    assert {(a.source.name, a.target.name, a.weight) for a in pm_net.arcs} == expected
    assert set(places) | set(transitions) == set(by_name.values())
