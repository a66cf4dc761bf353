"""One index snapshot: resources, passages in segments, dense + lexical indexes, and the manifest that describes them.

A snapshot is a folder of plain files; `manifest.json` is written last, so a folder without it is an
unfinished build and is never served.

Format 3 (why: a million passages on a 2-core box, and one changed file must not rewrite the index):
    manifest.json           lists the segments in order, each with its passage count and deleted rows
    resource_location.npy   per resource row (source order), (segment position, local resource row) of the
                            segment holding its metadata, passages and body
    vocabulary.json, <extra>.json
    segments/<segment-id>/  immutable segments (see `index/segment.py`): passages, texts, FAISS and BM25 indexes
    deletions/<segment-id>.npy   the local rows of that segment this version no longer serves (sorted int64)
A full build writes one segment. An incremental build writes one new segment for the added and changed files,
hard-links the previous version's segments into its own folder (no byte is copied) and marks the passages of
changed and removed files as deleted. Why hard links rather than references to a shared folder: each snapshot
folder stays complete on its own, so verifying, rolling back and pruning need no reference counting (the file
system frees a segment when the last version linking it is pruned), and a segment can never change under a
reader because nothing is ever written into an existing file.

Above this class there is one row space: the live rows of the first segment, then those of the next (see
`SegmentRows`); deleted rows have no global row, so nothing can return them. BM25 uses statistics over all live
passages and dense hits are merged across segments by score, so a segmented snapshot ranks like a full rebuild.
Format 2 (one `segment/` folder with a bm25s index) is refused with `OutdatedSnapshot`: its BM25 index holds
precomputed scores, which cannot be combined with other segments' statistics.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from nzc_knowledge.errors import BrokenSnapshot, OutdatedSnapshot
from nzc_knowledge.index.dense import DenseIndex
from nzc_knowledge.index.lexical import LexicalIndex, Postings
from nzc_knowledge.index.passages import LazyChunks, SegmentedTexts, TextStore
from nzc_knowledge.index.rows import SegmentRows
from nzc_knowledge.index.segment import Segment, write_segment
from nzc_knowledge.index.segmented import SegmentedDense
from nzc_knowledge.models import Chunk, Resource

logger = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 3: segments with deletion marks, BM25 postings scored with collection-wide statistics
MANIFEST = "manifest.json"
SEGMENTS = "segments"
DELETIONS = "deletions"
RESOURCE_LOCATION = "resource_location.npy"


@dataclass
class Snapshot:
    """Everything a search needs, in memory.

    Example:
        snapshot = Snapshot.load(Path("indexes/snapshots/20261123T190102Z-1a2b3c4d"))
        ids, scores = snapshot.dense.search(query_vector, k=50)
    """

    manifest: dict[str, Any]
    resources: list[Resource]  # loaded: without `text` (see `resource_text`)
    chunks: Sequence[Chunk]  # built: a list; loaded: a LazyChunks reading each passage from the text stores
    dense: DenseIndex | SegmentedDense
    lexical: LexicalIndex
    vocabulary: dict[str, int] = field(default_factory=dict)  # surface word -> frequency, for typo correction
    multilingual: DenseIndex | SegmentedDense | None = None  # second dense index (cross-lingual search)
    extras: dict[str, Any] = field(default_factory=dict)  # optional parts (city profiles ...) keyed by file stem

    @property
    def id(self) -> str:
        return str(self.manifest["snapshot_id"])

    @cached_property
    def resource_index(self) -> dict[str, int]:
        return {resource.id: position for position, resource in enumerate(self.resources)}

    texts: TextStore | SegmentedTexts | None = None  # loaded snapshots: where passage texts and bodies are read from
    segments: list[Segment] = field(default_factory=list)  # loaded snapshots: the segments, in manifest order
    rows: SegmentRows | None = None  # loaded snapshots: global rows <-> (segment, local row)
    resource_location: np.ndarray | None = None  # loaded snapshots: per resource, (segment, local resource row)

    @cached_property
    def chunk_resource(self) -> np.ndarray:
        """For each chunk row, the row of its resource."""
        index = self.resource_index
        return np.fromiter((index[chunk.resource_id] for chunk in self.chunks), dtype=np.int32, count=len(self.chunks))

    @cached_property
    def passage_languages(self) -> list[str | None]:
        """The distinct passage languages; `chunk_language_codes` indexes into this list."""
        return sorted({chunk.language for chunk in self.chunks}, key=lambda language: language or "")

    @cached_property
    def chunk_language_codes(self) -> np.ndarray:
        """For each chunk row, its language as a position in `passage_languages`."""
        code = {language: position for position, language in enumerate(self.passage_languages)}
        return np.fromiter((code[chunk.language] for chunk in self.chunks), dtype=np.int16, count=len(self.chunks))

    def chunk_language(self, row: int) -> str | None:
        """The language of one passage, from the columns in memory (no text is read)."""
        return self.passage_languages[int(self.chunk_language_codes[row])]

    def chunk(self, row: int) -> Chunk:
        """One passage with its text."""
        return self.chunks[int(row)]

    def chunks_of(self, rows: Sequence[int]) -> list[Chunk]:
        """These passages with their texts (one store query per ~900 rows and segment for a loaded snapshot)."""
        if isinstance(self.chunks, LazyChunks):
            return self.chunks.many(rows)
        return [self.chunks[int(row)] for row in rows]

    def chunk_text(self, rows: Sequence[int]) -> list[str]:
        """The texts of these passages, in the order asked."""
        if self.texts is not None:
            return self.texts.passage_texts(rows)
        return [self.chunks[int(row)].text for row in rows]

    def resource_text(self, row: int) -> str:
        """A resource's full extracted text (read from the text store for a loaded snapshot)."""
        if self.texts is not None:
            return self.texts.resource_text(row)
        return self.resources[row].text

    @cached_property
    def resource_chunks(self) -> list[np.ndarray]:
        """For each resource row, its chunk rows in document order."""
        order = np.argsort(self.chunk_resource, kind="stable")
        bounds = np.searchsorted(self.chunk_resource[order], np.arange(len(self.resources) + 1))
        return [order[bounds[i] : bounds[i + 1]] for i in range(len(self.resources))]

    def resource(self, resource_id: str) -> Resource | None:
        position = self.resource_index.get(resource_id)
        return None if position is None else self.resources[position]

    def save(self, folder: Path) -> None:
        """Write all parts as one segment, the manifest last (a full build, or a merge of a segmented snapshot)."""
        if not isinstance(self.dense, DenseIndex) or len(self.lexical.parts) != 1 or not self.lexical.rows.simple:
            raise ValueError("only a snapshot built in memory (one segment, no deletions) is saved whole")
        folder.mkdir(parents=True, exist_ok=True)
        segment_id = str(self.manifest.get("snapshot_id") or "base")
        write_segment(folder / SEGMENTS / segment_id, self.resources,
                      (self.resource_text(row) for row in range(len(self.resources))), self.chunks,
                      self.chunk_resource, self.passage_languages, self.chunk_language_codes, self.dense,
                      self.multilingual, self.lexical.parts[0])
        location = np.column_stack([np.zeros(len(self.resources), dtype=np.int32),
                                    np.arange(len(self.resources), dtype=np.int32)])
        entries = [{"id": segment_id, "passages": len(self.chunks), "deleted": 0}]
        _write_version(folder, self.manifest, self.resources, location, entries, self.vocabulary, self.extras,
                       [self.dense], [self.multilingual] if self.multilingual is not None else [])

    @classmethod
    def load(cls, folder: Path, mmap: bool = False, previous: Snapshot | None = None) -> Snapshot:
        """Read a snapshot folder; `previous`: a loaded version whose segments this one shares by hard link are
        taken over from it instead of read again (a server swapping to an incremental version reads only the new
        segment, whatever the size of the rest)."""
        manifest_path = folder / MANIFEST
        if not manifest_path.exists():
            raise BrokenSnapshot(f"{folder} is not a complete snapshot (no {MANIFEST})")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise OutdatedSnapshot(
                f"snapshot {folder.name} has format version {manifest.get('format_version')}, this engine reads "
                f"format {FORMAT_VERSION}: rebuild the index with `nzc ingest` (or POST /admin/reindex)"
            )
        entries = manifest["segments"]
        segments = [_segment(folder / SEGMENTS / entry["id"], mmap, previous) for entry in entries]
        deleted = [
            np.load(folder / DELETIONS / f"{entry['id']}.npy") if entry.get("deleted") else np.empty(0, dtype=np.int64)
            for entry in entries
        ]
        rows = SegmentRows([segment.size for segment in segments], deleted)
        location = np.load(folder / RESOURCE_LOCATION)
        # Each resource's metadata is read from the segment holding it (unchanged ones are never rewritten).
        resources = [segments[int(segment)].resources[int(local)] for segment, local in location.tolist()]
        languages = sorted({language for segment in segments for language in segment.languages},
                           key=lambda language: language or "")
        chunk_resource, language_codes = _columns(segments, rows, location, languages, folder.name)
        texts = SegmentedTexts([segment.texts for segment in segments], rows, location)
        extras = {
            name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            for name in manifest.get("extras", [])
        }
        multilingual_parts = [segment.multilingual for segment in segments]
        snapshot = cls(
            manifest=manifest,
            resources=resources,
            chunks=LazyChunks(texts, [resource.id for resource in resources], chunk_resource, language_codes, languages),
            dense=_dense([segment.dense for segment in segments], rows),
            lexical=LexicalIndex([segment.postings for segment in segments], rows,
                                 **_bm25_parameters(manifest)),
            vocabulary=json.loads((folder / "vocabulary.json").read_text(encoding="utf-8")),
            extras=extras,
            multilingual=None if any(part is None for part in multilingual_parts) else _dense(multilingual_parts, rows),
            texts=texts,
            segments=segments,
            rows=rows,
            resource_location=location,
        )
        # The columns were read from the segments: the cached properties must not rebuild them from passages.
        snapshot.__dict__.update(chunk_resource=chunk_resource, chunk_language_codes=language_codes,
                                 passage_languages=languages)
        return snapshot

    def merged(self) -> Snapshot:
        """This loaded snapshot's live passages as one segment, ready for `save` (vectors decoded from the indexes:
        exact from flat ones, within SQ8 rounding from quantized ones).

        Bounded memory at a million passages: passages and bodies stay in the text stores and are streamed by
        `save` (~900 rows a query), and each encoder's decoded vectors live only while its index is built.
        """
        if self.rows is None:
            return self
        postings = Postings.merge(self.lexical.parts, self.rows.live)
        dense = DenseIndex.build(self.dense.all_vectors())
        multilingual = DenseIndex.build(self.multilingual.all_vectors()) if self.multilingual is not None else None
        merged = Snapshot(
            manifest={key: value for key, value in self.manifest.items() if key not in {"segments", "files"}},
            resources=self.resources,  # loaded without bodies; `save` reads each body through `texts`
            chunks=self.chunks,  # a LazyChunks over the live rows, read in batches as `save` writes them
            dense=dense,
            lexical=LexicalIndex([postings], k1=self.lexical.k1, b=self.lexical.b),
            vocabulary=dict(self.vocabulary),
            extras=dict(self.extras),
            multilingual=multilingual,
            texts=self.texts,  # same resource rows and live passage rows as this snapshot
        )
        merged.__dict__.update(chunk_resource=self.chunk_resource, chunk_language_codes=self.chunk_language_codes,
                               passage_languages=self.passage_languages)
        return merged


