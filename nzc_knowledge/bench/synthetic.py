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
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nzc_knowledge.index.dense import DenseIndex
from nzc_knowledge.index.lexical import LexicalIndex, Postings
from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.models import Chunk, Resource
from nzc_knowledge.text.analysis import lexical_terms

NOISE = 0.35  # norm of the gaussian part of a copy's noise (a unit vector's norm is 1)
MIX = 0.3  # a copy takes up to this share of another random passage's vector


def synthetic_snapshot(source: Snapshot, chunk_count: int, chunks_per_resource: int = 5, seed: int = 0) -> Snapshot:
    """A snapshot of `chunk_count` passages made from `source`, all in memory (see the module's docstring)."""
    return synthetic_with_vectors(source, chunk_count, chunks_per_resource, seed)[0]


def synthetic_with_vectors(
    source: Snapshot, chunk_count: int, chunks_per_resource: int = 5, seed: int = 0
) -> tuple[Snapshot, dict[str, np.ndarray]]:
    """The in-memory synthetic snapshot and the float32 vectors its dense indexes were built from."""
    plan = SyntheticPlan.make(source, chunk_count, chunks_per_resource, seed)
    generated = SyntheticChunks(source, plan)
    chunks = list(generated)
    resources = plan.resources(source)
    texts = [chunk.text for chunk in generated.real]
    for number, resource in enumerate(resources):
        resource.text = plan.resource_text(texts, number)
    vectors = synthetic_vectors(source, plan)
    snapshot = Snapshot(
        manifest=plan.manifest(source),
        resources=resources,
        chunks=chunks,
        dense=DenseIndex.build(vectors["dense"]),
        lexical=LexicalIndex([plan.postings(source)]),
        vocabulary=source.vocabulary,
        extras={},
        multilingual=DenseIndex.build(vectors["multilingual"]) if "multilingual" in vectors else None,
    )
    return snapshot, vectors


@dataclass(frozen=True)
class SyntheticPlan:
    """Which real passage each synthetic passage copies and which real resource each synthetic resource copies.

    Each draw has its own random stream (seeded by `seed` and the stream's number), so the vectors can be drawn
    again from the plan alone: `nzc bench scale --reuse` recomputes exact-search recall without rebuilding.
    """

    chunk_count: int
    chunks_per_resource: int
    seed: int
    picks: np.ndarray  # per synthetic passage, the row of the real passage it copies
    templates: np.ndarray  # per synthetic resource, the row of the real resource whose metadata it copies

    @classmethod
    def make(cls, source: Snapshot, chunk_count: int, chunks_per_resource: int = 5, seed: int = 0) -> SyntheticPlan:
        resource_count = (chunk_count + chunks_per_resource - 1) // chunks_per_resource
        picks = np.random.default_rng([seed, 0]).integers(0, len(source.chunks), size=chunk_count)
        templates = np.random.default_rng([seed, 1]).integers(0, len(source.resources), size=resource_count)
        return cls(chunk_count, chunks_per_resource, seed, picks, templates)

    def describe(self) -> dict[str, int]:
        """What the manifest records (`synthetic`), enough to draw the same plan again from the same source."""
        return {"chunks": self.chunk_count, "chunks_per_resource": self.chunks_per_resource, "seed": self.seed}

    def manifest(self, source: Snapshot) -> dict[str, Any]:
        resource_count = len(self.templates)
        return dict(source.manifest, snapshot_id=f"synthetic-{self.chunk_count}", synthetic=self.describe(),
                    counts={"resources": resource_count, "chunks": self.chunk_count})

    def resources(self, source: Snapshot) -> list[Resource]:
        """The synthetic resources' metadata, without bodies (`resource_text` gives one)."""
        return [dataclasses.replace(source.resources[int(template)], id=f"synthetic-{number}", text="",
                                    title=f"{source.resources[int(template)].title} #{number}")
                for number, template in enumerate(self.templates.tolist())]

    def resource_text(self, texts: Sequence[str], number: int) -> str:
        """A body as long as a real one: its passages' texts (`texts`: the source's passage texts in row order;
        disk figures count resource bodies too)."""
        start = number * self.chunks_per_resource
        return "\n\n".join(texts[pick] for pick in self.picks[start : start + self.chunks_per_resource].tolist())

    def postings(self, source: Snapshot) -> Postings:
        """BM25 postings of the synthetic passages (each real passage's terms analysed once)."""
        analysed = [lexical_terms(chunk.text, chunk.language) for chunk in source.chunks]
        return Postings.build(_Picked(analysed, self.picks))


