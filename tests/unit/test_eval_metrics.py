"""Metrics through ir-measures, checked against values computed by hand."""

from __future__ import annotations

import math

import pytest

from nzc_knowledge.eval.metrics import METRIC_NAMES, evaluate, run_from_ranking

QRELS = {"q1": {"d1": 2, "d2": 1, "d3": 0}, "q2": {"d4": 1}, "q3": {"d5": 1}, "q4": {"d6": 0}}
RUN = {"q1": {"d2": 0.9, "d3": 0.8, "d1": 0.7, "d9": 0.1}, "q2": {"d8": 0.5, "d4": 0.4}, "unjudged": {"d1": 1.0}}


def test_metric_names_are_ir_measures_names():
    assert METRIC_NAMES == ("nDCG@10", "RR@10", "R@10", "R@100", "AP")


def test_per_query_values_match_hand_computation():
    evaluation = evaluate(QRELS, RUN)
    q1, q2 = evaluation.per_query["q1"], evaluation.per_query["q2"]
    # q1 ranks d2 (gain 1), d3 (0), d1 (gain 2): DCG = 1/log2(2) + 2/log2(4) = 2; ideal = 2 + 1/log2(3)
    assert q1["nDCG@10"] == pytest.approx(2 / (2 + 1 / math.log2(3)))
    assert q1["RR@10"] == pytest.approx(1.0)
    assert q1["R@10"] == pytest.approx(1.0)
    assert q1["AP"] == pytest.approx((1 / 1 + 2 / 3) / 2)
    # q2 finds its only relevant document at rank 2
    assert q2["nDCG@10"] == pytest.approx(1 / math.log2(3))
    assert q2["RR@10"] == pytest.approx(0.5)
    assert q2["AP"] == pytest.approx(0.5)


def test_unanswered_judged_query_scores_zero_and_counts_in_the_mean():
    evaluation = evaluate(QRELS, RUN)
    assert set(evaluation.per_query) == {"q1", "q2", "q3"}  # q4 has no relevant document; 'unjudged' has no qrels
    assert evaluation.per_query["q3"] == dict.fromkeys(METRIC_NAMES, 0.0)
    aggregate = evaluation.aggregate
    assert aggregate["nDCG@10"] == pytest.approx((2 / (2 + 1 / math.log2(3)) + 1 / math.log2(3)) / 3)
    assert aggregate["RR@10"] == pytest.approx(0.5)
    assert aggregate["R@10"] == pytest.approx(2 / 3)
    assert aggregate["AP"] == pytest.approx((5 / 6 + 0.5) / 3)


def test_cutoffs_apply():
    qrels = {"q": {"rel": 1}}
    run = {"q": {f"n{i:02d}": 1.0 - i / 100 for i in range(10)} | {"rel": 0.05}}  # relevant at rank 11
    values = evaluate(qrels, run).per_query["q"]
    assert values["nDCG@10"] == 0.0 and values["RR@10"] == 0.0 and values["R@10"] == 0.0
    assert values["R@100"] == 1.0 and values["AP"] == pytest.approx(1 / 11)


def test_run_from_ranking_keeps_the_engine_order_on_ties():
    # the evaluator breaks score ties by document id ("a" before "b"), not in the engine's order
    assert evaluate({"q": {"b": 1}}, {"q": {"b": 0.5, "a": 0.5}}).per_query["q"]["RR@10"] == 0.5
    ranking = {"q": [("b", 0.5), ("a", 0.5), ("c", 0.25)]}  # the engine ranked "b" first
    run = run_from_ranking(ranking)
    assert run["q"]["b"] > run["q"]["a"] > run["q"]["c"]
    assert evaluate({"q": {"b": 1}}, run).per_query["q"]["RR@10"] == 1.0


def test_group_means_per_query_kind():
    from nzc_knowledge.eval.metrics import group_means

    evaluation = evaluate(QRELS, RUN)
    groups = group_means(evaluation, {"q1": "keyword", "q2": "keyword", "q3": "typo"})
    assert list(groups) == ["keyword", "typo"]
    assert groups["keyword"]["queries"] == 2 and groups["typo"]["queries"] == 1
    assert groups["keyword"]["RR@10"] == pytest.approx(0.75) and groups["typo"]["RR@10"] == 0.0
