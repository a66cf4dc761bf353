"""GET /metrics: Prometheus text with request, search, snapshot and reindex metrics; one registry per app."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from nzc_knowledge.api.app import create_app
from nzc_knowledge.api.metrics import ApiMetrics, skip_reason_kind
from nzc_knowledge.settings import Settings


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of a Prometheus exposition."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def empty_app(tmp_path: Path):
    return create_app(Settings(_env_file=None, index_dir=tmp_path / "index", admin_token="t"))


def test_requests_are_counted_by_route_template_and_status(tmp_path):
    with TestClient(empty_app(tmp_path)) as client:
        client.get("/taxonomy")
        client.get("/taxonomy")
        client.get("/resources/abc")          # 503: no snapshot in this app
        client.get("/resources/other-id")
        client.post("/admin/reindex")         # refused by the admin guard before routing
        client.get("/no/such/route")
        response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert value(text, "nzc_http_requests_total", method="GET", route="/taxonomy", status="200") == 2
    assert value(text, "nzc_http_requests_total", method="GET", route="/resources/{resource_id}", status="503") == 2
    assert value(text, "nzc_http_requests_total", method="POST", route="/admin/reindex", status="401") == 1
    assert value(text, "nzc_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert value(text, "nzc_http_request_duration_seconds_count", method="GET", route="/taxonomy", status="200") == 2
    assert "abc" not in text and "other-id" not in text  # raw paths never become labels


def test_each_app_has_its_own_registry(tmp_path):
    with TestClient(empty_app(tmp_path)) as first:
        first.get("/taxonomy")
    with TestClient(empty_app(tmp_path)) as second:
        text = second.get("/metrics").text
    assert value(text, "nzc_http_requests_total", method="GET", route="/taxonomy", status="200") == 0


def test_snapshot_and_reindex_metrics_are_read_at_scrape_time():
    manifest = {
        "created_at": "2020-01-01T00:00:00+00:00", "package_version": "9.9",
        "counts": {"resources": 12, "chunks": 20}, "files": {"a": 100, "b": 23},
        "skipped": [{"file": "a.pdf", "reason": "corrupt or unreadable PDF: startxref not found"},
                    {"file": "b.pdf", "reason": "corrupt or unreadable PDF: EOF marker not found"},
                    {"file": "c.pptx", "reason": "unsupported file type '.pptx'; supported: .pdf"}],
    }
    holder = SimpleNamespace(loaded=SimpleNamespace(snapshot=SimpleNamespace(id="snap-1", manifest=manifest)))
    jobs = SimpleNamespace(jobs={
        "a": SimpleNamespace(status="succeeded", report={"seconds": 3.5}),
        "b": SimpleNamespace(status="succeeded", report={"seconds": 400.0}),
        "c": SimpleNamespace(status="failed", report={"error": "OSError: disk full"}),
        "d": SimpleNamespace(status="running", report=None),
    })
    state = {"holder": holder, "jobs": jobs}
    metrics = ApiMetrics(holder_of=lambda: state["holder"], jobs_of=lambda: state["jobs"])
    text = metrics.exposition().decode()
    assert value(text, "nzc_snapshot_info", snapshot_id="snap-1", package_version="9.9") == 1
    assert value(text, "nzc_snapshot_age_seconds") > 3600 * 24 * 365
    assert value(text, "nzc_snapshot_resources") == 12 and value(text, "nzc_snapshot_chunks") == 20
    assert value(text, "nzc_snapshot_size_bytes") == 123
    assert value(text, "nzc_snapshot_skipped_files", reason="corrupt or unreadable pdf") == 2
    assert value(text, "nzc_snapshot_skipped_files", reason="unsupported file type") == 1
    assert value(text, "nzc_reindex_jobs_total", status="succeeded") == 2
    assert value(text, "nzc_reindex_failures_total") == 1
    assert value(text, "nzc_reindex_duration_seconds_bucket", le="5.0") == 1
    assert value(text, "nzc_reindex_duration_seconds_count") == 2
    assert value(text, "nzc_reindex_duration_seconds_sum") == pytest.approx(403.5)

    # State is read at each scrape: a new snapshot shows without re-registering anything.
    state["holder"] = SimpleNamespace(loaded=SimpleNamespace(snapshot=SimpleNamespace(id="snap-2", manifest={})))
    text = metrics.exposition().decode()
    assert value(text, "nzc_snapshot_info", snapshot_id="snap-2", package_version="") == 1
    assert value(text, "nzc_snapshot_info", snapshot_id="snap-1", package_version="9.9") == 0


def test_skip_reasons_become_a_few_stable_labels():
    assert skip_reason_kind("empty file (0 bytes)") == "empty file"
    assert skip_reason_kind("listed in the manifest but not found") == "listed in the manifest but not found"
    assert skip_reason_kind("unsupported file type '.docx'; supported: .pdf") == skip_reason_kind(
        "unsupported file type '.pptx'; supported: .pdf")
