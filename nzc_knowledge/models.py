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


@dataclass(slots=True)  # no per-object __dict__: a million-passage snapshot holds ~1.6 million of them
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


# -- cities and peers: what the recommend package answers (the API maps these onto its response schemas) --------


@dataclass
class CitySummary:
    """A city as lists show it: name, country, size, region, whether the repository holds content about it."""

    city: str  # as the content's manifest names it when it has content, else the registry's clean name
    country: str | None
    kind: Literal["city", "group"]
    has_content: bool
    resource_count: int
    population: int | None
    size_class: str | None
    region: str | None
    registry_name: str | None


@dataclass
class CityMatch(CitySummary):
    """A city found by a name search; `score` 0-100 and the spelling that matched (None when listing)."""

    score: float | None
    matched: str | None


@dataclass
class CitySearch:
    """The answer of a city search: the query, how many matched, the cities best first."""

    query: str
    total: int
    cities: list[CityMatch]


@dataclass
class WeightedTag:
    """A tag of a city profile with the share of the city's resources that treat it (confidence-weighted)."""

    key: str
    label: str
    weight: float


@dataclass
class Commitment:
    key: str
    label: str


@dataclass
class ResourceBrief:
    """The facts of a resource a city profile lists."""

    id: str
    title: str | None
    type: str | None
    year: int | None
    url: str | None
    domains: list[str]
    barriers: list[str]
    levers: list[str]


@dataclass
class GroupRef:
    id: str
    name: str | None


@dataclass
class CityProfile(CitySummary):
    """A city's profile: registry facts, weighted tags, its resources, and what the profile rests on."""

    country_name: str | None
    registry_id: str | None
    aliases: list[str]
    lat: float | None
    lon: float | None
    population_source: str | None
    commitments: list[Commitment]
    members: list[str]
    group: GroupRef | None
    domains: list[WeightedTag]
    barriers: list[WeightedTag]
    levers: list[WeightedTag]
    resources: list[ResourceBrief]
    explanation: str


@dataclass
class ScoreComponents:
    """The parts of a peer score, each in [0, 1] (see nzc_knowledge/recommend/scorer.py)."""

    challenge: float
    tags: float
    passages: float
    size: float
    geography: float


@dataclass
class Peer:
    """One suggested peer city with what it shares, why, and the resources that show it."""

    city: str
    country: str | None
    score: float
    shared_domains: list[str]
    shared_barriers: list[str]
    shared_levers: list[str]
    explanation: str
    evidence: list[str]  # the peer's resource ids, best first
    registry_name: str | None
    population: int | None
    size_class: str | None
    distance_km: int | None
    components: ScoreComponents


@dataclass
class PeerSuggestion:
    """The peers of one city; `basis` "size_and_geography" when the city has no content to compare."""

    city: str
    country: str | None
    has_content: bool
    basis: Literal["challenges", "size_and_geography"]
    note: str | None
    peers: list[Peer] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TwinPair:
    """A Pilot city and the Twin paired with it; the evidence is the pilot's resources the twin can learn from."""

    pilot: str
    pilot_country: str | None
    twin: str
    twin_country: str | None
    score: float
    shared_domains: list[str]
    shared_barriers: list[str]
    shared_levers: list[str]
    explanation: str
    evidence: list[str]


@dataclass
class Unpaired:
    """A city the plan leaves without a partner, and why."""

    city: str
    country: str | None
    role: Literal["pilot", "twin"]
    reason: Literal["no_content", "capacity_exhausted", "no_twin_left"]
    detail: str


@dataclass
class TwinningPlan:
    """Pilot/Twin pairs maximising the total fit, the cities left unpaired, and how the pairs were chosen."""

    pairs: list[TwinPair]
    unpaired: list[Unpaired]
    total_score: float
    max_twins_per_pilot: int
    method: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
