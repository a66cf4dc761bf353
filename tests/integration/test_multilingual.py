"""Cross-lingual search: a query in one EU language finds a resource written in another."""

from __future__ import annotations


def top(search_service, query: str, k: int = 3) -> list[str]:
    return [hit.resource.id for hit in search_service.search(query, limit=k).hits]


def test_snapshot_records_both_encoders(snapshot):
    assert snapshot.manifest["encoder"]["name"] == "all-MiniLM-L6-v2"
    assert snapshot.manifest["multilingual_encoder"]["name"] == "universal-sentence-encoder-multilingual-3"
    assert snapshot.multilingual is not None and snapshot.multilingual.vectors.shape[0] == len(snapshot.chunks)


def test_chunks_and_resources_carry_a_language(snapshot):
    assert {chunk.language for chunk in snapshot.chunks if chunk.resource_id == "mannheim-waermeplanung"} == {"de"}
    assert all(chunk.language for chunk in snapshot.chunks)


def test_italian_query_finds_the_english_energy_community_note(search_service):
    assert top(search_service, "finanziamento della comunità energetica con pannelli fotovoltaici", 1) == [
        "valencia-energy-community"]


def test_english_query_finds_the_german_method_note(search_service):
    ranking = top(search_service, "municipal heat planning with renewable district heating", 20)
    assert "mannheim-waermeplanung" in ranking
    for unrelated in ("milan-lez", "ljubljana-biowaste", "escaping-test", "leuven-events"):
        assert unrelated not in ranking or ranking.index("mannheim-waermeplanung") < ranking.index(unrelated)


def test_french_query_finds_the_english_canopy_factsheet(search_service):
    assert top(search_service, "plan canopée arbres contre les îlots de chaleur", 1) == ["lyon-canopy"]


def test_language_filter_and_facet(client):
    body = client.get("/search", params={"q": "heat planning", "language": "de"}).json()
    assert [row["id"] for row in body["results"]] == ["mannheim-waermeplanung"]
    assert body["facets"]["language"] == {"de": 1}
