"""A large synthetic snapshot made from a real one, to measure search latency at scale.

Why synthetic: encoding 100k real passages takes about an hour on this machine's 2 cores, and latency depends on
the index's size and structure, not on the exact text. Each synthetic passage reuses a real passage's text (so BM25
postings have a realistic shape) and a noisy copy of its vector; resources copy real metadata, so filters are as
selective as on real content.

The noise: a copy is `(1 - w) * own + w * other + gaussian`, renormalised, where `other` is another random real
passage's vector, `w` is uniform in [0, MIX) and the gaussian has norm about NOISE. So the ~N/527 copies of one real
passage do not collapse onto one point (their cosine to their original is ~0.85-0.95, to each other lower) and the
space between topics is filled as a larger real corpus would fill it; an approximate index then has to tell close,
distinct neighbours apart instead of finding one of many near-identical copies.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from nzc_knowledge.index.dense import DenseIndex
from nzc_knowledge.index.lexical import LexicalIndex
from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.text.analysis import lexical_terms

NOISE = 0.35  # norm of the gaussian part of a copy's noise (a unit vector's norm is 1)
MIX = 0.3  # a copy takes up to this share of another random passage's vector


def synthetic_snapshot(source: Snapshot, chunk_count: int, chunks_per_resource: int = 5, seed: int = 0) -> Snapshot:
    """A snapshot of `chunk_count` passages made from `source` (see the module's docstring)."""
    return synthetic_with_vectors(source, chunk_count, chunks_per_resource, seed)[0]


def synthetic_with_vectors(
    source: Snapshot, chunk_count: int, chunks_per_resource: int = 5, seed: int = 0
) -> tuple[Snapshot, dict[str, np.ndarray]]:
    """The synthetic snapshot and the float32 vectors its dense indexes were built from (for exact-search recall)."""
    rng = np.random.default_rng(seed)
    real_chunks = list(source.chunks)
    picks = rng.integers(0, len(real_chunks), size=chunk_count)

    resources, chunks = [], []
    resource_count = (chunk_count + chunks_per_resource - 1) // chunks_per_resource
    for number in range(resource_count):
        template = source.resources[int(rng.integers(0, len(source.resources)))]
        resources.append(dataclasses.replace(template, id=f"synthetic-{number}", text="", title=f"{template.title} #{number}"))
    terms_cache: dict[int, list[str]] = {}
    for row, pick in enumerate(picks.tolist()):
        original = real_chunks[pick]
        resource_id = f"synthetic-{row // chunks_per_resource}"
        chunks.append(dataclasses.replace(original, id=f"{resource_id}#{row}", resource_id=resource_id, ordinal=row % chunks_per_resource))
        if pick not in terms_cache:
            terms_cache[pick] = lexical_terms(original.text, original.language)
    for number, resource in enumerate(resources):
        # A body as long as a real one: its passages' texts (disk figures count resource bodies too).
        resource.text = "\n\n".join(chunk.text for chunk in chunks[number * chunks_per_resource : (number + 1) * chunks_per_resource])
    terms = [terms_cache[pick] for pick in picks.tolist()]
    manifest = dict(source.manifest, snapshot_id=f"synthetic-{chunk_count}", counts={"resources": len(resources), "chunks": len(chunks)})
    vectors = {"dense": _noisy_copies(source.dense.all_vectors(), picks, rng)}
    if source.multilingual is not None:
        vectors["multilingual"] = _noisy_copies(source.multilingual.all_vectors(), picks, rng)
    snapshot = Snapshot(
        manifest=manifest,
        resources=resources,
        chunks=chunks,
        dense=DenseIndex.build(vectors["dense"]),
        lexical=LexicalIndex.build(terms),
        vocabulary=source.vocabulary,
        extras={},
        multilingual=DenseIndex.build(vectors["multilingual"]) if "multilingual" in vectors else None,
    )
    return snapshot, vectors


def _noisy_copies(vectors: np.ndarray, picks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    base = np.asarray(vectors, dtype=np.float32)
    copies = np.empty((len(picks), base.shape[1]), dtype=np.float32)
    for start in range(0, len(picks), 65_536):  # in blocks: the float64 temporaries of 1M rows would not fit
        block = picks[start : start + 65_536]
        weight = rng.uniform(0, MIX, size=(len(block), 1)).astype(np.float32)
        others = base[rng.integers(0, len(base), size=len(block))]
        noise = rng.normal(scale=NOISE / np.sqrt(base.shape[1]), size=(len(block), base.shape[1])).astype(np.float32)
        mixed = (1 - weight) * base[block] + weight * others + noise
        copies[start : start + len(block)] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    return copies
