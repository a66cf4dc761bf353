"""A starting server serves as soon as its snapshot is open: encoders load beside the snapshot, the warm-up runs
after the engine is published, and a search that arrives first still answers correctly."""

from __future__ import annotations

import threading
from pathlib import Path

from nzc_knowledge.api.engine import EngineHolder
from nzc_knowledge.encoders import Encoders
from nzc_knowledge.index.store import SnapshotStore
from nzc_knowledge.ingest.pipeline import IngestPipeline, IngestSettings

from hash_encoder import HashEncoder

FILES = {
    "heating.md": "# District heating\n\nThe district heating network of Aarhus uses waste heat from industry.",
    "buses.md": "# Electric buses\n\nThe bus fleet electrification replaced diesel buses with battery buses.",
}


def _ingest(source: Path, index: Path) -> None:
    store = SnapshotStore(index)
    with store.exclusive():
        IngestPipeline(HashEncoder(), IngestSettings(tag_resources=False)).run(source, store)


def _index(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path]:
    source, index = tmp_path / "source", tmp_path / "index"
    source.mkdir(exist_ok=True)
    for name, text in files.items():
        (source / name).write_text(text, encoding="utf-8")
    _ingest(source, index)
    return source, index


def _wait_for_warm_up() -> None:
    for thread in threading.enumerate():
        if thread.name == "nzc-warm-up":
            thread.join(timeout=120)


def test_the_first_load_serves_before_the_warm_up_and_encoders_load_beside_the_snapshot(tmp_path):
    _, index = _index(tmp_path, FILES)
    loaded_in = []

    def loader(name: str):
        loaded_in.append(threading.current_thread().name)
        return HashEncoder()

    holder = EngineHolder(index, Encoders(loader=loader))
    engine = holder.load()
    assert loaded_in == ["nzc-encoders"]  # read beside the snapshot, once
    hits = engine.search.search("district heating", limit=5).hits  # may race the warm-up: must still be right
    assert hits and hits[0].resource.title == "District heating"
    _wait_for_warm_up()
    assert engine.search._filter_index is not None and engine.search._facet_index is not None


def test_a_swap_warms_the_new_version_before_it_serves(tmp_path):
    source, index = _index(tmp_path, FILES)
    holder = EngineHolder(index, Encoders(preloaded=[HashEncoder()]))
    first = holder.load()
    _wait_for_warm_up()
    (source / "trees.md").write_text("# Urban trees\n\nTree planting cools streets in summer.", encoding="utf-8")
    _ingest(source, index)
    second = holder.load()
    assert second is not first and second.search._filter_index is not None  # warmed before it was published
    assert second.snapshot.segments[0].dense is first.snapshot.segments[0].dense  # the shared segment kept
