"""Prometheus metrics of one app: its own registry (no module singleton), request and search metrics, and a
collector that reads the serving snapshot and the reindex jobs at scrape time.

Example:
    metrics = ApiMetrics(holder_of=lambda: app.state.holder, jobs_of=lambda: app.state.jobs)
    metrics.observe_search(total=0, mode="hybrid")
    text = metrics.exposition()
"""

from __future__ import annotations

import re
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RESULT_BUCKETS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)
REINDEX_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


class ApiMetrics:
    """The app's registry with HTTP and search metrics, plus the snapshot/jobs collector."""

    def __init__(self, holder_of: Callable[[], Any], jobs_of: Callable[[], Any]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("nzc_http_requests", "HTTP requests by route template, method and status",
                                ("method", "route", "status"), registry=self.registry)
        self.latency = Histogram("nzc_http_request_duration_seconds", "Time to answer, by route template and status",
                                 ("method", "route", "status"), buckets=LATENCY_BUCKETS, registry=self.registry)
        self.search_results = Histogram("nzc_search_results", "Matching resources per search (the total, not the page)",
                                        ("mode",), buckets=RESULT_BUCKETS, registry=self.registry)
        self.zero_results = Counter("nzc_search_zero_results", "Searches that matched nothing", ("mode",),
                                    registry=self.registry)
        self.registry.register(SnapshotCollector(holder_of, jobs_of))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def observe_search(self, total: int, mode: str) -> None:
        self.search_results.labels(mode).observe(total)
        if total == 0:
            self.zero_results.labels(mode).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def skip_reason_kind(reason: str) -> str:
    """A low-cardinality label for a skip reason: its first clause without quoted names ('empty file', ...)."""
    clause = re.split(r"[:;(]", _QUOTED.sub("", reason), maxsplit=1)[0]
    return " ".join(clause.lower().split())[:60] or "unknown"


class SnapshotCollector(Collector):
    """Read at scrape time: the serving snapshot (id, age, size, skipped files) and the reindex jobs of this process."""

    def __init__(self, holder_of: Callable[[], Any], jobs_of: Callable[[], Any]) -> None:
        self.holder_of = holder_of
        self.jobs_of = jobs_of

    def describe(self) -> list:
        return []  # families depend on state; an empty description keeps registration from calling collect()

    def collect(self) -> Iterator:
        yield from self._snapshot_families()
        yield from self._job_families()

    def _snapshot_families(self) -> Iterator:
        holder = _safe(self.holder_of)
        engine = getattr(holder, "loaded", None)
        if engine is None:
            return
        manifest: dict[str, Any] = engine.snapshot.manifest
        info = InfoMetricFamily("nzc_snapshot", "The serving snapshot")
        info.add_metric([], {"snapshot_id": str(engine.snapshot.id), "package_version": str(manifest.get("package_version", ""))})
        yield info
        created = _parse_time(manifest.get("created_at"))
        if created is not None:
            yield GaugeMetricFamily("nzc_snapshot_age_seconds", "Seconds since the serving snapshot was built",
                                    value=max(0.0, time.time() - created))
        counts = manifest.get("counts") or {}
        for key in ("resources", "chunks"):
            if isinstance(counts.get(key), int):
                yield GaugeMetricFamily(f"nzc_snapshot_{key}", f"{key.capitalize()} in the serving snapshot",
                                        value=counts[key])
        files = manifest.get("files") or {}
        if files:
            yield GaugeMetricFamily("nzc_snapshot_size_bytes", "Bytes of the serving snapshot's files",
                                    value=sum(size for size in files.values() if isinstance(size, int)))
        skipped = GaugeMetricFamily("nzc_snapshot_skipped_files", "Files the serving snapshot's ingest skipped, by reason",
                                    labels=("reason",))
        for reason, count in sorted(Tally(skip_reason_kind(str(entry.get("reason", "")))
                                          for entry in manifest.get("skipped") or [] if isinstance(entry, dict)).items()):
            skipped.add_metric([reason], count)
        yield skipped

    def _job_families(self) -> Iterator:
        runner = _safe(self.jobs_of)
        jobs = list(getattr(runner, "jobs", {}).values())
        by_status = CounterMetricFamily("nzc_reindex_jobs", "Reindex jobs of this process, by status", labels=("status",))
        for status, count in sorted(Tally(job.status for job in jobs).items()):
            by_status.add_metric([status], count)
        yield by_status
        yield CounterMetricFamily("nzc_reindex_failures", "Reindex jobs that failed",
                                  value=sum(job.status == "failed" for job in jobs))
        durations = [job.report["seconds"] for job in jobs
                     if job.status == "succeeded" and isinstance(job.report, dict)
                     and isinstance(job.report.get("seconds"), int | float)]
        buckets = [(floatToGoString(bound), sum(seconds <= bound for seconds in durations)) for bound in REINDEX_BUCKETS]
        buckets.append(("+Inf", len(durations)))
        yield HistogramMetricFamily("nzc_reindex_duration_seconds", "Build time of the succeeded reindex jobs",
                                    buckets=buckets, sum_value=sum(durations))


def _safe(provider: Callable[[], Any]) -> Any:
    try:
        return provider()
    except AttributeError:  # before the lifespan has set app.state up
        return None


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()
