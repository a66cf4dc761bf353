"""Reindex jobs: queued requests share one job, jobs can be cancelled, finished jobs are pruned."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from nzc_knowledge.api.app import create_app
from nzc_knowledge.api.jobs import JobRunner
from nzc_knowledge.errors import Conflict
from nzc_knowledge.index.snapshot import MANIFEST
from nzc_knowledge.index.store import SnapshotStore
from nzc_knowledge.settings import Settings

TOKEN = "jobs-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


class FakeBuild:
    """Stands in for `build_snapshot`: writes a tiny snapshot, reporting progress inside the build folder.

    `gate` holds every build at its first checkpoint until the test opens it.
    """

    def __init__(self, steps: int = 50) -> None:
        self.steps = steps
        self.gate = threading.Event()
        self.started = threading.Event()
        self.calls = 0

    def __call__(self, source_dir, index_dir, progress, **_options):
        self.calls += 1
        store = SnapshotStore(index_dir)
        with store.build("f" * 8) as (snapshot_id, folder):
            (folder / "data.txt").write_text("x")
            for step in range(self.steps):
                progress("embed", step, self.steps)
                self.started.set()
                self.gate.wait(timeout=10)
                time.sleep(0.01)
            (folder / MANIFEST).write_text(json.dumps({"snapshot_id": snapshot_id, "files": {"data.txt": 1}}))
        progress("index", 1, 1)  # like the pipeline: the last checkpoint comes after publishing
        return SimpleNamespace(to_dict=lambda: {"snapshot_id": snapshot_id})


def runner(index_dir: Path, build: FakeBuild, keep_finished: int = 100) -> JobRunner:
    holder = SimpleNamespace(store=SnapshotStore(index_dir), encoder=None, load=lambda: None)
    return JobRunner(holder, index_dir, keep_snapshots=5, multilingual_encoder=None,  # type: ignore[arg-type]
                     keep_finished=keep_finished, build=build)


def wait_for(job, statuses=("succeeded", "failed", "cancelled"), seconds: float = 20) -> str:
    deadline = time.monotonic() + seconds
    while job.status not in statuses and time.monotonic() < deadline:
        time.sleep(0.01)
    return job.status


def test_requests_while_a_job_is_queued_share_it(tmp_path: Path):
    build = FakeBuild(steps=2)
    jobs = runner(tmp_path, build)
    running = jobs.submit_reindex()
    assert build.started.wait(5)
    queued = jobs.submit_reindex()
    again = jobs.submit_reindex()
    assert again.job_id == queued.job_id != running.job_id
    build.gate.set()
    assert wait_for(queued) == "succeeded" and running.status == "succeeded"
    assert build.calls == 2


def test_a_queued_job_cancelled_never_runs(tmp_path: Path):
    build = FakeBuild(steps=2)
    jobs = runner(tmp_path, build)
    first = jobs.submit_reindex()
    assert build.started.wait(5)
    queued = jobs.submit_reindex()
    assert jobs.cancel(queued.job_id).status == "cancelled"
    build.gate.set()
    assert wait_for(first) == "succeeded"
    time.sleep(0.2)
    assert build.calls == 1 and queued.status == "cancelled"
    assert jobs.submit_reindex().job_id != queued.job_id  # a cancelled job is not joined


def test_a_running_job_stops_at_its_next_checkpoint_and_leaves_the_old_snapshot(tmp_path: Path):
    build = FakeBuild(steps=50)
    build.gate.set()
    jobs = runner(tmp_path, build)
    first = jobs.submit_reindex()
    assert wait_for(first) == "succeeded"
    serving = SnapshotStore(tmp_path).current_id()
    build.started.clear()
    second = jobs.submit_reindex()
    assert build.started.wait(5)
    jobs.cancel(second.job_id)
    assert wait_for(second) == "cancelled"
    assert second.report["stopped_at"]["stage"] == "embed" and second.report["stopped_at"]["done"] < 50
    assert SnapshotStore(tmp_path).current_id() == serving
    assert len(SnapshotStore(tmp_path).list()) == 1
    assert not list(tmp_path.glob(".building-*"))
    with pytest.raises(Conflict, match="already finished"):
        jobs.cancel(first.job_id)


def test_only_the_newest_finished_jobs_are_kept(tmp_path: Path):
    build = FakeBuild(steps=1)
    build.gate.set()
    jobs = runner(tmp_path, build, keep_finished=2)
    ids = []
    for _ in range(5):
        job = jobs.submit_reindex()
        assert wait_for(job) == "succeeded"
        ids.append(job.job_id)
    last = jobs.submit_reindex()
    wait_for(last)
    assert set(jobs.jobs) == {ids[3], ids[4], last.job_id}  # pruned when a job is submitted


def test_cancel_over_http(tmp_path: Path):
    build = FakeBuild(steps=50)
    with TestClient(create_app(Settings(index_dir=tmp_path, admin_token=TOKEN, multilingual_encoder="none"))) as client:
        client.app.state.jobs = runner(tmp_path, build)  # type: ignore[attr-defined]
        running = client.post("/admin/reindex", headers=ADMIN).json()["job_id"]
        assert build.started.wait(5)
        queued = client.post("/admin/reindex", headers=ADMIN).json()["job_id"]
        assert client.post("/admin/reindex", headers=ADMIN).json()["job_id"] == queued
        assert client.delete(f"/admin/jobs/{queued}").status_code == 401
        cancelled = client.delete(f"/admin/jobs/{queued}", headers=ADMIN)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert client.delete(f"/admin/jobs/{running}", headers=ADMIN).status_code == 200
        build.gate.set()
        deadline = time.monotonic() + 20
        while client.get(f"/admin/jobs/{running}", headers=ADMIN).json()["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get(f"/admin/jobs/{running}", headers=ADMIN).json()["status"] == "cancelled"
        assert client.delete("/admin/jobs/nothere", headers=ADMIN).status_code == 404
        assert client.get("/health").status_code == 503  # nothing was published
