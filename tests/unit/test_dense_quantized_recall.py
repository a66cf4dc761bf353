"""The quantized index (IVF-SQ8) keeps recall@10 >= 0.95 against exact search, and reads its vectors back."""

from __future__ import annotations

import numpy as np

from nzc_knowledge.index.dense import DenseIndex, exact_top_k, recall_at_k


def _clustered(count: int, dimension: int, seed: int) -> np.ndarray:
    """Unit vectors around 200 topic centres, as passage embeddings cluster by topic."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(200, dimension)).astype(np.float32)
    data = centres[rng.integers(0, len(centres), size=count)] + rng.normal(scale=1.2, size=(count, dimension)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def test_quantized_index_recall_against_exact_search(tmp_path):
    points = _clustered(20_200, 64, seed=3)
    vectors, queries = points[:20_000], points[20_000:]  # held-out queries: same topics, not stored vectors
    index = DenseIndex.build(vectors, quantize=True)
    assert index.kind == "ivf_sq8" and index.describe()["nprobe"] >= 1
    exact = exact_top_k(vectors, queries, 10)
    index.save(tmp_path)
    loaded = DenseIndex.load(tmp_path)
    found = np.stack([loaded.search(query, 10)[0] for query in queries])
    assert recall_at_k(found, exact) >= 0.95
    # Vectors read back from the index are the stored ones within SQ8's rounding (1/255 of each dimension's range).
    rows = np.array([0, 17, 19_999])
    assert np.abs(loaded.vectors_of(rows) - vectors[rows]).max() < 0.02


def test_exact_top_k_matches_a_full_sort():
    vectors = _clustered(5000, 16, seed=5)
    queries = vectors[:7] + 0.01
    expected = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    found = exact_top_k(vectors, queries, 10, batch=999)
    assert [set(row) for row in found.tolist()] == [set(row) for row in expected.tolist()]
