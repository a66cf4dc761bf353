"""One segment: an immutable folder holding the passages of some resources and every index over them.

    segment.json            its resource ids (local resource rows) and passage languages
    resources.jsonl         its resources' metadata without bodies, one line per local resource row
    passage_resource.npy    per passage (local row), its local resource row (int32)
    passage_language.npy    per passage, its language as an index into segment.json's languages (int16)
    texts.sqlite            passage texts, headings, tags and resource bodies, read on demand
    dense/, multilingual/   one FAISS index per encoder: the only copy of the vectors
    bm25/                   term postings and passage lengths (scored with collection-wide statistics)

A segment is written once and never changed: later snapshot versions share it (hard links) and hide its removed
passages with deletion marks of their own.
"""

from __future__ import annotations

import dataclasses
import gc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np

from nzc_knowledge.index.dense import DenseIndex
from nzc_knowledge.index.lexical import FOLDER as LEXICAL_FOLDER, Postings
from nzc_knowledge.index.passages import STORE_FILE, TextStore, write_store
from nzc_knowledge.models import Chunk, Resource

SEGMENT_FILE = "segment.json"
RESOURCES = "resources.jsonl"
DENSE = "dense"
MULTILINGUAL = "multilingual"
PASSAGE_RESOURCE = "passage_resource.npy"
PASSAGE_LANGUAGE = "passage_language.npy"


def write_segment(
    folder: Path,
    resources: Sequence[Resource],
    resource_texts: Iterable[str],
    chunks: Iterable[Chunk],
    chunk_resource: np.ndarray,
    languages: Sequence[str | None],
    language_codes: np.ndarray,
    dense: DenseIndex,
    multilingual: DenseIndex | None,
    postings: Postings,
) -> None:
    """Write one segment folder (`chunk_resource` holds local resource rows, i.e. positions in `resources`)."""
    folder.mkdir(parents=True)
    with (folder / RESOURCES).open("w", encoding="utf-8") as handle:
        for resource in resources:
            handle.write(json.dumps({**resource.to_dict(), "text": ""}, ensure_ascii=False) + "\n")
    write_store(folder / STORE_FILE, chunks, resource_texts)
    np.save(folder / PASSAGE_RESOURCE, np.asarray(chunk_resource, dtype=np.int32))
    np.save(folder / PASSAGE_LANGUAGE, np.asarray(language_codes, dtype=np.int16))
    (folder / DENSE).mkdir()
    dense.save(folder / DENSE)
    if multilingual is not None:
        (folder / MULTILINGUAL).mkdir()
        multilingual.save(folder / MULTILINGUAL)
    postings.save(folder / LEXICAL_FOLDER)
    description = {"resource_ids": [resource.id for resource in resources], "languages": list(languages), "passages": postings.size}
    (folder / SEGMENT_FILE).write_text(json.dumps(description, ensure_ascii=False), encoding="utf-8")


@dataclass
class Segment:
    """A loaded segment (indexes in memory or memory-mapped, texts on demand)."""

    resource_ids: list[str]
    resources: list[Resource]  # metadata without bodies, by local resource row
    languages: list[str | None]
    passage_resource: np.ndarray
    language_codes: np.ndarray
    texts: TextStore
    dense: DenseIndex
    multilingual: DenseIndex | None
    postings: Postings

    folder: Path | None = None  # where it was loaded from (its files never change: see `same_files`)
    identity: tuple[int, int] | None = None  # (device, inode) of its segment.json when loaded

    @property
    def size(self) -> int:
        return len(self.passage_resource)

    def same_files(self, folder: Path) -> bool:
        """Whether `folder` holds this segment's own files (hard links of them: same inode), so its loaded
        indexes can serve there too; a segment rewritten under the same id has new inodes."""
        try:
            stat = (folder / SEGMENT_FILE).stat()
        except OSError:
            return False
        return self.identity == (stat.st_dev, stat.st_ino)

    def moved_to(self, folder: Path) -> Segment:
        """This segment read through another version's links: indexes shared, texts read from `folder` (the
        version it was first loaded from may be pruned while this one serves)."""
        return dataclasses.replace(self, texts=TextStore(folder / STORE_FILE), folder=folder)

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> Segment:
        description = json.loads((folder / SEGMENT_FILE).read_text(encoding="utf-8"))
        stat = (folder / SEGMENT_FILE).stat()
        mode = "r" if mmap else None
        return cls(
            folder=folder,
            identity=(stat.st_dev, stat.st_ino),
            resource_ids=description["resource_ids"],
            resources=_read_resources(folder / RESOURCES),
            languages=description["languages"],
            passage_resource=np.load(folder / PASSAGE_RESOURCE, mmap_mode=mode),
            language_codes=np.load(folder / PASSAGE_LANGUAGE, mmap_mode=mode),
            texts=TextStore(folder / STORE_FILE),
            dense=DenseIndex.load(folder / DENSE, mmap=mmap),
            multilingual=DenseIndex.load(folder / MULTILINGUAL, mmap=mmap) if (folder / MULTILINGUAL).exists() else None,
            postings=Postings.load(folder / LEXICAL_FOLDER, mmap=mmap),
        )


# Decodes a line straight into a `Resource` with its `Tag`s (typed, in C): a tenth of json.loads + from_dict, which
# took seconds of a server's start at 200,000 resources.
_RESOURCE_LINES = msgspec.json.Decoder(Resource, strict=False)


def _read_resources(path: Path) -> list[Resource]:
    data = path.read_bytes()
    try:
        with long_lived():
            return _RESOURCE_LINES.decode_lines(data)
    except msgspec.ValidationError:  # a value of an unexpected type: the lenient reader as before
        return [Resource.from_dict(json.loads(line)) for line in data.decode("utf-8").splitlines() if line.strip()]


@contextmanager
def long_lived() -> Iterator[None]:
    """Objects made inside the block are kept out of cyclic garbage collection: none during the block, and on leaving
    every object then alive is frozen (`gc.freeze`), so later collections do not walk them.

    Why: 200,000 decoded resources are millions of objects; the collections their allocation triggered walked them
    again and again (decoding 10.8 s, 2.9 s without), and any later full collection walks them all once more (the
    next numpy-to-list call took 4.7 s). They live as long as their snapshot and are freed by reference counting.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
