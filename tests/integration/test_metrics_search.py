"""Search metrics through the real app over the session snapshot (real model)."""

from __future__ import annotations


from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of a Prometheus exposition."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def test_search_results_and_zero_result_searches_are_measured(client, snapshot):
    """Through the real app over the test corpus (conftest's session client)."""
    before = client.get("/metrics").text
    found = client.get("/search", params={"q": "district heating", "limit": 3}).json()
    client.get("/search", params={"q": "x", "country": "JP"})  # no resource from Japan
    after = client.get("/metrics").text
    hybrid = {"mode": found["mode"]}
    assert found["total"] > 0
    assert value(after, "nzc_search_results_count", **hybrid) - value(before, "nzc_search_results_count", **hybrid) >= 1
    grew = value(after, "nzc_search_results_sum", **hybrid) - value(before, "nzc_search_results_sum", **hybrid)
    assert grew >= found["total"]
    zero_before = sum(v for (name, _), v in samples(before).items() if name == "nzc_search_zero_results_total")
    zero_after = sum(v for (name, _), v in samples(after).items() if name == "nzc_search_zero_results_total")
    assert zero_after - zero_before == 1
    assert value(after, "nzc_snapshot_info", snapshot_id=snapshot.id,
                 package_version=snapshot.manifest["package_version"]) == 1
    assert value(after, "nzc_snapshot_skipped_files", reason="empty file") >= 1
