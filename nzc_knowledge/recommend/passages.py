"""passages(Q, P): how closely one city's resources treat what another city's resources treat.

Compares the snapshot's own passage embeddings (no model at query time): a resource's vector is the
mean of its chunk vectors; only resources with a tag take part (no climate content, no say);
vectors are centred per language (even a multilingual encoder places same-language texts a little
closer); a pair's similarity is rescaled so the corpus' median cross-city pair is 0 and identical is
1; a city's score is `(1 - b) * mean over Q's resources of the best match among P's + b * best pair`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import numpy as np

from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.models import Resource
from nzc_knowledge.taxonomy import TAG_FAMILIES

PASSAGE_VECTORS = "multilingual"  # which of the snapshot's dense indexes is compared ("dense" or "multilingual")
MIN_LANGUAGE_RESOURCES = 3  # a language with fewer embedded resources is centred on the corpus mean
VECTOR_BLOCK = 65_536  # passages decoded at a time when averaging per resource
BASELINE_SAMPLE = 2000  # resources sampled to find the median cross-city similarity of a large corpus


class VectorSource(Protocol):
    """Where stored passage vectors are read: the snapshot's own indexes, or a retrieval backend that holds them
    (Milvus). Search's `RetrievalBackend` has this shape; recommend only names the two methods it uses, so the two
    sibling parts stay apart."""

    def has(self, space: str) -> bool:
        """Whether vectors of `space` ("dense" or "multilingual") are held."""
        ...

    def passage_vectors(self, space: str, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of passage `rows` in `space`, in the order given."""
        ...


