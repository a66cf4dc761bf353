"""Top-k selection shared by the dense and lexical indexes."""

from __future__ import annotations

import numpy as np


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first; ties keep index order so results are stable."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k)[:k]
    order = np.lexsort((part, -scores[part]))
    return part[order]
