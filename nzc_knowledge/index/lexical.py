"""BM25 (Lucene variant) over pre-analysed chunk terms, with collection statistics over all live passages.

Each segment keeps raw postings (term -> passages with their term frequency) and passage lengths, not scores.
Scores are computed at query time from statistics over every live passage of every segment (passage count,
document frequencies, average length), the way Lucene computes IDF at the searcher level. Why: a snapshot split
into segments (an incremental reindex adds one, deletion marks hide rows) must rank exactly like a full rebuild of
the same files; precomputed scores (bm25s) would bake each segment's own statistics in.

    score(q, d) = sum over q's terms t of  idf(t) * tf / (tf + k1 * (1 - b + b * len(d) / avg_len))
    idf(t)      = log(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

from nzc_knowledge.index.rows import SegmentRows
from nzc_knowledge.index.topk import top_k

FOLDER = "bm25"
K1 = 1.2
B = 0.75


class Postings:
    """One segment's term postings: for each term, its passages (local rows) and term frequencies.

    Example:
        postings = Postings.build([["district", "heat"], ["bus", "fleet", "bus"]])
        postings.column("bus")   # (array([1]), array([2]))
    """

    def __init__(self, terms: list[str], indptr: np.ndarray, rows: np.ndarray, frequencies: np.ndarray,
                 lengths: np.ndarray) -> None:
        self.terms = terms
        self.term_index = {term: column for column, term in enumerate(terms)}
        self.indptr = indptr
        self.rows = rows
        self.frequencies = frequencies
        self.lengths = lengths

    @property
    def size(self) -> int:
        return len(self.lengths)

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> Postings:
        term_index: dict[str, int] = {}
        lengths = np.fromiter((len(document) for document in documents), dtype=np.int32, count=len(documents))
        columns = np.fromiter((term_index.setdefault(term, len(term_index)) for document in documents for term in document),
                              dtype=np.int32, count=int(lengths.sum()))
        document_rows = np.repeat(np.arange(len(documents), dtype=np.int32), lengths)
        counts = sparse.csc_matrix(
            (np.ones(len(columns), dtype=np.uint16), (document_rows, columns)), shape=(len(documents), len(term_index)),
        )
        counts.sum_duplicates()
        counts.sort_indices()
        return cls(list(term_index), counts.indptr.astype(np.int64), counts.indices.astype(np.int32),
                   np.minimum(counts.data, np.iinfo(np.uint16).max).astype(np.uint16), lengths)

    @classmethod
    def merge(cls, parts: Sequence[Postings], live: Sequence[np.ndarray | None]) -> Postings:
        """The live passages of several segments as one, in order (terms are re-numbered, frequencies kept)."""
        terms: dict[str, int] = {}
        matrices, lengths = [], []
        for part, rows in zip(parts, live, strict=True):
            columns = np.asarray([terms.setdefault(term, len(terms)) for term in part.terms], dtype=np.int64)
            matrix = sparse.csc_matrix((part.frequencies.astype(np.float32), part.rows, part.indptr),
                                       shape=(part.size, len(part.terms))).tocoo()
            matrices.append((matrix, columns, rows))
            lengths.append(part.lengths if rows is None else part.lengths[rows])
        blocks = []
        for matrix, columns, rows in matrices:
            remapped = sparse.csr_matrix((matrix.data, (matrix.row, columns[matrix.col])), shape=(matrix.shape[0], len(terms)))
            blocks.append(remapped if rows is None else remapped[rows])
        merged = sparse.vstack(blocks, format="csc") if blocks else sparse.csc_matrix((0, len(terms)))
        merged.sort_indices()
        return cls(list(terms), merged.indptr.astype(np.int64), merged.indices.astype(np.int32),
                   merged.data.astype(np.uint16), np.concatenate(lengths).astype(np.int32))

    def column(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        column = self.term_index.get(term)
        if column is None:
            return None
        start, end = self.indptr[column], self.indptr[column + 1]
        return self.rows[start:end], self.frequencies[start:end]

    def document_frequencies(self) -> np.ndarray:
        return np.diff(self.indptr)

    def frequencies_in(self, rows: np.ndarray) -> dict[str, int]:
        """How many of these passages hold each term (for the deleted rows' share of the statistics)."""
        if len(rows) == 0:
            return {}
        chosen = np.zeros(self.size, dtype=bool)
        chosen[np.asarray(rows, dtype=np.int64)] = True
        # Positions of the chosen passages in the postings, then the term (column) each position belongs to.
        positions = np.flatnonzero(chosen[self.rows])
        columns = np.searchsorted(self.indptr, positions, side="right") - 1
        counts = np.bincount(columns, minlength=len(self.terms))
        return {self.terms[column]: int(counts[column]) for column in np.flatnonzero(counts)}

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "terms.json").write_text(json.dumps(self.terms, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "indptr.npy", self.indptr)
        np.save(folder / "rows.npy", self.rows)
        np.save(folder / "frequencies.npy", self.frequencies)
        np.save(folder / "lengths.npy", self.lengths)

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> Postings:
        mode = "r" if mmap else None
        terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        # Frequencies are read only while loading (into the per-posting saturation) and merging: always mapped,
        # so a served index holds 8 bytes a posting (rows and saturation), as bm25s' precomputed scores did.
        return cls(terms, np.load(folder / "indptr.npy"), np.load(folder / "rows.npy", mmap_mode=mode),
                   np.load(folder / "frequencies.npy", mmap_mode="r"), np.load(folder / "lengths.npy"))


class LexicalIndex:
    """BM25 over the live passages of one or more segments (global row numbers, see `SegmentRows`).

    Example:
        index = LexicalIndex.build([["district", "heat"], ["bus", "fleet"]])
        ids, scores = index.search(["heat"], k=10)
    """

    def __init__(self, parts: list[Postings], rows: SegmentRows | None = None, k1: float = K1, b: float = B) -> None:
        self.parts = parts
        self.rows = rows or SegmentRows([part.size for part in parts])
        self.k1, self.b = k1, b
        self.size = self.rows.size
        self._statistics()

    def _statistics(self) -> None:
        """Passage count, document frequencies and average length over live passages only."""
        frequencies: dict[str, int] = {}
        total_length = 0
        for segment, part in enumerate(self.parts):
            for term, count in zip(part.terms, part.document_frequencies().tolist(), strict=True):
                frequencies[term] = frequencies.get(term, 0) + count
            deleted = self.rows.deleted[segment]
            for term, count in part.frequencies_in(deleted).items():
                frequencies[term] -= count
            live = self.rows.live[segment]
            total_length += int(part.lengths.sum() if live is None else part.lengths[live].sum())
        self.document_frequency = {term: count for term, count in frequencies.items() if count > 0}
        average = total_length / self.size if self.size else 1.0
        # Per posting, the term-frequency part tf / (tf + k1 * (1 - b + b * len / avg_len)), computed once per loaded
        # version (avg_len is over its live passages): a query then only multiplies by idf and adds up, as fast as
        # bm25s' precomputed scores and in the same memory (4 bytes a posting).
        self._saturation = []
        for part in self.parts:
            norms = (self.k1 * (1 - self.b + self.b * part.lengths / max(average, 1e-9))).astype(np.float32)
            saturation = np.empty(len(part.rows), dtype=np.float32)
            for start in range(0, len(part.rows), 1 << 22):  # in blocks: bounded temporaries at a million passages
                block = slice(start, start + (1 << 22))
                frequency = np.asarray(part.frequencies[block], dtype=np.float32)
                saturation[block] = frequency / (frequency + norms[part.rows[block]])
            self._saturation.append(saturation)

    @classmethod
    def build(cls, documents: list[list[str]], k1: float = K1, b: float = B) -> LexicalIndex:
        return cls([Postings.build(documents)], k1=k1, b=b)

    def save(self, folder: Path) -> None:
        """Write a one-segment index (a segmented one is saved segment by segment by the snapshot)."""
        if len(self.parts) != 1 or not self.rows.simple:
            raise ValueError("only a one-segment lexical index without deletions is saved as a whole")
        self.parts[0].save(folder / FOLDER)

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> LexicalIndex:
        return cls([Postings.load(folder / FOLDER, mmap=mmap)])

    def vocabulary(self) -> dict[str, int]:
        """Every indexed term with the number of live passages holding it."""
        return self.document_frequency

    def term_ids(self) -> dict[str, int]:
        """Every live term with a stable column number (sorted terms): the dimensions of `weight_matrix`."""
        return {term: column for column, term in enumerate(sorted(self.document_frequency))}

    def weight_matrix(self) -> sparse.csr_matrix:
        """Live passages x `term_ids()` columns holding each posting's BM25 weight (idf x saturation).

        Why: an outside engine (Milvus) stores these as sparse vectors; a query of term counts then scores a passage
        by inner product exactly as `scores` does.
        """
        columns_of = self.term_ids()
        blocks = []
        for segment, part in enumerate(self.parts):
            part_columns = np.asarray([columns_of.get(term, -1) for term in part.terms], dtype=np.int64)
            idf = np.asarray([self.idf(term) if term in columns_of else 0.0 for term in part.terms], dtype=np.float32)
            term_of_posting = np.repeat(np.arange(len(part.terms)), np.diff(part.indptr))
            rows = self.rows.to_global(segment, np.asarray(part.rows, dtype=np.int64))
            keep = (rows >= 0) & (part_columns[term_of_posting] >= 0)
            weights = idf[term_of_posting] * self._saturation[segment]
            blocks.append(sparse.coo_matrix((weights[keep], (rows[keep], part_columns[term_of_posting][keep])),
                                            shape=(self.size, len(columns_of))))
        matrix = sum(blocks[1:], blocks[0]).tocsr() if blocks else sparse.csr_matrix((self.size, len(columns_of)))
        matrix.sort_indices()
        return matrix

    def idf(self, term: str) -> float:
        frequency = self.document_frequency.get(term, 0)
        return math.log(1 + (self.size - frequency + 0.5) / (frequency + 0.5))

    def scores(self, terms: list[str]) -> np.ndarray:
        """The BM25 score of every live passage (a repeated query term counts again, as in bm25s)."""
        scores = np.zeros(self.size, dtype=np.float32)
        if not terms or self.size == 0:
            return scores
        for term in terms:
            if term not in self.document_frequency:
                continue
            idf = np.float32(self.idf(term))
            for segment, part in enumerate(self.parts):
                column = part.term_index.get(term)
                if column is None:
                    continue
                start, end = part.indptr[column], part.indptr[column + 1]
                local, values = part.rows[start:end], idf * self._saturation[segment][start:end]
                if self.rows.simple:
                    scores[local] += values  # a passage appears once per term's postings: no duplicate indices
                    continue
                rows = self.rows.to_global(segment, local)
                if self.rows.live[segment] is not None:
                    keep = rows >= 0
                    rows, values = rows[keep], values[keep]
                scores[rows] += values
        return scores

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
