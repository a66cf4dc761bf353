"""Dense vector search with FAISS: the index is the only copy of the vectors; filters are applied inside the search.

Small indexes are an exact flat scan over float32 vectors. Large ones are `IVF{nlist},SQ8` (inner product): one byte
per dimension instead of four, and a scan of `nprobe` of `nlist` cells instead of all vectors. `nprobe` is chosen at
build time as the smallest that reaches `TARGET_RECALL` recall@10 against exact search on sample queries, and is
recorded with the index (`describe()`, the manifest), so the recall a snapshot serves with is a measured figure.

A filter is applied during the search, not after it, so a selective filter still returns `k` hits: a small allowed
subset is scored exactly from vectors read back out of the index (flat: a view of its array; IVF: decoded through
its direct map); a large one is passed to FAISS as an IDSelector, with `nprobe` raised in proportion to how much of
the index the filter excludes, so as many allowed vectors are scanned as an unfiltered search scans.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from nzc_knowledge.index.topk import top_k

QUANTIZED_THRESHOLD = 50_000  # below this many vectors an exact flat scan is fast enough (~8 ms per 50k x 384)
EXACT_SUBSET_LIMIT = 20_000  # filtered searches over at most this many vectors are scored exactly
# ... and over a quantized index at most this many: reading vectors back out of IVF lists costs ~10 us each, so at a
# million passages a 1% filter (10,000 vectors) took 86 ms exactly and 28 ms as a bitmap-filtered scan (load 9).
QUANTIZED_EXACT_SUBSET_LIMIT = 1_500
BITMAP_SELECTOR_FROM = 1_000  # larger allowed sets go to FAISS as a bitmap, not a hash set of ids (2x faster)
TARGET_RECALL = 0.97  # recall@10 against exact search that the build's nprobe must reach on sample queries
NPROBE_CANDIDATES = (8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
CALIBRATION_QUERIES = 200
TRAINING_POINTS_PER_CELL = 40  # k-means sample size per cell (FAISS warns below 39)
# The calibration queries are easier than real ones, more so as cells get smaller: at a million passages (4096 cells)
# nprobe 8 reached 0.97 on them but 0.91 / 0.93 (MiniLM / USE) on the scale bench's real queries; 32 gave 0.978 /
# 0.978 (16: 0.957 / 0.961). So a search never probes fewer than 1/128 of the cells (8 of 1024: unchanged below
# ~250,000 passages), whatever a snapshot recorded.
MIN_PROBED_SHARE = 1 / 128
INDEX_FILE = "faiss.index"
DESCRIPTION_FILE = "dense.json"


def cell_count(size: int) -> int:
    """IVF cells for `size` vectors: about 4 * sqrt(n), a power of two (1024 at 100k, 4096 at 1M)."""
    return int(2 ** round(math.log2(max(4 * math.sqrt(size), 16))))


def minimum_nprobe(nlist: int) -> int:
    """The fewest cells a search of an IVF index with `nlist` cells probes (see MIN_PROBED_SHARE)."""
    return max(1, min(nlist, math.ceil(nlist * MIN_PROBED_SHARE)))


class DenseIndex:
    """Inner-product search over unit vectors (cosine similarity).

    Example:
        index = DenseIndex.build(vectors)          # flat or IVF-SQ8 depending on the count
        ids, scores = index.search(query, k=50, allowed=np.array([3, 9, 12]))
        index.vectors_of(np.array([3, 9]))         # read back (decoded) from the index itself
    """

    def __init__(self, index: faiss.Index, nprobe: int | None = None) -> None:
        self.index = index
        self.nprobe = nprobe
        self._ivf = faiss.extract_index_ivf(index) if isinstance(index, faiss.IndexIVF) else None
        if self._ivf is not None and nprobe:
            self.nprobe = max(nprobe, minimum_nprobe(self._ivf.nlist))
            self._ivf.nprobe = self.nprobe

    @property
    def kind(self) -> str:
        return "ivf_sq8" if self._ivf is not None else "flat"

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    def describe(self) -> dict[str, Any]:
        """What the manifest records about this index."""
        description: dict[str, Any] = {"type": self.kind, "factory": self.factory, "metric": "inner_product",
                                       "count": self.size, "dimension": self.dimension}
        if self._ivf is not None:
            description.update(nlist=int(self._ivf.nlist), nprobe=self.nprobe)
        return description

    @property
    def factory(self) -> str:
        return f"IVF{self._ivf.nlist},SQ8" if self._ivf is not None else "Flat"

    @classmethod
    def build(cls, vectors: np.ndarray, quantize: bool | None = None, seed: int = 0) -> DenseIndex:
        """Index unit vectors; `quantize` None: IVF-SQ8 from QUANTIZED_THRESHOLD vectors on, else exact."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        size, dimension = vectors.shape
        if quantize is None:
            quantize = size >= QUANTIZED_THRESHOLD
        if not quantize:
            flat = faiss.IndexFlatIP(dimension)
            flat.add(vectors)
            return cls(flat)
        nlist = cell_count(size)
        index = faiss.index_factory(dimension, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        sample = min(size, nlist * TRAINING_POINTS_PER_CELL)
        training = vectors[np.sort(rng.choice(size, size=sample, replace=False))] if sample < size else vectors
        index.train(training)
        index.add(vectors)
        # The direct map (8 bytes a vector) lets a filtered search read back a few thousand chosen vectors.
        faiss.extract_index_ivf(index).make_direct_map()
        dense = cls(index)
        dense.nprobe = max(dense.calibrate(vectors, rng), minimum_nprobe(nlist))
        dense._ivf.nprobe = dense.nprobe
        return dense

    def calibrate(self, vectors: np.ndarray, rng: np.random.Generator) -> int:
        """The smallest nprobe reaching TARGET_RECALL recall@10 on sample queries (stored vectors plus noise)."""
        queries = _sample_queries(vectors, rng)
        exact = exact_top_k(vectors, queries, 10)
        for nprobe in NPROBE_CANDIDATES:
            if nprobe > self._ivf.nlist:
                break
            self._ivf.nprobe = nprobe
            _, found = self.index.search(queries, 10)
            if recall_at_k(found, exact) >= TARGET_RECALL:
                return nprobe
        return min(NPROBE_CANDIDATES[-1], int(self._ivf.nlist))

    def save(self, folder: Path) -> None:
        faiss.write_index(self.index, str(folder / INDEX_FILE))
        (folder / DESCRIPTION_FILE).write_text(json.dumps(self.describe()), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> DenseIndex:
        description = json.loads((folder / DESCRIPTION_FILE).read_text(encoding="utf-8"))
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        return cls(faiss.read_index(str(folder / INDEX_FILE), flags), description.get("nprobe"))

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of these rows (decoded from the index; float32, one row each)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._ivf is None:
            return self.all_vectors()[rows]
        return self.index.reconstruct_batch(rows)

    @property
    def vectors(self) -> np.ndarray:
        """Every vector (see `all_vectors`); for a few rows of a large index use `vectors_of`."""
        return self.all_vectors()

    def all_vectors(self) -> np.ndarray:
        """Every vector: a view of a flat index's array (no copy), decoded for a quantized one."""
        if self.size == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._ivf is None:
            return faiss.rev_swig_ptr(self.index.get_xb(), self.size * self.dimension).reshape(self.size, self.dimension)
        return self.index.reconstruct_n(0, self.size)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None,
               excluded: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores) for one query vector; `allowed` is a sorted array of permitted ids or None;
        `excluded` (used without `allowed`) a few ids never to return, e.g. a segment's deleted rows."""
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed is None and excluded is not None and len(excluded):
            return self._search_excluding(query, k, np.asarray(excluded, dtype=np.int64))
        total = self.size
        if total == 0 or k <= 0 or (allowed is not None and len(allowed) == 0):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        exact_limit = EXACT_SUBSET_LIMIT if self._ivf is None else min(EXACT_SUBSET_LIMIT, QUANTIZED_EXACT_SUBSET_LIMIT)
        if allowed is not None and len(allowed) <= exact_limit:
            scores = np.asarray(self.vectors_of(allowed) @ query[0], dtype=np.float32)
            top = top_k(scores, k)
            return allowed[top].astype(np.int64), scores[top]
        k = min(k, total if allowed is None else len(allowed))
        params, bitmap = self._params(allowed)  # `bitmap` stays referenced while FAISS reads it
        scores, ids = self.index.search(query, k, params=params) if params else self.index.search(query, k)
        del bitmap
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def _search_excluding(self, query: np.ndarray, k: int, excluded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """An unfiltered search that skips a few ids inside FAISS (a selector of the excluded ids, not the allowed)."""
        k = min(k, self.size - len(excluded))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(excluded))
        if self._ivf is None:
            params = faiss.SearchParameters(sel=selector)
        else:
            params = faiss.SearchParametersIVF(sel=selector, nprobe=int(self.nprobe or self._ivf.nprobe))
        scores, ids = self.index.search(query, k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def _params(self, allowed: np.ndarray | None) -> tuple[faiss.SearchParameters | None, np.ndarray | None]:
        """Search parameters restricting a search to `allowed`, and the bitmap they point into (if any)."""
        if allowed is None:
            return None, None
        # A large allowed set is passed as a bitmap (one bit per vector, built with numpy): FAISS would otherwise
        # build a hash set of every allowed id in each search (~10 ms for 400,000 ids of a million-passage index).
        bitmap = None
        if len(allowed) > BITMAP_SELECTOR_FROM:
            member = np.zeros(self.size, dtype=bool)
            member[allowed] = True
            bitmap = np.packbits(member, bitorder="little")  # FAISS reads bit (id & 7) of byte (id >> 3)
            selector = faiss.IDSelectorBitmap(self.size, faiss.swig_ptr(bitmap))
        else:
            # Passed as keyword arguments, FAISS' wrapper keeps the selector alive as long as the parameters.
            selector = faiss.IDSelectorBatch(allowed.astype(np.int64))
        if self._ivf is None:
            return faiss.SearchParameters(sel=selector), bitmap
        # Scan as many allowed vectors as an unfiltered search scans vectors: a filter keeping 10% of the index
        # probes 10x the cells (capped at all of them).
        share = len(allowed) / self.size
        nprobe = min(int(self._ivf.nlist), math.ceil((self.nprobe or 1) / max(share, 1e-9)))
        return faiss.SearchParametersIVF(sel=selector, nprobe=nprobe), bitmap


def _sample_queries(vectors: np.ndarray, rng: np.random.Generator, count: int = CALIBRATION_QUERIES) -> np.ndarray:
    """Stored vectors moved by noise as long as themselves, renormalised: query-like points.

    A short query's best passage has a cosine of ~0.5-0.7, not ~0.9: points this far from the data are harder for
    an IVF index (their neighbours spread over more cells), so nprobe calibrated on them holds for real queries.
    """
    picks = rng.choice(len(vectors), size=min(count, len(vectors)), replace=False)
    base = vectors[picks]
    noise = rng.normal(scale=1.0 / math.sqrt(vectors.shape[1]), size=base.shape).astype(np.float32)
    queries = base + noise
    return np.ascontiguousarray(queries / np.linalg.norm(queries, axis=1, keepdims=True), dtype=np.float32)


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int, batch: int = 65_536) -> np.ndarray:
    """Exact inner-product top-k ids of each query (blocks of `batch` vectors, so memory stays bounded)."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(vectors), batch):
        scores = queries @ np.asarray(vectors[start : start + batch], dtype=np.float32).T
        ids = np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)
        merged_scores = np.concatenate([best_scores, scores], axis=1)
        merged_ids = np.concatenate([best_ids, ids], axis=1)
        keep = np.argpartition(-merged_scores, min(k, merged_scores.shape[1]) - 1, axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, keep, axis=1)
        best_ids = np.take_along_axis(merged_ids, keep, axis=1)
    return best_ids


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of the exact top-k ids that `found` holds (rows are queries)."""
    hits = [len(set(row_found.tolist()) & set(row_exact.tolist())) for row_found, row_exact in zip(found, exact, strict=True)]
    return float(np.mean(hits)) / exact.shape[1] if len(hits) else 1.0
