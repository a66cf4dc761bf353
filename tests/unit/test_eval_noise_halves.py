"""Foreign-language noise and the tuning/held-out split of query sets. No model needed."""

from __future__ import annotations

import pytest

from nzc_knowledge.eval.halves import half_of, select_half
from nzc_knowledge.eval.noise import foreign_noise

LANGUAGES = {"en-good": "en", "en-other": "en", "de-noise": "de", "de-good": "de", "pl-noise": "pl", "unknown": None}


def run_of(*ranked: str) -> dict[str, float]:
    return {doc: float(len(ranked) - rank) for rank, doc in enumerate(ranked)}


def test_foreign_non_relevant_resource_above_relevant_english_one_is_an_inversion():
    qrels = {"q1": {"en-good": 2, "en-other": 1}}
    run = {"q1": run_of("de-noise", "en-good", "pl-noise", "en-other")}
    noise = foreign_noise(run, qrels, {"q1": "en"}, LANGUAGES)
    assert noise.queries == 1 and noise.affected == ["q1"]
    assert noise.inversions == 3  # de-noise above both relevant ones, pl-noise above en-other
    assert noise.share == 1.0


def test_relevant_foreign_resources_unknown_languages_and_english_noise_are_not_noise():
    qrels = {"q1": {"en-good": 2, "de-good": 2}}
    run = {"q1": run_of("de-good", "unknown", "en-other", "en-good", "de-noise")}
    noise = foreign_noise(run, qrels, {"q1": "en"}, LANGUAGES)
    assert noise.queries == 1 and noise.affected == [] and noise.inversions == 0


def test_only_english_queries_with_a_relevant_english_resource_count_and_depth_cuts():
    qrels = {"q-de": {"en-good": 2}, "q-foreign-only": {"de-good": 2}, "q-deep": {"en-good": 2}}
    run = {"q-de": run_of("de-noise", "en-good"), "q-foreign-only": run_of("pl-noise", "de-good"),
           "q-deep": run_of("en-other", "de-noise", "en-good")}
    languages = {"q-de": "de", "q-foreign-only": "en", "q-deep": "en"}
    noise = foreign_noise(run, qrels, languages, LANGUAGES, depth=2)
    assert noise.queries == 1  # q-de is German; q-foreign-only has no relevant English resource
    assert noise.affected == []  # in q-deep the relevant English resource is below the cut-off
    assert foreign_noise(run, qrels, languages, LANGUAGES, depth=3).affected == ["q-deep"]


def test_halves_are_deterministic_disjoint_and_both_used():
    ids = [f"q{number:02d}" for number in range(40)]
    tuning, held_out = select_half(dict.fromkeys(ids, 1), "tuning"), select_half(dict.fromkeys(ids, 1), "held-out")
    assert set(tuning) | set(held_out) == set(ids) and not set(tuning) & set(held_out)
    assert 10 <= len(tuning) <= 30
    assert all(half_of(qid) == "tuning" for qid in tuning)
    assert select_half(dict.fromkeys(ids, 1), "all") == dict.fromkeys(ids, 1)
    with pytest.raises(ValueError, match="unknown half"):
        select_half({}, "train")
