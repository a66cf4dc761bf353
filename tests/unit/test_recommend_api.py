"""The cities endpoints over HTTP: contract, 404 / 400 / 422 with messages, repeated parameters.

Fast tests mount the cities router with the real app's error handlers on a service built here; the
integration tests go through the real app (`create_app`, conftest's `client`).
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nzc_knowledge.api.app import register_error_handlers
from nzc_knowledge.api.deps import get_peer_service
from nzc_knowledge.api.routes import cities
from nzc_knowledge.models import Resource, Tag
from nzc_knowledge.recommend.peers import PeerService


def make(rid, city, country, domains, barriers, levers, title) -> Resource:
    curated = lambda keys: [Tag(key, 1.0, "curated") for key in keys]  # noqa: E731
    return Resource(id=rid, file=f"{rid}.md", title=title, city=city, country=country,
                    domains=curated(domains), barriers=curated(barriers), levers=curated(levers))


CORPUS = [
    make("kozani-heat", "Kozani", "GR", ["energy"], ["technology", "finance"], ["technology", "finance"],
         "Kozani: Keeping a City Warm After Lignite"),
    make("velenje-heat", "Velenje", "SI", ["energy"], ["finance", "technology"], ["finance", "technology"],
         "Replacing Lignite Heat in the Šalek Valley"),
    make("milan-area-b", "Milan", "IT", ["mobility"], ["acceptance", "data"], ["technology", "governance"],
         "Area B: Milan's Low-Emission Zone"),
    make("parma-payt", "Parma", "IT", ["waste_circular"], ["acceptance", "data"], ["technology", "participation"],
         "Parma's Pay-As-You-Throw Scheme"),
    make("krakow-stoves", "Kraków", "PL", ["energy", "buildings"], ["acceptance", "finance"], ["governance"],
         "Ending Coal in the Tiled Stove"),
]


@pytest.fixture(scope="module")
def http() -> TestClient:
    service = PeerService.from_resources(CORPUS, use_geonames=False)
    app = FastAPI()
    register_error_handlers(app)
    app.include_router(cities.router)
    app.dependency_overrides[get_peer_service] = lambda: service
    return TestClient(app)


def test_search_cities(http):
    body = http.get("/cities", params={"q": "krak", "limit": 3}).json()
    assert body["query"] == "krak" and body["cities"][0]["city"] == "Kraków" and body["cities"][0]["has_content"]
    listing = http.get("/cities").json()
    assert [city["city"] for city in listing["cities"]] == ["Kozani", "Kraków", "Milan", "Parma", "Velenje"]
    assert http.get("/cities", params={"q": "Wien"}).json()["cities"][0]["registry_name"] == "Vienna"


def test_a_registry_name_with_a_slash_works_in_the_path(http):
    name = http.get("/cities", params={"q": "Bruxelles"}).json()["cities"][0]["city"]
    assert "/" in name  # "Bruxelles / Brussel", as the registry writes the bilingual name
    quoted = name.replace("/", "%2F")
    profile = http.get(f"/cities/{quoted}")
    assert profile.status_code == 200 and profile.json()["city"] == name
    peers = http.get(f"/cities/{quoted}/peers", params={"limit": 2})
    assert peers.status_code == 200 and peers.json()["city"] == name and len(peers.json()["peers"]) == 2


def test_city_profile_by_another_spelling(http):
    response = http.get("/cities/Milano")
    assert response.status_code == 200
    body = response.json()
    assert body["city"] == "Milan" and body["registry_name"] == "Milano" and body["resources"][0]["id"] == "milan-area-b"
    assert body["domains"] == [{"key": "mobility", "label": "Mobility & transport", "weight": 1.0}]


def test_peers_with_repeated_parameters(http):
    response = http.get("/cities/Kozani/peers", params=[("limit", 5), ("domain", "energy"), ("domain", "mobility")])
    assert response.status_code == 200
    body = response.json()
    assert body["city"] == "Kozani" and body["basis"] == "challenges"
    assert [peer["city"] for peer in body["peers"]][0] == "Velenje"
    assert {peer["city"] for peer in body["peers"]} == {"Velenje", "Kraków", "Milan"}
    assert "energy systems" in body["peers"][0]["explanation"] and body["peers"][0]["evidence"] == ["velenje-heat"]
    only_italy = http.get("/cities/Kozani/peers", params=[("country", "IT"), ("exclude_country", "SI")]).json()
    assert {peer["country"] for peer in only_italy["peers"]} == {"IT"}


def test_unknown_city_is_404_with_close_matches(http):
    response = http.get("/cities/Kozanni/peers")
    assert response.status_code == 404
    assert "unknown city 'Kozanni'" in response.json()["detail"] and "Kozani (GR)" in response.json()["detail"]
    assert http.get("/cities/Atlantis").status_code == 404


def test_ambiguous_city_is_400_and_the_country_resolves_it(http):
    response = http.get("/cities/Nicosia")
    assert response.status_code == 400 and "add the country" in response.json()["detail"]
    assert http.get("/cities/Nicosia, CY").json()["country"] == "CY"
    assert http.get("/cities/Nicosia", params={"country": "IT"}).json()["country"] == "IT"
    assert http.get("/cities/Nicosia/peers", params={"city_country": "CY"}).status_code == 200


def test_invalid_parameters_are_422_with_a_message(http):
    bad_domain = http.get("/cities/Kozani/peers", params={"domain": "transport"})
    assert bad_domain.status_code == 422 and "unknown domain 'transport'" in bad_domain.json()["detail"]
    bad_country = http.get("/cities/Kozani/peers", params={"country": "Greece"})
    assert bad_country.status_code == 422 and "ISO 3166-1 alpha-2" in bad_country.json()["detail"]
    assert http.get("/cities/Kozani/peers", params={"limit": 0}).status_code == 422
    assert http.get("/cities", params={"limit": 1000}).status_code == 422


def test_twinning(http):
    response = http.post("/twinning", json={"pilots": ["Kozani", "Milan"], "twins": ["Velenje", "Parma", "Warszawa"],
                                             "max_twins_per_pilot": 1})
    assert response.status_code == 200
    body = response.json()
    assert {(pair["pilot"], pair["twin"]) for pair in body["pairs"]} == {("Kozani", "Velenje"), ("Milan", "Parma")}
    assert body["unpaired"][0]["city"] == "Warsaw" and body["unpaired"][0]["reason"] == "no_content"


@pytest.mark.parametrize(("body", "message"), [
    ({"pilots": [], "twins": ["Parma"]}, "pilots is empty"),
    ({"pilots": ["Milan"], "twins": ["Parma"], "max_twins_per_pilot": 0}, "max_twins_per_pilot must be"),
    ({"pilots": ["Milan", "Parma"], "twins": ["parma"]}, "both a pilot and a twin"),
    ({"pilots": ["Milan"], "twins": ["Velenje", "Velenje"]}, "twins lists 'Velenje' twice"),
    ({"pilots": ["Milan"], "twins": ["Atlantis"]}, "twins[0]: unknown city 'Atlantis'"),
    ({"pilots": "Milan", "twins": ["Parma"]}, "pilots"),
])
def test_twinning_rejects_invalid_bodies_with_422(http, body, message):
    response = http.post("/twinning", json=body)
    assert response.status_code == 422 and message in response.json()["detail"]
