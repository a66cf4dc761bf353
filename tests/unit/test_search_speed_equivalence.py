"""The array versions of per-item loops (facets, the tagger's best-other-label feature, snippet marks) give the same
answers as the loops they replaced."""

from __future__ import annotations

from collections import Counter

import numpy as np

from nzc_knowledge.ingest.tag import _best_other
from nzc_knowledge.models import Resource, Tag
from nzc_knowledge.search.service import FACET_FIELDS, FacetIndex
from nzc_knowledge.search.snippets import make_snippet


def _resource(number: int) -> Resource:
    domains = [Tag(key, 0.9) for key in (["energy", "transport"] if number % 3 == 0 else ["energy"] if number % 3 == 1 else [])]
    return Resource(id=f"r{number}", file=f"f{number}", title=f"t{number}", type="plan" if number % 2 else None,
                    country=["DE", "IT", "FR"][number % 3], language="en" if number % 4 else "de",
                    domains=domains, levers=[Tag("finance", 0.8), Tag("finance", 0.7)] if number == 5 else [])


def facet_counts(resources) -> dict[str, dict[str, int]]:
    """The per-resource counting loop the facet index replaced: the reference it must agree with."""
    counters: dict[str, Counter[str]] = {name: Counter() for name in FACET_FIELDS}
    for resource in resources:
        counters["domain"].update(resource.tag_keys("domains"))
        counters["barrier"].update(resource.tag_keys("barriers"))
        counters["lever"].update(resource.tag_keys("levers"))
        for name in ("type", "country", "language"):
            value = getattr(resource, name)
            if value:
                counters[name][value] += 1
    return {name: dict(sorted(counter.items(), key=lambda item: (-item[1], item[0]))) for name, counter in counters.items()}


def test_facet_index_counts_like_facet_counts() -> None:
    resources = [_resource(number) for number in range(12)]
    facets = FacetIndex(resources)
    for rows in ([0, 1, 2, 3], [5], [11, 4, 7, 5, 2], list(range(12))):
        expected = facet_counts(resources[row] for row in rows)
        counted = facets.counts(np.array(rows))
        assert counted == expected
        assert list(counted["country"]) == list(expected["country"])  # the same order: most frequent first
    assert facets.counts(np.array([], dtype=np.int64)) == facet_counts([])
    assert facets.counts(np.array([5]))["lever"] == {"finance": 2}  # a value listed twice counts twice


def test_best_other_is_the_highest_other_label() -> None:
    rng = np.random.default_rng(3)
    scores = rng.random((20, 6)).astype(np.float32)
    scores[4, [1, 3]] = scores[4].max() + 1  # a tie for the best: each one's best other is the other
    expected = np.array([[np.delete(row, column).max() for column in range(len(row))] for row in scores])
    assert np.array_equal(_best_other(scores), expected)


def test_snippet_marks_words_whose_stem_is_a_query_term() -> None:
    text = "Cities financing heat pumps: the financed pumps, (Heating) and district heating."
    snippet = make_snippet(text, {"financ", "heat"}, "en")
    assert snippet.count("<mark>") == 5
    assert "<mark>financing</mark>" in snippet and "(<mark>Heating</mark>)" in snippet
    assert "<mark>" not in make_snippet(text, set(), "en")
