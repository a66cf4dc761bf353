"""The Milvus backend (Milvus Lite in tmp_path) against the embedded one on the fixture corpus.

Same passages, same vectors, same BM25 weights: both backends must rank alike, filter alike and count facets alike;
an alias moved under concurrent searches must not fail any of them.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from nzc_knowledge.search.filters import SearchFilters
from nzc_knowledge.search.milvus_backend import (
    ALIAS,
    MilvusBackend,
    MilvusVersions,
    collection_name,
    connect,
    write_collection,
)
from nzc_knowledge.search.service import open_search_service

QUERIES = [
    "district heating financing",
    "bio-waste collection",
    "low emission zone",
    "Wärmeplanung Fernwärme",
    "bike sharing",
    "urban heat island trees",
    "energy community solar",
    "distict heeting",  # misspelt: the corrected query is searched
]
FILTERS = [
    {"country": ["SI"]},
    {"country": ["SI", "IT"]},
    {"type": ["case_study"]},
    {"language": ["de"]},
    {"city": ["milan"]},
    {"year_from": 2022},
    {"year_from": 2021, "year_to": 2023, "country": ["SI", "DE", "IT"]},
    {"domain": ["energy"]},
    {"domain": ["energy", "mobility"], "year_to": 2023},
    {"city": ['Kraków "old" \\ town']},  # quotes and a backslash stay inside the Milvus string literal
]


@pytest.fixture(scope="module")
def milvus(tmp_path_factory, snapshot):
    """(client, versions) of a Milvus Lite file holding the fixture snapshot, published under the alias."""
    client = connect(str(tmp_path_factory.mktemp("milvus") / "milvus.db"))
    versions = MilvusVersions(client)
    versions.publish(snapshot)
    return client, versions


@pytest.fixture(scope="module")
def milvus_service(milvus, snapshot, encoders):
    client, _ = milvus
    return open_search_service(snapshot, encoders, backend=MilvusBackend.for_snapshot(client, snapshot, ALIAS))


def ids(page):
    return [hit.resource.id for hit in page.hits]


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_both_backends_return_the_same_top_results(search_service, milvus_service, mode):
    compared = 0
    for query in QUERIES:
        embedded, on_milvus = search_service.search(query, limit=10, mode=mode), milvus_service.search(query, limit=10, mode=mode)
        assert ids(on_milvus) == ids(embedded), query
        assert [hit.score for hit in on_milvus.hits] == pytest.approx([hit.score for hit in embedded.hits], abs=1e-6)
        assert on_milvus.snippets == embedded.snippets
        compared += len(embedded.hits)
    assert compared > len(QUERIES)  # the queries find something: equal empty lists would prove nothing


def test_the_sparse_vectors_score_exactly_as_the_embedded_bm25(snapshot, milvus_service):
    backend = milvus_service.backend
    for terms in (["heat"], ["district", "heat", "heat"], ["wast", "collect"], ["no-such-term"]):
        expected_rows, expected_scores = snapshot.lexical.search(terms, 50)
        rows, scores = backend.lexical(terms, 50, None)
        assert rows.tolist() == expected_rows.tolist()
        np.testing.assert_allclose(scores, expected_scores, rtol=1e-5)


def test_dense_candidates_match_faiss_in_both_spaces(snapshot, milvus_service, encoders):
    backend = milvus_service.backend
    assert backend.has("multilingual") == (snapshot.multilingual is not None)
    vector = milvus_service.encoder.encode_queries(["district heating"])[0]
    rows, scores = backend.dense("dense", vector, 10, None)
    expected_rows, expected_scores = snapshot.dense.search(vector, 10)
    assert rows.tolist() == expected_rows.tolist()
    np.testing.assert_allclose(scores, expected_scores, atol=1e-5)
    if snapshot.multilingual is not None:
        vector = milvus_service.multilingual_encoder.encode_queries(["Fernwärme"])[0]
        rows, _ = backend.dense("multilingual", vector, 10, None)
        assert rows.tolist() == snapshot.multilingual.search(vector, 10)[0].tolist()


@pytest.mark.parametrize("given", FILTERS, ids=[str(sorted(item)) for item in FILTERS])
def test_filters_and_facets_agree_with_the_embedded_backend(search_service, milvus_service, given):
    filters = SearchFilters.parse(**given)
    for query in ("heating", "waste collection", ""):
        embedded, on_milvus = search_service.search(query, filters, limit=20), milvus_service.search(query, filters, limit=20)
        assert ids(on_milvus) == ids(embedded)
        assert on_milvus.total == embedded.total
        assert on_milvus.facets == embedded.facets


def test_filtered_candidates_are_exactly_the_allowed_passages(search_service, milvus_service):
    filters = SearchFilters.parse(country=["SI"], year_from=2021)
    _, allowed = search_service.allowed_chunks(filters)
    assert allowed is not None and 0 < len(allowed) < len(search_service.snapshot.chunk_resource)
    vector = milvus_service.encoder.encode_queries(["heating"])[0]
    rows, _ = milvus_service.backend.dense("dense", vector, 1000, allowed, filters)
    assert sorted(rows.tolist()) == sorted(allowed.tolist())
    rows_only, _ = milvus_service.backend.dense("dense", vector, 1000, allowed, None)  # a caller knowing only the rows
    assert sorted(rows_only.tolist()) == sorted(allowed.tolist())


def test_passage_vectors_read_back_equal_the_snapshot_vectors(snapshot, milvus_service):
    backend = milvus_service.backend
    size = len(snapshot.chunk_resource)
    rows = np.r_[size - 1, 0, 3, 3, np.arange(5, min(size, 40))]  # any order, a repeat, a run of consecutive rows
    np.testing.assert_array_equal(backend.passage_vectors("dense", rows), snapshot.dense.vectors_of(rows))
    if snapshot.multilingual is not None:
        np.testing.assert_array_equal(backend.passage_vectors("multilingual", rows), snapshot.multilingual.vectors_of(rows))
    assert backend.passage_vectors("dense", np.empty(0, dtype=np.int64)).shape == (0, snapshot.dense.dimension)
    with pytest.raises(ValueError, match="no passage rows"):
        backend.passage_vectors("dense", np.array([size + 7]))


def test_similar_resources_agree(search_service, milvus_service, snapshot):
    for resource in snapshot.resources[:5]:
        expected = [(hit.resource.id, hit.score) for hit in search_service.similar(resource.id)]
        found = [(hit.resource.id, hit.score) for hit in milvus_service.similar(resource.id)]
        assert [item[0] for item in found] == [item[0] for item in expected]


def test_an_alias_switch_under_concurrent_searches_loses_none(milvus, snapshot, encoders):
    client, _ = milvus
    versions = MilvusVersions(client, alias="switch_test")
    first = write_collection(client, snapshot, "switch_a")
    second = write_collection(client, snapshot, "switch_b")
    versions.switch(first)
    service = open_search_service(snapshot, encoders, backend=MilvusBackend.for_snapshot(client, snapshot, versions.alias))
    expected = ids(service.search("district heating", limit=5))
    assert expected
    failures: list[BaseException] = []
    results: list[list[str]] = []
    stop = threading.Event()

    def searching() -> None:
        while not stop.is_set():
            try:
                results.append(ids(service.search("district heating", limit=5)))
            except BaseException as error:  # noqa: BLE001 - any failure is what the test counts
                failures.append(error)

    workers = [threading.Thread(target=searching) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        for step in range(30):
            versions.switch(second if step % 2 == 0 else first)
            assert versions.serving() == (second if step % 2 == 0 else first)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert not failures, failures[:3]
    assert len(results) >= 3 and all(found == expected for found in results)


def test_prune_drops_only_collections_of_dropped_snapshots(milvus, snapshot):
    client, versions = milvus
    stale = write_collection(client, snapshot, collection_name("20200101T000000Z-deadbeef"))
    dropped = versions.prune(keep={snapshot.id})
    assert stale in dropped
    assert collection_name(snapshot.id) in versions.collections()
    assert versions.serving() == collection_name(snapshot.id)
