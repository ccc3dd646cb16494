"""``dipen history``, ``dipen stats``, ``dipen record`` and ``dipen replay`` as real processes
against a net a ``dipen run`` service ran on a real etcd and an operator controlled and edited;
and the words ``Step.describe`` finds for control changes, edits and migrations."""

from __future__ import annotations

import asyncio
import datetime
import json
import re
import subprocess
import sys
import uuid

import pytest
from support import finish, read, start, state, stop, wait_for, write_net

import dipen
from dipen.inspect_cli import _when
from dipen.notebook import run_blocking


def dipen_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dipen", *args], capture_output=True, text=True,
                          timeout=60, check=False)


# -- the words of Step.describe (memory store) ------------------------------------------------------


def test_describe_spells_out_controls_edits_and_migrations():
    net = dipen.Net("office").place("claims", tokens=[{"claim": 1}]).place("paid").place("spare")
    net.transition("approve", take="claims", give="paid", manual=True, region="desk")
    store = dipen.MemoryStore()
    runner = dipen.Runner(net, store=store, node="desk-runner")
    control = dipen.Control(store, by="ann")

    async def scenario():
        await runner.open()
        await control.block(region="desk", why="audit")
        await control.unblock(region="desk")
        task = runner.start(forever=True)
        answer = await control.fire("approve", {"amount": 20}, timeout=10)
        with pytest.raises(TimeoutError):  # no claim left: withdrawn
            await control.fire("approve", None, timeout=0.2)
        await control.cancel("approve", why="closing")
        token = await control.add("claims", {"claim": 2}, why="phone")
        await control.update("claims", token.id, {"claim": 3})
        await control.move(token.id, "claims", "spare", why="later")
        await control.remove("spare", token.id, why="duplicate")
        runner.stop()
        await task
        await runner.close()
        new = dipen.Net("office").place("claims").place("paid").place("spare").place("archive")
        new.transition("approve", take="claims", give="paid", manual=True, region="desk")
        await dipen.migrate(store, new, report=lambda line: None)
        return answer, token

    answer, token = run_blocking(scenario())
    steps = [step for step in dipen.history_sync(store) if step.kind not in ("init", "start")]
    request_id = steps[2].note["id"]
    withdrawn_id = steps[5].note["id"]
    placed = answer.placed["paid"][0][0]
    assert [(step.node, step.describe()) for step in steps] == [
        ("ann", "blocked region 'desk': audit"),
        ("ann", "unblocked region 'desk'"),
        ("ann", f"request {request_id} to fire 'approve' with {{\"amount\": 20}}"),
        ("desk-runner", f"fire of 'approve' (firing {answer.firing!r})"),
        ("desk-runner", (f"answer to {request_id}: finished (firing {answer.firing!r} of "
                         f"'approve'; placed {placed} in 'paid')")),
        ("ann", f"request {withdrawn_id} to fire 'approve' with null"),
        ("ann", f"withdrew request {withdrawn_id} to fire 'approve'"),
        ("ann", "cancelled the running firings of transition 'approve': closing"),
        ("ann", f"added token {token.id} to 'claims': phone"),
        ("ann", f"updated token {token.id} in 'claims'"),
        ("ann", f"moved token {token.id} from 'claims' to 'spare': later"),
        ("ann", f"removed token {token.id} from 'spare': duplicate"),
        (steps[-1].node, "migrated the net: add place 'archive'"),
    ]
    assert "{'action'" not in repr(steps[0])  # the repr uses the words too


def test_describe_of_a_failed_answer_names_the_error():
    net = dipen.Net("office").place("claims", tokens=1).place("paid")

    @net.transition(take="claims", give="paid", manual=True, on_error=dipen.Stop())
    async def approve(token):
        raise ValueError("no budget")

    store = dipen.MemoryStore()
    runner = dipen.Runner(net, store=store)
    control = dipen.Control(store, by="ann")

    async def scenario():
        await runner.open()
        task = runner.start(forever=True)
        answer = await control.fire("approve", timeout=10)
        with pytest.raises(dipen.DipenError):
            await task
        return answer

    answer = run_blocking(scenario())
    (step,) = [s for s in dipen.history_sync(store) if s.kind == "control"
               and s.note["action"] == "answer"]
    assert step.describe() == (f"answer to {answer.id}: failed (firing {answer.firing!r} of "
                               "'approve'): ValueError: no budget")


