"""The HTTP API over Milvus (NZC_BACKEND=milvus, Milvus Lite in tmp_path) against the embedded one, beyond /search.

City profiles, peer cities and similar resources need passage vectors, not only rankings: on Milvus they must come
from the collection (the snapshot's FAISS vectors are made unreadable here) and answer exactly as the embedded backend.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from nzc_knowledge.api.app import create_app


def unreadable(*_args, **_kwargs):
    raise AssertionError("read the snapshot's own FAISS vectors although the index lives in Milvus")


@pytest.fixture(scope="module")
def milvus_client(tmp_path_factory, app_settings, encoders):
    settings = app_settings.model_copy(update={
        "backend": "milvus", "milvus_uri": str(tmp_path_factory.mktemp("milvus-api") / "milvus.db")})
    with TestClient(create_app(settings, encoders=encoders)) as test_client:
        engine = test_client.app.state.holder.current()
        assert engine.search.backend.name == "milvus"
        # Peers are built on first use, similar resources read vectors per request: from here on only Milvus serves.
        for index in (engine.snapshot.dense, engine.snapshot.multilingual):
            if index is not None:
                for name in ("vectors_of", "all_vectors"):
                    setattr(index, name, unreadable)
        yield test_client


@pytest.fixture(scope="module")
def content_cities(client):
    found = client.get("/cities", params={"limit": 50})
    assert found.status_code == 200
    cities = [f"{city['city']}, {city['country']}" if city["country"] else city["city"]
              for city in found.json()["cities"] if city["has_content"]]
    assert len(cities) >= 3  # peers need several content cities to mean anything
    return cities


def test_peers_of_every_content_city_agree(client, milvus_client, content_cities):
    compared = 0
    for city in content_cities:
        for params in ({"limit": 5}, {"limit": 3, "prefer_similar_size": "false", "domain": "energy"}):
            path = f"/cities/{quote(city, safe='')}/peers"
            embedded, on_milvus = client.get(path, params=params), milvus_client.get(path, params=params)
            assert on_milvus.status_code == embedded.status_code == 200, (city, on_milvus.text)
            assert on_milvus.json() == embedded.json(), city
            compared += len(embedded.json()["peers"])
    assert compared > len(content_cities)  # peers were found: equal empty lists would prove nothing


def test_city_profiles_agree(client, milvus_client, content_cities):
    for city in content_cities:
        path = f"/cities/{quote(city, safe='')}"
        embedded, on_milvus = client.get(path), milvus_client.get(path)
        assert on_milvus.status_code == embedded.status_code == 200, city
        assert on_milvus.json() == embedded.json()


def test_similar_resources_agree(client, milvus_client, snapshot):
    compared = 0
    for resource in snapshot.resources:
        path = f"/resources/{quote(resource.id, safe='')}/similar"
        embedded, on_milvus = client.get(path, params={"limit": 5}), milvus_client.get(path, params={"limit": 5})
        assert on_milvus.status_code == embedded.status_code == 200, resource.id
        expected, found = embedded.json(), on_milvus.json()
        assert [hit["id"] for hit in found["results"]] == [hit["id"] for hit in expected["results"]], resource.id
        assert [hit["score"] for hit in found["results"]] == pytest.approx(
            [hit["score"] for hit in expected["results"]], abs=1e-5)
        compared += len(expected["results"])
    assert compared > len(snapshot.resources)
