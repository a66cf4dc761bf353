"""Hardening of the snapshot store: ids are names from the store's own list, damaged snapshots never serve,
builds are durable, rollbacks and builds exclude each other, and a bad CURRENT is never a 500."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from nzc_knowledge.api.app import create_app
from nzc_knowledge.cli import main
from nzc_knowledge.errors import Conflict, NotFound
from nzc_knowledge.index.snapshot import MANIFEST
from nzc_knowledge.index.store import CURRENT, BrokenSnapshot, SnapshotStore, UnreadablePointer
from nzc_knowledge.settings import Settings

TOKEN = "store-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def fake_build(store: SnapshotStore, label: str) -> str:
    """A snapshot with one data file; its manifest lists the file and its size, like `Snapshot.save` does."""
    with store.build(label * 8) as (snapshot_id, folder):
        (folder / "data.txt").write_text(label * 10)
        (folder / "sub").mkdir()
        (folder / "sub" / "vectors.bin").write_bytes(b"\1" * 16)
        manifest = {"snapshot_id": snapshot_id, "created_at": snapshot_id, "counts": {"resources": 1, "chunks": 1},
                    "files": {"data.txt": 10, "sub/vectors.bin": 16}}
        (folder / MANIFEST).write_text(json.dumps(manifest))
    return snapshot_id


def pointer(index_dir: Path) -> str:
    return (index_dir / CURRENT).read_text().strip()


def test_rollback_accepts_only_ids_from_the_stores_own_list(tmp_path: Path):
    store = SnapshotStore(tmp_path / "index")
    first, second = fake_build(store, "a"), fake_build(store, "b")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / MANIFEST).write_text("{}")
    (tmp_path / "index" / MANIFEST).write_text("{}")  # reachable as snapshots/..
    for hostile in (str(elsewhere), "../../elsewhere", "..", "", f"{first}/../{first}"):
        with pytest.raises(NotFound):
            store.rollback(hostile)
        assert pointer(tmp_path / "index") == second
    assert store.rollback(first) == first


def test_cli_rollback_refuses_a_path(tmp_path: Path):
    store = SnapshotStore(tmp_path / "index")
    current = [fake_build(store, label) for label in "ab"][-1]
    result = CliRunner().invoke(main, ["snapshots", "rollback", str(tmp_path), "--index-dir", str(tmp_path / "index")])
    assert result.exit_code == 1 and "no complete snapshot" in result.output
    assert pointer(tmp_path / "index") == current


def test_a_truncated_manifest_is_listed_as_damaged_and_never_made_current(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    old, middle, new = (fake_build(store, label) for label in "abc")
    manifest = store.path(middle) / MANIFEST
    manifest.write_text(manifest.read_text()[:25])
    rows = {row["snapshot_id"]: row for row in store.list()}
    assert set(rows) == {old, middle, new}
    assert "manifest.json is unreadable" in rows[middle]["problem"] and rows[new]["problem"] is None
    with pytest.raises(BrokenSnapshot, match=f"snapshot {middle} cannot be served") as raised:
        store.rollback(middle)
    assert raised.value.status == 409 and store.current_id() == new
    assert store.rollback() == old  # the default target skips the damaged one
    listed = CliRunner().invoke(main, ["snapshots", "list", "--index-dir", str(tmp_path)])
    assert listed.exit_code == 0 and f"! {middle}  damaged:" in listed.output
    assert store.prune(keep=1) == [middle]  # prune works across it; the current (old) one stays
    assert [row["snapshot_id"] for row in store.list()] == [new, old]


@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_a_missing_or_truncated_file_makes_a_snapshot_damaged(tmp_path: Path, damage: str):
    store = SnapshotStore(tmp_path)
    old, new = fake_build(store, "a"), fake_build(store, "b")
    target = store.path(old) / "sub" / "vectors.bin"
    if damage == "truncate":
        target.write_bytes(b"\1" * 3)
    else:
        target.unlink()
    with pytest.raises(BrokenSnapshot, match="sub/vectors.bin"):
        store.rollback(old)
    assert store.current_id() == new


def test_current_is_world_readable_and_builds_are_fsynced(tmp_path: Path, monkeypatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    index_dir = tmp_path / "index"
    store = SnapshotStore(index_dir)
    snapshot_id = fake_build(store, "a")
    assert stat.S_IMODE((index_dir / CURRENT).stat().st_mode) == 0o644
    building = str(index_dir / f".building-{snapshot_id}")
    for name in ("data.txt", "sub/vectors.bin", MANIFEST, "sub", ""):
        assert os.path.normpath(f"{building}/{name}") in synced, name  # flushed before the rename
    assert str(index_dir / "snapshots") in synced  # the rename itself
    assert synced[-1] == str(index_dir)  # the replaced CURRENT, last


def test_rollback_is_refused_while_a_build_holds_the_index(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    old, new = fake_build(store, "a"), fake_build(store, "b")
    builder = SnapshotStore(tmp_path)  # another builder (a CLI ingest or the server's job)
    with builder.exclusive():
        with pytest.raises(Conflict, match="a build is running") as raised:
            store.rollback(old)
        assert str(tmp_path) not in raised.value.message
        assert store.current_id() == new
    assert store.rollback(old) == old


@pytest.mark.parametrize("content", [b"\xff\xfe\x00broken", b"../../etc\n", b"20990101T000000000000Z-missing\n"])
def test_an_unusable_current_pointer_is_reported_not_raised(tmp_path: Path, content: bytes):
    store = SnapshotStore(tmp_path)
    fake_build(store, "a")
    (tmp_path / CURRENT).write_bytes(content)
    with pytest.raises(UnreadablePointer):
        store.read_pointer()
    assert store.current_id() is None
    assert [row["current"] for row in store.list()] == [False]


def app_client(index_dir: Path) -> TestClient:
    return TestClient(create_app(Settings(index_dir=index_dir, admin_token=TOKEN, multilingual_encoder="none")))


def test_http_rollback_checks_ids_and_refuses_a_snapshot_that_does_not_load(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    old, new = fake_build(store, "a"), fake_build(store, "b")  # manifests with no format version: they do not load
    with app_client(tmp_path) as client:
        for hostile in (str(tmp_path), "../x", "..", "a/b"):
            response = client.post("/admin/rollback", json={"snapshot_id": hostile}, headers=ADMIN)
            assert response.status_code == 422, hostile
        unknown = client.post("/admin/rollback", json={"snapshot_id": "20200101T000000Z-nothere"}, headers=ADMIN)
        assert unknown.status_code == 404 and str(tmp_path) not in unknown.text
        refused = client.post("/admin/rollback", json={"snapshot_id": old}, headers=ADMIN)
        assert refused.status_code == 409 and f"snapshot {old} cannot be served" in refused.json()["detail"]
        assert str(tmp_path) not in refused.text
        assert pointer(tmp_path) == new
        with SnapshotStore(tmp_path).exclusive():
            busy = client.post("/admin/rollback", json={"snapshot_id": old}, headers=ADMIN)
        assert busy.status_code == 409 and "build is running" in busy.json()["detail"]


def test_an_unreadable_current_is_never_a_500(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    fake_build(store, "a")
    (tmp_path / CURRENT).unlink()
    (tmp_path / CURRENT).mkdir()  # reading it raises IsADirectoryError
    with app_client(tmp_path) as client:
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "no_index"
        assert "CURRENT pointer cannot be read" in health.json()["load_failure"]["reason"]
        search = client.get("/search", params={"q": "heat"})
        assert search.status_code == 503 and str(tmp_path) not in search.text
        assert client.get("/admin/snapshots", headers=ADMIN).status_code == 200


# -- with a real snapshot and the real model ------------------------------------------------------------------


@pytest.fixture()
def served_copy(built_index, tmp_path: Path) -> Path:
    index_dir = tmp_path / "index"
    shutil.copytree(built_index[0], index_dir, ignore=shutil.ignore_patterns("audit.log", ".build.lock"))
    return index_dir


def test_a_snapshot_that_fails_to_load_is_remembered_and_shown_as_degraded(served_copy: Path, encoder, monkeypatch):
    from nzc_knowledge.api.engine import EngineHolder

    store = SnapshotStore(served_copy)
    good = store.current_id()
    broken = "20990101T000000000000Z-broken00"
    shutil.copytree(store.path(good), store.path(broken))
    (store.path(broken) / "resources.jsonl").write_text("{not json\n")
    attempts = []
    real_open = EngineHolder._open

    def counting_open(self, snapshot_id):
        attempts.append(snapshot_id)
        return real_open(self, snapshot_id)

    settings = Settings(index_dir=served_copy, admin_token=TOKEN, multilingual_encoder="none")
    with TestClient(create_app(settings, encoder=encoder)) as client:
        monkeypatch.setattr(EngineHolder, "_open", counting_open)
        (served_copy / ".CURRENT-test").write_text(broken + "\n")
        os.replace(served_copy / ".CURRENT-test", served_copy / CURRENT)  # as another process would switch it
        for _ in range(5):
            assert client.get("/search", params={"q": "district heating"}).status_code == 200
        health = client.get("/health")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "degraded" and body["snapshot_id"] == good
        assert body["load_failure"]["snapshot_id"] == broken and "resources.jsonl has 10 bytes" in body["load_failure"]["reason"]
        assert str(served_copy) not in health.text
        assert attempts == [broken]  # one attempt, not one per request
        rolled = client.post("/admin/rollback", json={"snapshot_id": good}, headers=ADMIN)
        assert rolled.status_code == 200
        assert client.get("/health").json()["status"] == "ok"


def test_a_reindex_with_nothing_changed_publishes_nothing(served_copy: Path, encoder):
    from nzc_knowledge.ingest.build import build_snapshot
    from nzc_knowledge.recommend.profiles import snapshot_extensions

    store = SnapshotStore(served_copy)
    before = [row["snapshot_id"] for row in store.list()]
    corpus = Path(__file__).parent / "data" / "corpus"
    report = build_snapshot(corpus, served_copy, encoder=encoder, extensions=snapshot_extensions(corpus))
    assert report.outcome == "unchanged" and report.snapshot_id == before[0]
    assert [row["snapshot_id"] for row in store.list()] == before
