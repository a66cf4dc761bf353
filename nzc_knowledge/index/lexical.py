"""BM25 over chunks with per-language analysis (bm25s), filters applied while scoring."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from nzc_knowledge.index.topk import top_k


class LexicalIndex:
    """BM25 (Lucene variant) over pre-analysed chunk terms.

    Example:
        index = LexicalIndex.build([["district", "heat"], ["bus", "fleet"]])
        ids, scores = index.search(["heat"], k=10)
    """

    def __init__(self, retriever: bm25s.BM25, size: int) -> None:
        self.retriever = retriever
        self.size = size

    @classmethod
    def build(cls, documents: list[list[str]], k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        retriever = bm25s.BM25(k1=k1, b=b)
        retriever.index(documents, show_progress=False)
        return cls(retriever, len(documents))

    def save(self, folder: Path) -> None:
        self.retriever.save(folder / "bm25", show_progress=False)
        (folder / "bm25" / "size.txt").write_text(str(self.size))

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> LexicalIndex:
        retriever = bm25s.BM25.load(folder / "bm25", mmap=mmap, show_progress=False)
        return cls(retriever, int((folder / "bm25" / "size.txt").read_text()))

    def vocabulary(self) -> dict[str, int]:
        return self.retriever.vocab_dict

    def scores(self, terms: list[str]) -> np.ndarray:
        if not terms or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(terms), dtype=np.float32)

    def search(self, terms: list[str], k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores) with a positive score, restricted to `allowed` ids when given."""
        scores = self.scores(terms)
        if allowed is not None:
            scores_allowed = scores[allowed]
            positive = scores_allowed > 0
            candidates, values = allowed[positive], scores_allowed[positive]
        else:
            candidates = np.flatnonzero(scores > 0)
            values = scores[candidates]
        top = top_k(values, k)
        return candidates[top].astype(np.int64), values[top]
