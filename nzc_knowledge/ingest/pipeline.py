"""The ingest pipeline: a content folder in, a new current snapshot out, with a report on every file.

    files -> extract -> Resource (manifest + inferred metadata) -> chunks -> vectors -> tags -> snapshot
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
import dataclasses
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

import nzc_knowledge
from nzc_knowledge.encoders import Encoder, default_model_cache
from nzc_knowledge.errors import BrokenSnapshot, ExtractionError, OutdatedSnapshot
from nzc_knowledge.index.dense import DenseIndex
from nzc_knowledge.index.lexical import LexicalIndex
from nzc_knowledge.index.snapshot import Snapshot, save_incremental
from nzc_knowledge.index.store import SnapshotStore
from nzc_knowledge.ingest.chunk import Chunker, ChunkerSettings
from nzc_knowledge.ingest.extract.isolation import ExtractionLimits, IsolatedExtractor
from nzc_knowledge.ingest.sources import SourceFile, discover
from nzc_knowledge.ingest.tag import Tagger, TaggerSettings, tagger_fingerprint
from nzc_knowledge.models import Chunk, ExtractedDoc, IngestReport, Resource, SkippedFile, Tag
from nzc_knowledge.taxonomy import TAG_FAMILIES
from nzc_knowledge.text.analysis import lexical_terms, surface_words
from nzc_knowledge.text.language import detect_language

logger = logging.getLogger(__name__)

NEAR_DUPLICATE_SIMILARITY = 0.97  # mean-vector cosine above which two resources are reported as near-duplicates
PIPELINE_VERSION = 5  # bump when extraction, chunking, analysis, tagging or the snapshot format changes what an index holds (3: passage tagger; 4: format 2; 5: format 3, segments)
Progress = Callable[[str, int, int], None]  # (stage, done, total)
SnapshotExtension = Callable[[list[Resource]], dict[str, Any]]  # extra snapshot parts computed from resources


@dataclass
class IngestSettings:
    chunker: ChunkerSettings = field(default_factory=ChunkerSettings)
    tagger: TaggerSettings = field(default_factory=TaggerSettings)
    batch_size: int = 32
    keep_snapshots: int = 5
    tag_resources: bool = True  # off for benchmark corpora (SciFact) that have no climate taxonomy to tag
    limits: ExtractionLimits = field(default_factory=ExtractionLimits)  # what one file may cost to extract
    # where the tagger keeps its label phrases' vectors per encoder (NZC_MODEL_CACHE; None: encoded every run)
    model_cache: Path | None = field(default_factory=default_model_cache)


def embedding_text(resource: Resource, chunk: Chunk) -> str:
    """What the encoder sees for a chunk: the resource title gives context the passage itself may lack."""
    return f"{resource.title}\n{chunk.text}" if not chunk.text.startswith(resource.title) else chunk.text


def lexical_text(resource: Resource, chunk: Chunk) -> str:
    return f"{resource.title}\n{chunk.text}"


def build_resource(source: SourceFile, document) -> Resource:
    """Metadata from the manifest where given, inferred where honest (title, language), otherwise empty."""
    fields = dict(source.entry.fields) if source.entry else {}
    inferred: list[str] = []
    resource_id = source.entry.id if source.entry else f"doc-{source.fingerprint[:16]}"
    title = fields.get("title")
    if not title:
        title = document.title or source.path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
        inferred.append("title")
    language = fields.get("language")
    if not language:
        language = detect_language(document.text)
        if language:
            inferred.append("language")
    resource = Resource(
        id=resource_id,
        file=source.relative,
        title=title,
        type=fields.get("type"),
        city=fields.get("city"),
        country=fields.get("country"),
        language=language,
        year=fields.get("year"),
        url=fields.get("url"),
        text=document.text,
        page_count=document.page_count,
        format=document.format,
        fingerprint=source.fingerprint,
        inferred=inferred,
    )
    for family in TAG_FAMILIES:
        if family in fields:
            setattr(resource, family, [Tag(key=key, confidence=1.0, source="curated") for key in fields[family]])
    return resource


def source_fingerprint(files: dict[str, str], entries: dict[str, dict[str, Any]], settings: dict[str, Any]) -> str:
    """One hash of the input files, their manifest metadata and the settings that shape the index."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for relative in sorted(files):
        digest.update(f"{relative}\0{files[relative]}\0".encode())
        digest.update(json.dumps(entries.get(relative, {}), sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


@dataclass
class IncrementalBase:
    """The snapshot an incremental build adds a segment to, and the resources it keeps from it."""

    snapshot: Snapshot
    folder: Path
    kept: set[str]  # ids of the resources of unchanged files


def file_key(source: SourceFile) -> str:
    """Identity of a file's content and metadata: its bytes' hash and its manifest entry."""
    entry = json.dumps(source.entry.fields if source.entry else {}, sort_keys=True, ensure_ascii=False)
    identity = source.entry.id if source.entry else ""
    return hashlib.sha256(f"{source.fingerprint}\0{identity}\0{entry}".encode()).hexdigest()


def _reusable_files(previous: Snapshot, sources: list[SourceFile]) -> dict[str, Resource]:
    """Unchanged files (same bytes and manifest entry): their resources (metadata and tags), read from the previous
    snapshot's metadata only. Their passages, vectors and indexes stay in the previous snapshot's segments, which
    the new version shares, so nothing of them is read or re-embedded."""
    keys = previous.manifest.get("source_keys", {})
    by_file = {resource.file: position for position, resource in enumerate(previous.resources)}
    reuse = {}
    for source in sources:
        position = by_file.get(source.relative)
        if position is None or keys.get(source.relative) != file_key(source):
            continue
        reuse[source.relative] = dataclasses.replace(previous.resources[position])
    return reuse


def publish_segment(store: SnapshotStore, base: IncrementalBase, snapshot: Snapshot, fingerprint: str) -> tuple[str, int, int]:
    """Publish `base` plus one new segment; return (snapshot id, new passages, passages marked deleted).

    `snapshot` (in memory) holds every live resource in source order but only the passages of resources not in
    `base.kept`; `base`'s passages of resources not kept (changed or removed files) are marked deleted. The
    vocabulary is `base`'s minus the deleted passages' words plus the new ones', as a full rebuild would count it.
    """
    previous = base.snapshot
    addition = dataclasses.replace(
        snapshot, resources=[resource for resource in snapshot.resources if resource.id not in base.kept])
    removed = [previous.resource_chunks[row] for row, resource in enumerate(previous.resources)
               if resource.id not in base.kept]
    removed_rows = np.concatenate(removed).astype(np.int64) if removed else np.empty(0, dtype=np.int64)
    vocabulary = Counter(previous.vocabulary)
    for start in range(0, len(removed_rows), 10_000):
        vocabulary.subtract(word for text in previous.chunk_text(removed_rows[start : start + 10_000].tolist())
                            for word in surface_words(text))
    vocabulary.update(snapshot.vocabulary)
    with store.build(fingerprint) as (snapshot_id, folder):
        manifest = dict(snapshot.manifest, snapshot_id=snapshot_id)
        save_incremental(folder, base.folder, previous, snapshot.resources, addition, removed_rows, manifest,
                         {word: count for word, count in vocabulary.items() if count > 0}, snapshot.extras)
    return snapshot_id, len(addition.chunks), len(removed_rows)


def _duplicates_of_unchanged(base: IncrementalBase, snapshot: Snapshot, candidates: int = 20,
                             threshold: float = NEAR_DUPLICATE_SIMILARITY) -> set[tuple[str, str, float]]:
    """Near-duplicate pairs of a new resource and an unchanged one: the unchanged resources owning the passages
    nearest to each new resource's mean vector are compared by mean vector (no pass over the whole index)."""
    previous, pairs = base.snapshot, set()
    new_vectors = snapshot.dense.all_vectors()
    rows_of: dict[str, list[int]] = {}
    for row, chunk in enumerate(snapshot.chunks):
        rows_of.setdefault(chunk.resource_id, []).append(row)
    for resource_id, rows in rows_of.items():
        centroid = new_vectors[rows].sum(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        hits, _ = previous.dense.search(centroid, candidates)
        for owner in sorted({int(previous.chunk_resource[hit]) for hit in hits.tolist()}):
            other = previous.resources[owner].id
            if other not in base.kept:
                continue
            theirs = previous.dense.vectors_of(previous.resource_chunks[owner]).sum(axis=0)
            score = float(centroid @ theirs) / max(float(np.linalg.norm(theirs)), 1e-12)
            if score >= threshold:
                first, second = sorted((resource_id, other))
                pairs.add((first, second, round(score, 4)))
    return pairs


def near_duplicates(
    resources: list[Resource], chunks: list[Chunk], vectors: np.ndarray, threshold: float = NEAR_DUPLICATE_SIMILARITY
) -> list[tuple[str, str, float]]:
    """Pairs of resources whose mean passage vectors are nearly identical (the same case study republished)."""
    if len(resources) < 2:
        return []
    position = {resource.id: row for row, resource in enumerate(resources)}
    sums = np.zeros((len(resources), vectors.shape[1]), dtype=np.float32)
    np.add.at(sums, [position[chunk.resource_id] for chunk in chunks], vectors)
    centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    index = faiss.IndexFlatIP(centroids.shape[1])
    index.add(centroids)
    scores, neighbours = index.search(centroids, min(3, len(resources)))
    pairs = set()
    for row in range(len(resources)):
        for score, other in zip(scores[row], neighbours[row], strict=True):
            if other != row and other >= 0 and score >= threshold:
                first, second = sorted((resources[row].id, resources[int(other)].id))
                pairs.add((first, second, round(float(score), 4)))
    return sorted(pairs)


def chunk_language(text: str, resource_language: str | None) -> str | None:
    """A passage's own language when it is clearly another than its resource's (quotes, bilingual reports)."""
    if len(text.split()) < 25:
        return resource_language
    detected = detect_language(text, default=resource_language, min_confidence=0.95)
    return detected or resource_language


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


class IngestPipeline:
    """Turns a content folder into a new current snapshot.

    Example:
        pipeline = IngestPipeline(load_encoder())
        report = pipeline.run(Path("ingest"), SnapshotStore(Path("indexes")))
    """

    def __init__(
        self,
        encoder: Encoder,
        settings: IngestSettings | None = None,
        extensions: dict[str, SnapshotExtension] | None = None,
        multilingual_encoder: Encoder | None = None,
    ) -> None:
        self.encoder = encoder
        self.multilingual_encoder = multilingual_encoder
        self.settings = settings or IngestSettings()
        self.settings.chunker.validate(encoder.info.max_seq_length)
        self.chunker = Chunker(self.settings.chunker, encoder.count_tokens)
        self.tagger = Tagger(encoder, self.settings.tagger, multilingual_encoder=multilingual_encoder,
                             phrase_cache=self.settings.model_cache)
        self.extensions = extensions or {}

    def run(
        self, source_dir: Path, store: SnapshotStore, progress: Progress | None = None, full: bool = False
    ) -> IngestReport:
        """Ingest every file of `source_dir` into a new current snapshot of `store`.

        Incremental by default: files whose bytes and manifest entry are unchanged since the current snapshot keep
        their extracted text, chunks, vectors and tags; only new or changed files are extracted and embedded, and
        deleted files leave the index. The new version shares the previous one's segments (hard links), adds one
        segment for the new and changed files and marks the passages of changed and removed files deleted. A change of encoder, chunker, tagger or pipeline version forces a full
        rebuild, and the report says why.
        """
        started = time.perf_counter()
        report = IngestReport()
        notify = progress or (lambda stage, done, total: None)
        sources, manifest_errors, refused = discover(source_dir, self.settings.limits.max_file_bytes)
        report.manifest_errors = manifest_errors
        report.skipped.extend(refused)
        previous = None if full else self._reusable_snapshot(store, report)
        if full:
            report.notes.append("full rebuild: requested")
        keys = {source.relative: file_key(source) for source in sources}
        fingerprint = source_fingerprint(keys, {}, self.settings_record())
        if previous is not None and self._same_content(previous, fingerprint):
            return self._unchanged(previous, report, started)
        reuse = _reusable_files(previous, sources) if previous else {}
        resources, chunks = self._extract_and_chunk(sources, report, notify, reuse)
        if not resources:
            raise ExtractionError(f"nothing to index: no usable document in {source_dir}")
        base = None
        if previous is not None:
            current_files = {source.relative for source in sources}
            report.removed = sorted(set(previous.manifest.get("source_keys", {})) - current_files)
            kept = {reuse[relative].id for relative in report.unchanged if relative in reuse}
            base = IncrementalBase(previous, store.path(previous.id), kept)
        return self._finish(resources, chunks, fingerprint, keys, store, report, notify, started, base=base)

    def _reusable_snapshot(self, store: SnapshotStore, report: IngestReport) -> Snapshot | None:
        """The current snapshot if it was built with the same settings; otherwise None and a note saying why."""
        snapshot_id = store.current_id()
        if snapshot_id is None:
            report.notes.append("full build: no previous snapshot")
            return None
        try:
            previous = Snapshot.load(store.path(snapshot_id), mmap=True)
        except (BrokenSnapshot, OutdatedSnapshot, OSError, ValueError, KeyError) as error:
            report.notes.append(f"full rebuild: the current snapshot {snapshot_id} cannot be read ({error})")
            return None
        recorded = previous.manifest.get("settings", {})
        changed = [name for name, value in self.settings_record().items() if recorded.get(name) != value]
        if changed:
            details = ", ".join(
                f"{name} changed ({_short(recorded.get(name))} -> {_short(self.settings_record()[name])})" for name in changed
            )
            report.notes.append(f"full rebuild: {details}")
            return None
        report.notes.append(f"incremental: unchanged files reuse snapshot {snapshot_id}")
        return previous

    def _same_content(self, previous: Snapshot, fingerprint: str) -> bool:
        """Whether a build would reproduce `previous`: same files, manifest entries, settings and extensions.

        Why: publishing an identical snapshot would push real rollback targets out of the retained ones.
        """
        if previous.manifest.get("source_fingerprint") != fingerprint:
            return False
        if sorted(self.extensions) != sorted(previous.extras):
            return False
        # Extensions read inputs outside the fingerprint (e.g. the city registry): recompute and compare.
        fresh = {name: json.loads(json.dumps(extension(previous.resources), ensure_ascii=False))
                 for name, extension in self.extensions.items()}
        return fresh == previous.extras

    def _unchanged(self, previous: Snapshot, report: IngestReport, started: float) -> IngestReport:
        report.outcome = "unchanged"
        report.snapshot_id = previous.id
        report.unchanged = sorted(previous.manifest.get("source_keys", {}))
        report.chunk_count = len(previous.chunks)
        report.notes.append(f"unchanged: content and settings match snapshot {previous.id}; nothing published")
        report.seconds = time.perf_counter() - started
        return report

    def run_documents(
        self,
        documents: list[tuple[Resource, ExtractedDoc]],
        store: SnapshotStore,
        fingerprint: str,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Index documents that are already extracted (e.g. a BEIR corpus) with the production pipeline."""
        started = time.perf_counter()
        report = IngestReport()
        notify = progress or (lambda stage, done, total: None)
        resources, chunks = [], []
        for done, (resource, document) in enumerate(documents, start=1):
            resource_chunks = self.chunker.split(resource.id, document)
            for chunk in resource_chunks:
                chunk.language = chunk_language(chunk.text, resource.language)
            resources.append(resource)
            chunks.extend(resource_chunks)
            report.ingested.append(resource.id)
            notify("extract", done, len(documents))
        return self._finish(resources, chunks, fingerprint, {}, store, report, notify, started)

    def settings_record(self) -> dict[str, Any]:
        """Everything that changes the index for the same input; part of the source fingerprint."""
        return {
            "chunker": self.settings.chunker.to_dict(),
            "tagger": asdict(self.settings.tagger),
            "encoder": asdict(self.encoder.info),
            "multilingual_encoder": asdict(self.multilingual_encoder.info) if self.multilingual_encoder else None,
            "tagger_knowledge": tagger_fingerprint(),  # fitted weights and label knowledge (tag.py)
            "pipeline_version": PIPELINE_VERSION,
        }

    def _finish(
        self,
        resources: list[Resource],
        chunks: list[Chunk],
        fingerprint: str,
        sources: dict[str, str],
        store: SnapshotStore,
        report: IngestReport,
        notify: Progress,
        started: float,
        base: IncrementalBase | None = None,
    ) -> IngestReport:
        """Embed, tag and index the new passages (`chunks`: those of new and changed files only; unchanged files
        bring their resource and no passage), then publish: the whole snapshot, or (with `base`) a new segment for
        them beside `base`'s segments, whose passages of changed and removed files are marked deleted."""
        by_id = {resource.id: resource for resource in resources}
        texts = [embedding_text(by_id[chunk.resource_id], chunk) for chunk in chunks]
        # What the stages after encoding load needs no vector: loaded meanwhile in a thread, it fills the time the
        # encoders leave the interpreter free (ONNX Runtime and numpy release the GIL).
        languages = [chunk.language or by_id[chunk.resource_id].language for chunk in chunks]
        preparing = threading.Thread(target=self._prepare, args=(languages,), name="nzc-ingest-prepare", daemon=True)
        preparing.start()
        notify("embed", 0, len(texts))
        encode_started = time.perf_counter()
        vectors = self._encode(texts, notify)
        multilingual = self._multilingual_vectors(texts, notify)
        report.encode_seconds = time.perf_counter() - encode_started  # both encoders, as bench ingest's baseline
        preparing.join()
        if self.settings.tag_resources:
            new_ids = {chunk.resource_id for chunk in chunks}
            self._tag([resource for resource in resources if resource.id in new_ids], chunks, vectors, notify, multilingual)
        report.near_duplicates = near_duplicates(resources, chunks, vectors)
        notify("index", 0, 1)
        snapshot = self._snapshot(resources, chunks, vectors, fingerprint, sources, report)
        if multilingual is not None:
            snapshot.multilingual = DenseIndex.build(multilingual)
        snapshot_id, live_chunks = self._publish(snapshot, store, fingerprint, base, report)
        store.prune(self.settings.keep_snapshots)
        notify("index", 1, 1)
        report.snapshot_id = snapshot_id
        report.chunk_count = live_chunks
        report.embedded_chunks = len(chunks)
        report.seconds = time.perf_counter() - started
        return report

    def _prepare(self, languages: list[str | None]) -> None:
        """Load what tagging and the extensions read, before they run: the tagger's spaCy tokenizers and phrase
        matchers of these passage languages, and whatever an extension caches per process (an extension is a pure
        function of the resources; called with none, city profiles build the registry's name index and keep it).
        Failures are left to the stage itself, which loads again and reports them."""
        try:
            if self.settings.tag_resources:
                self.tagger.prepare_matchers(languages)
            for extension in self.extensions.values():
                extension([])
        except Exception as error:  # noqa: BLE001 - only a head start: the stage that needs it raises it properly
            logger.debug("preparing tagging and extensions failed (left to the stages): %s", error)

    def _publish(self, snapshot: Snapshot, store: SnapshotStore, fingerprint: str, base: IncrementalBase | None,
                 report: IngestReport) -> tuple[str, int]:
        """Write and publish the new version; return its id and live passage count.

        Without a base the snapshot is written whole (one segment). With one, `snapshot` holds every resource but
        only the new passages: they become one new segment, and the base's passages of resources not kept are
        marked deleted, so one changed file writes one small segment and the version's metadata files.
        """
        if base is None:
            with store.build(fingerprint) as (snapshot_id, folder):
                snapshot.manifest["snapshot_id"] = snapshot_id
                snapshot.save(folder)
            return snapshot_id, len(snapshot.chunks)
        kept_pairs = [pair for pair in base.snapshot.manifest.get("near_duplicates", [])
                      if pair[0] in base.kept and pair[1] in base.kept]
        report.near_duplicates = sorted({tuple(pair) for pair in kept_pairs} | set(report.near_duplicates)
                                        | _duplicates_of_unchanged(base, snapshot))
        snapshot.manifest["near_duplicates"] = [list(pair) for pair in report.near_duplicates]
        snapshot_id, added, removed = publish_segment(store, base, snapshot, fingerprint)
        report.notes.append(f"segments: {added} new passages in a new segment, "
                            f"{removed} passages of changed or removed files marked deleted")
        return snapshot_id, len(base.snapshot.chunks) - removed + added

    def _extract_and_chunk(
        self, sources: list[SourceFile], report: IngestReport, notify: Progress, reuse: dict[str, Resource]
    ) -> tuple[list[Resource], list[Chunk]]:
        """Resources of every usable file, and the chunks of the files that are not reused unchanged."""
        resources: list[Resource] = []
        chunks: list[Chunk] = []
        seen_content: dict[str, str] = {}
        seen_ids: set[str] = set()
        with IsolatedExtractor(self.settings.limits) as extractor:
            # Queued up front (one file per content): the worker extracts the next file while this process chunks.
            jobs, queued = {}, {source.fingerprint for source in sources if source.relative in reuse}
            for source in sources:
                if source.fingerprint not in queued:
                    queued.add(source.fingerprint)
                    jobs[source.relative] = extractor.submit(source.path)
            for done, source in enumerate(sources, start=1):
                notify("extract", done, len(sources))
                if source.fingerprint in seen_content:
                    report.skipped.append(
                        SkippedFile(source.relative, f"duplicate of {seen_content[source.fingerprint]} (same bytes)"))
                    continue
                reused = reuse.get(source.relative)
                if reused is not None and reused.id not in seen_ids:
                    seen_ids.add(reused.id)
                    seen_content[source.fingerprint] = source.relative
                    resources.append(reused)
                    report.unchanged.append(source.relative)
                    continue
                job = jobs.get(source.relative) or extractor.submit(source.path)
                document = self._extracted(extractor, job, source, report)
                if document is not None:
                    self._add(source, document, report, resources, chunks, seen_ids, seen_content)
        return resources, chunks

    @staticmethod
    def _extracted(extractor: IsolatedExtractor, job, source: SourceFile, report: IngestReport) -> ExtractedDoc | None:
        """The file's document, or None with the reason in the report (a bad file never sinks the batch)."""
        try:
            return extractor.result(job)
        except ExtractionError as error:
            report.skipped.append(SkippedFile(source.relative, str(error)))
            logger.info("skipped %s: %s", source.relative, error)
        except Exception as error:  # a converter bug: report it like a bad file
            report.skipped.append(SkippedFile(source.relative, f"could not be read ({type(error).__name__}: {error})"))
            logger.warning("converter failed on %s: %s", source.relative, error)
        return None

    def _add(
        self,
        source: SourceFile,
        document: ExtractedDoc,
        report: IngestReport,
        resources: list[Resource],
        chunks: list[Chunk],
        seen_ids: set[str],
        seen_content: dict[str, str],
    ) -> None:
        """Add one extracted file's resource and chunks (unless its id is taken)."""
        resource = build_resource(source, document)
        if resource.id in seen_ids:
            report.skipped.append(SkippedFile(source.relative, f"id {resource.id!r} is already used by another file"))
            return
        resource_chunks = self.chunker.split(resource.id, document)
        for chunk in resource_chunks:
            chunk.language = chunk_language(chunk.text, resource.language)
        seen_ids.add(resource.id)
        seen_content[source.fingerprint] = source.relative
        resources.append(resource)
        chunks.extend(resource_chunks)
        report.ingested.append(source.relative)

    def _multilingual_vectors(self, texts: list[str], notify: Progress) -> np.ndarray | None:
        """Vectors of the multilingual encoder for the same embedding texts, or None without one."""
        if self.multilingual_encoder is None:
            return None
        vectors = np.zeros((len(texts), self.multilingual_encoder.info.dimension), dtype=np.float32)
        batch = self._texts_per_call(self.multilingual_encoder)
        for start in range(0, len(texts), batch):
            vectors[start : start + batch] = self.multilingual_encoder.encode_passages(
                texts[start : start + batch], batch_size=self.settings.batch_size)
            notify("embed multilingual", min(start + batch, len(texts)), len(texts))
        return vectors

    def _texts_per_call(self, encoder: Encoder) -> int:
        """Passages per encode call: a few batches (progress moves), or as many as a bulk encoder asks for (Ray)."""
        return getattr(encoder, "texts_per_call", None) or max(1, self.settings.batch_size) * 8

    def _encode(self, texts: list[str], notify: Progress) -> np.ndarray:
        batch = self._texts_per_call(self.encoder)
        parts = []
        for start in range(0, len(texts), batch):
            parts.append(self.encoder.encode_passages(texts[start : start + batch], batch_size=self.settings.batch_size))
            notify("embed", min(start + batch, len(texts)), len(texts))
        if not parts:
            return np.zeros((0, self.encoder.info.dimension), dtype=np.float32)
        return np.vstack(parts)

    def _tag(self, resources: list[Resource], chunks: list[Chunk], vectors: np.ndarray, notify: Progress,
             multilingual: np.ndarray | None = None) -> None:
        """Tag the given resources (new or changed ones; reused resources keep their stored tags); non-English
        passages are scored with the multilingual vectors when the index has them."""
        rows_of: dict[str, list[int]] = {}
        for row, chunk in enumerate(chunks):
            rows_of.setdefault(chunk.resource_id, []).append(row)
        for done, resource in enumerate(resources, start=1):
            rows = rows_of.get(resource.id, [])
            resource_tags, chunk_tags = self.tagger.tag([chunks[row] for row in rows], vectors[rows], resource.language,
                                                        None if multilingual is None else multilingual[rows])
            resource.predicted = resource_tags
            for family, tags in resource_tags.items():
                if not getattr(resource, family):  # curated tags from the manifest win over predictions
                    setattr(resource, family, tags)
            for row, tags in zip(rows, chunk_tags, strict=True):
                chunks[row].tags = {family: [[tag.key, tag.confidence] for tag in items] for family, items in tags.items() if items}
            notify("tag", done, len(resources))

    def _snapshot(
        self,
        resources: list[Resource],
        chunks: list[Chunk],
        vectors: np.ndarray,
        fingerprint: str,
        sources: dict[str, str],
        report: IngestReport,
    ) -> Snapshot:
        by_id = {resource.id: resource for resource in resources}
        terms = [lexical_terms(lexical_text(by_id[chunk.resource_id], chunk), chunk.language) for chunk in chunks]
        vocabulary = Counter(word for chunk in chunks for word in surface_words(chunk.text))
        dense = DenseIndex.build(vectors)
        manifest = {
            "snapshot_id": None,
            "package": "nzc-knowledge",
            "package_version": nzc_knowledge.__version__,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "encoder": asdict(self.encoder.info),
            "multilingual_encoder": asdict(self.multilingual_encoder.info) if self.multilingual_encoder else None,
            "chunker": self.settings.chunker.to_dict(),
            "tagger": asdict(self.settings.tagger),
            "dense_index": {"library": "faiss", "type": dense.kind, "metric": "inner_product"},
            "lexical_index": {"library": "nzc_knowledge.index.lexical", "method": "lucene", "k1": 1.2, "b": 0.75, "statistics": "all live passages", "analysis": "per-language Snowball stems, spaCy stop words"},
            "counts": {
                "resources": len(resources),
                "chunks": len(chunks),
                "skipped_files": len(report.skipped),
                "manifest_errors": len(report.manifest_errors),
            },
            "source_fingerprint": fingerprint,
            "pipeline_version": PIPELINE_VERSION,
            "settings": self.settings_record(),
            "source_keys": sources,
            "near_duplicates": [list(pair) for pair in report.near_duplicates],
            "skipped": [asdict(item) for item in report.skipped],
        }
        extras = {name: extension(resources) for name, extension in self.extensions.items()}
        return Snapshot(
            manifest=manifest,
            resources=resources,
            chunks=chunks,
            dense=dense,
            lexical=LexicalIndex.build(terms),
            vocabulary=dict(vocabulary),
            extras=extras,
        )
