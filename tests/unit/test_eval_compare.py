"""Paired significance tests of `nzc eval compare` on constructed cases."""

from __future__ import annotations

import math
import statistics

import pytest
from scipy import stats

from nzc_knowledge.eval.compare import compare_runs, paired_test

DELTAS = [0.10, 0.20, 0.15, 0.05, 0.12, 0.08, 0.30, 0.10]


def test_consistent_improvement_is_significant_and_matches_the_formula():
    a = {f"q{i}": 0.4 + 0.01 * i for i in range(len(DELTAS))}
    b = {qid: value + delta for (qid, value), delta in zip(a.items(), DELTAS, strict=True)}
    test = paired_test(a, b, "nDCG@10")
    expected_t = statistics.mean(DELTAS) / (statistics.stdev(DELTAS) / math.sqrt(len(DELTAS)))
    assert test.t_statistic == pytest.approx(expected_t)
    assert test.t_pvalue == pytest.approx(2 * stats.t.sf(expected_t, df=len(DELTAS) - 1))
    assert test.t_pvalue < 0.01
    # every difference positive: exact two-sided Wilcoxon p = 2 / 2**n
    assert test.wilcoxon_pvalue == pytest.approx(2 / 2 ** len(DELTAS))
    assert (test.improved, test.worsened, test.queries) == (8, 0, 8)
    assert test.delta == pytest.approx(statistics.mean(DELTAS))


def test_symmetric_changes_are_not_significant():
    a = {f"q{i}": 0.5 for i in range(8)}
    b = {qid: 0.5 + (0.1 if i % 2 else -0.1) for i, qid in enumerate(a)}
    test = paired_test(a, b, "nDCG@10")
    assert test.delta == pytest.approx(0.0)
    assert test.t_pvalue > 0.5 and test.wilcoxon_pvalue > 0.5


def test_identical_runs_give_p_equal_one_instead_of_an_error():
    values = {"q1": 0.3, "q2": 0.7, "q3": 1.0}
    test = paired_test(values, dict(values), "nDCG@10")
    assert (test.t_pvalue, test.wilcoxon_pvalue, test.improved, test.worsened) == (1.0, 1.0, 0, 0)


def test_too_few_queries_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 2 queries"):
        paired_test({"q1": 0.1}, {"q1": 0.2}, "nDCG@10")


def test_compare_runs_counts_unanswered_queries_as_zero():
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}, "q3": {"d3": 1}}
    run_a = {"q1": {"d1": 1.0}, "q2": {"x": 1.0, "d2": 0.5}}  # q3 unanswered
    run_b = {"q1": {"d1": 1.0}, "q2": {"d2": 1.0}, "q3": {"d3": 1.0}}
    comparison = compare_runs(qrels, run_a, run_b)
    assert comparison.deltas == pytest.approx({"q1": 0.0, "q2": 1 - 1 / math.log2(3), "q3": 1.0})
    mean_a, mean_b, delta = comparison.means()["nDCG@10"]
    assert mean_a == pytest.approx((1 + 1 / math.log2(3)) / 3) and mean_b == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown measure"):
        compare_runs(qrels, run_a, run_b, measure="P@5")