class SnapshotVectors:
    """The snapshot's own FAISS indexes as a vector source."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def has(self, space: str) -> bool:
        return space == "dense" or self.snapshot.multilingual is not None

    def passage_vectors(self, space: str, rows: np.ndarray) -> np.ndarray:
        index = self.snapshot.dense if space == "dense" else self.snapshot.multilingual
        return index.vectors_of(rows)


def resource_vectors(snapshot: Snapshot, source: str = PASSAGE_VECTORS,
                     backend: VectorSource | None = None) -> dict[str, np.ndarray]:
    """Resource id -> mean of its chunk vectors (unit length), from the `source` vectors of `backend`.

    `backend` None: the snapshot's own indexes. `source` "multilingual" falls back to the dense vectors when the
    snapshot was built without them.
    """
    if source not in ("dense", "multilingual"):
        raise ValueError(f"unknown passage vectors {source!r}; choose dense or multilingual")
    backend = backend or SnapshotVectors(snapshot)
    space = "multilingual" if source == "multilingual" and backend.has("multilingual") else "dense"
    index = snapshot.multilingual if space == "multilingual" else snapshot.dense
    result: dict[str, np.ndarray] = {}
    size = len(snapshot.chunk_resource)
    if size == 0:
        return result
    # Sums per resource over blocks of passages: the vectors are read a block at a time, so a quantized
    # million-passage index is never expanded to float32 all at once (nor read from Milvus in one answer).
    owner = np.asarray(snapshot.chunk_resource)
    sums = np.zeros((len(snapshot.resources), index.dimension), dtype=np.float64)
    for start in range(0, size, VECTOR_BLOCK):
        rows = np.arange(start, min(start + VECTOR_BLOCK, size))
        order = np.argsort(owner[rows], kind="stable")
        owners = owner[rows][order]
        firsts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        vectors = backend.passage_vectors(space, rows[order]).astype(np.float64)
        sums[owners[firsts]] += np.add.reduceat(vectors, firsts, axis=0)
    counts = np.bincount(owner, minlength=len(snapshot.resources))
    for row, resource in enumerate(snapshot.resources):
        if counts[row]:
            mean = (sums[row] / counts[row]).astype(np.float32)
            norm = float(np.linalg.norm(mean))
            if norm > 0:
                result[resource.id] = mean / norm
    return result


def has_climate_content(resources: Mapping[str, Resource], resource_id: str) -> bool:
    """Whether a resource has any tag (the contract: a page with no climate content gets none)."""
    resource = resources.get(resource_id)
    return resource is None or any(getattr(resource, family) for family in TAG_FAMILIES)


class PassageSimilarity:
    """Resource vectors grouped by content city (rows `offsets[i]:offsets[i+1]`), and the corpus baseline.

    Example:
        passages = PassageSimilarity([["kozani-heat"], ["velenje-heat"]], vectors, resources)
        passages.city_scores(np.array([0]), np.array([1]), best_pair_share=0.75)
    """

    def __init__(
        self, city_resources: Sequence[Sequence[str]], vectors: Mapping[str, np.ndarray],
        resources: Mapping[str, Resource], enabled: bool = True,
    ) -> None:
        ids: list[str] = []
        offsets = [0]
        for members in city_resources:
            # A resource without any tag has no climate content (an events calendar): it says nothing of the challenge.
            ids.extend(rid for rid in members if rid in vectors and has_climate_content(resources, rid))
            offsets.append(len(ids))
        self.ids = ids
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.present = np.diff(self.offsets) > 0
        self.row_of = {rid: row for row, rid in enumerate(ids)}
        self.baseline = 0.0
        if ids and enabled:
            matrix = np.stack([np.asarray(vectors[rid], dtype=np.float32) for rid in ids])
            matrix = _center_languages(matrix, ids, resources)
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            self.matrix = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
            # A contiguous transpose: OpenBLAS multiplies by a transposed view up to 100x slower.
            self.matrix_t = np.ascontiguousarray(self.matrix.T)
            owner = np.repeat(np.arange(len(city_resources)), np.diff(self.offsets))
            sample = np.random.default_rng(0).permutation(len(ids))[:BASELINE_SAMPLE]
            similarity = self.matrix[sample] @ self.matrix[sample].T
            cross_city = owner[sample][:, None] != owner[sample][None, :]
            if cross_city.any():
                self.baseline = float(np.median(similarity[cross_city]))
        else:
            self.matrix = np.zeros((0, 1), dtype=np.float32)
            self.matrix_t = np.zeros((1, 0), dtype=np.float32)
            self.present = np.zeros(len(city_resources), dtype=bool)

    @property
    def empty(self) -> bool:
        """True when no vector was prepared (no vectors given, or built for the tags-only formula)."""
        return self.matrix.size == 0

    def _rescale(self, raw: np.ndarray) -> np.ndarray:
        return np.clip((raw - self.baseline) / (1.0 - self.baseline), 0.0, 1.0)

    def block(self, query_row: int, peer_row: int) -> np.ndarray:
        """Rescaled similarity of one city's resources (rows) to another's (columns)."""
        query = slice(self.offsets[query_row], self.offsets[query_row + 1])
        peer = slice(self.offsets[peer_row], self.offsets[peer_row + 1])
        return self._rescale(self.matrix[query] @ self.matrix_t[:, peer])

    def city_scores(self, query_rows: np.ndarray, candidate_rows: np.ndarray, best_pair_share: float) -> np.ndarray:
        """passages(Q, P), queries x candidates; 0 where either city has no embedded resource."""
        scores = np.zeros((len(query_rows), len(candidate_rows)))
        if not self.present.any():
            return scores
        present = np.flatnonzero(self.present)
        starts = self.offsets[present]
        column_of = {int(row): column for column, row in enumerate(present)}
        candidates = [column_of.get(int(row)) for row in candidate_rows]
        for index, query_row in enumerate(query_rows):
            if not self.present[query_row]:
                continue
            start, end = self.offsets[query_row], self.offsets[query_row + 1]
            per_resource = np.maximum.reduceat(self._rescale(self.matrix[start:end] @ self.matrix_t), starts, axis=1)
            city = (1 - best_pair_share) * per_resource.mean(axis=0) + best_pair_share * per_resource.max(axis=0)
            scores[index] = [city[column] if column is not None else 0.0 for column in candidates]
        return scores

    def best_pair(
        self, query_row: int, peer_row: int, domains_of: Callable[[str], list[str]]
    ) -> tuple[str, str, float] | None:
        """(query resource, peer resource, rescaled similarity) of the closest pair sharing an emission domain."""
        if not (self.present[query_row] and self.present[peer_row]):
            return None
        query_ids = self.ids[self.offsets[query_row]:self.offsets[query_row + 1]]
        peer_ids = self.ids[self.offsets[peer_row]:self.offsets[peer_row + 1]]
        similarity = self.block(query_row, peer_row)
        # Only name a pair that treats a common emission domain: a high similarity without one is more
        # likely two texts in the same language than two cities with the same problem.
        for row, query_id in enumerate(query_ids):
            domains = set(domains_of(query_id))
            for column, peer_id in enumerate(peer_ids):
                if not domains & set(domains_of(peer_id)):
                    similarity[row, column] = -1.0
        row, column = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
        if similarity[row, column] < 0:
            return None
        return query_ids[row], peer_ids[column], float(similarity[row, column])

    def peer_resource_similarity(self, query_row: int, peer_row: int) -> dict[str, float]:
        """Each embedded resource of the peer -> its best similarity to any of the query city's resources."""
        if not (self.present[query_row] and self.present[peer_row]):
            return {}
        best = self.block(query_row, peer_row).max(axis=0)
        start = self.offsets[peer_row]
        return {rid: float(best[self.row_of[rid] - start]) for rid in self.ids[start:self.offsets[peer_row + 1]]}


def _center_languages(matrix: np.ndarray, ids: list[str], resources: Mapping[str, Resource]) -> np.ndarray:
    """Subtract each language's mean vector (the corpus mean for rare languages).

    Why: the English-centric encoder places texts of one language close together whatever their
    topic (two Italian notes on waste and on energy communities look alike); centring per language
    leaves the topic, so an Italian note on afforestation matches an English one on tree planting.
    """
    languages = np.array([(resources[rid].language if rid in resources else None) or "" for rid in ids])
    centred = matrix - matrix.mean(axis=0)
    for language in set(languages.tolist()):
        rows = languages == language
        if language and rows.sum() >= MIN_LANGUAGE_RESOURCES:
            centred[rows] = matrix[rows] - matrix[rows].mean(axis=0)
    return centred
