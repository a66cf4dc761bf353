"""Stateless replicas on Milvus: two engines over one index folder and one Milvus pick up one reindex, no restart.

Milvus Lite opens a file in one process only, so the two replicas here are two `EngineHolder`s with their own
clients in this process (a deployment runs them as separate `nzc serve` processes on a Milvus server).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from nzc_knowledge.api.engine import EngineHolder
from nzc_knowledge.encoders import Encoders
from nzc_knowledge.ingest.build import build_snapshot
from nzc_knowledge.recommend.profiles import snapshot_extensions
from nzc_knowledge.search.milvus_backend import ALIAS, MilvusVersions, collection_name, connect, milvus_backend_factory

CORPUS = Path(__file__).parents[1] / "data" / "corpus"
NEW_WORD = "wombatferry"  # only in the document the reindex adds


def add_document(source: Path) -> None:
    (source / "docs" / "wombat-ferry.md").write_text(
        f"# Electric ferries of Wombatville\n\nThe {NEW_WORD} line runs battery ferries charged from the harbour grid.\n",
        encoding="utf-8")
    with (source / "manifest.jsonl").open("a", encoding="utf-8") as lines:
        lines.write(json.dumps({"id": "wombat-ferry", "file": "docs/wombat-ferry.md", "language": "en"}) + "\n")


def build(source: Path, index: Path, encoder) -> str:
    return build_snapshot(source, index, encoder=encoder, extensions=snapshot_extensions(source), multilingual=None).snapshot_id


def test_two_replicas_serve_a_new_version_after_one_reindex(tmp_path, encoder):
    source, index, uri = tmp_path / "source", tmp_path / "index", str(tmp_path / "milvus.db")
    shutil.copytree(CORPUS, source)
    first_id = build(source, index, encoder)
    replicas = [EngineHolder(index, Encoders(preloaded=[encoder]), backend_factory=milvus_backend_factory(uri, None, index))
                for _ in range(2)]
    for replica in replicas:
        assert replica.load().snapshot.id == first_id
    versions = MilvusVersions(connect(uri))
    assert versions.serving() == collection_name(first_id)

    add_document(source)
    second_id = build(source, index, encoder)  # the reindex: a new snapshot, CURRENT flips
    for replica in replicas:  # no restart: the next request of each replica loads the new version
        with replica.lease() as engine:
            assert engine.snapshot.id == second_id
            assert engine.search.backend.name == "milvus"
            assert [hit.resource.id for hit in engine.search.search(NEW_WORD).hits][:1] == ["wombat-ferry"]
    assert versions.serving() == collection_name(second_id)  # the alias moved once the new version was published
    assert set(versions.collections()) == {collection_name(first_id), collection_name(second_id)}
    with replicas[0].lease() as engine:  # searching through the alias gives the same as the engine's own collection
        assert versions.client.describe_alias(ALIAS)["collection_name"] == engine.search.backend.collection
