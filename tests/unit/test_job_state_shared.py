"""Admin job state written where every replica reads it: a job one replica runs is visible to another."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

from nzc_knowledge.api.jobs import JobRunner
from nzc_knowledge.index.store import SnapshotStore

from tests.unit.test_jobs import FakeBuild, wait_for


def replica(index_dir: Path, build: FakeBuild, keep_finished: int = 100) -> JobRunner:
    holder = SimpleNamespace(store=SnapshotStore(index_dir), encoder=None, load=lambda: None)
    return JobRunner(holder, index_dir, keep_snapshots=5, multilingual_encoder=None,  # type: ignore[arg-type]
                     keep_finished=keep_finished, build=build, state_dir=index_dir / "jobs")


def test_another_replica_sees_a_job_from_queued_to_finished(tmp_path: Path):
    build = FakeBuild(steps=3)
    first, second = replica(tmp_path, build), replica(tmp_path, FakeBuild())
    job = first.submit_reindex()
    assert build.started.wait(5)
    seen = second.get(job.job_id)
    assert seen is not None and seen.status == "running" and seen.job_id == job.job_id
    build.gate.set()
    assert wait_for(job) == "succeeded"
    deadline = time.monotonic() + 5
    while second.get(job.job_id).status != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.01)
    finished = second.get(job.job_id)
    assert finished.status == "succeeded" and finished.report == job.report and finished.finished == job.finished


def test_unknown_and_malformed_ids_are_not_found(tmp_path: Path):
    jobs = replica(tmp_path, FakeBuild())
    (tmp_path / "secret.json").write_text('{"job_id": "x", "status": "succeeded"}')
    assert jobs.get("0123456789ab") is None
    assert jobs.get("../secret") is None


def test_pruned_jobs_are_forgotten_by_every_replica(tmp_path: Path):
    build = FakeBuild(steps=1)
    build.gate.set()
    first, second = replica(tmp_path, build, keep_finished=1), replica(tmp_path, FakeBuild())
    old = first.submit_reindex()
    assert wait_for(old) == "succeeded"
    new = first.submit_reindex()
    assert wait_for(new) == "succeeded"
    first.submit_reindex()  # pruning happens when a job is submitted
    assert second.get(old.job_id) is None
    assert second.get(new.job_id) is not None
