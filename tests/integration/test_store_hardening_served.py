"""A served copy of the session snapshot (real model): a snapshot that fails to load, a reindex with nothing changed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nzc_knowledge.api.app import create_app
from nzc_knowledge.index.store import CURRENT, SnapshotStore
from nzc_knowledge.settings import Settings


TOKEN = "store-token"


ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture()
def served_copy(built_index, tmp_path: Path) -> Path:
    index_dir = tmp_path / "index"
    shutil.copytree(built_index[0], index_dir, ignore=shutil.ignore_patterns("audit.log", ".build.lock"))
    return index_dir


def test_a_snapshot_that_fails_to_load_is_remembered_and_shown_as_degraded(served_copy: Path, encoders, monkeypatch):
    from nzc_knowledge.api.engine import EngineHolder

    store = SnapshotStore(served_copy)
    good = store.current_id()
    broken = "20990101T000000000000Z-broken00"
    shutil.copytree(store.path(good), store.path(broken))
    # copytree made real copies, not hard links: damaging this one leaves the good snapshot's segment intact
    next((store.path(broken) / "segments").glob("*/resources.jsonl")).write_text("{not json\n")
    attempts = []
    real_open = EngineHolder._open

    def counting_open(self, snapshot_id, warm=True):
        attempts.append(snapshot_id)
        return real_open(self, snapshot_id, warm)

    settings = Settings(index_dir=served_copy, admin_token=TOKEN, multilingual_encoder="none")
    with TestClient(create_app(settings, encoders=encoders)) as client:
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
    corpus = Path(__file__).parents[1] / "data" / "corpus"
    report = build_snapshot(corpus, served_copy, encoder=encoder, extensions=snapshot_extensions(corpus))
    assert report.outcome == "unchanged" and report.snapshot_id == before[0]
    assert [row["snapshot_id"] for row in store.list()] == before
