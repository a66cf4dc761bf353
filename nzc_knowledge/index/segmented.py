"""Dense search over the live rows of several segments, behind `DenseIndex`'s interface.

Each segment's FAISS index is searched for its own top-k (deleted rows and rows outside the filter excluded inside
the search), and the hits are merged by score. With flat indexes this equals one flat index over all live
vectors; with IVF indexes each segment keeps its own calibrated nprobe, so the recall is that of its segments.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nzc_knowledge.index.dense import DenseIndex
from nzc_knowledge.index.rows import SegmentRows
from nzc_knowledge.index.topk import top_k


class SegmentedDense:
    """Several `DenseIndex`es seen as one over global rows (see `SegmentRows`).

    Example:
        dense = SegmentedDense([DenseIndex.build(a), DenseIndex.build(b)], SegmentRows([len(a), len(b)]))
        ids, scores = dense.search(query, k=10)
    """

    def __init__(self, parts: list[DenseIndex], rows: SegmentRows) -> None:
        self.parts = parts
        self.rows = rows

    @property
    def kind(self) -> str:
        kinds = sorted({part.kind for part in self.parts})
        return kinds[0] if len(kinds) == 1 else "+".join(kinds)

    @property
    def factory(self) -> str:
        return "+".join(part.factory for part in self.parts)

    @property
    def size(self) -> int:
        return self.rows.size

    @property
    def dimension(self) -> int:
        return self.parts[0].dimension

    @property
    def nprobe(self) -> int | None:
        probes = [part.nprobe for part in self.parts if part.nprobe]
        return max(probes) if probes else None

    def describe(self) -> dict[str, Any]:
        return {"type": self.kind, "factory": self.factory, "metric": "inner_product", "count": self.size,
                "dimension": self.dimension, "segments": [part.describe() for part in self.parts]}

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores) over live rows; `allowed` is a sorted array of permitted global ids or None."""
        if k <= 0 or self.size == 0 or (allowed is not None and len(allowed) == 0):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        found_ids, found_scores = [], []
        for segment, part in enumerate(self.parts):
            if allowed is None:  # live rows only: skip the few deleted ones rather than list the many live ones
                ids, scores = part.search(query, k, excluded=self.rows.deleted[segment])
            else:
                local_allowed = self.rows.local_allowed(segment, allowed)
                if len(local_allowed) == 0:
                    continue
                ids, scores = part.search(query, k, local_allowed)
            found_ids.append(self.rows.to_global(segment, ids))
            found_scores.append(scores)
        if not found_ids:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        ids, scores = np.concatenate(found_ids), np.concatenate(found_scores)
        top = top_k(scores, k)
        return ids[top].astype(np.int64), scores[top]

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of these global rows, in the order asked (decoded from each segment's index)."""
        rows = np.asarray(rows, dtype=np.int64)
        vectors = np.zeros((len(rows), self.dimension), dtype=np.float32)
        for segment, positions, local in self.rows.split(rows):
            vectors[positions] = self.parts[segment].vectors_of(local)
        return vectors

    @property
    def vectors(self) -> np.ndarray:
        return self.all_vectors()

    def all_vectors(self) -> np.ndarray:
        """Every live vector in global row order (a copy; decoded for quantized segments)."""
        blocks = []
        for segment, part in enumerate(self.parts):
            live = self.rows.live[segment]
            blocks.append(part.all_vectors() if live is None else part.vectors_of(live))
        return np.concatenate(blocks) if blocks else np.zeros((0, 0), dtype=np.float32)
