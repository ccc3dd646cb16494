"""dipen.recording and Net.from_dict: a run exported to JSON lines (from a live runner or a window
of a store's history, on memory and etcd) replays to the same markings at every step."""

from __future__ import annotations

import io
import json

import pytest
from test_history_api import run_shop, shop_net

import dipen
from dipen.errors import RecordingError
from dipen.notebook import run_blocking
from dipen.recording import record_sync, replay
from dipen.timeline import history_sync


def test_a_replayed_run_equals_the_original_at_every_step(store_factory, tmp_path):
    store = store_factory()
    live = []
    if isinstance(store, dipen.MemoryStore) and store.live is not None:  # the store's own view
        runner = dipen.Runner(shop_net(), store=store, clock="simulated")
        run_blocking(runner.open())
        store.subscribe(lambda change: live.append(store.live().marking()), store.revision)
        runner.run_sync()
    else:
        runner = run_shop(store)
    path = tmp_path / "run.jsonl"
    written = record_sync(runner, path)
    replayed = replay(path)
    assert len(replayed) == len(written) == len(history_sync(store))
    assert [step.change for step in replayed] == list(written.changes)
    for step in replayed:
        assert step.marking == run_blocking(runner.marking_at(step.revision)), step
    if live:
        assert replayed.markings()[1:] == live
    assert replayed.marking == runner.marking
    assert replayed.definition == runner.net.to_dict()
    assert list(replayed.net.transitions) == list(runner.net.transitions)
    assert replayed.net.transitions["serve"].kind == "P/T"  # structure only
    assert [(f.transition, f.error) for f in replayed.failures] == [
        ("pay", "ValueError: card declined")]
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "dipen-recording"
    assert json.loads(lines[0])["net"] == runner.net.to_dict()
    assert len(lines) == 1 + len(replayed) + len(replayed.failures)


def test_an_incident_window_exported_from_another_client_becomes_a_test_case(store_factory):
    store = store_factory()
    run_shop(store)
    whole = history_sync(store)
    since, until = whole[3].revision, whole[8].revision
    incident = io.StringIO()
    record_sync(store_factory.peer(store), incident, since=since, until=until)
    replayed = replay(io.StringIO(incident.getvalue()))
    assert replayed.start == whole[3].marking  # running firings included
    assert replayed.start_state().firings == whole.window(since=since).start_state().firings
    assert replayed.markings() == [step.marking for step in whole[4:9]]
    assert replayed.marking_at(revision=whole[5].revision) == whole[5].marking
    by_time = io.StringIO()
    record_sync(store, by_time, since_time=3, until_time=4)
    timed = replay(io.StringIO(by_time.getvalue()))
    assert [s.revision for s in timed] == [
        s.revision for s in whole if s.kind != "init" and 3 <= s.time <= 4]


def test_a_window_starting_while_a_firing_runs_keeps_its_taken_tokens():
    store = dipen.MemoryStore()
    run_shop(store)
    whole = history_sync(store)
    start = next(step for step in whole if step.kind == "start")
    out = io.StringIO()
    whole.window(since=start.revision).save(out)
    replayed = replay(io.StringIO(out.getvalue()))
    taken = [t for _, t in replayed.start.tokens() if t.firing is not None]
    assert [t.firing for t in taken] == [start.firing]
    assert list(replayed.start_state().firings) == [start.firing]
    assert replayed[0].kind == "finish" and replayed[0].removed == start.taken


@pytest.mark.parametrize("text, message", [
    ("", "is empty"),
    ('{"a": 1}\n', "not a dipen recording"),
    ('{"format": "dipen-recording", "version": 99}\n', "version 99 is not supported"),
    ('{"format": "dipen-recording", "version": 1, "net": {"name": "n", "places": [], '
     '"transitions": []}, "start": {"revision": 0, "places": {}, "firings": []}}\nnot json\n',
     "line 2: not a recording line"),
    ('{"format": "dipen-recording", "version": 1, "net": {"name": "n", "places": [], '
     '"transitions": []}, "start": {"revision": 0, "places": {}, "firings": []}}\n'
     '{"revision": 1, "time": 0, "node": "x", "kind": "put", "firing": null, "transition": null,'
     ' "region": null, "take": [], "remove": [["a", "t1"]], "add": [], "release": [], '
     '"note": null}\n', "revision 1 .* does not apply .* 'a'"),
])
def test_a_broken_recording_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "broken.jsonl"
    path.write_text(text)
    with pytest.raises(RecordingError, match=message) as caught:
        replay(path)
    assert "broken.jsonl" in str(caught.value) or "does not apply" in str(caught.value)


def test_data_that_is_not_json_cannot_be_recorded():
    store = dipen.MemoryStore()
    run_shop(store)
    timeline = history_sync(store)
    bad = timeline.changes[-1]._replace(note={1, 2})
    with pytest.raises(RecordingError, match="revision .* cannot be written as JSON"):
        type(timeline)(timeline.definition, [*timeline.changes[:-1], bad]).save(io.StringIO())


def test_net_from_dict_rebuilds_the_structure():
    net = (dipen.Net("full").place("a", tokens=[{"x": 1}, None], capacity=5, position=(0, 1))
           .place("b").place("c", capacity=1).place("err"))
    net.transition("t", take={"a": 2}, give="b", read="c", region="left", position=(2, 3),
                   on_error=dipen.ToPlace("err"))
    net.arc("err", "t", "out_cond", name="errors")

    @net.transition(take="b", give=["a", "b"], region="right")
    async def loop(tokens):
        return tokens

    twin = dipen.Net.from_dict(net.to_dict())
    assert twin.to_dict() == {**net.to_dict(), "transitions": [
        {**t, "kind": "P/T"} for t in net.to_dict()["transitions"]]}
    assert twin.regions == net.regions
    assert [a.kind for a in twin.transitions["t"].arcs] == [a.kind for a in net.transitions["t"].arcs]
    assert dipen.Net.from_dict(json.loads(json.dumps(net.to_dict()))).places["a"].position == (0, 1)


@pytest.mark.parametrize("definition", [{}, {"name": "n"}, {"name": "n", "places": [{"name": "a"}]},
                                        {"name": "n", "places": [], "transitions": [
                                            {"name": "t", "region": "r", "arcs": [
                                                {"place": "nope", "kind": "in", "weight": 1}]}]}])
def test_net_from_dict_refuses_what_is_not_a_net(definition):
    with pytest.raises(dipen.NetError):
        dipen.Net.from_dict(definition)
