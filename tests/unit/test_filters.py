"""Filters: the snapshot's FilterIndex gives exactly the mask of checking every resource one by one."""

from __future__ import annotations

import itertools
import random

import numpy as np

from nzc_knowledge.models import Resource, Tag
from nzc_knowledge.search.filters import FilterIndex, SearchFilters

DOMAINS = ("energy", "buildings", "mobility", "waste_circular")
BARRIERS = ("finance", "regulation", "acceptance")


def corpus(count: int, seed: int) -> list[Resource]:
    rng = random.Random(seed)
    resources = []
    for number in range(count):
        tags = lambda keys: [Tag(key, 0.9, "predicted") for key in rng.sample(keys, rng.randint(0, 2))]  # noqa: E731
        resources.append(Resource(
            id=f"r{number}", file=f"r{number}.md", title=f"Resource {number}",
            type=rng.choice(["case_study", "factsheet", None]), city=rng.choice(["Kraków", "Milan", "Malmö", None]),
            country=rng.choice(["PL", "IT", "SE", None]), language=rng.choice(["en", "it", "pl"]),
            year=rng.choice([2019, 2021, 2023, None]), domains=tags(DOMAINS), barriers=tags(BARRIERS)))
    return resources


def test_indexed_mask_equals_the_resource_by_resource_mask():
    resources = corpus(300, seed=7)
    index = FilterIndex(resources)
    combinations = itertools.product(
        [None, ["energy"], ["energy", "mobility"]], [None, ["finance"]], [None, ["case_study"]],
        [None, ["PL", "IT"]], [None, ["krakow"], ["MALMO", "milan"]], [None, ["it"]], [None, 2021], [None, 2021])
    checked = 0
    for domain, barrier, kind, country, city, language, year_from, year_to in combinations:
        filters = SearchFilters.parse(domain=domain, barrier=barrier, type=kind, country=country, city=city,
                                      language=language, year_from=year_from, year_to=year_to)
        expected = filters.mask(resources)
        assert np.array_equal(filters.mask(resources, index), expected), filters
        checked += int(expected.sum() not in (0, len(resources)))
    assert checked > 100  # most combinations keep some resources and drop others, so the comparison means something


def test_excluded_ids_are_dropped_by_the_indexed_mask_too():
    resources = corpus(20, seed=3)
    filters = SearchFilters(country=("PL", "IT", "SE"), exclude_ids=("r1", "r2", "missing"))
    mask = filters.mask(resources, FilterIndex(resources))
    assert not mask[1] and not mask[2]
    assert np.array_equal(mask, filters.mask(resources))
