"""`nzc bench scale --build-only` then `--reuse`: the measurement takes the synthetic snapshot an earlier run wrote,
and refuses, with the reason, a folder holding anything else."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from nzc_knowledge.bench.scale import build_synthetic, reusable_snapshot
from nzc_knowledge.bench.synthetic import SyntheticPlan, synthetic_vectors, synthetic_with_vectors
from nzc_knowledge.errors import Conflict
from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.index.store import SnapshotStore
from nzc_knowledge.ingest.pipeline import IngestPipeline, IngestSettings

from hash_encoder import HashEncoder

FILES = {f"doc{number}.md": f"# Report {number}\n\nDistrict heating and bus fleet number {number} in the city."
         for number in range(6)}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale")
    files, index = folder / "files", folder / "index"
    files.mkdir()
    for name, text in FILES.items():
        (files / name).write_text(text, encoding="utf-8")
    store = SnapshotStore(index)
    with store.exclusive():
        IngestPipeline(HashEncoder(), IngestSettings(tag_resources=False)).run(files, store)
    return index, Snapshot.load(store.current_path())


def test_a_built_synthetic_snapshot_is_reused_with_the_same_count(source, tmp_path):
    _, snapshot = source
    record = build_synthetic(1000, tmp_path / "big", snapshot)
    assert reusable_snapshot(1000, tmp_path / "big", snapshot) == record
    loaded = Snapshot.load(SnapshotStore(tmp_path / "big").current_path())
    assert len(loaded.chunks) == 1000 and len(loaded.resources) == 200
    # The streamed snapshot holds what the in-memory one holds: same passages, bodies and vectors.
    in_memory, vectors = synthetic_with_vectors(snapshot, 1000)
    assert [chunk.id for chunk in loaded.chunks] == [chunk.id for chunk in in_memory.chunks]
    assert loaded.chunk_text([5, 999]) == [in_memory.chunks[5].text, in_memory.chunks[999].text]
    assert loaded.resource_text(7) == in_memory.resources[7].text
    assert np.allclose(loaded.dense.all_vectors(), vectors["dense"])
    redrawn = synthetic_vectors(snapshot, SyntheticPlan.make(snapshot, 1000), ("dense",))
    assert np.array_equal(redrawn["dense"], vectors["dense"])  # recall can be measured again without a rebuild


def test_reuse_refuses_another_count_another_index_and_an_empty_folder(source, tmp_path):
    index, snapshot = source
    build_synthetic(1000, tmp_path / "big", snapshot)
    with pytest.raises(Conflict, match="holds a synthetic snapshot of 1000 passages, not 2000"):
        reusable_snapshot(2000, tmp_path / "big", snapshot)
    with pytest.raises(Conflict, match="holds no synthetic snapshot written by `nzc bench scale`"):
        reusable_snapshot(1000, tmp_path / "empty", snapshot)
    (index / "synthetic-build.json").write_text(json.dumps({"snapshot_id": "x"}), encoding="utf-8")
    try:
        with pytest.raises(Conflict, match="is not a synthetic one"):
            reusable_snapshot(1000, index, snapshot)
    finally:
        (index / "synthetic-build.json").unlink()


def test_the_command_says_why_it_refuses(source, tmp_path, monkeypatch):
    from nzc_knowledge.cli import main

    index, _ = source
    monkeypatch.setenv("NZC_INDEX_DIR", str(index))
    result = CliRunner().invoke(main, ["bench", "scale", "--chunks", "1000", "--index-dir", str(tmp_path / "none"),
                                       "--reuse", "--json"])
    assert result.exit_code == 1 and "holds no synthetic snapshot" in result.output
    result = CliRunner().invoke(main, ["bench", "scale", "--chunks", "1000", "--index-dir", str(tmp_path),
                                       "--reuse", "--build-only"])
    assert result.exit_code == 2 and "give one" in result.output
