"""Reindex jobs build in a worker process; a swap keeps in-flight requests on their version and then frees it."""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import time
import weakref
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nzc_knowledge.api.app import create_app
from nzc_knowledge.api.engine import EngineHolder
from nzc_knowledge.api.reindex_worker import WORKER_COMMAND
from nzc_knowledge.encoders import Encoders
from nzc_knowledge.index.store import SnapshotStore
from nzc_knowledge.ingest.build import build_snapshot
from nzc_knowledge.recommend.profiles import snapshot_extensions
from nzc_knowledge.settings import Settings

CORPUS = next(folder / "data" / "corpus" for folder in Path(__file__).resolve().parents if (folder / "data" / "corpus").is_dir())
TOKEN = "worker-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
NEW_WORD = "quokkaboulevard"  # only in the document added after the first snapshot
NEW_DOCUMENT = f"# Tram depot of Quokkaville\n\nThe {NEW_WORD} depot charges electric trams from rooftop solar panels.\n"


def add_document(source: Path, text: str = NEW_DOCUMENT) -> None:
    (source / "docs" / "quokkaville-depot.md").write_text(text, encoding="utf-8")
    manifest = source / "manifest.jsonl"
    if "quokkaville-depot" not in manifest.read_text(encoding="utf-8"):
        with manifest.open("a", encoding="utf-8") as lines:
            lines.write(json.dumps({"id": "quokkaville-depot", "file": "docs/quokkaville-depot.md", "language": "en"}) + "\n")


def build(source: Path, index: Path, encoder) -> str:
    report = build_snapshot(source, index, encoder=encoder, extensions=snapshot_extensions(source), multilingual=None)
    return report.snapshot_id


@pytest.fixture(scope="module")
def first_snapshot(tmp_path_factory, encoder) -> tuple[Path, Path]:
    """(source, index) with one snapshot of the fixture corpus (English only, to keep the worker's model loads few)."""
    folder = tmp_path_factory.mktemp("worker-base")
    shutil.copytree(CORPUS, folder / "source")
    build(folder / "source", folder / "index", encoder)
    return folder / "source", folder / "index"


@pytest.fixture
def served(tmp_path, first_snapshot, encoders):
    """A client of an app serving a copy of the first snapshot, whose source folder has one new document."""
    source, index = tmp_path / "source", tmp_path / "index"
    shutil.copytree(first_snapshot[0], source)
    shutil.copytree(first_snapshot[1], index)
    add_document(source)
    settings = Settings(index_dir=index, source_dir=source, admin_token=TOKEN, multilingual_encoder="none")
    with TestClient(create_app(settings, encoders=encoders)) as client:
        yield client, index


def found_ids(client: TestClient) -> list[str]:
    response = client.get("/search", params={"q": NEW_WORD})
    assert response.status_code == 200
    return [result["id"] for result in response.json()["results"]]


def job_of(client: TestClient, job_id: str) -> dict:
    return client.get(f"/admin/jobs/{job_id}", headers=ADMIN).json()


def wait_for_job(client: TestClient, job_id: str, until, seconds: float = 180) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = job_of(client, job_id)
        if until(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never reached the awaited state: {job}")


def finished(job: dict) -> bool:
    return job["status"] in ("succeeded", "failed", "cancelled")


def stopped_worker(client: TestClient, job_id: str) -> int:
    """Wait until the job's worker has begun building (it holds the build lock), then freeze it with SIGSTOP.

    Frozen, it cannot finish (and publish) before the test cancels or kills it, however fast the machine is.
    """
    job = wait_for_job(client, job_id, lambda job: "stage" in job["progress"] or finished(job))
    assert job["status"] == "running", job
    pid = job["progress"]["worker_pid"]
    os.kill(pid, signal.SIGSTOP)
    return pid


def alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie, killed but not yet reaped, counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "zombie" not in status


def test_a_reindex_runs_in_a_worker_process_and_the_api_serves_its_snapshot(served):
    client, index = served
    before = client.get("/health").json()["snapshot_id"]
    assert found_ids(client) == []
    job_id = client.post("/admin/reindex", headers=ADMIN).json()["job_id"]
    job = wait_for_job(client, job_id, lambda job: "worker_pid" in job["progress"] or finished(job))
    pid = job["progress"]["worker_pid"]
    assert pid != os.getpid()
    command_line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    # a process of its own, running the worker's main through `-c`: its extraction workers re-import no module of it
    assert command_line[1:3] == [b"-c", WORKER_COMMAND.encode()]
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, os.nice(0) + 10)  # NZC_REINDEX_NICE's default, from the start
    job = wait_for_job(client, job_id, finished)
    assert job["status"] == "succeeded", job
    assert job["report"]["worker"]["pid"] == pid and job["report"]["worker"]["peak_rss_mb"] > 0
    assert not alive(pid)  # the worker exits with its job
    health = client.get("/health").json()
    assert health["snapshot_id"] == job["report"]["snapshot_id"] != before
    assert found_ids(client)[:1] == ["quokkaville-depot"]
    assert client.app.state.holder.versions_in_memory() == [health["snapshot_id"]]  # the old version was released


