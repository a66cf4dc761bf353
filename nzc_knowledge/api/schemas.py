"""Response models of the HTTP API (the portal's contract)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema

from nzc_knowledge.index.store import SNAPSHOT_ID_PATTERN
from nzc_knowledge.recommend.twinning import MAX_CAPACITY, MAX_CITIES_PER_SIDE


class ResourceFacts(BaseModel):
    """The manifest fields every view of a resource carries."""

    id: str
    title: str
    type: str | None
    city: str | None
    country: str | None
    language: str | None
    year: int | None
    url: str | None

    @classmethod
    def facts_of(cls, resource: Any) -> dict[str, Any]:
        """These fields of a `Resource`, to build any subclass from."""
        return {name: getattr(resource, name) for name in ResourceFacts.model_fields}


class SearchResult(ResourceFacts):
    domains: list[str]
    barriers: list[str]
    levers: list[str]
    score: float = Field(description="Fused relevance (reciprocal-rank fusion); 0 when browsing")
    snippet: str = Field(description="Best passage, HTML-escaped, query terms in <mark>")


class SearchResponse(BaseModel):
    query: str
    total: int
    limit: int
    offset: int
    results: list[SearchResult]
    facets: dict[str, dict[str, int]]
    corrected_query: str | None = Field(None, description="The query after spelling correction, when it changed")
    mode: str = Field(description="hybrid, lexical, dense, or browse (empty query)")


class TagOut(BaseModel):
    key: str
    label: str
    confidence: float
    source: Literal["curated", "predicted"]


class ResourceDetail(ResourceFacts):
    file: str
    format: str
    page_count: int | None
    domains: list[TagOut]
    barriers: list[TagOut]
    levers: list[TagOut]
    excerpt: str
    chunk_count: int
    inferred_fields: list[str]


class SimilarResponse(BaseModel):
    id: str
    results: list[SearchResult]


class TaxonomyEntry(BaseModel):
    key: str
    label: str
    description: str


class TaxonomyResponse(BaseModel):
    domains: list[TaxonomyEntry]
    barriers: list[TaxonomyEntry]
    levers: list[TaxonomyEntry]
    types: list[TaxonomyEntry]


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded", "no_index"] = Field(
        description="degraded: CURRENT names a snapshot that could not be loaded; the previous one still serves"
    )
    snapshot_id: str | None = Field(description="The snapshot serving requests")
    manifest: dict[str, Any] | None
    load_failure: LoadFailureOut | None = Field(None, description="Why the snapshot CURRENT names is not serving")


class JobAccepted(BaseModel):
    job_id: str


class JobStatus(BaseModel):
    job_id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: dict[str, Any]
    report: dict[str, Any] | None


class SnapshotRow(BaseModel):
    snapshot_id: str
    created_at: str | None
    resources: int | None
    chunks: int | None
    current: bool
    problem: str | None = Field(None, description="Why this snapshot cannot be served (damaged), else null")


class RollbackRequest(BaseModel):
    snapshot_id: str | None = Field(
        None, pattern=SNAPSHOT_ID_PATTERN, max_length=128,
        description="An id from GET /admin/snapshots; omitted: the newest sound snapshot older than the current one",
    )


class UploadAccepted(BaseModel):
    file: str = Field(description="Path of the stored file, relative to the source folder")
    manifest: dict[str, Any] = Field(description="The manifest line written for it")
    job_id: str | None = Field(None, description="The reindex job started, when reindex=true")


class ErrorResponse(BaseModel):
    detail: str


class LoadFailureOut(BaseModel):
    """A snapshot that CURRENT names but that could not be loaded (not retried until CURRENT changes)."""

    snapshot_id: str | None = Field(description="The snapshot that failed, or null when CURRENT itself is unreadable")
    reason: str


HealthResponse.model_rebuild()


# -- cities, peers, twinning ------------------------------------------------------------------------------------
# Filled from the typed answers of nzc_knowledge/recommend (models.py) with `model_validate(..., from_attributes=True)`.
# Constraints stated with WithJsonSchema are in the schema only: the service enforces them with its own, more helpful
# messages, which pydantic's generic ones would replace.
NON_BLANK = {"type": "string", "minLength": 1, "pattern": "\\S"}
CityName = Annotated[str, WithJsonSchema(NON_BLANK)]


class CitySummary(BaseModel):
    city: str = Field(description="As the content's manifest names it, else the registry's clean name")
    country: str | None = Field(description="ISO 3166-1 alpha-2")
    kind: Literal["city", "group"] = Field(description="'group': municipalities that signed the Covenant together")
    has_content: bool = Field(description="Whether the repository holds resources about this city")
    resource_count: int
    population: int | None
    size_class: Literal["small", "medium", "large", "metropolis"] | None = Field(
        description="small < 50,000 <= medium < 250,000 <= large < 1,000,000 <= metropolis"
    )
    region: str | None = Field(description="European macro-region (Nordic, Baltic, Western, Southern, Central-Eastern, ...)")
    registry_name: str | None = Field(description="The name in the Covenant of Mayors registry, when the city is in it")


class CityHit(CitySummary):
    score: float | None = Field(description="Match strength 0-100 (exact spelling 100); null when listing")
    matched: str | None = Field(description="The spelling that matched the query")


class CitySearchResponse(BaseModel):
    query: str
    total: int
    cities: list[CityHit]


class WeightedTag(BaseModel):
    key: str
    label: str
    weight: float = Field(description="Share of the city's resources treating it, weighted by confidence (curated 1.0, predicted 0.7)")


class Commitment(BaseModel):
    key: str = Field(description="2020, 2030, 2050 (Covenant of Mayors targets) or adapt (Mayors Adapt)")
    label: str


class ResourceBrief(BaseModel):
    id: str
    title: str | None
    type: str | None
    year: int | None
    url: str | None
    domains: list[str]
    barriers: list[str]
    levers: list[str]


class GroupRef(BaseModel):
    id: str
    name: str | None


class CityProfile(CitySummary):
    country_name: str | None
    registry_id: str | None
    aliases: list[str] = Field(description="Other spellings that find this city")
    lat: float | None
    lon: float | None
    population_source: Literal["registry", "geonames"] | None
    commitments: list[Commitment]
    members: list[str] = Field(description="Member municipalities of a group")
    group: GroupRef | None = Field(description="The group a member municipality signed with")
    domains: list[WeightedTag]
    barriers: list[WeightedTag]
    levers: list[WeightedTag]
    resources: list[ResourceBrief]
    explanation: str = Field(description="What the profile rests on (content, registry, or both)")


class PeerComponents(BaseModel):
    challenge: float = Field(description="Challenge similarity: (1 - t) * tags + t * passages")
    tags: float = Field(description="Weighted cosine over domain (0.4), barrier (0.4) and lever (0.2) vectors")
    passages: float = Field(description="How closely the peer's resources treat what the city's resources treat")
    size: float
    geography: float


class Peer(BaseModel):
    city: str
    country: str | None
    score: float
    shared_domains: list[str]
    shared_barriers: list[str]
    shared_levers: list[str]
    explanation: str
    evidence: list[str] = Field(description="Ids of the peer's resources that support the match, best first")
    registry_name: str | None
    population: int | None
    size_class: str | None
    distance_km: int | None
    components: PeerComponents


class PeersResponse(BaseModel):
    city: str
    country: str | None
    has_content: bool
    basis: Literal["challenges", "size_and_geography"] = Field(
        description="'size_and_geography' when the city has no content to compare challenges with"
    )
    note: str | None
    peers: list[Peer]


CITY_LIST = {"type": "array", "items": NON_BLANK, "minItems": 1, "maxItems": MAX_CITIES_PER_SIDE, "uniqueItems": True}


class TwinningRequest(BaseModel):
    pilots: Annotated[list[CityName], WithJsonSchema(CITY_LIST)] = Field(
        description="Pilot cities (any common spelling), each once", examples=[["Milan", "Lahti"]])
    twins: Annotated[list[CityName], WithJsonSchema(CITY_LIST)] = Field(
        description="Twin cities to pair with the pilots, each once, none also a pilot",
        examples=[["Parma", "Velenje", "Kozani"]])
    max_twins_per_pilot: Annotated[int, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_CAPACITY})] = Field(
        1, description="How many twins one pilot can take")


class Pair(BaseModel):
    pilot: str
    pilot_country: str | None
    twin: str
    twin_country: str | None
    score: float
    shared_domains: list[str]
    shared_barriers: list[str]
    shared_levers: list[str]
    explanation: str
    evidence: list[str] = Field(description="The pilot's resources the twin can learn from, best first")


class Unpaired(BaseModel):
    city: str
    country: str | None
    role: Literal["pilot", "twin"]
    reason: Literal["no_content", "capacity_exhausted", "no_twin_left"]
    detail: str


class TwinningResponse(BaseModel):
    pairs: list[Pair]
    unpaired: list[Unpaired]
    total_score: float = Field(description="Sum of the pair scores: what the assignment maximises")
    max_twins_per_pilot: int
    method: str