def save_incremental(
    folder: Path,
    base_folder: Path,
    base: Snapshot,
    resources: list[Resource],
    addition: Snapshot | None,
    removed_rows: np.ndarray,
    manifest: dict[str, Any],
    vocabulary: dict[str, int],
    extras: dict[str, Any],
) -> None:
    """Write a new version: `base`'s segments (hard-linked) with `removed_rows` (its global rows) marked deleted,
    plus one new segment holding `addition` (the added and changed resources with their passages).

    `resources` is every live resource in source order; those not in `addition` must be live in `base`.
    """
    if base.rows is None or base.resource_location is None:
        raise ValueError("an incremental version needs a loaded base snapshot")
    entries = base.manifest["segments"]
    deleted = [marks.copy() for marks in base.rows.deleted]
    for segment, _, local in base.rows.split(np.asarray(removed_rows, dtype=np.int64)):
        deleted[segment] = np.union1d(deleted[segment], local)
    added_ids = {resource.id for resource in addition.resources} if addition is not None else set()
    located = {}
    for resource in resources:
        if resource.id in added_ids:
            continue
        row = base.resource_index.get(resource.id)
        if row is None:
            raise ValueError(f"resource {resource.id!r} is neither added nor in the base snapshot")
        located[resource.id] = tuple(int(value) for value in base.resource_location[row])
    holding = {segment for segment, _ in located.values()}
    kept = [segment for segment, segment_marks in enumerate(deleted)
            if len(segment_marks) < base.rows.sizes[segment] or segment in holding]
    position = {segment: new for new, segment in enumerate(kept)}
    new_entries = []
    for segment in kept:
        segment_id = entries[segment]["id"]
        _link_tree(base_folder / SEGMENTS / segment_id, folder / SEGMENTS / segment_id)
        marks = deleted[segment]
        if len(marks):
            (folder / DELETIONS).mkdir(parents=True, exist_ok=True)
            np.save(folder / DELETIONS / f"{segment_id}.npy", marks.astype(np.int64))
        new_entries.append({"id": segment_id, "passages": base.rows.sizes[segment], "deleted": int(len(marks))})
    dense_parts = [base.segments[segment].dense for segment in kept]
    multilingual_parts = [base.segments[segment].multilingual for segment in kept]
    added_position = {}
    if addition is not None and (len(addition.resources) or len(addition.chunks)):
        segment_id = str(manifest["snapshot_id"])
        write_segment(folder / SEGMENTS / segment_id, addition.resources,
                      (addition.resource_text(row) for row in range(len(addition.resources))), addition.chunks,
                      addition.chunk_resource, addition.passage_languages, addition.chunk_language_codes,
                      addition.dense, addition.multilingual, addition.lexical.parts[0])
        new_entries.append({"id": segment_id, "passages": len(addition.chunks), "deleted": 0})
        added_position = {resource.id: row for row, resource in enumerate(addition.resources)}
        dense_parts.append(addition.dense)
        multilingual_parts.append(addition.multilingual)
    location = np.array(
        [(len(kept), added_position[resource.id]) if resource.id in added_position
         else (position[located[resource.id][0]], located[resource.id][1]) for resource in resources],
        dtype=np.int32,
    ).reshape(-1, 2)
    multilingual = [] if any(part is None for part in multilingual_parts) else multilingual_parts
    _write_version(folder, manifest, resources, location, new_entries, vocabulary, extras, dense_parts, multilingual,
                   base_folder=base_folder)


