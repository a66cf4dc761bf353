"""The data that flows through the engine: file -> ExtractedDoc -> Chunk -> Resource -> Hit.

Plain dataclasses, serialisable with `to_dict` / `from_dict`, so a snapshot is a folder of JSON files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

TagSource = Literal["curated", "predicted"]


@dataclass
class Block:
    """A structural unit of an extracted document: a heading or a paragraph, with its page and offsets."""

    text: str
    kind: Literal["heading", "paragraph"]
    start: int  # char offset of the block in ExtractedDoc.text
    end: int
    page: int | None = None  # 1-based PDF page; None for formats without pages
    level: int = 0  # heading level (1 = title)


@dataclass
class ExtractedDoc:
    """Clean text of one file plus its structure; produced by one converter per format."""

    text: str
    blocks: list[Block]
    title: str | None = None
    page_count: int | None = None
    format: str = ""


@dataclass
class Tag:
    """A taxonomy label attached to a resource or chunk."""

    key: str
    confidence: float
    source: TagSource = "predicted"


@dataclass
class Chunk:
    """A passage of a resource, sized in model tokens, with provenance back to the file."""

    id: str
    resource_id: str
    ordinal: int
    text: str
    start: int  # char offsets into the resource's extracted text
    end: int
    page: int | None
    heading: str | None
    token_count: int
    language: str | None = None
    tags: dict[str, list[list[Any]]] = field(default_factory=dict)  # family -> [[key, confidence], ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(**data)


@dataclass
class Resource:
    """One document of the knowledge repository with its metadata and tags."""

    id: str
    file: str
    title: str
    type: str | None = None
    city: str | None = None
    country: str | None = None
    language: str | None = None
    year: int | None = None
    url: str | None = None
    domains: list[Tag] = field(default_factory=list)
    barriers: list[Tag] = field(default_factory=list)
    levers: list[Tag] = field(default_factory=list)
    text: str = ""
    page_count: int | None = None
    format: str = ""
    fingerprint: str = ""  # sha256 of the file's bytes
    inferred: list[str] = field(default_factory=list)  # metadata fields we inferred rather than read
    predicted: dict[str, list[Tag]] = field(default_factory=dict)  # the tagger's output, kept even when curated tags win

    def tag_keys(self, family: str) -> list[str]:
        return [tag.key for tag in getattr(self, family)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Resource:
        data = dict(data)
        for family in ("domains", "barriers", "levers"):
            data[family] = [Tag(**tag) for tag in data.get(family, [])]
        data["predicted"] = {family: [Tag(**tag) for tag in tags] for family, tags in data.get("predicted", {}).items()}
        return cls(**data)


@dataclass
class SkippedFile:
    """A file the ingest could not use, with the reason a curator can act on."""

    file: str
    reason: str


@dataclass
class IngestReport:
    """What an ingest did with every input file."""

    ingested: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    manifest_errors: list[str] = field(default_factory=list)
    chunk_count: int = 0
    seconds: float = 0.0
    encode_seconds: float = 0.0
    snapshot_id: str | None = None
    unchanged: list[str] = field(default_factory=list)  # files reused from the previous snapshot as they were
    removed: list[str] = field(default_factory=list)  # files of the previous snapshot that are gone
    embedded_chunks: int = 0  # chunks encoded by this run (the rest were reused)
    near_duplicates: list[tuple[str, str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    outcome: str = "published"  # or "unchanged": the content matched the current snapshot, nothing was written

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
