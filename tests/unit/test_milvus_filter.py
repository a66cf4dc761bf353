"""Search filters as Milvus boolean expressions (no Milvus needed: the translation is plain text)."""

from __future__ import annotations

from nzc_knowledge.search.filters import SearchFilters
from nzc_knowledge.search.milvus_backend import collection_name, milvus_filter


def test_no_filter_is_an_empty_expression():
    assert milvus_filter(None) == ""
    assert milvus_filter(SearchFilters()) == ""


def test_or_within_a_field_and_across_fields():
    filters = SearchFilters.parse(domain=["energy", "mobility"], country=["de", "EL"], type=["case_study"])
    assert milvus_filter(filters) == (
        'array_contains_any(domain, ["energy", "mobility"]) and type in ["case_study"] and country in ["DE", "GR"]'
    )


def test_year_bounds_require_a_year_as_the_mask_does():
    assert milvus_filter(SearchFilters.parse(year_from=2019, year_to=2021)) == (
        "has_year == true and year >= 2019 and year <= 2021"
    )


def test_city_names_are_folded_and_quoted_safely():
    expression = milvus_filter(SearchFilters.parse(city=['Kraków "Stare" \\ Miasto']))
    assert expression == 'city in ["krakow \\"stare\\" \\\\ miasto"]'


def test_excluded_resources_are_left_out_by_id():
    assert milvus_filter(SearchFilters(exclude_ids=("a", "b"))) == 'resource_id not in ["a", "b"]'


def test_collection_names_are_valid_milvus_names():
    assert collection_name("20261123T190102Z-1a2b3c4d") == "nzc_20261123T190102Z_1a2b3c4d"