# -- the commands against etcd ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def operated(etcd_endpoints, tmp_path_factory):
    """A ``dipen run`` service worked off 3 jobs; ann blocked it, added a job by hand and
    unblocked it; the service did the 4th job. ``(endpoints, prefix, blocked, added)``: the
    changes of the block and of the edit."""
    prefix = f"inspect-{uuid.uuid4().hex[:8]}/"
    target = write_net(tmp_path_factory.mktemp("inspect"), 3, 0.02)
    process = start(target, etcd_endpoints, prefix, "worker")
    try:
        wait_for(lambda: len(state(etcd_endpoints, prefix).places["done"]) == 3)

        async def operate(store):
            control = dipen.Control(store, by="ann")
            blocked = await control.block("work", why="inventory")
            token = await control.add("inbox", {"job": 9}, why="phone order")
            await control.unblock("work")
            return blocked, token

        blocked, token = read(etcd_endpoints, prefix, operate)
        wait_for(lambda: len(state(etcd_endpoints, prefix).places["done"]) == 4)
        stop(process)
    finally:
        finish(process)
    return etcd_endpoints, prefix, blocked, token


def history_of(endpoints, prefix, **window):
    return read(endpoints, prefix, lambda store: dipen.history(store, **window))


def where(operated) -> list[str]:
    endpoints, prefix = operated[:2]
    return ["--etcd", endpoints[0], "--prefix", prefix]


LINE = re.compile(r"^\s*(\d+)  (\S+)  (\S+)\s+(.*)$")


@pytest.mark.etcd
def test_history_prints_every_change_with_revision_time_node_and_words(operated):
    endpoints, prefix, blocked, token = operated
    timeline = history_of(endpoints, prefix)
    out = dipen_command("history", "service", *where(operated))
    assert out.returncode == 0, out.stderr
    title, *lines = out.stdout.splitlines()
    assert title == f"net 'service': revisions {timeline[0].revision}–{timeline.until}"
    assert len(lines) == len(timeline) == 1 + 2 * 4 + 3  # init, 4 starts and finishes, 3 controls
    for line, step in zip(lines, timeline, strict=True):
        revision, when, node, what = LINE.match(line).groups()
        assert int(revision) == step.revision and node == step.node
        assert what.startswith(step.describe())
        assert datetime.datetime.fromisoformat(when).timestamp() == pytest.approx(step.time,
                                                                                   abs=0.001)
    by_revision = {int(LINE.match(line).group(1)): re.sub(r" +", " ", line) for line in lines}
    assert by_revision[blocked.revision].endswith(" ann blocked transition 'work': inventory")
    assert by_revision[blocked.revision + 1].endswith(
        f" ann added token {token.id} to 'inbox': phone order | "
        f"added inbox: {token.id} {{\"job\": 9}}")
    assert by_revision[blocked.revision + 2].endswith(" ann unblocked transition 'work'")
    ids = [t.id for t in timeline[0].added["inbox"]]
    assert lines[0].endswith(f"init | added inbox: {ids[0]} {{\"job\": 0}}, {ids[1]} "
                             f"{{\"job\": 1}}, {ids[2]} {{\"job\": 2}}")
    (finish_line,) = [line for line in lines if f"took inbox: {token.id}" in line]
    assert re.search(r" worker +start of 'work' \(firing '\S+'\) \| took inbox: ", finish_line)