def _write_version(folder: Path, manifest: dict[str, Any], resources: Sequence[Resource], location: np.ndarray,
                   entries: list[dict[str, Any]], vocabulary: dict[str, int], extras: dict[str, Any],
                   dense_parts: Sequence[DenseIndex], multilingual_parts: Sequence[DenseIndex],
                   base_folder: Path | None = None) -> None:
    """The version's own small files, the manifest last; a JSON file equal to the base version's is linked."""
    np.save(folder / RESOURCE_LOCATION, np.asarray(location, dtype=np.int32).reshape(-1, 2))
    _write_or_link(folder / "vocabulary.json", json.dumps(vocabulary, ensure_ascii=False), base_folder)
    for name, value in extras.items():
        _write_or_link(folder / f"{name}.json", json.dumps(value, ensure_ascii=False), base_folder)
    live = sum(entry["passages"] - entry["deleted"] for entry in entries)
    manifest = dict(manifest, format_version=FORMAT_VERSION, extras=sorted(extras), segments=entries)
    manifest.pop("passage_languages", None)  # read from the segments
    manifest["counts"] = dict(manifest.get("counts") or {}, resources=len(resources), chunks=live)
    manifest["dense_index"] = _describe(dense_parts)
    manifest["multilingual_index"] = _describe(multilingual_parts) if multilingual_parts else None
    # Every file with its size (segments too), so a truncated or missing file is caught before serving.
    manifest["files"] = {
        path.relative_to(folder).as_posix(): path.stat().st_size for path in sorted(folder.rglob("*")) if path.is_file()
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")


def _write_or_link(path: Path, text: str, base_folder: Path | None) -> None:
    """Write `text`, or hard-link the base version's file of the same name when it holds exactly these bytes
    (city profiles and the vocabulary rarely change with one file)."""
    data = text.encode("utf-8")
    if base_folder is not None:
        previous = base_folder / path.name
        try:
            if previous.stat().st_size == len(data) and previous.read_bytes() == data:
                os.link(previous, path)
                return
        except OSError:
            pass
    path.write_bytes(data)


def _describe(parts: Sequence[DenseIndex]) -> dict[str, Any]:
    if len(parts) == 1:
        return {"library": "faiss", **parts[0].describe()}
    kinds = sorted({part.kind for part in parts})
    return {"library": "faiss", "type": "+".join(kinds), "metric": "inner_product",
            "count": sum(part.size for part in parts), "segments": [part.describe() for part in parts]}


def _dense(parts: list[DenseIndex], rows: SegmentRows) -> DenseIndex | SegmentedDense:
    """One segment without deletions is served by its own index (no merging step on the hot path)."""
    return parts[0] if rows.simple else SegmentedDense(parts, rows)


def _bm25_parameters(manifest: dict[str, Any]) -> dict[str, float]:
    lexical = manifest.get("lexical_index") or {}
    return {name: float(lexical[name]) for name in ("k1", "b") if name in lexical}


def _segment(folder: Path, mmap: bool, previous: Snapshot | None) -> Segment:
    """A segment of the snapshot being loaded: `previous`'s copy when both versions link the same files."""
    if previous is not None:
        for loaded in previous.segments:
            if loaded.folder is not None and loaded.folder.name == folder.name and loaded.same_files(folder):
                return loaded.moved_to(folder)
    return Segment.load(folder, mmap=mmap)


def _columns(segments: list[Segment], rows: SegmentRows, location: np.ndarray, languages: list[str | None],
             name: str) -> tuple[np.ndarray, np.ndarray]:
    """Per live passage (global row order), its snapshot resource row and its language code."""
    owners, codes = [], []
    code_of = {language: position for position, language in enumerate(languages)}
    for position, segment in enumerate(segments):
        snapshot_row = np.full(len(segment.resource_ids), -1, dtype=np.int32)
        here = np.flatnonzero(location[:, 0] == position) if len(location) else np.empty(0, dtype=np.int64)
        snapshot_row[location[here, 1]] = here
        live = rows.live[position]
        local_owner = np.asarray(segment.passage_resource if live is None else segment.passage_resource[live])
        owner = snapshot_row[local_owner]
        if len(owner) and owner.min() < 0:
            raise BrokenSnapshot(f"snapshot {name} serves passages of a resource it does not list")
        owners.append(owner)
        remap = np.array([code_of[language] for language in segment.languages], dtype=np.int16)
        local_codes = np.asarray(segment.language_codes if live is None else segment.language_codes[live])
        codes.append(remap[local_codes] if len(local_codes) else local_codes.astype(np.int16))
    empty = np.empty(0, dtype=np.int32)
    return (np.concatenate(owners).astype(np.int32) if owners else empty,
            np.concatenate(codes).astype(np.int16) if codes else empty.astype(np.int16))


def _link_tree(source: Path, target: Path) -> None:
    """Share an immutable segment: hard-link every file (a copy where the file system has no hard links)."""
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)
