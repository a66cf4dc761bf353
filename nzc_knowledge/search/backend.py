"""The retrieval backend seam: where the search service gets its lexical and dense passage candidates.

The service keeps fusion, roll-up, facets and snippets; a backend only answers "the top k passage rows for these
terms / this vector, within these filters" and "the stored vectors of these passages" (similar resources and the
passage part of peer cities average them). `EmbeddedBackend` searches the snapshot's own BM25 and FAISS indexes
(the default); `search/milvus_backend.py` searches a Milvus collection written from the same snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

import numpy as np

from nzc_knowledge.index.dense import DenseIndex
from nzc_knowledge.index.segmented import SegmentedDense
from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.search.filters import SearchFilters
from nzc_knowledge.settings import Settings

Space = Literal["dense", "multilingual"]  # which encoder's vectors: the English one or the multilingual one
Ranking = tuple[np.ndarray, np.ndarray]  # (passage rows, scores), best first


class RetrievalBackend(Protocol):
    """Top passage candidates, filters applied inside retrieval.

    `allowed` (sorted passage rows, None: all) and `filters` describe the same restriction; a backend uses whichever
    it can apply natively (the embedded one the rows, Milvus the filters as a boolean expression). `filters` None
    with `allowed` given means the caller only knows the rows.
    """

    name: str

    def lexical(self, terms: list[str], k: int, allowed: np.ndarray | None,
                filters: SearchFilters | None = None) -> Ranking:
        """BM25 top-k over the product's analysed terms (positive scores only)."""
        ...

    def dense(self, space: Space, vector: np.ndarray, k: int, allowed: np.ndarray | None,
              filters: SearchFilters | None = None) -> Ranking:
        """Inner-product top-k for one unit query vector in `space`."""
        ...

    def has(self, space: Space) -> bool:
        """Whether this backend holds vectors of `space`."""
        ...

    def passage_vectors(self, space: Space, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of passage `rows` in `space`, in the order given (float32, one row each)."""
        ...


class EmbeddedBackend:
    """The snapshot's own indexes (bm25s + FAISS), in this process.

    Example:
        backend = EmbeddedBackend(snapshot)
        rows, scores = backend.lexical(["district", "heat"], 50, allowed=None)
    """

    name = "embedded"

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def lexical(self, terms: list[str], k: int, allowed: np.ndarray | None,
                filters: SearchFilters | None = None) -> Ranking:
        return self.snapshot.lexical.search(terms, k, allowed)

    def dense(self, space: Space, vector: np.ndarray, k: int, allowed: np.ndarray | None,
              filters: SearchFilters | None = None) -> Ranking:
        return self._index(space).search(vector, k, allowed)

    def has(self, space: Space) -> bool:
        return space == "dense" or self.snapshot.multilingual is not None

    def passage_vectors(self, space: Space, rows: np.ndarray) -> np.ndarray:
        return self._index(space).vectors_of(rows)

    def _index(self, space: Space) -> DenseIndex | SegmentedDense:
        index = self.snapshot.dense if space == "dense" else self.snapshot.multilingual
        if index is None:
            raise ValueError(f"snapshot {self.snapshot.id} has no {space} index")
        return index


BackendFactory = Callable[[Snapshot], RetrievalBackend]


def backend_factory(settings: Settings) -> BackendFactory | None:
    """How the composition root opens a loaded snapshot's backend: None for the embedded one (the default).

    With NZC_BACKEND=milvus each snapshot the engine loads is published to Milvus (its collection written when
    missing, the alias moved to it) and the collections of snapshots no longer kept are dropped.
    """
    if settings.backend == "embedded":
        return None
    from nzc_knowledge.search.milvus_backend import milvus_backend_factory  # pymilvus loads only when asked for

    return milvus_backend_factory(settings.milvus_address, settings.milvus_token, settings.index_dir)