@pytest.mark.etcd
def test_history_windows_by_revision_and_by_time_and_prints_json(operated):
    endpoints, prefix, blocked, token = operated
    out = dipen_command("history", "service", *where(operated), "--since", str(blocked.revision - 1),
                        "--until", str(blocked.revision + 1))
    assert out.returncode == 0, out.stderr
    revisions = [int(LINE.match(line).group(1)) for line in out.stdout.splitlines()[1:]]
    assert revisions == [blocked.revision, blocked.revision + 1]

    since = _when(blocked.time)  # as dipen history prints it (to the millisecond)
    assert datetime.datetime.fromisoformat(since).timestamp() <= blocked.time
    out = dipen_command("history", "service", *where(operated), "--since-time", since, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    expected = history_of(endpoints, prefix, since_time=blocked.time)
    assert data["net"] == "service" and data["steps"][0]["revision"] == blocked.revision
    assert [s["revision"] for s in data["steps"]] == [s.revision for s in expected]
    assert [s["describe"] for s in data["steps"]] == [s.describe() for s in expected]
    assert data["steps"][1]["added"] == {"inbox": [[token.id, {"job": 9}]]}
    assert data["steps"][0]["note"] == {"action": "block", "target": "transition",
                                        "name": "work", "why": "inventory"}


@pytest.mark.etcd
def test_stats_counts_the_firings_and_waits_of_the_run(operated):
    endpoints, prefix, blocked, _ = operated
    out = dipen_command("stats", "service", *where(operated), "--json")
    assert out.returncode == 0, out.stderr
    numbers = json.loads(out.stdout)
    assert numbers["net"] == "service" and numbers["firings"] == 4 and numbers["failures"] == []
    assert numbers["transitions"]["work"]["firings"] == 4
    assert numbers["transitions"]["work"]["mean"] >= 0.02  # each job sleeps 0.02 s
    assert numbers["places"]["inbox"]["waits"] == 4 and numbers["places"]["done"]["waits"] == 0
    expected = dipen.statistics(history_of(endpoints, prefix))
    assert numbers["transitions"] == json.loads(json.dumps(expected.transitions))

    out = dipen_command("stats", "service", *where(operated))
    assert out.returncode == 0, out.stderr
    assert "4 firings" in out.stdout and out.stdout.startswith("from ")
    assert re.search(r"^work\s+4\s", out.stdout, re.MULTILINE)
    assert re.search(r"^inbox\s+4\s", out.stdout, re.MULTILINE)

    after = dipen_command("stats", "service", *where(operated), "--since", str(blocked.revision),
                          "--json")  # the job added by hand only
    assert json.loads(after.stdout)["transitions"]["work"]["firings"] == 1


@pytest.mark.etcd
def test_record_and_replay_round_trip_a_window(operated, tmp_path):
    endpoints, prefix, blocked, token = operated
    file = tmp_path / "incident.jsonl"
    since = blocked.revision - 1
    out = dipen_command("record", "service", str(file), *where(operated), "--since", str(since))
    assert out.returncode == 0, out.stderr
    expected = history_of(endpoints, prefix, since=since)
    assert out.stdout.strip() == (f"recorded {len(expected)} changes of net 'service' "
                                  f"(revisions {expected[0].revision}–{expected.until}) to {file}")
    replayed = dipen.replay(file)
    assert replayed.changes == expected.changes
    assert replayed.markings() == expected.markings() and replayed.start == expected.start

    out = dipen_command("replay", str(file))
    assert out.returncode == 0, out.stderr
    title, *lines = out.stdout.splitlines()
    assert title.startswith(f"recording of net 'service': {len(expected)} steps after revision "
                            f"{since}, starting from {{'inbox': 0, 'done': 3}}")
    history = dipen_command("history", "service", *where(operated), "--since", str(since))
    assert [line[5:] for line in lines] == history.stdout.splitlines()[1:]  # the same lines
    assert [int(line[:5]) for line in lines] == list(range(1, len(expected) + 1))

    out = dipen_command("replay", str(file), "--step", "2")  # after the edit
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == (
        f"marking of net 'service' after step 2 (revision {blocked.revision + 1}, "
        f"{out.stdout.split(', ', 1)[1].split(': ')[0]}: ann added token {token.id} to 'inbox': "
        "phone order)")
    assert f"  inbox  1: {token.id} {{\"job\": 9}}" in out.stdout
    as_json = json.loads(dipen_command("replay", str(file), "--step", "0", "--json").stdout)
    assert as_json["revision"] == since and as_json["marking"]["inbox"] == []
    assert len(as_json["marking"]["done"]) == 3
    whole = json.loads(dipen_command("replay", str(file), "--json").stdout)
    assert [s["revision"] for s in whole["steps"]] == [s.revision for s in expected]


@pytest.mark.etcd
def test_clear_errors_exit_1(operated, tmp_path):
    endpoints = operated[0]
    out = dipen_command("history", "nothing", "--etcd", endpoints[0])
    assert out.returncode == 1
    assert out.stderr.startswith("dipen history: ") and "no net under prefix 'dipen/nothing/'" \
        in out.stderr
    out = dipen_command("stats", "service", "--etcd", "127.0.0.1:1")
    assert out.returncode == 1 and "dipen stats: " in out.stderr and "127.0.0.1:1" in out.stderr
    assert "Traceback" not in out.stderr
    out = dipen_command("replay", str(tmp_path / "nope.jsonl"))
    assert out.returncode == 1 and "cannot read the recording" in out.stderr
    file = tmp_path / "short.jsonl"
    assert dipen_command("record", "service", str(file), *where(operated)).returncode == 0
    out = dipen_command("replay", str(file), "--step", "99")
    assert out.returncode == 1 and "not 99" in out.stderr
    out = dipen_command("history", "service", *where(operated), "--since-time", "yesterday")
    assert out.returncode == 2 and "'yesterday' is not a time" in out.stderr


@pytest.mark.etcd
def test_compacted_history_is_a_clear_error():
    import aetcd

    net = dipen.Net("shop").place("a", tokens=3).place("b").transition("t", take="a", give="b")

    async def main(endpoints: list[str]) -> None:
        store = dipen.EtcdStore(endpoints, prefix="dipen/shop/")
        try:
            await dipen.Runner(net, store=store).run()
            last = (await dipen.history(store)).until
            host, port = endpoints[0].rsplit(":", 1)
            async with aetcd.Client(host, int(port)) as raw:
                await raw.compact(last - 1)
        finally:
            await store.close()

    with dipen.local_etcd() as etcd:  # its own server: compaction is server-wide
        asyncio.run(main(etcd.endpoints))
        for command in ("history", "stats"):
            out = dipen_command(command, "shop", "--etcd", etcd.endpoints[0])
            assert out.returncode == 1, out.stdout
            assert f"dipen {command}: " in out.stderr and "compacted" in out.stderr
            assert "history of net 'shop'" in out.stderr
