"""Admin endpoints (bearer token): reindex jobs, snapshots and rollback. Every action goes to the audit log."""

from __future__ import annotations

import logging
from typing import Annotated

import json

from fastapi import APIRouter, File, Form, Path, Request, UploadFile

from nzc_knowledge.api.deps import AdminDep, HolderDep, SettingsDep
from nzc_knowledge.api.openapi import ADMIN_ERRORS, errors
from nzc_knowledge.api.schemas import JobAccepted, JobStatus, RollbackRequest, SnapshotRow, UploadAccepted
from nzc_knowledge.errors import InvalidParameter, NotFound
from nzc_knowledge.ingest.uploads import UPLOAD_FOLDER, store_upload

router = APIRouter(prefix="/admin", tags=["admin"])
audit = logging.getLogger("nzc.audit")


def _audit(request: Request, who: str, action: str, **details: object) -> None:
    client = request.client.host if request.client else "-"
    audit.info("who=%s client=%s action=%s %s", who, client, action, " ".join(f"{k}={v}" for k, v in details.items()))


@router.post(
    "/reindex",
    status_code=202,
    response_model=JobAccepted,
    summary="Start a background reindex",
    description="While a reindex is still queued, another request returns that queued job's id. A reindex that "
                "finds nothing changed since the serving snapshot publishes nothing (report outcome `unchanged`).",
    responses=errors(*ADMIN_ERRORS, 413),
)
def reindex(request: Request, who: AdminDep) -> JobAccepted:
    job = request.app.state.jobs.submit_reindex()
    _audit(request, who, "reindex", job_id=job.job_id)
    return JobAccepted(job_id=job.job_id)


def _job_status(job) -> JobStatus:
    return JobStatus(job_id=job.job_id, status=job.status, progress=job.progress, report=job.report)  # type: ignore[arg-type]


@router.get("/jobs/{job_id}", response_model=JobStatus, summary="Status, progress and report of a job",
            responses=errors(*ADMIN_ERRORS, 422, e404="No such job (jobs are kept in memory until a restart)"))
def job_status(request: Request, job_id: Annotated[str, Path(max_length=64)], who: AdminDep) -> JobStatus:
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise NotFound(f"no job {job_id!r} (jobs are kept in memory until the server restarts)")
    return _job_status(job)


@router.delete(
    "/jobs/{job_id}",
    response_model=JobStatus,
    summary="Cancel a reindex job",
    description="A queued job never starts; a running one's worker process is killed (its status turns "
                "`cancelled` within a second) and the previous snapshot keeps serving. A job that already succeeded "
                "answers 409: roll back instead.",
    responses=errors(*ADMIN_ERRORS, 409, 422, e404="No such job (jobs are kept in memory until a restart)"),
)
def cancel_job(request: Request, job_id: Annotated[str, Path(max_length=64)], who: AdminDep) -> JobStatus:
    job = request.app.state.jobs.cancel(job_id)
    if job is None:
        raise NotFound(f"no job {job_id!r} (jobs are kept in memory until the server restarts)")
    _audit(request, who, "cancel", job_id=job_id, status=job.status)
    return _job_status(job)


@router.get("/snapshots", response_model=list[SnapshotRow],
            summary="Snapshots, newest first (damaged ones with their problem)", responses=errors(*ADMIN_ERRORS))
def snapshots(holder: HolderDep, who: AdminDep) -> list[SnapshotRow]:
    return [SnapshotRow(**row) for row in holder.store.list()]


@router.post(
    "/rollback",
    response_model=SnapshotRow,
    summary="Serve an older snapshot (default: the previous one)",
    description="The snapshot is loaded before CURRENT is switched: an unknown id answers 404; a damaged "
                "snapshot, or a build running on the index, answers 409 and the serving snapshot stays.",
    responses=errors(*ADMIN_ERRORS, 400, 409, 413, 422, e404="No such snapshot, or no older one to roll back to"),
)
def rollback(request: Request, holder: HolderDep, who: AdminDep, body: RollbackRequest | None = None) -> SnapshotRow:
    snapshot_id = holder.rollback(body.snapshot_id if body else None)
    _audit(request, who, "rollback", snapshot_id=snapshot_id)
    return SnapshotRow(**next(row for row in holder.store.list() if row["snapshot_id"] == snapshot_id))


@router.post("/resources", status_code=201, response_model=UploadAccepted, summary="Upload a document with its metadata",
             responses=errors(*ADMIN_ERRORS, 413, e400="The file is empty, or the form cannot be parsed",
                              e409="A file of that name exists and replace is false",
                              e422="Unsupported file type or unusable name, invalid metadata"))
def upload_resource(
    request: Request,
    settings: SettingsDep,
    who: AdminDep,
    file: Annotated[UploadFile, File(description="PDF, HTML, Markdown or text")],
    metadata: Annotated[str, Form(description='Manifest fields as a JSON object, e.g. {"title": ..., "city": ...}')] = "{}",
    replace: Annotated[bool, Form()] = False,
    reindex: Annotated[bool, Form(description="Start a reindex job once the file is stored")] = False,
) -> UploadAccepted:
    # Authentication and the body cap were checked by the middleware before any of the body was received.
    try:
        fields = json.loads(metadata)
    except json.JSONDecodeError as error:
        raise InvalidParameter(f"metadata is not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(fields, dict):
        raise InvalidParameter("metadata must be a JSON object")
    line = store_upload(settings.source_dir, file.filename or "", file.file, fields, settings.max_upload_bytes, replace)
    job_id = request.app.state.jobs.submit_reindex().job_id if reindex else None
    _audit(request, who, "upload", file=f"{UPLOAD_FOLDER}/{line['file']}", id=line["id"], reindex_job=job_id)
    return UploadAccepted(file=f"{UPLOAD_FOLDER}/{line['file']}", manifest=line, job_id=job_id)
