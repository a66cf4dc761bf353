"""Background reindex jobs for the admin API: one at a time, progress recorded, the engine reloaded on success.

The build itself is a function the composition root passes in: `create_app` passes a `ReindexWorker`, which runs
it in a child process (see `nzc_knowledge.api.reindex_worker`); tests may pass an in-process fake.

- A reindex requested while another one is still queued joins it (same job id): the queued job will read
  the content folder when it starts, so a second one would only repeat its work.
- A job can be cancelled: a queued one never starts; a running one is stopped (a worker process is killed at
  once, an in-process build at its next progress checkpoint) before its snapshot is published, so the previous
  snapshot keeps serving and the build folder is removed.
- Only the newest `keep_finished` finished jobs are kept in memory.
- With a `state_dir` (the composition root passes `<index dir>/jobs`), each job's state is also written there as
  JSON whenever it changes, so every replica serving the same index folder answers GET /admin/jobs/{id} for a job
  another replica runs (cancelling stays with the replica that runs it).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nzc_knowledge.api.engine import EngineHolder
from nzc_knowledge.encoders import DEFAULT_MULTILINGUAL_ENCODER
from nzc_knowledge.errors import Conflict

logger = logging.getLogger(__name__)

FINISHED = ("succeeded", "failed", "cancelled")
KEEP_FINISHED_JOBS = 100
JOB_ID = re.compile(r"[0-9a-f]{12}")  # what `submit_reindex` makes; anything else is never a file name
PROGRESS_WRITE_INTERVAL_S = 1.0  # progress is written for other replicas at most this often


class JobCancelled(Exception):
    """Raised inside a running build's progress callback to stop it."""


class BuildFailed(Exception):
    """A build that failed elsewhere (in a worker process); `str()` is the job's error text as it stands."""


@dataclass
class Job:
    job_id: str
    status: str = "queued"
    progress: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    worker_pid: int | None = None  # the process building this job's snapshot (also in `progress`)

    def state(self) -> dict[str, Any]:
        """What other replicas read of this job."""
        return {"job_id": self.job_id, "status": self.status, "progress": self.progress, "report": self.report,
                "created": self.created, "finished": self.finished, "worker_pid": self.worker_pid}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Job:
        return cls(job_id=state["job_id"], status=state["status"], progress=state.get("progress") or {},
                   report=state.get("report"), created=state.get("created") or 0.0, finished=state.get("finished"),
                   worker_pid=state.get("worker_pid"))


# build(source_dir, index_dir, progress=..., cancelled=Event, started=pid callback, keep_snapshots=...,
#       multilingual=encoder name or None) -> report (a dict, or an object with `to_dict()`)
BuildFunction = Callable[..., Any]


