"""`nzc bench reindex`: what a curator's reindex costs and whether the portal notices it.

Measurements on a temporary copy of a content folder:
1. a full build, then an incremental one after changing one file (the ratio is what incremental saves);
2. a reindex through `POST /admin/reindex` on a live server while worker threads search without pause,
   counting the requests that did not answer 200 (the target is none) and their latency around the swap;
3. with `--clients N`: N concurrent clients against `nzc serve` in a child process on a copy of an existing
   index, before, during and after a reindex and its swap: failed requests (target: none), p50/p99
   during the build and outside it, and the resident memory of the server and of the processes it started
   (the reindex worker, extraction) before, during and after the build.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from nzc_knowledge.bench.server import LOOPBACK, live_server, serve_in_child
from nzc_knowledge.encoders import Encoder
from nzc_knowledge.errors import NoSnapshot
from nzc_knowledge.index.store import SnapshotStore
from nzc_knowledge.ingest.build import build_snapshot
from nzc_knowledge.recommend.profiles import snapshot_extensions
from nzc_knowledge.settings import Settings

# (settings, encoder) -> the ASGI app to serve: `nzc bench reindex` passes the API's `create_app`.
AppFactory = Callable[[Settings, Any], Any]
LOAD_QUERIES = ("district heating financing", "low-emission zone", "Wärmeplanung", "citizen assembly", "green roofs")
REQUEST_TIMEOUT_S = 60.0


def _touch(source: Path, round_number: int) -> str:
    """Append a paragraph to the first Markdown resource; returns its path relative to `source`."""
    target = sorted(path for path in source.rglob("*.md") if path.name != "README.md")[0]
    with target.open("a", encoding="utf-8") as handle:
        handle.write(f"\n\nCurator's note {round_number}: figures checked against the city's latest monitoring report.\n")
    return target.relative_to(source).as_posix()


def _timed_build(source: Path, index: Path, encoder, full: bool) -> dict[str, Any]:
    report = build_snapshot(source, index, encoder=encoder, full=full, extensions=snapshot_extensions(source))
    return {"seconds": round(report.seconds, 2), "files_ingested": len(report.ingested),
            "files_unchanged": len(report.unchanged), "chunks": report.chunk_count,
            "chunks_embedded": report.embedded_chunks, "notes": report.notes}


def _swap_under_load(source: Path, index: Path, encoder, workers: int, app_factory: AppFactory) -> dict[str, Any]:
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

    with live_server(app_factory(settings, encoder)) as base_url:
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


def reindex_bench(source_dir: Path, encoder: Encoder, app_factory: AppFactory, workers: int = 3) -> dict[str, Any]:
    """The figures, as a dict ready for JSON (see the module docstring); `encoder`: MiniLM as the settings load it."""
    with tempfile.TemporaryDirectory(prefix="nzc-bench-reindex-") as folder:
        source, index = Path(folder) / "source", Path(folder) / "index"
        shutil.copytree(source_dir, source)
        full = _timed_build(source, index, encoder, full=True)
        changed = _touch(source, 1)
        incremental = _timed_build(source, index, encoder, full=False)
        swap = _swap_under_load(source, index, encoder, workers, app_factory)
    return {
        "command": f"nzc bench reindex {source_dir}",
        "full_build": full,
        "incremental_after_one_changed_file": incremental | {"changed_file": changed},
        "incremental_to_full_time_ratio": round(incremental["seconds"] / full["seconds"], 3),
        "reindex_and_swap_under_load": swap,
    }


# -- many clients against a server in its own process ----------------------------------------------------------

CLIENT_QUERIES = LOAD_QUERIES + (
    "energy community", "deep renovation of social housing", "urban heat island trees", "port shore power",
    "green public procurement", "emissions inventory data gaps", "bike lanes", "comunità energetiche finanziamento",
)


@dataclass
class _Sample:
    started: float
    seconds: float
    status: int  # 0: no HTTP answer (timeout, dropped connection)


def _copy_current_snapshot(index_dir: Path, target: Path) -> str:
    """Copy only the serving snapshot and the pointer (the bench must not touch the real index)."""
    store = SnapshotStore(index_dir)
    snapshot_id = store.current_id()
    if snapshot_id is None:
        raise NoSnapshot(f"no snapshot to copy in {index_dir}: build one with `nzc ingest --index-dir {index_dir}`")
    shutil.copytree(store.path(snapshot_id), target / "snapshots" / snapshot_id)
    (target / "CURRENT").write_text(snapshot_id + "\n", encoding="utf-8")
    return snapshot_id


@contextmanager
def _server_process(index: Path, source: Path, token: str, log_path: Path, start_timeout: float) -> Iterator[tuple[str, int]]:
    """`nzc serve` with the admin token on 127.0.0.1:<free port> in a child process; yields its base URL and pid."""
    with serve_in_child(index, log_path, start_timeout, extra_args=("--source-dir", str(source)),
                        extra_env={"NZC_ADMIN_TOKEN": token}) as (base_url, pid, _):
        yield base_url, pid


def _client_loop(base_url: str, number: int, stop: threading.Event, deadline: float, max_requests: int,
                 samples: list[_Sample], failures: list[str]) -> None:
    """One client: searches one after another until told to stop, the deadline, or `max_requests`."""
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        for turn in range(number, number + max_requests):
            if stop.is_set() or time.monotonic() > deadline:
                return
            started = time.monotonic()
            try:
                status = client.get("/search", params={"q": CLIENT_QUERIES[turn % len(CLIENT_QUERIES)]}).status_code
            except httpx.HTTPError as error:  # a dropped connection or a timeout is a failed request too
                status = 0
                failures.append(repr(error))
            samples.append(_Sample(started, time.monotonic() - started, status))
            if status != 200 and status != 0:
                failures.append(f"HTTP {status}")


def _rss_mb(pid: int) -> float:
    """Resident memory of one process in MB (0 once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc/<pid>/task/*/children)."""
    found: list[int] = []
    try:
        children = [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                    for child in (task / "children").read_text().split()]
    except (OSError, ValueError):
        return found
    for child in children:
        found += [child, *_descendants(child)]
    return found


@dataclass
class _MemorySample:
    at: float
    server_mb: float
    children_mb: float  # the reindex worker and extraction processes the server started


def _sample_memory(pid: int, stop: threading.Event, samples: list[_MemorySample], every_s: float = 0.25) -> None:
    while not stop.is_set():
        samples.append(_MemorySample(time.monotonic(), _rss_mb(pid), sum(_rss_mb(child) for child in _descendants(pid))))
        stop.wait(every_s)


def _memory(samples: list[_MemorySample], posted: float, finished: float) -> dict[str, Any]:
    """Server and children RSS: last before the build, peak during it, last sample (after the swap)."""
    before = [sample for sample in samples if sample.at < posted]
    during = [sample for sample in samples if posted <= sample.at <= finished]
    after = [sample for sample in samples if sample.at > finished]
    return {
        "server_rss_mb_before_build": round(before[-1].server_mb, 1) if before else None,
        "server_rss_mb_peak_during_build": round(max(s.server_mb for s in during), 1) if during else None,
        "server_rss_mb_after_swap": round(after[-1].server_mb, 1) if after else None,
        "server_rss_mb_peak_after_swap": round(max(s.server_mb for s in after), 1) if after else None,
        "children_rss_mb_peak_during_build": round(max(s.children_mb for s in during), 1) if during else None,
        "server_plus_children_rss_mb_peak": round(max(s.server_mb + s.children_mb for s in samples), 1) if samples else None,
    }


def _latency(samples: list[_Sample]) -> dict[str, Any]:
    if not samples:
        return {"requests": 0}
    import numpy as np

    milliseconds = np.asarray([sample.seconds for sample in samples]) * 1000
    return {"requests": len(samples), "failed": sum(1 for sample in samples if sample.status != 200),
            "p50_ms": round(float(np.percentile(milliseconds, 50)), 1),
            "p99_ms": round(float(np.percentile(milliseconds, 99)), 1),
            "max_ms": round(float(milliseconds.max()), 1)}


def clients_under_reindex(source_dir: Path, index_dir: Path, clients: int = 50, baseline_s: float = 15.0,
                          after_s: float = 15.0, time_limit_s: float = 600.0, max_requests: int = 5000,
                          start_timeout_s: float = 300.0) -> dict[str, Any]:
    """`clients` threads search a server process (copy of `index_dir`) before, during and after a reindex + swap.

    One file of a copy of `source_dir` is changed first, so the reindex has something to publish. Every
    request loop is bounded by `max_requests` per client and by `time_limit_s` for the whole measurement.
    """
    token = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="nzc-bench-clients-") as folder:
        source, index = Path(folder) / "source", Path(folder) / "index"
        shutil.copytree(source_dir, source)
        index.mkdir()
        before = _copy_current_snapshot(Path(index_dir), index)
        changed = _touch(source, 1)
        samples: list[_Sample] = []
        failures: list[str] = []
        stop = threading.Event()
        started_server = time.monotonic()
        memory: list[_MemorySample] = []
        with _server_process(index, source, token, Path(folder) / "server.log", start_timeout_s) as (base_url, pid):
            startup_s = time.monotonic() - started_server
            sampler = threading.Thread(target=_sample_memory, args=(pid, stop, memory), name="bench-memory")
            sampler.start()
            admin = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=REQUEST_TIMEOUT_S)
            deadline = time.monotonic() + time_limit_s
            threads = [threading.Thread(target=_client_loop, args=(base_url, n, stop, deadline, max_requests, samples, failures),
                                        name=f"bench-client-{n}") for n in range(clients)]
            for thread in threads:
                thread.start()
            time.sleep(baseline_s)
            posted = time.monotonic()
            accepted = admin.post("/admin/reindex")
            accepted.raise_for_status()
            job_id = accepted.json()["job_id"]
            job: dict[str, Any] = {"status": "queued"}
            while job["status"] in ("queued", "running") and time.monotonic() < deadline:
                time.sleep(0.25)
                job = admin.get(f"/admin/jobs/{job_id}").json()
            finished = time.monotonic()
            time.sleep(max(0.0, min(after_s, deadline - time.monotonic())))
            stop.set()
            for thread in threads:
                thread.join(timeout=REQUEST_TIMEOUT_S + 5)
            sampler.join()
            after = admin.get("/health").json().get("snapshot_id")
            admin.close()
    report = job.get("report") or {}
    during = [sample for sample in samples if posted <= sample.started <= finished]
    outside = [sample for sample in samples if sample.started < posted or sample.started > finished]
    return {
        "command": f"nzc bench reindex {source_dir} --clients {clients}",
        "clients": clients,
        "cpu_cores": os.cpu_count(),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),  # other work on the machine shares the cores
        "niceness": os.nice(0),
        "server": f"nzc serve on {LOOPBACK} in a child process (one uvicorn worker), copy of snapshot {before}",
        "server_startup_s": round(startup_s, 1),
        "changed_file": changed,
        "job_status": job["status"],
        "job_outcome": report.get("outcome"),
        "build_s": round(finished - posted, 1),
        "swapped": after != before and after == report.get("snapshot_id"),
        "requests": len(samples),
        "failed_requests": sum(1 for sample in samples if sample.status != 200),
        "failure_examples": failures[:3],
        "during_build": _latency(during),
        "outside_build": _latency(outside),
        "before_build": _latency([sample for sample in samples if sample.started < posted]),
        "memory": _memory(memory, posted, finished),
        "worker": report.get("worker"),  # pid, peak RSS, nice, threads of the reindex worker (when there is one)
        "limits": {"baseline_s": baseline_s, "after_s": after_s, "time_limit_s": time_limit_s,
                   "max_requests_per_client": max_requests, "request_timeout_s": REQUEST_TIMEOUT_S},
    }
