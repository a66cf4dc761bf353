"""City profiles from tagged resources and from the registry, and what the snapshot stores for them."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from nzc_knowledge.models import Resource, Tag
from nzc_knowledge.recommend.peers import PeerService
from nzc_knowledge.recommend.profiles import (
    PREDICTED_FACTOR, CityDirectory, build_city_profiles, city_profiles_extension, content_cities, region_of, size_class,
)
from nzc_knowledge.recommend.registry import read_registry, write_registry


def tags(keys, source="curated", confidence=1.0) -> list[Tag]:
    return [Tag(key, confidence, source) for key in keys]


RESOURCES = [
    Resource(id="lahti-coal-exit", file="a.md", title="Financing Lahti's Exit from Coal", city="Lahti", country="FI",
             domains=tags(["energy"]), barriers=tags(["finance", "regulation"]), levers=tags(["finance"])),
    Resource(id="lahti-citicap", file="b.md", title="CitiCAP personal carbon trading", city="Lahti", country="FI",
             domains=tags(["mobility"], "predicted", 0.5) + tags(["energy"], "predicted", 0.8),
             barriers=tags(["data"], "predicted", 0.6)),
    Resource(id="krakow-ban", file="c.md", title="Ending Coal in the Tiled Stove", city="Kraków", country="PL",
             domains=tags(["energy", "buildings"]), barriers=tags(["acceptance"])),
    Resource(id="krakow-sct", file="d.md", title="Strefa Czystego Transportu", city="Krakow", country="PL",
             domains=tags(["mobility"])),
    Resource(id="krakow-heat", file="e.md", title="Mapping Recoverable Industrial Heat in Nowa Huta", city="Kraków",
             country="PL", domains=tags(["energy", "industry"])),
    Resource(id="leipzig-rain", file="f.md", title="Leipzig's Blue-Green Quarter", city="Leipzig", country="DE",
             domains=tags(["nature_based"])),
    Resource(id="no-city", file="g.md", title="An events calendar", domains=[]),
]


@pytest.fixture(scope="module")
def stored() -> dict:
    return build_city_profiles(RESOURCES)


@pytest.fixture(scope="module")
def service() -> PeerService:
    return PeerService.from_resources(RESOURCES, use_geonames=True)


def test_weights_are_mean_confidence_with_predicted_tags_discounted():
    lahti = next(city for city in content_cities(RESOURCES) if city["city"] == "Lahti")
    assert lahti["resources"] == ["lahti-citicap", "lahti-coal-exit"]
    assert lahti["domains"]["energy"] == pytest.approx((1.0 + 0.8 * PREDICTED_FACTOR) / 2, abs=1e-4)
    assert lahti["domains"]["mobility"] == pytest.approx(0.5 * PREDICTED_FACTOR / 2, abs=1e-4)
    assert lahti["barriers"] == {"data": pytest.approx(0.6 * PREDICTED_FACTOR / 2, abs=1e-4), "finance": 0.5,
                                 "regulation": 0.5}


def test_spellings_of_one_city_make_one_profile_named_as_most_resources_name_it():
    krakow = next(city for city in content_cities(RESOURCES) if city["country"] == "PL")
    assert krakow["city"] == "Kraków" and krakow["spellings"] == ["Krakow", "Kraków"]
    assert krakow["domains"]["energy"] == pytest.approx(2 / 3, abs=1e-4)
    assert len(content_cities(RESOURCES)) == 3  # the resource without a city makes no profile


def test_stored_profiles_are_compact_and_round_trip_through_json(stored):
    text = json.dumps(stored, ensure_ascii=False)
    assert len(text) < 1_600_000  # ~12k registry rows as lists, not objects
    assert stored["registry"]["columns"][:3] == ["id", "name", "country"]
    assert len(stored["registry"]["rows"]) == 11973 and isinstance(stored["registry"]["rows"][0], list)
    by_city = {city["city"]: city for city in stored["content"]}
    registry = {entry.id: entry for entry in read_registry()}
    assert registry[by_city["Kraków"]["registry_id"]].name == "Krakow"
    assert registry[by_city["Lahti"]["registry_id"]].name == "Lahti"
    assert by_city["Leipzig"]["registry_id"] is None and stored["not_in_registry"] == ["Leipzig (DE)"]
    reloaded = CityDirectory.load(json.loads(text), use_geonames=False)
    assert sum(record.has_content for record in reloaded.records) == 3
    assert len(reloaded.records) == 11973 - 2 + 3  # Kraków and Lahti merge with their registry rows


def test_the_extension_reads_the_registry_it_is_given(tmp_path):
    entries = [entry for entry in read_registry() if entry.name in ("Lahti", "Kozani")]
    path = tmp_path / "cities.csv"
    write_registry(entries, path)
    stored = city_profiles_extension(path)(RESOURCES)
    assert len(stored["registry"]["rows"]) == 2 and stored["registry"]["source"] == "cities.csv"
    assert sorted(stored["not_in_registry"]) == ["Kraków (PL)", "Leipzig (DE)"]
    with pytest.raises(FileNotFoundError, match="build_city_registry.py"):
        city_profiles_extension(tmp_path / "missing.csv")(RESOURCES)


@pytest.mark.parametrize(("population", "expected"), [
    (None, None), (12_000, "small"), (49_999, "small"), (50_000, "medium"), (249_999, "medium"), (250_000, "large"),
    (999_999, "large"), (1_000_000, "metropolis"),
])
def test_size_classes(population, expected):
    assert size_class(population) == expected


def test_regions():
    assert [region_of(code) for code in ("DK", "EE", "DE", "GR", "PL", "UA", "TR")] == [
        "Nordic", "Baltic", "Western", "Southern", "Central-Eastern", "Eastern Partnership", "Eastern Mediterranean"]
    assert region_of("MX") == "Other" and region_of(None) is None


def test_content_city_profile_lists_tags_resources_and_registry_facts(service):
    profile = asdict(service.city("krakow"))
    assert (profile["city"], profile["country"], profile["has_content"], profile["kind"]) == ("Kraków", "PL", True, "city")
    assert profile["registry_name"] == "Krakow" and profile["size_class"] == "large" and profile["region"] == "Central-Eastern"
    assert [tag["key"] for tag in profile["domains"]][:1] == ["energy"]
    assert profile["domains"][0] == {"key": "energy", "label": "Energy systems", "weight": pytest.approx(0.667, abs=1e-3)}
    assert {resource["id"] for resource in profile["resources"]} == {"krakow-ban", "krakow-sct", "krakow-heat"}
    assert "Mapping Recoverable Industrial Heat in Nowa Huta" in {r["title"] for r in profile["resources"]}
    assert profile["commitments"] and all(set(item) == {"key", "label"} for item in profile["commitments"])
    assert "Cracow" in profile["aliases"] and "3 resources" in profile["explanation"]


def test_registry_only_city_has_a_profile_and_says_what_it_rests_on(service):
    profile = asdict(service.city("Warszawa"))
    assert profile["city"] == "Warsaw" and not profile["has_content"] and profile["resources"] == []
    assert profile["domains"] == [] and profile["size_class"] == "metropolis" and profile["lat"] is not None
    assert "No resource about Warsaw" in profile["explanation"] and "size and geography" in profile["explanation"]


def test_content_city_missing_from_the_registry_says_so(service):
    profile = asdict(service.city("Leipzig"))
    assert profile["has_content"] and profile["registry_name"] is None and profile["commitments"] == []
    assert "not a Covenant of Mayors signatory" in profile["explanation"]
    assert profile["population_source"] == "geonames" and "GeoNames" in profile["explanation"]


def test_group_profile_lists_members_and_member_points_to_group(service):
    group = asdict(service.city("Sacile, Brugnera"))
    assert group["kind"] == "group" and group["members"] == ["Sacile", "Brugnera"]
    member = asdict(service.city("Boville Ernica"))
    assert member["kind"] == "city" and member["group"]["id"] == "19856"
