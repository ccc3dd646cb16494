"""Migrations: a transition moves between regions while the net runs, stale transitions go,
places come and go; nothing is lost or done twice. On every store, and with ``dipen run``
processes and ``dipen migrate`` against a real etcd.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest

import dipen
from dipen.notebook import run_blocking
from support import check_ledger, finish, start, state, wait_for


def shop(region_of_pack: str, *, extra: bool = False, jobs: int = 12) -> dipen.Net:
    net = dipen.Net("shop").place("inbox", tokens=[{"job": i} for i in range(jobs)])
    net.place("packed").place("done")
    if extra:
        net.place("audit", tokens=[{"by": "migration"}])

    @net.transition(take="inbox", give="packed", region="front", concurrency=2)
    async def pack(token):
        await asyncio.sleep(0.02)
        return token

    @net.transition(take="packed", give="done", region=region_of_pack)
    async def ship(token):
        await asyncio.sleep(0.02)
        return token.update(shipped_by=dipen.current_firing().region)

    return net


def test_plan_names_every_kind_of_change():
    old = shop("front").transition("legacy", take="done", give="done")
    new = shop("back", extra=True)
    migration = dipen.migration.plan(old.to_dict(), new)
    assert migration.moved == {"ship": ("front", "back")}
    assert migration.removed == ["legacy"] and migration.created == ["audit"]
    assert migration.stopping == ["legacy", "ship"]
    with pytest.raises(dipen.NetError, match="keeps the name"):
        dipen.migration.plan(old.to_dict(), dipen.Net("other"))


def test_a_transition_moves_to_another_region_while_the_net_runs(store_factory):
    store = store_factory()
    before = dipen.Runner(shop("front"), store=store, node="old")

    async def scenario():
        task = before.start(forever=True)
        await asyncio.sleep(0.15)
        migration = await dipen.migrate(store_factory.peer(store), shop("back", extra=True),
                                        report=lambda line: None)
        with pytest.raises(dipen.NetMismatchError, match="was migrated"):
            await task  # the old runner stops: it runs another net now
        assert migration.moved == {"ship": ("front", "back")}
        # the new code, in two regions now
        front = dipen.Runner(shop("back", extra=True), store=store_factory.peer(store),
                             region="front", node="front")
        back = dipen.Runner(shop("back", extra=True), store=store_factory.peer(store),
                            region="back", node="back")
        tasks = [front.start(forever=True), back.start(forever=True)]
        for _ in range(1000):
            await asyncio.sleep(0.01)
            if len(back.marking["done"]) == 12:
                break
        for runner in (front, back):
            runner.stop()
        await asyncio.gather(*tasks)
        return back.marking, migration.revision

    marking, revision = run_blocking(scenario())
    done = marking["done"]
    assert sorted(t["job"] for t in done) == list(range(12)) and len(done) == 12
    assert [t.data for t in marking["audit"]] == [{"by": "migration"}]
    history = run_blocking(store.changes(0))
    ships = [(c.revision, c.region) for c in history
             if c.transition == "ship" and c.kind in ("start", "fire")]
    assert all(region == ("front" if rev < revision else "back") for rev, region in ships)
    assert {t["shipped_by"] for t in done} <= {"front", "back"}


def test_a_migration_refuses_to_drop_a_place_with_tokens(store_factory):
    store = store_factory()
    old = shop("front", extra=True)
    run_blocking(dipen.Runner(old, store=store).open())
    with pytest.raises(dipen.RunnerError, match="place 'audit' is dropped but holds 1"):
        run_blocking(dipen.migrate(store_factory.peer(store), shop("front"),
                                   report=lambda line: None))
    assert run_blocking(store.snapshot()).controls == {}  # its blocks were lifted


SHOP = textwrap.dedent('''
    import asyncio
    import dipen

    net = dipen.Net("shop").place("inbox", tokens=[{"job": i} for i in range(30)])
    net.place("packed").place("done")

    @net.transition(take="inbox", give="packed", region="front")
    async def pack(token):
        await asyncio.sleep(0.1)  # 30 jobs take 3 s: the migration lands while most wait
        return token

    @net.transition(take="packed", give="done", region="REGION")
    async def ship(token):
        await asyncio.sleep(0.1)
        return token
''')


@pytest.mark.etcd
def test_dipen_migrate_moves_a_transition_between_running_services(tmp_path, etcd_endpoints):
    prefix = "migrate-services/"
    for version, region in (("v1", "front"), ("v2", "back")):
        (tmp_path / f"shop_{version}.py").write_text(SHOP.replace("REGION", region))
    v1, v2 = f"{tmp_path / 'shop_v1.py'}:net", f"{tmp_path / 'shop_v2.py'}:net"
    old = start(v1, etcd_endpoints, prefix, "old")
    processes = [old]
    try:
        wait_for(lambda: len(state(etcd_endpoints, prefix).places["done"]) >= 3)
        out = subprocess.run(
            [sys.executable, "-m", "dipen", "migrate", v2, "--etcd", etcd_endpoints[0],
             "--prefix", prefix], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "move transition 'ship' from region 'front' to region 'back'" in out.stdout
        output, _ = old.communicate(timeout=30)  # the old service stops by itself
        assert old.returncode == 1 and "was migrated" in output, output
        processes += [start(v2, etcd_endpoints, prefix, "front", "--region", "front"),
                      start(v2, etcd_endpoints, prefix, "back", "--region", "back")]
        wait_for(lambda: len(state(etcd_endpoints, prefix).places["done"]) == 30, timeout=60)
        history = check_ledger(etcd_endpoints, prefix)
        final = state(etcd_endpoints, prefix)
        assert sorted(t["job"] for t in final.places["done"].free.values()) == list(range(30))
        migrated = next(c.revision for c in history if c.kind == "migrate")
        ships = [(c.revision, c.node) for c in history
                 if c.transition == "ship" and c.kind in ("start", "fire")]
        assert all(node == ("old" if rev < migrated else "back") for rev, node in ships)
        assert any(node == "back" for _, node in ships)
    finally:
        for process in processes:
            finish(process)