class _Picked(Sequence):
    """`values[picks[i]]` as a sequence, without a list of a million references."""

    def __init__(self, values: Sequence, picks: np.ndarray) -> None:
        self.values, self.picks = values, picks

    def __len__(self) -> int:
        return len(self.picks)

    def __getitem__(self, row):  # type: ignore[override]
        return self.values[int(self.picks[row])]

    def __iter__(self) -> Iterator:
        for pick in self.picks.tolist():
            yield self.values[pick]


class SyntheticChunks(Sequence[Chunk]):
    """The synthetic passages as a sequence; each `Chunk` is made when asked for (a million are never all held)."""

    def __init__(self, source: Snapshot, plan: SyntheticPlan) -> None:
        self.real = list(source.chunks)
        self.plan = plan

    def __len__(self) -> int:
        return self.plan.chunk_count

    def __getitem__(self, row):  # type: ignore[override]
        if isinstance(row, slice):
            return [self._chunk(number) for number in range(len(self))[row]]
        return self._chunk(int(row))

    def __iter__(self) -> Iterator[Chunk]:
        for row in range(len(self)):
            yield self._chunk(row)

    def _chunk(self, row: int) -> Chunk:
        if not 0 <= row < len(self):
            raise IndexError(f"passage row {row} out of range")
        resource_id = f"synthetic-{row // self.plan.chunks_per_resource}"
        return dataclasses.replace(self.real[int(self.plan.picks[row])], id=f"{resource_id}#{row}",
                                   resource_id=resource_id, ordinal=row % self.plan.chunks_per_resource)


class _SyntheticTexts:
    """Resource bodies made on demand for `Snapshot.save` (the part of `SegmentedTexts` a save reads)."""

    def __init__(self, plan: SyntheticPlan, chunks: SyntheticChunks) -> None:
        self.plan, self.chunks = plan, chunks
        self.real_texts = [chunk.text for chunk in chunks.real]  # read once, not once per body from the store

    def resource_text(self, row: int) -> str:
        return self.plan.resource_text(self.real_texts, row)

    def passage_texts(self, rows: Sequence[int]) -> list[str]:
        return [self.chunks[int(row)].text for row in rows]


def synthetic_vectors(source: Snapshot, plan: SyntheticPlan, names: Sequence[str] = ("dense", "multilingual")
                      ) -> dict[str, np.ndarray]:
    """The float32 unit vectors of the synthetic passages for each named encoder the source has."""
    vectors = {}
    for stream, name in enumerate(("dense", "multilingual"), start=2):
        index = source.dense if name == "dense" else source.multilingual
        if name in names and index is not None:
            vectors[name] = _noisy_copies(index.all_vectors(), plan.picks, np.random.default_rng([plan.seed, stream]))
    return vectors


def write_synthetic(source: Snapshot, plan: SyntheticPlan, folder: Path, snapshot_id: str,
                    log: Callable[[str], None] = lambda message: None,
                    extra_manifest: dict[str, Any] | None = None) -> None:
    """Write the synthetic snapshot into `folder` without holding it all: passages and bodies are made as they are
    written, and each encoder's vectors exist only while its index is built (peak ~ one encoder's float32 vectors)."""
    chunks = SyntheticChunks(source, plan)
    languages = source.passage_languages
    manifest = plan.manifest(source)
    manifest.update(extra_manifest or {}, snapshot_id=snapshot_id)
    started = time.perf_counter()
    postings = plan.postings(source)
    log(f"BM25 postings of {plan.chunk_count} passages in {time.perf_counter() - started:.0f} s")
    indexes = {}
    for name in ("dense", "multilingual"):
        started = time.perf_counter()
        vectors = synthetic_vectors(source, plan, (name,)).get(name)
        if vectors is not None:
            indexes[name] = DenseIndex.build(vectors)
            log(f"{name} index {indexes[name].factory} nprobe {indexes[name].nprobe} in "
                f"{time.perf_counter() - started:.0f} s")
        del vectors
    snapshot = Snapshot(manifest=manifest, resources=plan.resources(source), chunks=chunks, dense=indexes["dense"],
                        lexical=LexicalIndex([postings]), vocabulary=source.vocabulary, extras={},
                        multilingual=indexes.get("multilingual"))
    snapshot.texts = _SyntheticTexts(plan, chunks)  # type: ignore[assignment]
    snapshot.__dict__.update(
        chunk_resource=(np.arange(plan.chunk_count) // plan.chunks_per_resource).astype(np.int32),
        passage_languages=languages,
        chunk_language_codes=np.asarray(source.chunk_language_codes)[plan.picks].astype(np.int16),
    )
    started = time.perf_counter()
    snapshot.save(folder)
    log(f"wrote texts and indexes in {time.perf_counter() - started:.0f} s")


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