def test_cancel_kills_the_worker_and_the_old_snapshot_keeps_serving(served):
    client, index = served
    before = SnapshotStore(index).current_id()
    job_id = client.post("/admin/reindex", headers=ADMIN).json()["job_id"]
    pid = stopped_worker(client, job_id)
    (index / ".building-20990101T000000Z-leftover").mkdir()  # as a build killed while writing would leave it
    cancelled = client.delete(f"/admin/jobs/{job_id}", headers=ADMIN)
    assert cancelled.status_code == 200
    job = wait_for_job(client, job_id, finished, seconds=30)
    assert job["status"] == "cancelled", job
    assert not alive(pid)
    assert SnapshotStore(index).current_id() == before
    assert not list(index.glob(".building-*"))
    with SnapshotStore(index).exclusive():  # the dead worker's build lock is free again
        pass
    assert client.get("/health").json()["snapshot_id"] == before
    assert found_ids(client) == []


def test_a_killed_worker_fails_the_job_and_the_old_snapshot_stays_searchable(served):
    client, index = served
    before = SnapshotStore(index).current_id()
    job_id = client.post("/admin/reindex", headers=ADMIN).json()["job_id"]
    pid = stopped_worker(client, job_id)
    (index / ".building-20990101T000000Z-leftover").mkdir()
    os.kill(pid, signal.SIGKILL)  # what the out-of-memory killer does
    job = wait_for_job(client, job_id, finished, seconds=30)
    assert job["status"] == "failed"
    assert f"pid {pid}" in job["report"]["error"] and "SIGKILL" in job["report"]["error"]
    assert "previous snapshot keeps serving" in job["report"]["error"]
    assert SnapshotStore(index).current_id() == before
    assert not list(index.glob(".building-*"))
    search = client.get("/search", params={"q": "district heating"})
    assert search.status_code == 200 and search.json()["total"] > 0
    assert client.get("/health").json()["snapshot_id"] == before


def test_a_request_in_flight_keeps_its_version_and_releases_it_afterwards(tmp_path, first_snapshot, encoder):
    source, index = tmp_path / "source", tmp_path / "index"
    shutil.copytree(first_snapshot[0], source)
    shutil.copytree(first_snapshot[1], index)
    holder = EngineHolder(index, Encoders(preloaded=[encoder]))
    old_id = holder.load().snapshot.id
    with holder.lease() as old:  # a request that started on the old version
        add_document(source)
        new_id = build(source, index, encoder)  # published meanwhile (CURRENT flips)
        with holder.lease() as new:  # a request arriving now
            assert new.snapshot.id == new_id != old_id
            assert [hit.resource.id for hit in new.search.search(NEW_WORD).hits][:1] == ["quokkaville-depot"]
        assert old.snapshot.id == old_id  # the request in flight finishes on its version, with its results
        assert "quokkaville-depot" not in [hit.resource.id for hit in old.search.search(NEW_WORD).hits]
        assert holder.versions_in_memory() == [new_id, old_id]
        add_document(source, NEW_DOCUMENT + "\nA second depot opens in 2027.\n")
        third_id = build(source, index, encoder)
        with holder.lease() as meanwhile:  # a third version waits: never more than two in memory
            assert meanwhile.snapshot.id == new_id
        assert holder.versions_in_memory() == [new_id, old_id]
        released = weakref.ref(old)
        del old
    gc.collect()
    assert released() is None  # the old version's memory is gone once its last request is done
    with holder.lease() as latest:  # the next request loads the waiting version
        assert latest.snapshot.id == third_id
    assert holder.versions_in_memory() == [third_id]


def test_a_failed_build_in_the_worker_reports_its_error(served, tmp_path):
    client, index = served
    settings = client.app.state.settings
    empty = tmp_path / "empty"
    empty.mkdir()
    client.app.state.jobs.source_dir = empty
    job_id = client.post("/admin/reindex", headers=ADMIN).json()["job_id"]
    job = wait_for_job(client, job_id, finished)
    assert job["status"] == "failed"
    assert job["report"]["error"].startswith("ExtractionError: nothing to index")
    assert settings.admin_token not in json.dumps(job)
    assert found_ids(client) == []
