"""Taxonomy and health."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from nzc_knowledge.api.deps import HolderDep
from nzc_knowledge.errors import NoSnapshot
from nzc_knowledge.api.schemas import HealthResponse, LoadFailureOut, TaxonomyEntry, TaxonomyResponse
from nzc_knowledge.taxonomy import BARRIERS, DOMAINS, LEVERS, RESOURCE_TYPES, Label

router = APIRouter(tags=["meta"])


def _entries(labels: tuple[Label, ...]) -> list[TaxonomyEntry]:
    return [TaxonomyEntry(key=label.key, label=label.label, description=label.description) for label in labels]


@router.get("/taxonomy", response_model=TaxonomyResponse, summary="Keys, labels and descriptions of the vocabulary")
def taxonomy() -> TaxonomyResponse:
    return TaxonomyResponse(
        domains=_entries(DOMAINS), barriers=_entries(BARRIERS), levers=_entries(LEVERS), types=_entries(RESOURCE_TYPES)
    )


@router.get(
    "/health",
    response_model=HealthResponse,
    summary="Status and the serving snapshot's manifest",
    description="`degraded` (200): CURRENT names a snapshot that failed to load; the previous one still serves "
                "and `load_failure` says which and why (retried only when CURRENT changes again).",
    responses={503: {"model": HealthResponse, "description": "No snapshot is loaded (load_failure may say why)"}},
)
def health(holder: HolderDep) -> HealthResponse | JSONResponse:
    try:
        engine = holder.current()
    except NoSnapshot:
        engine = None
    failure = holder.failure
    problem = LoadFailureOut(snapshot_id=failure.snapshot_id, reason=failure.reason) if failure else None
    if engine is None:
        body = HealthResponse(status="no_index", snapshot_id=None, manifest=None, load_failure=problem)
        return JSONResponse(status_code=503, content=body.model_dump())
    manifest = {key: value for key, value in engine.snapshot.manifest.items() if key not in ("source_keys", "files")}
    return HealthResponse(status="degraded" if problem else "ok", snapshot_id=engine.snapshot.id, manifest=manifest,
                          load_failure=problem)
