"""Background reindex jobs for the admin API: one at a time, progress recorded, the engine reloaded on success."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nzc_knowledge.api.engine import EngineHolder
from nzc_knowledge.encoders import DEFAULT_MULTILINGUAL_ENCODER, shared_encoder

logger = logging.getLogger(__name__)


@dataclass
class Job:
    job_id: str
    status: str = "queued"
    progress: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)


class JobRunner:
    """Runs reindex jobs on one worker thread so two builds never compete for the CPU or the index folder."""

    def __init__(self, holder: EngineHolder, source_dir: Path, keep_snapshots: int,
                 multilingual_encoder: str | None = DEFAULT_MULTILINGUAL_ENCODER) -> None:
        self.holder = holder
        self.source_dir = source_dir
        self.keep_snapshots = keep_snapshots
        self.multilingual_encoder = multilingual_encoder
        self.jobs: dict[str, Job] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nzc-reindex")
        self._lock = threading.Lock()

    def submit_reindex(self) -> Job:
        job = Job(job_id=uuid.uuid4().hex[:12])
        with self._lock:
            self.jobs[job.job_id] = job
        self._executor.submit(self._run, job)
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def _run(self, job: Job) -> None:
        from nzc_knowledge.ingest.build import build_snapshot

        job.status = "running"

        def progress(stage: str, done: int, total: int) -> None:
            job.progress = {"stage": stage, "done": done, "total": total}

        try:
            report = build_snapshot(
                self.source_dir, self.holder.store.index_dir, encoder=self.holder.encoder, progress=progress,
                keep_snapshots=self.keep_snapshots,
                multilingual=shared_encoder(self.multilingual_encoder) if self.multilingual_encoder else None,
            )
            job.report = report.to_dict()
            self.holder.load()
            job.status = "succeeded"
        except Exception as error:  # the job reports any failure; the previous snapshot keeps serving
            logger.exception("reindex job %s failed", job.job_id)
            job.report = {"error": f"{type(error).__name__}: {error}"}
            job.status = "failed"

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