class JobRunner:
    """Runs reindex jobs on one worker thread so two builds never compete for the CPU or the index folder."""

    def __init__(self, holder: EngineHolder, source_dir: Path, keep_snapshots: int,
                 multilingual_encoder: str | None = DEFAULT_MULTILINGUAL_ENCODER,
                 keep_finished: int = KEEP_FINISHED_JOBS, *, build: BuildFunction, state_dir: Path | None = None) -> None:
        """`build` makes the snapshot (the composition root passes `build_snapshot` with its extensions)."""
        self.state_dir = state_dir
        self._saved_at: dict[str, float] = {}
        self.holder = holder
        self.source_dir = source_dir
        self.keep_snapshots = keep_snapshots
        self.multilingual_encoder = multilingual_encoder
        self.keep_finished = keep_finished
        self.jobs: dict[str, Job] = {}
        self._build = build
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nzc-reindex")
        self._lock = threading.Lock()

    def submit_reindex(self) -> Job:
        """A new queued job, or the one already queued (requests arriving before it starts share it)."""
        with self._lock:
            waiting = next((job for job in self.jobs.values() if job.status == "queued"), None)
            if waiting is not None:
                return waiting
            job = Job(job_id=uuid.uuid4().hex[:12])
            self.jobs[job.job_id] = job
            self._prune()
        self._save(job)
        self._executor.submit(self._run, job)
        return job

    def get(self, job_id: str) -> Job | None:
        """A job of this replica, or one another replica runs over the same index folder (from `state_dir`)."""
        job = self.jobs.get(job_id)
        if job is not None or self.state_dir is None or not JOB_ID.fullmatch(job_id):
            return job
        try:
            return Job.from_state(json.loads((self.state_dir / f"{job_id}.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError):  # unknown here and there, or being replaced this instant
            return None

    def _save(self, job: Job, force: bool = True) -> None:
        """Write the job's state for other replicas (atomically: a reader sees the old or the new state)."""
        if self.state_dir is None:
            return
        now = time.monotonic()
        if not force and now - self._saved_at.get(job.job_id, 0.0) < PROGRESS_WRITE_INTERVAL_S:
            return
        self._saved_at[job.job_id] = now
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            temporary = self.state_dir / f".{job.job_id}.{os.getpid()}.tmp"
            temporary.write_text(json.dumps(job.state()), encoding="utf-8")
            os.replace(temporary, self.state_dir / f"{job.job_id}.json")
        except OSError as error:  # other replicas see stale state; this one still answers from memory
            logger.warning("could not write the state of job %s: %s", job.job_id, error)

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued job now, or ask a running one to stop at its next checkpoint; None for an unknown id.

        A finished job is returned unchanged, except `Conflict` for a job that already succeeded (its snapshot
        is serving; roll back instead).
        """
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None:
                return None
            if job.status == "succeeded":
                raise Conflict(f"job {job_id} has already finished and published its snapshot; use POST /admin/rollback to serve the previous one")
            if job.status in FINISHED:
                return job
            job.cancel_requested.set()
            if job.status == "queued":
                self._finish(job, "cancelled", {"cancelled": "before it started"})
            return job

    def _run(self, job: Job) -> None:
        with self._lock:
            if job.status != "queued":  # cancelled while it waited
                return
            job.status = "running"
        self._save(job)

        def started(pid: int) -> None:
            job.worker_pid = pid
            job.progress = {"worker_pid": pid}

        def progress(stage: str, done: int, total: int) -> None:
            job.progress = {"stage": stage, "done": done, "total": total}
            if job.worker_pid is not None:
                job.progress["worker_pid"] = job.worker_pid
            self._save(job, force=False)
            # The pipeline's last checkpoint ("index" complete) comes after the snapshot is published; a cancel
            # that arrives that late must not turn a published snapshot into a "cancelled" job.
            if job.cancel_requested.is_set() and not (stage == "index" and done >= total):
                raise JobCancelled

        try:
            report = self._build(
                self.source_dir, self.holder.store.index_dir, progress=progress, cancelled=job.cancel_requested,
                started=started, keep_snapshots=self.keep_snapshots, multilingual=self.multilingual_encoder,
            )
            self.holder.load()
            self._finish(job, "succeeded", report if isinstance(report, dict) else report.to_dict())
        except JobCancelled:
            logger.info("reindex job %s cancelled at %s", job.job_id, job.progress)
            self._finish(job, "cancelled", {"cancelled": "while running; the previous snapshot keeps serving",
                                            "stopped_at": dict(job.progress)})
        except BuildFailed as error:
            logger.error("reindex job %s failed: %s", job.job_id, error)
            self._finish(job, "failed", {"error": str(error)})
        except Exception as error:  # the job reports any failure; the previous snapshot keeps serving
            logger.exception("reindex job %s failed", job.job_id)
            self._finish(job, "failed", {"error": f"{type(error).__name__}: {error}"})

    def _finish(self, job: Job, status: str, report: dict[str, Any]) -> None:
        job.report = report
        job.finished = time.time()
        job.status = status
        self._save(job)

    def _prune(self) -> None:
        """Forget the oldest finished jobs beyond `keep_finished` (call with the lock held)."""
        finished = sorted((job for job in self.jobs.values() if job.status in FINISHED), key=lambda job: job.finished or 0)
        for job in finished[: max(0, len(finished) - self.keep_finished)]:
            del self.jobs[job.job_id]
            self._saved_at.pop(job.job_id, None)
            if self.state_dir is not None:
                (self.state_dir / f"{job.job_id}.json").unlink(missing_ok=True)

    def shutdown(self) -> None:
        """Stop queued and running jobs (a worker process is killed); the previous snapshot keeps serving."""
        with self._lock:
            for job in self.jobs.values():
                if job.status not in FINISHED:
                    job.cancel_requested.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
