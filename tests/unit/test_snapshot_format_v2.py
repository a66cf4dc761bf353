"""Snapshot format 2: vectors only in FAISS, columnar passage metadata, texts in SQLite read on demand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nzc_knowledge.encoders import Encoders
from nzc_knowledge.index.dense import DenseIndex
from nzc_knowledge.index.lexical import LexicalIndex
from nzc_knowledge.index.passages import LazyChunks
from nzc_knowledge.errors import OutdatedSnapshot
from nzc_knowledge.index.snapshot import FORMAT_VERSION, MANIFEST, Snapshot
from nzc_knowledge.models import Chunk, Resource, Tag
from nzc_knowledge.search.filters import SearchFilters
from nzc_knowledge.search.service import SearchService
from nzc_knowledge.text.analysis import lexical_terms

from hash_encoder import DIMENSION, HashEncoder

TOPICS = ["district heating network", "bus fleet electrification", "rooftop solar panels", "tree planting heat",
          "building renovation grants", "bike lanes cycling", "waste sorting recycling", "energy community cooperative"]
COUNTRIES = ["DE", "IT", "FR", "PL", "SE"]


def _snapshot(resource_count: int = 60, per_resource: int = 3) -> Snapshot:
    encoder = HashEncoder(max_seq_length=128)
    resources, chunks = [], []
    for number in range(resource_count):
        topic = TOPICS[number % len(TOPICS)]
        language = "de" if number % 7 == 0 else "en"
        resources.append(Resource(
            id=f"r{number}", file=f"r{number}.md", title=f"{topic} {number}", country=COUNTRIES[number % len(COUNTRIES)],
            language=language, year=2015 + number % 10, text=f"Full body of resource {number} about {topic}. " * 20,
            domains=[Tag("energy" if number % 2 else "mobility", 0.9)]))
        for ordinal in range(per_resource):
            text = f"{topic} passage {ordinal} of resource {number} with detail {number * 7 % 13}"
            chunks.append(Chunk(id=f"r{number}#{ordinal}", resource_id=f"r{number}", ordinal=ordinal, text=text,
                                start=0, end=len(text), page=ordinal + 1, heading=f"Section {ordinal}",
                                token_count=len(text.split()), language=language,
                                tags={"domains": [["energy", 0.8]]} if ordinal == 0 else {}))
    vectors = encoder.encode_passages([chunk.text for chunk in chunks])
    return Snapshot(
        manifest={"snapshot_id": "fixture", "encoder": {"name": encoder.info.name}, "counts": {"chunks": len(chunks)}},
        resources=resources,
        chunks=chunks,
        dense=DenseIndex.build(vectors),
        lexical=LexicalIndex.build([lexical_terms(chunk.text, chunk.language) for chunk in chunks]),
        vocabulary={"heating": 3},
        multilingual=DenseIndex.build(vectors[:, ::-1].copy()),
    )


def _results(service: SearchService, query: str, **filters) -> list[tuple[str, float, str]]:
    page = service.search(query, SearchFilters.parse(**filters), limit=10)
    return [(hit.resource.id, hit.score, snippet) for hit, snippet in zip(page.hits, page.snippets, strict=True)]


def test_round_trip_gives_the_same_search_results(tmp_path):
    built = _snapshot()
    built.save(tmp_path)
    loaded = Snapshot.load(tmp_path)
    before, after = SearchService(built, HashEncoder(max_seq_length=128)), SearchService(loaded, HashEncoder(max_seq_length=128))
    for query, filters in [("district heating", {}), ("bus fleet", {"country": ["DE", "IT"]}), ("solar", {"language": ["de"]}),
                           ("", {"domain": ["energy"]})]:
        expected = _results(before, query, **filters)
        assert expected, query
        assert _results(after, query, **filters) == expected
    assert loaded.chunk(4) == built.chunks[4]  # every field, tags and heading included, comes back
    assert loaded.resource_text(2) == built.resources[2].text
    assert [chunk.id for chunk in loaded.chunks] == [chunk.id for chunk in built.chunks]
    assert np.array_equal(loaded.chunk_resource, built.chunk_resource)


def test_manifest_records_format_and_each_dense_index(tmp_path):
    _snapshot().save(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["format_version"] == FORMAT_VERSION == 3
    assert manifest["dense_index"]["factory"] == "Flat" and manifest["dense_index"]["count"] == 180
    assert manifest["multilingual_index"]["dimension"] == DIMENSION
    assert not list(tmp_path.rglob("vectors.npy"))  # the FAISS index is the only copy of the vectors
    assert not list(tmp_path.rglob("chunks.jsonl"))


def test_loading_keeps_no_passage_or_resource_text_in_memory(tmp_path):
    built = _snapshot()
    built.save(tmp_path)
    loaded = Snapshot.load(tmp_path)
    assert isinstance(loaded.chunks, LazyChunks)
    assert all(resource.text == "" for resource in loaded.resources)
    held = [value for value in vars(loaded).values() if isinstance(value, list)]
    assert not any(value and isinstance(value[0], (str, Chunk)) and len(value) == len(built.chunks) for value in held)
    # texts come from the store on request
    assert loaded.chunk_text([7, 1]) == [built.chunks[7].text, built.chunks[1].text]
    with pytest.raises(IndexError):
        loaded.chunk(len(built.chunks))


def test_a_format_1_snapshot_is_refused_with_the_rebuild_message(tmp_path):
    _snapshot().save(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    (tmp_path / MANIFEST).write_text(json.dumps(dict(manifest, format_version=1)))
    with pytest.raises(OutdatedSnapshot, match="rebuild the index with `nzc ingest`") as caught:
        Snapshot.load(tmp_path)
    assert caught.value.status == 503 and str(tmp_path) not in caught.value.message


def test_the_api_reports_an_outdated_snapshot_instead_of_failing(tmp_path):
    from fastapi.testclient import TestClient

    from nzc_knowledge.api.app import create_app
    from nzc_knowledge.index.store import SnapshotStore
    from nzc_knowledge.settings import Settings

    store = SnapshotStore(tmp_path)
    with store.build("fixture0") as (snapshot_id, folder):
        snapshot = _snapshot(resource_count=10)
        snapshot.manifest["snapshot_id"] = snapshot_id
        snapshot.save(folder)
        manifest = json.loads((folder / MANIFEST).read_text())
        (folder / MANIFEST).write_text(json.dumps(dict(manifest, format_version=1)))  # as today's engine wrote it
    with TestClient(create_app(Settings(index_dir=tmp_path, multilingual_encoder="none"), encoders=Encoders(preloaded=[HashEncoder(max_seq_length=128)]))) as client:
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "no_index"
        assert "rebuild the index with `nzc ingest`" in health.json()["load_failure"]["reason"]
        assert client.get("/search", params={"q": "heating"}).status_code == 503


def test_a_selective_filter_still_returns_k_hits(tmp_path):
    _snapshot(resource_count=400).save(tmp_path)
    service = SearchService(Snapshot.load(tmp_path), HashEncoder(max_seq_length=128))
    # One country and one year: 40 of 400 resources (none of them in the unfiltered top 50); all mention "passage".
    unfiltered = {hit.resource.id for hit in service.search("bus fleet passage", limit=50).hits}
    selective = SearchFilters.parse(country=["DE"], year_from=2015, year_to=2015)
    page = service.search("bus fleet passage", selective, limit=5)
    assert len(page.hits) == 5 and page.total == 40
    assert {hit.resource.country for hit in page.hits} == {"DE"} and {hit.resource.year for hit in page.hits} == {2015}
    assert not unfiltered & {f"r{number}" for number in range(0, 400, 10)}
