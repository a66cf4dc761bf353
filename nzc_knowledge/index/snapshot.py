"""One index snapshot: resources, passages, dense + lexical indexes, and the manifest that describes them.

A snapshot is a folder of plain files; `manifest.json` is written last, so a folder without it is an
unfinished build and is never served.

Format 2 (why: a million passages on a 2-core box with a few GB of memory):
    manifest.json, resources.jsonl (metadata without bodies), vocabulary.json, <extra>.json
    segment/passage_resource.npy    per passage row, the row of its resource (int32)
    segment/passage_language.npy    per passage row, its language as an index into manifest["passage_languages"]
    segment/texts.sqlite            passage texts, headings, tags and resource bodies, read on demand
    segment/dense/, segment/multilingual/   one FAISS index per encoder: the only copy of the vectors
    segment/bm25/                   the BM25 index
Everything about passages lives in `segment/`, so a later snapshot can be a list of such folders plus deletions.
Resources stay in memory (tens of thousands, used by every filter and facet) but without their bodies.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nzc_knowledge.errors import BrokenSnapshot, OutdatedSnapshot
from nzc_knowledge.index.dense import DenseIndex
from nzc_knowledge.index.lexical import LexicalIndex
from nzc_knowledge.index.passages import STORE_FILE, LazyChunks, TextStore, write_store
from nzc_knowledge.models import Chunk, Resource

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: vectors only in FAISS (quantized at scale), columnar passage metadata, texts in SQLite
MANIFEST = "manifest.json"
SEGMENT = "segment"
DENSE = "dense"
MULTILINGUAL = "multilingual"
PASSAGE_RESOURCE = "passage_resource.npy"
PASSAGE_LANGUAGE = "passage_language.npy"


@dataclass
class Snapshot:
    """Everything a search needs, in memory.

    Example:
        snapshot = Snapshot.load(Path("indexes/snapshots/20261123T190102Z-1a2b3c4d"))
        ids, scores = snapshot.dense.search(query_vector, k=50)
    """

    manifest: dict[str, Any]
    resources: list[Resource]  # loaded: without `text` (see `resource_text`)
    chunks: Sequence[Chunk]  # built: a list; loaded: a LazyChunks reading each passage from the text store
    dense: DenseIndex
    lexical: LexicalIndex
    vocabulary: dict[str, int] = field(default_factory=dict)  # surface word -> frequency, for typo correction
    multilingual: DenseIndex | None = None  # second dense index from a multilingual encoder (cross-lingual search)
    extras: dict[str, Any] = field(default_factory=dict)  # optional parts (city profiles ...) keyed by file stem

    @property
    def id(self) -> str:
        return str(self.manifest["snapshot_id"])

    @cached_property
    def resource_index(self) -> dict[str, int]:
        return {resource.id: position for position, resource in enumerate(self.resources)}

    texts: TextStore | None = None  # loaded snapshots: where passage texts and resource bodies are read from

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
        """These passages with their texts (one store query per ~900 rows for a loaded snapshot)."""
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
        """Write all parts, the manifest last."""
        folder.mkdir(parents=True, exist_ok=True)
        segment = folder / SEGMENT
        segment.mkdir(exist_ok=True)
        _write_jsonl(folder / "resources.jsonl", ({**resource.to_dict(), "text": ""} for resource in self.resources))
        write_store(segment / STORE_FILE, self.chunks, (self.resource_text(row) for row in range(len(self.resources))))
        np.save(segment / PASSAGE_RESOURCE, np.asarray(self.chunk_resource, dtype=np.int32))
        np.save(segment / PASSAGE_LANGUAGE, np.asarray(self.chunk_language_codes, dtype=np.int16))
        (folder / "vocabulary.json").write_text(json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8")
        for name, value in self.extras.items():
            (folder / f"{name}.json").write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        (segment / DENSE).mkdir(exist_ok=True)
        self.dense.save(segment / DENSE)
        if self.multilingual is not None:
            (segment / MULTILINGUAL).mkdir(exist_ok=True)
            self.multilingual.save(segment / MULTILINGUAL)
        self.lexical.save(segment)
        manifest = dict(self.manifest, format_version=FORMAT_VERSION, extras=sorted(self.extras), segments=[SEGMENT],
                        passage_languages=list(self.passage_languages))
        manifest["dense_index"] = {"library": "faiss", **self.dense.describe()}
        manifest["multilingual_index"] = (
            {"library": "faiss", **self.multilingual.describe()} if self.multilingual is not None else None
        )
        # Every file with its size (sub-folders too), so a truncated or missing file is caught before serving.
        manifest["files"] = {
            path.relative_to(folder).as_posix(): path.stat().st_size for path in sorted(folder.rglob("*")) if path.is_file()
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> Snapshot:
        manifest_path = folder / MANIFEST
        if not manifest_path.exists():
            raise BrokenSnapshot(f"{folder} is not a complete snapshot (no {MANIFEST})")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise OutdatedSnapshot(
                f"snapshot {folder.name} has format version {manifest.get('format_version')}, this engine reads "
                f"format {FORMAT_VERSION}: rebuild the index with `nzc ingest` (or POST /admin/reindex)"
            )
        segment = folder / SEGMENT
        resources = [Resource.from_dict(row) for row in _read_jsonl(folder / "resources.jsonl")]
        chunk_resource = np.load(segment / PASSAGE_RESOURCE, mmap_mode="r" if mmap else None)
        language_codes = np.load(segment / PASSAGE_LANGUAGE, mmap_mode="r" if mmap else None)
        languages = list(manifest.get("passage_languages", []))
        texts = TextStore(segment / STORE_FILE)
        extras = {
            name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            for name in manifest.get("extras", [])
        }
        snapshot = cls(
            manifest=manifest,
            resources=resources,
            chunks=LazyChunks(texts, [resource.id for resource in resources], chunk_resource, language_codes, languages),
            dense=DenseIndex.load(segment / DENSE, mmap=mmap),
            lexical=LexicalIndex.load(segment, mmap=mmap),
            vocabulary=json.loads((folder / "vocabulary.json").read_text(encoding="utf-8")),
            extras=extras,
            multilingual=DenseIndex.load(segment / MULTILINGUAL, mmap=mmap) if (segment / MULTILINGUAL).exists() else None,
            texts=texts,
        )
        # The columns were read from the segment: the cached properties must not rebuild them from passages.
        snapshot.__dict__.update(chunk_resource=chunk_resource, chunk_language_codes=language_codes,
                                 passage_languages=languages)
        return snapshot


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
