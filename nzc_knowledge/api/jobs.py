"""Background reindex jobs for the admin API: one at a time, progress recorded, the engine reloaded on success.

The build itself is a function the composition root passes in: `create_app` passes a `ReindexWorker`, which runs
it in a child process (see `nzc_knowledge.api.reindex_worker`); tests may pass an in-process fake.

- A reindex requested while another one is still queued joins it (same job id): the queued job will read
  the content folder when it starts, so a second one would only repeat its work.
- A job can be cancelled: a queued one never starts; a running one is stopped (a worker process is killed at
  once, an in-process build at its next progress checkpoint) before its snapshot is published, so the previous
  snapshot keeps serving and the build folder is removed.
- Only the newest `keep_finished` finished jobs are kept in memory.
"""

from __future__ import annotations

import logging
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


# build(source_dir, index_dir, progress=..., cancelled=Event, started=pid callback, keep_snapshots=...,
#       multilingual=encoder name or None) -> report (a dict, or an object with `to_dict()`)
BuildFunction = Callable[..., Any]


class JobRunner:
    """Runs reindex jobs on one worker thread so two builds never compete for the CPU or the index folder."""

    def __init__(self, holder: EngineHolder, source_dir: Path, keep_snapshots: int,
                 multilingual_encoder: str | None = DEFAULT_MULTILINGUAL_ENCODER,
                 keep_finished: int = KEEP_FINISHED_JOBS, *, build: BuildFunction) -> None:
        """`build` makes the snapshot (the composition root passes `build_snapshot` with its extensions)."""
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
        self._executor.submit(self._run, job)
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

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

        def started(pid: int) -> None:
            job.worker_pid = pid
            job.progress = {"worker_pid": pid}

        def progress(stage: str, done: int, total: int) -> None:
            job.progress = {"stage": stage, "done": done, "total": total}
            if job.worker_pid is not None:
                job.progress["worker_pid"] = job.worker_pid
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

    def _prune(self) -> None:
        """Forget the oldest finished jobs beyond `keep_finished` (call with the lock held)."""
        finished = sorted((job for job in self.jobs.values() if job.status in FINISHED), key=lambda job: job.finished or 0)
        for job in finished[: max(0, len(finished) - self.keep_finished)]:
            del self.jobs[job.job_id]

    def shutdown(self) -> None:
        """Stop queued and running jobs (a worker process is killed); the previous snapshot keeps serving."""
        with self._lock:
            for job in self.jobs.values():
                if job.status not in FINISHED:
                    job.cancel_requested.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
