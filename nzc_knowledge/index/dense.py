"""Dense vector search with FAISS: exact inner product for small indexes, HNSW for large ones, filters inside.

A filter is applied during the search, not after it, so a selective filter still returns `k` hits:
a small allowed subset is scored exactly with one matrix product; a large one is passed to FAISS as an
IDSelector so the graph/flat scan only considers allowed ids.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from nzc_knowledge.index.topk import top_k

HNSW_THRESHOLD = 50_000  # below this many vectors an exact flat scan is fast enough (~8 ms per 50k x 384)
EXACT_SUBSET_LIMIT = 20_000  # filtered searches over at most this many vectors are scored exactly
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 256


class DenseIndex:
    """Inner-product search over unit vectors (cosine similarity)."""

    def __init__(self, vectors: np.ndarray, index: faiss.Index) -> None:
        self.vectors = vectors
        self.index = index

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(self.index, faiss.IndexHNSW) else "flat"

    @classmethod
    def build(cls, vectors: np.ndarray) -> DenseIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dimension = vectors.shape[1]
        if len(vectors) >= HNSW_THRESHOLD:
            index: faiss.Index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        else:
            index = faiss.IndexFlatIP(dimension)
        index.add(vectors)
        return cls(vectors, index)

    def save(self, folder: Path) -> None:
        np.save(folder / "vectors.npy", self.vectors)
        faiss.write_index(self.index, str(folder / "faiss.index"))

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> DenseIndex:
        vectors = np.load(folder / "vectors.npy", mmap_mode="r" if mmap else None)
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        return cls(vectors, faiss.read_index(str(folder / "faiss.index"), flags))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores) for one query vector; `allowed` is a sorted array of permitted ids or None."""
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        total = self.index.ntotal
        if total == 0 or k <= 0 or (allowed is not None and len(allowed) == 0):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if allowed is not None and len(allowed) <= EXACT_SUBSET_LIMIT:
            scores = np.asarray(self.vectors[allowed] @ query[0], dtype=np.float32)
            top = top_k(scores, k)
            return allowed[top].astype(np.int64), scores[top]
        k = min(k, total if allowed is None else len(allowed))
        params = self._params(allowed)
        scores, ids = self.index.search(query, k, params=params) if params else self.index.search(query, k)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def _params(self, allowed: np.ndarray | None) -> faiss.SearchParameters | None:
        selector = faiss.IDSelectorBatch(allowed.astype(np.int64)) if allowed is not None else None
        if isinstance(self.index, faiss.IndexHNSW):
            params = faiss.SearchParametersHNSW()
            params.efSearch = HNSW_EF_SEARCH
        elif selector is None:
            return None
        else:
            params = faiss.SearchParameters()
        if selector is not None:
            params.sel = selector
        return params
