"""Filtered dense search returns the exact top-k of the allowed subset, on every code path."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from nzc_knowledge.index import dense
from nzc_knowledge.index.dense import DenseIndex


@pytest.fixture(scope="module")
def vectors():
    rng = np.random.default_rng(7)
    data = rng.normal(size=(3000, 32)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def brute_force(vectors, query, allowed, k):
    scores = vectors[allowed] @ query
    order = np.argsort(-scores)[:k]
    return allowed[order]


@pytest.mark.parametrize("exact_subset_limit", [10_000, 0], ids=["numpy-subset", "faiss-idselector"])
def test_flat_filtered_search_is_exact(vectors, monkeypatch, exact_subset_limit):
    monkeypatch.setattr(dense, "EXACT_SUBSET_LIMIT", exact_subset_limit)
    index = DenseIndex.build(vectors)
    query = vectors[0] + 0.1
    query /= np.linalg.norm(query)
    allowed = np.arange(5, 3000, 97, dtype=np.int64)  # 31 allowed ids, none of them the nearest overall
    ids, scores = index.search(query, 10, allowed)
    assert ids.tolist() == brute_force(vectors, query, allowed, 10).tolist()
    assert np.all(np.diff(scores) <= 1e-6)


def test_quantized_filtered_search_respects_the_filter(vectors, monkeypatch):
    monkeypatch.setattr(dense, "EXACT_SUBSET_LIMIT", 0)
    monkeypatch.setattr(dense, "QUANTIZED_THRESHOLD", 1000)
    index = DenseIndex.build(vectors)
    assert isinstance(index.index, faiss.IndexIVF) and index.kind == "ivf_sq8"
    query = vectors[42]
    allowed = np.arange(0, 3000, 3, dtype=np.int64)
    ids, _ = index.search(query, 20, allowed)
    assert len(ids) == 20 and set(ids.tolist()) <= set(allowed.tolist())
    expected = brute_force(vectors, query, allowed, 20)
    assert len(set(ids.tolist()) & set(expected.tolist())) >= 18  # approximate search, high recall
    assert ids[0] == 42


@pytest.mark.parametrize("quantized", [False, True], ids=["flat", "ivf"])
def test_a_large_filter_passed_as_a_bitmap_finds_what_an_id_set_finds(vectors, monkeypatch, quantized):
    monkeypatch.setattr(dense, "EXACT_SUBSET_LIMIT", 0)
    monkeypatch.setattr(dense, "QUANTIZED_THRESHOLD", 1000 if quantized else 10_000)
    index = DenseIndex.build(vectors)
    allowed = np.sort(np.random.default_rng(3).choice(3000, 1300, replace=False)).astype(np.int64)
    found = {}
    for path, bitmap_from in (("bitmap", 1000), ("id set", 10_000)):
        monkeypatch.setattr(dense, "BITMAP_SELECTOR_FROM", bitmap_from)
        found[path] = [index.search(vectors[row], 10, allowed)[0].tolist() for row in range(0, 3000, 150)]
    assert found["bitmap"] == found["id set"]
    assert all(set(ids) <= set(allowed.tolist()) and len(ids) == 10 for ids in found["bitmap"])
    if not quantized:
        assert found["bitmap"][1] == brute_force(vectors, vectors[150], allowed, 10).tolist()


def test_empty_filter_returns_nothing(vectors):
    ids, scores = DenseIndex.build(vectors[:100]).search(vectors[0], 5, np.array([], dtype=np.int64))
    assert len(ids) == 0 and len(scores) == 0


def test_save_and_load_round_trip(vectors, tmp_path):
    index = DenseIndex.build(vectors[:200])
    index.save(tmp_path)
    for mmap in (False, True):
        loaded = DenseIndex.load(tmp_path, mmap=mmap)
        assert loaded.search(vectors[3], 5)[0].tolist() == index.search(vectors[3], 5)[0].tolist()


def test_an_ivf_index_never_probes_fewer_than_its_share_of_cells(vectors, monkeypatch, tmp_path):
    monkeypatch.setattr(dense, "QUANTIZED_THRESHOLD", 1000)
    index = DenseIndex.build(vectors)
    nlist = index.describe()["nlist"]
    monkeypatch.setattr(dense, "MIN_PROBED_SHARE", 1 / 8)
    index.save(tmp_path)  # records the calibrated nprobe, which may be below the floor
    loaded = DenseIndex.load(tmp_path)
    assert loaded.nprobe == max(index.nprobe, nlist // 8) and faiss.extract_index_ivf(loaded.index).nprobe == loaded.nprobe
    assert DenseIndex.build(vectors).nprobe >= nlist // 8
