"""Peer suggestions: scores, shared tags, explanations, filters, registry-only cities, passage matching."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from nzc_knowledge.errors import InvalidParameter, NotFound
from nzc_knowledge.models import Resource, Tag
from nzc_knowledge.recommend.peers import PeerService
from nzc_knowledge.recommend.scorer import SIZE_WEIGHT


def make(rid: str, city: str, country: str, title: str, domains, barriers, levers) -> Resource:
    curated = lambda keys: [Tag(key, 1.0, "curated") for key in keys]  # noqa: E731
    return Resource(id=rid, file=f"{rid}.md", title=title, city=city, country=country, language="en",
                    domains=curated(domains), barriers=curated(barriers), levers=curated(levers))


# Tags as the sample corpus's curators gave them (ingest/manifest.jsonl).
CORPUS = [
    make("kozani-heat", "Kozani", "GR", "Kozani: Keeping a City Warm After Lignite",
         ["energy"], ["technology", "finance"], ["technology", "finance", "learning"]),
    make("velenje-heat", "Velenje", "SI", "Replacing Lignite Heat in the Šalek Valley",
         ["energy"], ["finance", "technology"], ["finance", "technology"]),
    make("lahti-coal", "Lahti", "FI", "Financing Lahti's Exit from Coal",
         ["energy"], ["finance", "regulation"], ["finance", "technology"]),
    make("lahti-citicap", "Lahti", "FI", "CitiCAP: Personal Carbon Trading",
         ["mobility"], ["data", "acceptance"], ["social_innovation", "technology"]),
    make("parma-payt", "Parma", "IT", "Parma's Door-to-Door and Pay-As-You-Throw Scheme",
         ["waste_circular"], ["acceptance", "data"], ["technology", "governance", "participation"]),
    make("ljubljana-zero-waste", "Ljubljana", "SI", "How Ljubljana became a zero waste capital",
         ["waste_circular"], ["technology", "acceptance"], ["technology", "social_innovation"]),
    make("barcelona-door-to-door", "Barcelona", "ES", "Rolling Out Door-to-Door Waste Collection",
         ["waste_circular"], ["acceptance", "procurement"], ["participation", "technology"]),
    make("tallinn-blocks", "Tallinn", "EE", "Renovating Soviet-Era Blocks in Tallinn",
         ["buildings"], ["finance", "capacity", "acceptance"], ["finance", "participation"]),
    make("vilnius-blocks", "Vilnius", "LT", "Financing Whole-Block Renovation in Vilnius",
         ["buildings"], ["finance", "procurement"], ["finance", "governance"]),
    make("marseille-shore-power", "Marseille", "FR", "Paying for Shore Power at the Port of Marseille",
         ["industry"], ["finance", "technology"], ["finance", "technology"]),
    make("dublin-port", "Dublin", "IE", "Decarbonising Dublin Port",
         ["industry"], ["technology", "regulation"], ["technology", "governance"]),
    make("milan-area-b", "Milan", "IT", "Area B: Milan's Low-Emission Zone",
         ["mobility"], ["acceptance", "data"], ["technology", "governance"]),
    make("krakow-stoves", "Kraków", "PL", "Ending Coal in the Tiled Stove",
         ["energy", "buildings"], ["acceptance", "finance", "regulation"], ["governance", "finance"]),
]


@pytest.fixture(scope="module")
def service() -> PeerService:
    return PeerService.from_resources(CORPUS, use_geonames=False)


def names(answer: dict) -> list[str]:
    return [peer["city"] for peer in answer["peers"]]


def test_closest_challenge_profile_ranks_first_and_the_answer_has_the_contract_fields(service):
    answer = asdict(service.peers("Kozani", limit=3))
    assert answer["city"] == "Kozani" and answer["basis"] == "challenges" and answer["note"] is None
    assert names(answer)[0] == "Velenje"
    peer = answer["peers"][0]
    assert set(peer) >= {"city", "country", "score", "shared_domains", "shared_barriers", "shared_levers",
                         "explanation", "evidence"}
    assert peer["shared_domains"] == ["energy"]
    assert set(peer["shared_barriers"]) == {"technology", "finance"} and set(peer["shared_levers"]) == {"technology", "finance"}
    assert peer["evidence"] == ["velenje-heat"]
    scores = [p["score"] for p in answer["peers"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= score <= 1 for score in scores)


def test_explanation_names_shared_tags_by_label_size_and_evidence_titles(service):
    peer = asdict(service.peers("Kozani", limit=1))["peers"][0]
    text = peer["explanation"]
    assert "energy systems" in text
    assert "finance" in text and "market & technology readiness" in text
    assert "Kozani is a mid-size city and Velenje a small town" in text
    assert "“Replacing Lignite Heat in the Šalek Valley”" in text


def test_score_is_the_documented_mix_of_challenge_and_size(service):
    peer = asdict(service.peers("Tallinn", limit=1))["peers"][0]
    parts = peer["components"]
    assert parts["challenge"] == pytest.approx(parts["tags"])  # no passage vectors in this service
    assert peer["score"] == pytest.approx((1 - SIZE_WEIGHT) * parts["challenge"] + SIZE_WEIGHT * parts["size"], abs=1e-3)
    unweighted = asdict(service.peers("Tallinn", limit=1, prefer_similar_size=False))["peers"][0]
    assert unweighted["score"] == pytest.approx(unweighted["components"]["challenge"], abs=1e-3)


def test_tag_filters_or_within_a_field_and_across_fields(service):
    waste = asdict(service.peers("Kozani", limit=10, domain=["waste_circular"]))
    assert set(names(waste)) == {"Parma", "Ljubljana", "Barcelona"}
    either = asdict(service.peers("Kozani", limit=10, barrier=["procurement", "REGULATION"]))
    assert set(names(either)) == {"Barcelona", "Vilnius", "Lahti", "Dublin", "Kraków"}
    both = asdict(service.peers("Kozani", limit=10, barrier=["procurement", "regulation"], domain=["buildings"]))
    assert set(names(both)) == {"Vilnius", "Kraków"}


def test_unknown_tag_keys_are_rejected_with_the_allowed_values(service):
    with pytest.raises(InvalidParameter, match="unknown domain 'transport'; allowed values: energy, buildings"):
        asdict(service.peers("Kozani", domain=["transport"]))
    with pytest.raises(InvalidParameter, match="unknown lever"):
        asdict(service.peers("Kozani", lever=["money"]))


def test_country_filters(service):
    assert set(names(asdict(service.peers("Kozani", limit=10, country=["si", "ES"])))) == {"Velenje", "Ljubljana", "Barcelona"}
    excluded = asdict(service.peers("Kozani", limit=10, exclude_country=["SI"]))
    assert "Velenje" not in names(excluded) and "Ljubljana" not in names(excluded)
    with pytest.raises(InvalidParameter, match="unknown exclude_country 'XX'"):
        asdict(service.peers("Kozani", exclude_country=["XX"]))
    assert asdict(service.peers("Kozani", country=["NO"]))["peers"] == []


def test_limit_is_validated(service):
    for bad in (0, 101):
        with pytest.raises(InvalidParameter, match="limit must be an integer from 1 to 100"):
            asdict(service.peers("Kozani", limit=bad))


def test_registry_only_city_is_matched_on_size_and_geography_and_says_so(service):
    answer = asdict(service.peers("Warszawa", limit=3))
    assert answer["city"] == "Warsaw" and not answer["has_content"] and answer["basis"] == "size_and_geography"
    assert "No resource about Warsaw" in answer["note"]
    assert len(answer["peers"]) == 3 and all(peer["shared_domains"] == [] for peer in answer["peers"])
    first = answer["peers"][0]
    assert first["explanation"].startswith(f"Warsaw has no resources in the repository yet, so {first['city']} is suggested")
    nearby = asdict(service.peers("Warszawa", limit=1, prefer_nearby=True, prefer_similar_size=False))
    assert names(nearby) == ["Kraków"]  # the closest content city


def test_nearby_preference_uses_distance(service):
    answer = asdict(service.peers("Velenje", limit=13, prefer_nearby=True))
    by_city = {peer["city"]: peer for peer in answer["peers"]}
    assert by_city["Ljubljana"]["distance_km"] < 100 < by_city["Lahti"]["distance_km"]
    assert by_city["Ljubljana"]["components"]["geography"] > by_city["Lahti"]["components"]["geography"]


def test_unknown_city_is_not_found_with_close_matches(service):
    with pytest.raises(NotFound, match="close matches: .*Kozani"):
        asdict(service.peers("Kozanni"))


def test_passage_similarity_finds_the_same_problem_and_names_the_closest_resources():
    rng = np.random.default_rng(7)
    vectors = {resource.id: rng.normal(size=16) for resource in CORPUS}
    vectors["dublin-port"] = vectors["marseille-shore-power"] + 0.05 * rng.normal(size=16)  # the same problem
    with_text = PeerService.from_resources(CORPUS, use_geonames=False, vectors=vectors)
    peer = asdict(with_text.peers("Marseille", limit=1))["peers"][0]
    assert peer["city"] == "Dublin" and peer["components"]["passages"] > 0.9
    assert ("Closest resources: Marseille's “Paying for Shore Power at the Port of Marseille” and Dublin's "
            "“Decarbonising Dublin Port”") in peer["explanation"]
    tags_only = PeerService.from_resources(CORPUS, use_geonames=False, vectors=vectors, text_weight=0.0)
    plain = asdict(tags_only.peers("Marseille", limit=1))["peers"][0]
    assert plain["components"]["challenge"] == pytest.approx(plain["components"]["tags"])


def test_search_lists_content_cities_first_when_the_query_is_empty(service):
    listing = asdict(service.search_cities("", limit=50))
    assert listing["total"] == 12 and all(city["has_content"] for city in listing["cities"])
    hits = asdict(service.search_cities("krak", limit=3))["cities"]
    assert hits[0]["city"] == "Kraków" and hits[0]["matched"].lower().startswith("krak")
    with pytest.raises(InvalidParameter):
        asdict(service.search_cities("x" * 201))
