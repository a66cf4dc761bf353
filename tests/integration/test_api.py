"""The HTTP API through the real app on a small real index: filters, facets, pagination, errors, auth."""

from __future__ import annotations

import pytest


def ids(response) -> list[str]:
    return [row["id"] for row in response.json()["results"]]


def test_search_answers_the_contract(client):
    response = client.get("/search", params={"q": "district heating after lignite"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"query", "total", "limit", "offset", "results", "facets"}
    assert body["query"] == "district heating after lignite" and body["limit"] == 10 and body["offset"] == 0
    assert body["results"][0]["id"] in {"kozani-heat", "velenje-district-heating", "kozani-report"}
    first = body["results"][0]
    assert set(first) >= {"id", "title", "type", "city", "country", "language", "year", "domains", "barriers",
                          "levers", "score", "snippet", "url"}
    assert set(body["facets"]) == {"domain", "barrier", "lever", "type", "country", "language"}


def test_facet_counts_describe_the_matching_set(client):
    body = client.get("/search", params={"q": "heat", "limit": 50}).json()
    results = body["results"]
    assert body["total"] == len(results)
    for facet, field in (("country", "country"), ("type", "type"), ("language", "language")):
        expected: dict[str, int] = {}
        for row in results:
            if row[field]:
                expected[row[field]] = expected.get(row[field], 0) + 1
        assert body["facets"][facet] == expected
    domain_counts: dict[str, int] = {}
    for row in results:
        for key in row["domains"]:
            domain_counts[key] = domain_counts.get(key, 0) + 1
    assert body["facets"]["domain"] == domain_counts


def test_filters_or_within_and_across_fields(client):
    both = client.get("/search", params=[("q", "heat"), ("country", "SI"), ("country", "GR"), ("limit", 50)]).json()
    assert both["results"] and {row["country"] for row in both["results"]} <= {"SI", "GR"}
    assert {"SI", "GR"} == {row["country"] for row in both["results"]}
    narrowed = client.get("/search", params=[("q", "heat"), ("country", "SI"), ("country", "GR"),
                                             ("type", "financing_note"), ("limit", 50)]).json()
    assert [row["id"] for row in narrowed["results"]] == ["velenje-district-heating"]


def test_selective_filter_is_applied_inside_retrieval(snapshot, encoder):
    """A filter matching a resource that ranks below the retrieval depth still returns it."""
    from nzc_knowledge.search.filters import SearchFilters
    from nzc_knowledge.search.service import RankingSettings, SearchService

    deep = [hit.resource for hit in SearchService(snapshot, encoder).search("heat", limit=50).hits]
    target = [resource for resource in deep if resource.city][-1]
    shallow = SearchService(snapshot, encoder, RankingSettings(depth=2))
    assert target.id not in [hit.resource.id for hit in shallow.search("heat", limit=50).hits]
    filtered = shallow.search("heat", SearchFilters.parse(city=[target.city]), limit=10)
    assert target.id in [hit.resource.id for hit in filtered.hits]
    assert all(hit.resource.city == target.city for hit in filtered.hits)


def test_filtered_search_over_http(client):
    body = client.get("/search", params={"q": "heat", "country": "SI"}).json()
    assert [row["id"] for row in body["results"]] == ["velenje-district-heating"]
    assert body["total"] == 1 and body["facets"]["country"] == {"SI": 1}


def test_city_filter_ignores_case_and_accents(client):
    body = client.get("/search", params={"q": "", "city": "MILAN"}).json()
    assert {row["id"] for row in body["results"]} == {"milan-lez", "escaping-test"}


def test_browse_without_query_sorts_by_recency(client):
    body = client.get("/search", params={"country": "GR"}).json()
    assert body["mode"] == "browse"
    years = [row["year"] for row in body["results"]]
    assert years == sorted(years, reverse=True) and len(years) == 2


def test_year_range(client):
    body = client.get("/search", params={"q": "", "year_from": 2023, "year_to": 2023, "limit": 50}).json()
    assert body["results"] and all(row["year"] == 2023 for row in body["results"])


def test_pagination_is_stable_and_complete(client):
    everything = ids(client.get("/search", params={"q": "city", "limit": 50}))
    pages = []
    for offset in range(0, len(everything), 3):
        pages += ids(client.get("/search", params={"q": "city", "limit": 3, "offset": offset}))
    assert pages == everything
    assert ids(client.get("/search", params={"q": "city", "limit": 3, "offset": 3})) == everything[3:6]


def test_snippets_mark_terms_and_escape_html(client):
    body = client.get("/search", params={"q": "cargo bikes tender", "limit": 1}).json()
    snippet = body["results"][0]["snippet"]
    assert body["results"][0]["id"] == "escaping-test"
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet
    assert "&amp;" in snippet
    assert "<mark>" in snippet
    stripped = snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped


def test_typo_and_synonyms(client):
    body = client.get("/search", params={"q": "distict heeting"}).json()
    assert body["corrected_query"] == "district heating"
    assert body["results"][0]["domains"] == ["energy"] or "energy" in body["results"][0]["domains"]
    assert ids(client.get("/search", params={"q": "LEZ"}))[0] == "milan-lez"


def test_resource_detail_and_similar(client):
    detail = client.get("/resources/ljubljana-biowaste").json()
    assert detail["domains"] == [{"key": "waste_circular", "label": "Waste & circular economy", "confidence": 1.0,
                                  "source": "curated"}]
    assert detail["excerpt"].startswith("Ljubljana's separate bio-waste collection")
    predicted = client.get("/resources/valencia-energy-community").json()
    assert predicted["domains"] and all(tag["source"] == "predicted" for tag in predicted["domains"])
    similar = client.get("/resources/kozani-heat/similar", params={"limit": 3}).json()
    similar_ids = [row["id"] for row in similar["results"]]
    assert "kozani-heat" not in similar_ids and len(similar_ids) == 3
    assert similar_ids[0] in {"velenje-district-heating", "kozani-report"}


def test_taxonomy_and_health(client, snapshot):
    taxonomy = client.get("/taxonomy").json()
    assert [entry["key"] for entry in taxonomy["levers"]] == ["technology", "governance", "finance", "social_innovation",
                                                              "learning", "participation"]
    assert all(entry["label"] and entry["description"] for entry in taxonomy["barriers"])
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["snapshot_id"] == snapshot.id
    assert health["manifest"]["encoder"]["name"] == "all-MiniLM-L6-v2"


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"q": "x", "domain": "transport"}, 422, "unknown domain 'transport'; allowed values: energy, buildings"),
        ({"q": "x", "lever": "money"}, 422, "unknown lever 'money'"),
        ({"q": "x", "domian": "energy"}, 422, "unknown parameter(s) domian"),
        ({"q": "x", "limit": 51}, 422, "limit 51 is over the cap of 50"),
        ({"q": "x", "limit": 0}, 422, "limit: Input should be greater than or equal to 1"),
        ({"q": "x", "offset": -1}, 422, "offset: Input should be greater than or equal to 0"),
        ({"q": "x" * 513}, 422, "q is 513 characters long; the limit is 512"),
        ({"q": "x", "country": "Germany"}, 422, "invalid country 'Germany'"),
        ({"q": "x", "year_from": 2024, "year_to": 2020}, 422, "year_from (2024) is after year_to (2020)"),
        ({"q": "x", "year_from": "soon"}, 422, "year_from: Input should be a valid integer"),
        ({"q": "x", "mode": "magic"}, 422, "mode: String should match pattern"),
    ],
)
def test_bad_input_is_a_4xx_with_a_message(client, params, status, message):
    response = client.get("/search", params=params)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_unknown_resource_is_404(client):
    response = client.get("/resources/nope")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("no resource with id 'nope'")
    assert client.get("/resources/nope/similar").status_code == 404


