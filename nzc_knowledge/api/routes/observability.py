"""Prometheus metrics of this process (requests, searches, the serving snapshot, reindex jobs)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from nzc_knowledge.api.metrics import CONTENT_TYPE

router = APIRouter(tags=["meta"])


@router.get(
    "/metrics",
    response_class=Response,
    summary="Metrics in the Prometheus text format",
    responses={200: {"content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}},
                     "description": "Prometheus text exposition format 0.0.4"}},
)
def metrics(request: Request) -> Response:
    return Response(content=request.app.state.metrics.exposition(), media_type=CONTENT_TYPE)
