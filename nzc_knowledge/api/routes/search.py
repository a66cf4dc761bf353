"""Search, resource details and similar resources."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from nzc_knowledge.api.deps import EngineDep, SearchDep, SettingsDep
from nzc_knowledge.api.openapi import BarrierKey, CityName, DomainKey, LeverKey, TwoLetterCode, TypeKey, errors
from nzc_knowledge.api.schemas import ResourceDetail, SearchResponse, SearchResult, SimilarResponse, TagOut
from nzc_knowledge.errors import InvalidParameter, NotFound
from nzc_knowledge.models import Resource
from nzc_knowledge.search.filters import SearchFilters
from nzc_knowledge.search.service import ResourceHit, SearchService
from nzc_knowledge.taxonomy import label_for

router = APIRouter(tags=["search"])

SEARCH_PARAMETERS = {"q", "domain", "barrier", "lever", "type", "country", "city", "language", "year_from", "year_to",
                     "limit", "offset", "mode"}
EXCERPT_CHARS = 1200
LIST_HELP = "Repeat the parameter or separate values with commas; any match counts (OR). Case-insensitive."


def result_of(hit: ResourceHit, snippet: str) -> SearchResult:
    resource = hit.resource
    return SearchResult(
        **SearchResult.facts_of(resource),
        domains=resource.tag_keys("domains"),
        barriers=resource.tag_keys("barriers"),
        levers=resource.tag_keys("levers"),
        score=hit.score,
        snippet=snippet,
    )


@router.get("/search", response_model=SearchResponse, summary="Filtered, ranked resources",
            responses=errors(503, e422="Unknown parameter or key, a repeated scalar parameter, limit over the cap, "
                                       "year_from after year_to; the message says which"))
def search(
    request: Request,
    service: SearchDep,
    settings: SettingsDep,
    q: Annotated[str, Query(description="Free text; empty with filters = browse, newest first")] = "",
    domain: Annotated[list[DomainKey] | None, Query(description=LIST_HELP)] = None,
    barrier: Annotated[list[BarrierKey] | None, Query(description=LIST_HELP)] = None,
    lever: Annotated[list[LeverKey] | None, Query(description=LIST_HELP)] = None,
    type: Annotated[list[TypeKey] | None, Query(description=LIST_HELP)] = None,  # noqa: A002 - the portal's name
    country: Annotated[list[TwoLetterCode] | None, Query(description="ISO 3166-1 alpha-2. " + LIST_HELP)] = None,
    city: Annotated[list[CityName] | None, Query(description="Accents and case ignored. " + LIST_HELP)] = None,
    language: Annotated[list[TwoLetterCode] | None, Query(description="ISO 639-1. " + LIST_HELP)] = None,
    year_from: Annotated[int | None, Query(ge=1900, le=2100, description="At most year_to")] = None,
    year_to: Annotated[int | None, Query(ge=1900, le=2100, description="At least year_from")] = None,
    limit: Annotated[int, Query(ge=1, description="Page size (capped by NZC_MAX_LIMIT, default 100)")] = 10,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    mode: Annotated[str, Query(pattern="^(hybrid|lexical|dense)$")] = "hybrid",
) -> SearchResponse:
    unknown = sorted(set(request.query_params) - SEARCH_PARAMETERS)
    if unknown:
        raise InvalidParameter(f"unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(sorted(SEARCH_PARAMETERS))}")
    if len(q) > settings.max_query_length:
        raise InvalidParameter(f"q is {len(q)} characters long; the limit is {settings.max_query_length}")
    if limit > settings.max_limit:
        raise InvalidParameter(f"limit {limit} is over the cap of {settings.max_limit}")
    filters = SearchFilters.parse(domain, barrier, lever, type, country, city, language, year_from, year_to)
    page = service.search(q, filters, limit=limit, offset=offset, mode=mode)  # type: ignore[arg-type]
    request.app.state.metrics.observe_search(page.total, page.mode)
    return SearchResponse(
        query=q,
        total=page.total,
        limit=limit,
        offset=offset,
        results=[result_of(hit, snippet) for hit, snippet in zip(page.hits, page.snippets, strict=True)],
        facets=page.facets,
        corrected_query=page.corrected_query,
        mode=page.mode,
    )


def _resource_or_404(service: SearchService, resource_id: str) -> Resource:
    resource = service.snapshot.resource(resource_id)
    if resource is None:
        raise NotFound(f"no resource with id {resource_id!r} in snapshot {service.snapshot.id}")
    return resource


def _tags(resource: Resource, family: str) -> list[TagOut]:
    return [
        TagOut(key=tag.key, label=label_for(family, tag.key).label, confidence=tag.confidence, source=tag.source)
        for tag in getattr(resource, family)
    ]


@router.get("/resources/{resource_id}", response_model=ResourceDetail, summary="A resource with its tags",
            responses=errors(422, 503, e404="No resource with this id in the serving snapshot"))
def resource_detail(resource_id: Annotated[str, Path(max_length=200)], engine: EngineDep) -> ResourceDetail:
    resource = _resource_or_404(engine.search, resource_id)
    row = engine.snapshot.resource_index[resource.id]
    body = engine.snapshot.resource_text(row)  # read on demand: loaded snapshots keep no bodies in memory
    excerpt = body[:EXCERPT_CHARS] + ("…" if len(body) > EXCERPT_CHARS else "")
    return ResourceDetail(
        **ResourceDetail.facts_of(resource),
        file=resource.file,
        format=resource.format,
        page_count=resource.page_count,
        domains=_tags(resource, "domains"),
        barriers=_tags(resource, "barriers"),
        levers=_tags(resource, "levers"),
        excerpt=excerpt,
        chunk_count=len(engine.snapshot.resource_chunks[row]),
        inferred_fields=resource.inferred,
    )


@router.get("/resources/{resource_id}/similar", response_model=SimilarResponse, summary="Related resources",
            responses=errors(503, e404="No resource with this id in the serving snapshot",
                             e422="limit out of range or over the cap, a repeated parameter"))
def similar_resources(
    resource_id: Annotated[str, Path(max_length=200)],
    service: SearchDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1)] = 5,
) -> SimilarResponse:
    if limit > settings.max_limit:
        raise InvalidParameter(f"limit {limit} is over the cap of {settings.max_limit}")
    resource = _resource_or_404(service, resource_id)
    hits = service.similar(resource.id, limit=limit)
    return SimilarResponse(id=resource.id, results=[result_of(hit, service.snippet(hit, set())) for hit in hits])