def test_admin_auth_matrix(client):
    assert client.post("/admin/reindex").status_code == 401
    assert client.post("/admin/reindex", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/admin/snapshots", headers={"Authorization": "Basic dGVzdA=="}).status_code == 401
    listed = client.get("/admin/snapshots", headers={"Authorization": "Bearer test-token"})
    assert listed.status_code == 200 and listed.json()[0]["current"] is True
    assert client.get("/admin/jobs/unknown", headers={"Authorization": "Bearer test-token"}).status_code == 404


def test_admin_disabled_without_a_configured_token(encoders, built_index):
    from fastapi.testclient import TestClient

    from nzc_knowledge.api.app import create_app
    from nzc_knowledge.settings import Settings

    with TestClient(create_app(Settings(index_dir=built_index[0], admin_token=None), encoders=encoders)) as client:
        response = client.post("/admin/reindex", headers={"Authorization": "Bearer anything"})
        assert response.status_code == 403
        assert "NZC_ADMIN_TOKEN" in response.json()["detail"]


def test_cors_allows_the_portal_origin_only(client):
    allowed = client.get("/taxonomy", headers={"Origin": "https://portal.example.org"})
    assert allowed.headers.get("access-control-allow-origin") == "https://portal.example.org"
    other = client.get("/taxonomy", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_no_index_is_503_not_500(encoders, tmp_path):
    from fastapi.testclient import TestClient

    from nzc_knowledge.api.app import create_app
    from nzc_knowledge.settings import Settings

    with TestClient(create_app(Settings(index_dir=tmp_path), encoders=encoders)) as client:
        assert client.get("/health").status_code == 503
        response = client.get("/search", params={"q": "heat"})
        assert response.status_code == 503 and "nzc ingest" in response.json()["detail"]


def test_openapi_documents_the_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/search", "/resources/{resource_id}", "/resources/{resource_id}/similar", "/taxonomy", "/health",
            "/admin/reindex", "/admin/jobs/{job_id}"} <= set(paths)
