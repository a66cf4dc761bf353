"""Admin endpoints (bearer token): reindex jobs, snapshots and rollback. Every action goes to the audit log."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Request

from nzc_knowledge.api.deps import AdminDep, HolderDep
from nzc_knowledge.api.schemas import JobAccepted, JobStatus, RollbackRequest, SnapshotRow
from nzc_knowledge.errors import NotFound

router = APIRouter(prefix="/admin", tags=["admin"])
audit = logging.getLogger("nzc.audit")


def _audit(request: Request, who: str, action: str, **details: object) -> None:
    client = request.client.host if request.client else "-"
    audit.info("who=%s client=%s action=%s %s", who, client, action, " ".join(f"{k}={v}" for k, v in details.items()))


@router.post("/reindex", status_code=202, response_model=JobAccepted, summary="Start a background reindex")
def reindex(request: Request, who: AdminDep) -> JobAccepted:
    job = request.app.state.jobs.submit_reindex()
    _audit(request, who, "reindex", job_id=job.job_id)
    return JobAccepted(job_id=job.job_id)


@router.get("/jobs/{job_id}", response_model=JobStatus, summary="Status, progress and report of a job")
def job_status(request: Request, job_id: Annotated[str, Path(max_length=64)], who: AdminDep) -> JobStatus:
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise NotFound(f"no job {job_id!r} (jobs are kept in memory until the server restarts)")
    return JobStatus(job_id=job.job_id, status=job.status, progress=job.progress, report=job.report)  # type: ignore[arg-type]


@router.get("/snapshots", response_model=list[SnapshotRow], summary="Snapshots, newest first")
def snapshots(holder: HolderDep, who: AdminDep) -> list[SnapshotRow]:
    return [SnapshotRow(**row) for row in holder.store.list()]


@router.post("/rollback", response_model=SnapshotRow, summary="Serve an older snapshot (default: the previous one)")
def rollback(request: Request, holder: HolderDep, who: AdminDep, body: RollbackRequest | None = None) -> SnapshotRow:
    snapshot_id = holder.store.rollback(body.snapshot_id if body else None)
    holder.load()
    _audit(request, who, "rollback", snapshot_id=snapshot_id)
    return SnapshotRow(**next(row for row in holder.store.list() if row["snapshot_id"] == snapshot_id))
