"""The cities endpoints through the project app (lifespan, real snapshot of tests/data/corpus)."""

from __future__ import annotations


from nzc_knowledge.api.routes import cities


def test_cities_through_the_real_app(client):
    """The project's app (lifespan, real snapshot of tests/data/corpus) serves the router and maps its errors."""
    peers = client.get("/cities/Kozani/peers", params={"limit": 3})
    assert peers.status_code == 200 and peers.json()["city"] == "Kozani" and peers.json()["peers"]
    assert client.get("/cities/Krakow").json()["has_content"] is False
    assert client.get("/cities/Atlantis/peers").status_code == 404
    assert client.get("/cities/Nicosia").status_code == 400
    assert client.get("/cities/Kozani/peers", params={"barrier": "money"}).status_code == 422
    twinning = client.post("/twinning", json={"pilots": ["Velenje"], "twins": ["Kozani", "Milan"],
                                              "max_twins_per_pilot": 1})
    assert twinning.status_code == 200 and twinning.json()["pairs"][0]["twin"] in {"Kozani", "Milan"}
