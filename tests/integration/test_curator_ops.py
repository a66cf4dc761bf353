"""Curator operations: incremental reindex, forced rebuilds, killed builds, hot swap under load, uploads."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from nzc_knowledge.index import Snapshot, SnapshotStore
from nzc_knowledge.ingest.build import build_snapshot
from nzc_knowledge.ingest.chunk import ChunkerSettings
from nzc_knowledge.ingest.pipeline import IngestSettings

CORPUS = Path(__file__).parents[1] / "data" / "corpus"
TOKEN = "curator-token"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(CORPUS, folder)
    return folder


def load(index_dir: Path) -> Snapshot:
    return Snapshot.load(SnapshotStore(index_dir).current_path())


def test_incremental_reindex_handles_changed_deleted_and_added_files(source, tmp_path, encoder):
    index_dir = tmp_path / "index"
    first = build_snapshot(source, index_dir, encoder=encoder)
    before = load(index_dir)

    with (source / "docs" / "milan-lez.md").open("a", encoding="utf-8") as handle:
        handle.write("\nThe city also installed 300 new charging points for electric taxis.\n")
    (source / "docs" / "lyon-canopy.md").unlink()
    (source / "docs" / "graz-tram.md").write_text(
        "# Graz extends its tram network\n\nGraz opened two new tram lines to the Reininghaus and Smart City districts, "
        "cutting car trips in the west of the city.\n", encoding="utf-8")

    second = build_snapshot(source, index_dir, encoder=encoder)
    after = load(index_dir)

    assert any(note.startswith("incremental") for note in second.notes)
    assert sorted(second.ingested) == ["docs/graz-tram.md", "docs/milan-lez.md"]
    assert "docs/lyon-canopy.md" in second.removed
    assert len(second.unchanged) == len(first.ingested) - 2
    changed_chunks = sum(1 for chunk in after.chunks if chunk.resource_id in {"milan-lez"}
                         or after.resource(chunk.resource_id).file == "docs/graz-tram.md")
    assert second.embedded_chunks == changed_chunks < second.chunk_count
    assert after.resource("lyon-canopy") is None
    # unchanged chunks keep their stored vectors exactly
    old_rows = {chunk.id: row for row, chunk in enumerate(before.chunks)}
    for row, chunk in enumerate(after.chunks):
        if chunk.resource_id == "velenje-district-heating":
            assert np.array_equal(after.dense.vectors[row], before.dense.vectors[old_rows[chunk.id]])
    assert after.resource("velenje-district-heating").predicted == before.resource("velenje-district-heating").predicted


def test_changed_chunker_settings_force_a_full_rebuild(source, tmp_path, encoder):
    index_dir = tmp_path / "index"
    build_snapshot(source, index_dir, encoder=encoder)
    smaller = IngestSettings(chunker=ChunkerSettings(max_tokens=120, overlap_tokens=20))
    report = build_snapshot(source, index_dir, encoder=encoder, settings=smaller)
    assert report.notes and report.notes[0].startswith("full rebuild: chunker changed")
    assert report.unchanged == [] and report.embedded_chunks == report.chunk_count
    assert load(index_dir).manifest["chunker"]["max_tokens"] == 120


def test_a_killed_build_leaves_the_previous_snapshot_serving(source, tmp_path, encoder):
    index_dir = tmp_path / "index"
    build_snapshot(source, index_dir, encoder=encoder)
    store = SnapshotStore(index_dir)
    serving = store.current_id()
    (source / "docs" / "milan-lez.md").write_text("# Changed\n\nA new text about cargo bikes.\n", encoding="utf-8")

    process = subprocess.Popen(
        [sys.executable, "-m", "nzc_knowledge.cli", "ingest", str(source), "--index-dir", str(index_dir), "--quiet", "--full"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and process.poll() is None and not list(index_dir.glob(".building-*")):
        time.sleep(0.005)
    assert process.poll() is None, "the build finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    assert store.current_id() == serving
    assert load(index_dir).resource("milan-lez").title != "Changed"
    report = build_snapshot(source, index_dir, encoder=encoder)
    assert store.current_id() == report.snapshot_id != serving
    assert not list(index_dir.glob(".building-*"))
    assert load(index_dir).resource("milan-lez").title == "Changed"


@pytest.fixture
def live(source, tmp_path, encoder, encoders):
    from nzc_knowledge.api.app import create_app
    from nzc_knowledge.bench.server import live_server
    from nzc_knowledge.settings import Settings

    index_dir = tmp_path / "index"
    build_snapshot(source, index_dir, encoder=encoder)
    settings = Settings(index_dir=index_dir, source_dir=source, admin_token=TOKEN, max_upload_bytes=50_000)
    with live_server(create_app(settings, encoders=encoders)) as base_url:
        yield base_url, source, index_dir


def wait_for_job(client: httpx.Client, job_id: str, timeout: float = 300) -> dict:  # a worker process loads its encoders at nice +10
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/admin/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def test_reindex_swaps_snapshots_under_load_without_failed_requests(live):
    base_url, source, _ = live
    admin = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    old_id = admin.get("/health").json()["snapshot_id"]
    (source / "docs" / "oslo-ferries.md").write_text(
        "# Electric ferries in Oslo\n\nOslo's ferry operator converted its harbour ferries to battery-electric "
        "operation with shore charging at the quays.\n", encoding="utf-8")

    statuses: list[int] = []
    stop = threading.Event()

    def steady_load() -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            while not stop.is_set():
                statuses.append(client.get("/search", params={"q": "district heating", "limit": 5}).status_code)

    workers = [threading.Thread(target=steady_load) for _ in range(3)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    accepted = admin.post("/admin/reindex")
    assert accepted.status_code == 202
    job = wait_for_job(admin, accepted.json()["job_id"])
    time.sleep(0.5)
    stop.set()
    for worker in workers:
        worker.join()

    assert job["status"] == "succeeded", job
    assert job["report"]["ingested"] == ["docs/oslo-ferries.md"]
    assert len(statuses) > 10 and set(statuses) == {200}
    health = admin.get("/health").json()
    assert health["snapshot_id"] == job["report"]["snapshot_id"] != old_id
    results = admin.get("/search", params={"q": "electric ferries shore charging"}).json()["results"]
    assert results[0]["title"] == "Electric ferries in Oslo"

    listed = admin.get("/admin/snapshots").json()
    assert [row["current"] for row in listed][:2] == [True, False]
    rolled = admin.post("/admin/rollback", json={})
    assert rolled.status_code == 200 and rolled.json()["snapshot_id"] == old_id
    assert admin.get("/health").json()["snapshot_id"] == old_id


def test_uploads_are_limited_and_named_safely(live):
    base_url, source, index_dir = live
    admin = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    text = b"# Solar carports in Utrecht\n\nUtrecht built solar carports over park-and-ride sites with bidirectional chargers.\n"

    hostile = admin.post("/admin/resources", files={"file": ("../../etc/.solar carports.md", text, "text/markdown")},
                         data={"metadata": json.dumps({"city": "Utrecht", "country": "NL", "type": "case_study"})})
    assert hostile.status_code == 201, hostile.text
    assert hostile.json()["file"] == "uploads/solar-carports.md"
    assert (source / "uploads" / "solar-carports.md").read_bytes() == text
    assert not (source.parent / "etc").exists()

    duplicate = admin.post("/admin/resources", files={"file": ("solar-carports.md", text)})
    assert duplicate.status_code == 409 and "replace=true" in duplicate.json()["detail"]
    executable = admin.post("/admin/resources", files={"file": ("tool.exe", b"MZ...")})
    assert executable.status_code == 422 and "file type .exe is not accepted" in executable.json()["detail"]
    too_big = admin.post("/admin/resources", files={"file": ("big.md", b"x" * 60_000)})
    assert too_big.status_code == 413
    assert not (source / "uploads" / "big.md").exists()
    bad_metadata = admin.post("/admin/resources", files={"file": ("a.md", text)}, data={"metadata": '{"domains": ["space"]}'})
    assert bad_metadata.status_code == 422 and "unknown domain 'space'" in bad_metadata.json()["detail"]
    not_json = admin.post("/admin/resources", files={"file": ("a.md", text)}, data={"metadata": "{city: Utrecht"})
    assert not_json.status_code == 422 and "metadata is not valid JSON" in not_json.json()["detail"]
    anonymous = httpx.post(f"{base_url}/admin/resources", files={"file": ("a.md", text)})
    assert anonymous.status_code == 401

    replaced = admin.post("/admin/resources", files={"file": ("solar-carports.md", text)},
                          data={"replace": "true", "reindex": "true",
                                "metadata": json.dumps({"id": "utrecht-solar-carports", "city": "Utrecht", "country": "nl"})})
    assert replaced.status_code == 201 and replaced.json()["job_id"]
    assert wait_for_job(admin, replaced.json()["job_id"])["status"] == "succeeded"
    resource = admin.get("/resources/utrecht-solar-carports").json()
    assert resource["city"] == "Utrecht" and resource["country"] == "NL" and resource["file"] == "uploads/solar-carports.md"
    audit = (index_dir / "audit.log").read_text(encoding="utf-8")
    lines = audit.splitlines()
    assert any("action=upload" in line and "file=uploads/solar-carports.md" in line for line in lines)
    assert any("action=upload" in line and f"reindex_job={replaced.json()['job_id']}" in line for line in lines)
    # Granted actions name the token by a keyed HMAC; the refused anonymous upload is audited as such.
    assert all("who=token:" in line for line in lines if "action=denied" not in line) and TOKEN not in audit
    assert any("who=anonymous" in line and "action=denied" in line and "status=401" in line for line in lines)
