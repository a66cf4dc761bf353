"""Pruning never removes a snapshot version a server still holds (serving leases); stale leases do not pin versions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from nzc_knowledge.api.engine import Engine, EngineHolder
from nzc_knowledge.encoders import Encoders
from nzc_knowledge.index.leases import LEASES, ServingLease, leased_versions
from nzc_knowledge.index.snapshot import MANIFEST
from nzc_knowledge.index.store import SnapshotStore


def fake_build(store: SnapshotStore, label: str) -> str:
    with store.build(label * 8) as (snapshot_id, folder):
        (folder / "data.txt").write_text(label)
        (folder / MANIFEST).write_text(json.dumps({"snapshot_id": snapshot_id, "created_at": snapshot_id}))
    return snapshot_id


def fake_holder(index_dir: Path) -> EngineHolder:
    """A holder whose engines are stand-ins (no model, no index): only the versions it holds matter here."""
    holder = EngineHolder(index_dir, Encoders())
    holder._open_leased = lambda snapshot_id, warm=True: Engine(snapshot=SimpleNamespace(id=snapshot_id), search=None)
    return holder


def test_prune_keeps_a_version_that_a_request_still_uses_and_drops_it_once_released(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    first = fake_build(store, "a")
    holder = fake_holder(tmp_path)
    holder.load()
    with holder.lease() as engine:  # a request in flight on the first version
        assert engine.snapshot.id == first
        second = fake_build(store, "b")
        holder.load(drain_wait_s=0)  # the new version serves; the first one retires with its request
        assert holder.versions_in_memory() == [second, first]
        assert store.prune(keep=1) == []  # without leases the first version's folder would go under the request
        assert store.path(first).is_dir()
    assert holder.versions_in_memory() == [second]
    assert store.prune(keep=1) == [first]  # released with its last request: retention applies again


def test_prune_keeps_the_version_an_idle_server_still_serves_until_it_shuts_down(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    first = fake_build(store, "a")
    holder = fake_holder(tmp_path)
    holder.load()
    newer = [fake_build(store, label) for label in "bc"]  # no request came: the server still holds the first version
    assert store.prune(keep=1) == [newer[0]]
    assert {row["snapshot_id"] for row in store.list()} == {first, newer[1]}
    holder.close()
    assert store.prune(keep=1) == [first]
    assert not list((tmp_path / LEASES).glob("*.json"))


def test_a_failed_load_does_not_leave_its_version_leased(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    first = fake_build(store, "a")
    holder = fake_holder(tmp_path)
    holder.load()
    second = fake_build(store, "b")

    def broken(snapshot_id: str, warm: bool = True) -> Engine:
        raise OSError("truncated vectors")

    holder._open_leased = broken
    holder.load(drain_wait_s=0)
    assert holder.loaded.snapshot.id == first  # the previous version keeps serving ...
    assert leased_versions(tmp_path) == {first}  # ... and only it is held
    assert second not in leased_versions(tmp_path)


def test_a_lease_of_a_dead_process_on_this_host_is_stale_and_removed(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    first = fake_build(store, "a")
    fake_build(store, "b")
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                              check=True)
    lease = ServingLease(tmp_path)
    lease.hold([first])
    record = json.loads(lease.path.read_text())
    record["pid"] = int(finished.stdout)  # a server that was killed without releasing its lease
    lease.path.write_text(json.dumps(record))
    assert leased_versions(tmp_path) == set()
    assert not lease.path.exists()
    assert store.prune(keep=1) == [first]


def test_a_lease_from_another_host_holds_until_its_heartbeat_is_stale(tmp_path: Path):
    lease_file = tmp_path / LEASES / "elsewhere-1-abcd.json"
    lease_file.parent.mkdir()
    lease_file.write_text(json.dumps({"host": "another-host.invalid", "pid": os.getpid(), "versions": ["v1"]}))
    assert leased_versions(tmp_path, stale_after_s=60) == {"v1"}
    old = time.time() - 120
    os.utime(lease_file, (old, old))
    assert leased_versions(tmp_path, stale_after_s=60) == set()
    assert lease_file.exists()  # another host's process cannot be checked here: ignored, not removed


def test_heartbeat_refreshes_the_lease_and_unreadable_leases_are_ignored(tmp_path: Path):
    lease = ServingLease(tmp_path)
    lease.hold(["v1"])
    old = time.time() - 3600
    os.utime(lease.path, (old, old))
    lease.heartbeat(every_s=0)
    assert time.time() - lease.path.stat().st_mtime < 60
    (tmp_path / LEASES / "broken.json").write_text("{not json")
    assert leased_versions(tmp_path) == {"v1"}
