"""dipen.testing: snapshot tests of nets through the pytest plugin (run with pytester) and the
Snapshot API directly; one snapshot holds for runs on the memory store and on etcd."""

from __future__ import annotations

import random

import pytest
from test_history_api import run_shop, shop_net

from dipen.errors import SnapshotError
from dipen.testing import Snapshot, run, snapshot_steps

pytest_plugins = ["pytester"]

SHOP = """
import random

import dipen


def shop(price):
    net = dipen.Net("shop").place("queue", tokens=[{{"n": 1}}, {{"n": 2}}]).place("paid")

    @net.transition(take="queue", give="paid")
    async def pay(customer):
        await dipen.sleep(random.choice([1, 2, 3, 4]))
        return customer.update(paid=customer["n"] * price)

    return net


def test_shop(dipen_snapshot):
    dipen_snapshot.check(shop({price}), seed={seed})
"""

SNAPSHOT = "__snapshots__/test_shop/test_shop.jsonl"


def write_test(pytester: pytest.Pytester, price: int = 10, seed: int = 3) -> None:
    pytester.makepyfile(test_shop=SHOP.format(price=price, seed=seed))


def test_a_missing_snapshot_fails_and_says_how_to_write_it(pytester):
    write_test(pytester)
    result = pytester.runpytest("-p", "dipen.testing")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*net 'shop' has no snapshot *test_shop.jsonl yet; run pytest with "
        "--dipen-update-snapshots (or DIPEN_UPDATE_SNAPSHOTS=1) to write it"])


def test_update_then_pass_then_a_readable_diff_when_behaviour_changes(pytester):
    write_test(pytester)
    written = pytester.runpytest("-p", "dipen.testing", "--dipen-update-snapshots")
    written.assert_outcomes(passed=1)
    written.stdout.fnmatch_lines(["dipen: 1 snapshot(s) written:", f"*{SNAPSHOT}"])
    stored = (pytester.path / SNAPSHOT).read_text().splitlines()
    assert '"format": "dipen-snapshot"' in stored[0] and len(stored) == 1 + 5
    pytester.runpytest("-p", "dipen.testing").assert_outcomes(passed=1)
    write_test(pytester, price=11)
    result = pytester.runpytest("-p", "dipen.testing")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*net 'shop' behaves differently from its snapshot *test_shop.jsonl:",
        "step 2 (finish of 'pay' at time *):",
        '  added: expected {"paid": [{"n": 1, "paid": 10}]}, got {"paid": [{"n": 1, "paid": 11}]}',
        '  place \'paid\': expected [{"n": 1, "paid": 10}], got [{"n": 1, "paid": 11}]',
        "step 4 (finish of 'pay' at time *):",
        "*place 'paid': expected *, got *",
        "If the new behaviour is right, run pytest with --dipen-update-snapshots "
        "(or DIPEN_UPDATE_SNAPSHOTS=1) to update the snapshot.",
    ])
    assert "Traceback" not in result.stdout.str()
    assert (pytester.path / SNAPSHOT).read_text().splitlines() == stored  # left alone


def test_the_environment_variable_updates_too(pytester, monkeypatch):
    write_test(pytester)
    monkeypatch.setenv("DIPEN_UPDATE_SNAPSHOTS", "1")
    pytester.runpytest("-p", "dipen.testing").assert_outcomes(passed=1)
    write_test(pytester, price=12)
    again = pytester.runpytest("-p", "dipen.testing")
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines(["dipen: 1 snapshot(s) written:"])
    assert '"paid": 12' in (pytester.path / SNAPSHOT).read_text()
    monkeypatch.setenv("DIPEN_UPDATE_SNAPSHOTS", "0")
    pytester.runpytest("-p", "dipen.testing").assert_outcomes(passed=1)


def test_another_seed_is_another_behaviour(pytester):
    write_test(pytester, seed=3)
    pytester.runpytest("-p", "dipen.testing", "--dipen-update-snapshots").assert_outcomes(passed=1)
    write_test(pytester, seed=4)
    result = pytester.runpytest("-p", "dipen.testing")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["seed: expected 3, got 4"])


def test_seeding_repeats_random_choices_and_restores_the_generator():
    net_of = lambda: run(shop_with_random(), seed=9)  # noqa: E731
    random.seed(1234)
    expected_next = random.random()
    random.seed(1234)
    first = snapshot_steps(net_of())
    assert random.random() == expected_next  # the caller's random state is untouched
    assert snapshot_steps(net_of()) == first
    assert snapshot_steps(run(shop_with_random(), seed=10)) != first


def shop_with_random():
    import dipen

    net = dipen.Net("dice").place("a", tokens=[None] * 3).place("b")

    @net.transition(take="a", give="b")
    async def roll(token):
        await dipen.sleep(random.random())
        return token.replace(random.randint(1, 6))

    return net


def test_several_checks_in_one_test_get_their_own_files(tmp_path):
    snapshot = Snapshot(tmp_path / "t.jsonl", update=True)
    snapshot.check(shop_net(2))
    snapshot.check(shop_net(3))
    snapshot.check(shop_net(1), name="one customer")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "t-2.jsonl", "t-one_customer.jsonl", "t.jsonl"]
    assert len(snapshot.written) == 3
    again = Snapshot(tmp_path / "t.jsonl", update=True)
    again.check(shop_net(2))
    assert again.written == []  # unchanged files are not rewritten


def test_a_snapshot_holds_on_every_store_and_catches_a_change(store_factory, tmp_path):
    path = tmp_path / "shop.jsonl"
    Snapshot(path, update=True).check(shop_net())
    Snapshot(path).check(run_shop(store_factory()))  # the runner has run: its history
    Snapshot(path).check(shop_net(), store=store_factory())  # run on this store
    with pytest.raises(SnapshotError) as caught:
        Snapshot(path).check(shop_net(3), store=store_factory())
    message = str(caught.value)
    assert "step 0 (init):" in message
    assert "place 'queue': expected" in message
    assert "--dipen-update-snapshots" in message


def test_a_broken_snapshot_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("{not json\n")
    with pytest.raises(SnapshotError, match="bad.jsonl is not JSON lines"):
        Snapshot(path).check(shop_net(1))
    path.write_text('{"format": "other"}\n')
    with pytest.raises(SnapshotError, match="not a dipen snapshot"):
        Snapshot(path).check(shop_net(1))
