"""One index snapshot: resources, chunks, dense + lexical indexes, and the manifest that describes them.

A snapshot is a folder of plain files; `manifest.json` is written last, so a folder without it is an
unfinished build and is never served.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from nzc_knowledge.errors import BrokenSnapshot
from nzc_knowledge.index.dense import DenseIndex
from nzc_knowledge.index.lexical import LexicalIndex
from nzc_knowledge.models import Chunk, Resource

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MULTILINGUAL = "multilingual"


@dataclass
class Snapshot:
    """Everything a search needs, in memory.

    Example:
        snapshot = Snapshot.load(Path("indexes/snapshots/20261123T190102Z-1a2b3c4d"))
        ids, scores = snapshot.dense.search(query_vector, k=50)
    """

    manifest: dict[str, Any]
    resources: list[Resource]
    chunks: list[Chunk]
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

    @cached_property
    def chunk_resource(self) -> np.ndarray:
        """For each chunk row, the row of its resource."""
        index = self.resource_index
        return np.fromiter((index[chunk.resource_id] for chunk in self.chunks), dtype=np.int64, count=len(self.chunks))

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
        _write_jsonl(folder / "resources.jsonl", (resource.to_dict() for resource in self.resources))
        _write_jsonl(folder / "chunks.jsonl", (chunk.to_dict() for chunk in self.chunks))
        (folder / "vocabulary.json").write_text(json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8")
        for name, value in self.extras.items():
            (folder / f"{name}.json").write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        self.dense.save(folder)
        if self.multilingual is not None:
            (folder / MULTILINGUAL).mkdir(exist_ok=True)
            self.multilingual.save(folder / MULTILINGUAL)
        self.lexical.save(folder)
        manifest = dict(self.manifest, format_version=FORMAT_VERSION, extras=sorted(self.extras))
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
            raise BrokenSnapshot(
                f"snapshot {folder.name} has format version {manifest.get('format_version')}, this engine reads "
                f"{FORMAT_VERSION}: rebuild it with `nzc ingest`"
            )
        resources = [Resource.from_dict(row) for row in _read_jsonl(folder / "resources.jsonl")]
        chunks = [Chunk.from_dict(row) for row in _read_jsonl(folder / "chunks.jsonl")]
        extras = {
            name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            for name in manifest.get("extras", [])
        }
        return cls(
            manifest=manifest,
            resources=resources,
            chunks=chunks,
            dense=DenseIndex.load(folder, mmap=mmap),
            lexical=LexicalIndex.load(folder, mmap=mmap),
            vocabulary=json.loads((folder / "vocabulary.json").read_text(encoding="utf-8")),
            extras=extras,
            multilingual=DenseIndex.load(folder / MULTILINGUAL, mmap=mmap) if (folder / MULTILINGUAL).exists() else None,
        )


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
