"""A large synthetic snapshot made from a real one, to measure search latency at scale.

Why synthetic: encoding 100k real passages takes about an hour on this machine's 2 cores, and latency depends on
the index's size and structure, not on the exact text. Each synthetic passage reuses a real passage's text (so BM25
postings have a realistic shape) and a noisy copy of its vector (so the vector space is as clustered as real
content); resources copy real metadata, so filters are as selective as on real content.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from nzc_knowledge.index.dense import DenseIndex
from nzc_knowledge.index.lexical import LexicalIndex
from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.text.analysis import lexical_terms

NOISE = 0.35  # per-dimension noise relative to a unit vector's typical coordinate; keeps copies distinct


def synthetic_snapshot(source: Snapshot, chunk_count: int, chunks_per_resource: int = 5, seed: int = 0) -> Snapshot:
    rng = np.random.default_rng(seed)
    real_chunks = source.chunks
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
    for resource in resources:
        resource.text = ""
    terms = [terms_cache[pick] for pick in picks.tolist()]
    manifest = dict(source.manifest, snapshot_id=f"synthetic-{chunk_count}", counts={"resources": len(resources), "chunks": len(chunks)})
    return Snapshot(
        manifest=manifest,
        resources=resources,
        chunks=chunks,
        dense=DenseIndex.build(_noisy_copies(source.dense.all_vectors(), picks, rng)),
        lexical=LexicalIndex.build(terms),
        vocabulary=source.vocabulary,
        extras={},
        multilingual=DenseIndex.build(_noisy_copies(source.multilingual.all_vectors(), picks, rng)) if source.multilingual else None,
    )


def _noisy_copies(vectors: np.ndarray, picks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    base = np.asarray(vectors, dtype=np.float32)
    noise = rng.normal(scale=NOISE / np.sqrt(base.shape[1]), size=(len(picks), base.shape[1]))
    copies = (base[picks] + noise).astype(np.float32)
    return copies / np.linalg.norm(copies, axis=1, keepdims=True)
