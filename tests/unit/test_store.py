"""Snapshots switch atomically: a failed build leaves the previous snapshot current; rollback and retention."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nzc_knowledge.errors import NoSnapshot, NotFound
from nzc_knowledge.index.snapshot import MANIFEST
from nzc_knowledge.index.store import SnapshotStore


def fake_build(store: SnapshotStore, label: str) -> str:
    with store.build(label * 8) as (snapshot_id, folder):
        (folder / "data.txt").write_text(label)
        (folder / MANIFEST).write_text(json.dumps({"snapshot_id": snapshot_id, "created_at": snapshot_id}))
    return snapshot_id


def test_failed_build_keeps_the_previous_snapshot_current(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    first = fake_build(store, "a")
    with pytest.raises(RuntimeError, match="disk full"):
        with store.build("b" * 8) as (_, folder):
            (folder / "half-written.npy").write_bytes(b"\0" * 10)
            raise RuntimeError("disk full")
    assert store.current_id() == first
    assert [row["snapshot_id"] for row in store.list()] == [first]
    assert not list(tmp_path.glob(".building-*"))


def test_build_without_manifest_is_not_published(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    first = fake_build(store, "a")
    with pytest.raises(RuntimeError, match="without writing its manifest"):
        with store.build("b" * 8) as (_, folder):
            (folder / "data.txt").write_text("b")
    assert store.current_id() == first


def test_left_over_of_a_killed_build_is_removed_and_ignored(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    first = fake_build(store, "a")
    killed = tmp_path / ".building-20260101T000000Z-deadbeef"
    killed.mkdir()
    (killed / "vectors.npy").write_bytes(b"partial")
    assert store.current_id() == first
    second = fake_build(store, "b")
    assert not killed.exists()
    assert store.current_id() == second


def test_rollback_and_retention(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    ids = [fake_build(store, label) for label in "abcd"]
    assert store.rollback() == ids[2]
    assert store.current_id() == ids[2]
    assert store.rollback(ids[0]) == ids[0]
    deleted = store.prune(keep=2)
    assert set(deleted) == {ids[1]}  # the two newest stay, and so does the current one
    assert {row["snapshot_id"] for row in store.list()} == {ids[0], ids[2], ids[3]}
    with pytest.raises(NotFound, match="no complete snapshot 'nope'"):
        store.rollback("nope")


def test_no_snapshot_is_a_clear_error(tmp_path: Path):
    with pytest.raises(NoSnapshot, match="build one with `nzc ingest"):
        SnapshotStore(tmp_path).current_path()
