"""`nzc bench reindex`: what a curator's reindex costs and whether the portal notices it.

Three measurements on a temporary copy of a content folder:
1. a full build, then an incremental one after changing one file (the ratio is what incremental saves);
2. a reindex through `POST /admin/reindex` on a live server while worker threads search without pause,
   counting the requests that did not answer 200 (the target is none) and their latency around the swap.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from nzc_knowledge.bench.server import live_server
from nzc_knowledge.encoders import load_encoder
from nzc_knowledge.ingest.build import build_snapshot
from nzc_knowledge.settings import Settings

LOAD_QUERIES = ("district heating financing", "low-emission zone", "Wärmeplanung", "citizen assembly", "green roofs")


def _touch(source: Path, round_number: int) -> str:
    """Append a paragraph to the first Markdown resource; returns its path relative to `source`."""
    target = sorted(path for path in source.rglob("*.md") if path.name != "README.md" and "_parts" not in path.parts)[0]
    with target.open("a", encoding="utf-8") as handle:
        handle.write(f"\n\nCurator's note {round_number}: figures checked against the city's latest monitoring report.\n")
    return target.relative_to(source).as_posix()


def _timed_build(source: Path, index: Path, encoder, full: bool) -> dict[str, Any]:
    report = build_snapshot(source, index, encoder=encoder, full=full)
    return {"seconds": round(report.seconds, 2), "files_ingested": len(report.ingested),
            "files_unchanged": len(report.unchanged), "chunks": report.chunk_count,
            "chunks_embedded": report.embedded_chunks, "notes": report.notes}


def _swap_under_load(source: Path, index: Path, encoder, workers: int) -> dict[str, Any]:
    token = secrets.token_urlsafe(16)
    settings = Settings(index_dir=index, source_dir=source, admin_token=token)
    statuses: list[int] = []
    latencies: list[float] = []
    failures: list[str] = []
    stop = threading.Event()

    def steady_load(base_url: str, offset: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            turn = offset
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    status = client.get("/search", params={"q": LOAD_QUERIES[turn % len(LOAD_QUERIES)]}).status_code
                except httpx.HTTPError as error:  # a dropped connection is a failed request too
                    status, reason = 0, repr(error)
                    failures.append(reason)
                latencies.append(time.perf_counter() - started)
                statuses.append(status)
                turn += 1

    with live_server(settings, encoder=encoder) as base_url:
        admin = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        before = admin.get("/health").json()["snapshot_id"]
        changed = _touch(source, 2)
        threads = [threading.Thread(target=steady_load, args=(base_url, n)) for n in range(workers)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        job_id = admin.post("/admin/reindex").json()["job_id"]
        while (job := admin.get(f"/admin/jobs/{job_id}").json())["status"] not in ("succeeded", "failed"):
            time.sleep(0.2)
        time.sleep(1.0)
        stop.set()
        for thread in threads:
            thread.join()
        after = admin.get("/health").json()["snapshot_id"]
    import numpy as np

    milliseconds = np.asarray(latencies) * 1000
    return {
        "changed_file": changed,
        "job_status": job["status"],
        "swapped": after != before and after == (job.get("report") or {}).get("snapshot_id"),
        "requests": len(statuses),
        "failed_requests": sum(1 for status in statuses if status != 200),
        "failure_examples": failures[:3],
        "search_p50_ms": round(float(np.percentile(milliseconds, 50)), 1),
        "search_p99_ms": round(float(np.percentile(milliseconds, 99)), 1),
        "load_workers": workers,
    }


def reindex_bench(source_dir: Path, workers: int = 3) -> dict[str, Any]:
    """The figures, as a dict ready for JSON (see the module docstring)."""
    encoder = load_encoder()
    with tempfile.TemporaryDirectory(prefix="nzc-bench-reindex-") as folder:
        source, index = Path(folder) / "source", Path(folder) / "index"
        shutil.copytree(source_dir, source)
        full = _timed_build(source, index, encoder, full=True)
        changed = _touch(source, 1)
        incremental = _timed_build(source, index, encoder, full=False)
        swap = _swap_under_load(source, index, encoder, workers)
    return {
        "command": f"nzc bench reindex {source_dir}",
        "full_build": full,
        "incremental_after_one_changed_file": incremental | {"changed_file": changed},
        "incremental_to_full_time_ratio": round(incremental["seconds"] / full["seconds"], 3),
        "reindex_and_swap_under_load": swap,
    }
