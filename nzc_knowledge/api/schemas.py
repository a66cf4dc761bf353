"""Response models of the HTTP API (the portal's contract)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from nzc_knowledge.index.store import SNAPSHOT_ID_PATTERN


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
