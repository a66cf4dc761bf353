"""Compare two runs on the same qrels: per-metric means, deltas, and paired significance tests.

Why paired tests: the same queries are answered by both systems, so the per-query differences carry the
signal; a difference in means alone says nothing about whether a change is noise (ranx does the same).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from nzc_knowledge.errors import InvalidParameter
from nzc_knowledge.eval.formats import Qrels
from nzc_knowledge.eval.metrics import Evaluation, evaluate


@dataclass
class PairedTest:
    """Paired t-test and Wilcoxon signed-rank test on per-query values of one metric (B minus A)."""

    measure: str
    queries: int
    mean_a: float
    mean_b: float
    improved: int  # queries where B > A
    worsened: int
    t_statistic: float
    t_pvalue: float
    wilcoxon_statistic: float
    wilcoxon_pvalue: float

    @property
    def delta(self) -> float:
        return self.mean_b - self.mean_a


@dataclass
class Comparison:
    evaluation_a: Evaluation
    evaluation_b: Evaluation
    test: PairedTest

    @property
    def deltas(self) -> dict[str, float]:
        """Per-query difference B - A of the tested metric."""
        a, b = self.evaluation_a.values(self.test.measure), self.evaluation_b.values(self.test.measure)
        return {qid: b[qid] - a[qid] for qid in a}

    def means(self) -> dict[str, tuple[float, float, float]]:
        """metric -> (mean A, mean B, delta)."""
        a, b = self.evaluation_a.aggregate, self.evaluation_b.aggregate
        return {name: (a[name], b[name], b[name] - a[name]) for name in a}


def paired_test(values_a: Mapping[str, float], values_b: Mapping[str, float], measure: str) -> PairedTest:
    """Paired t-test and Wilcoxon signed-rank test over the queries both mappings hold.

    Degenerate cases are answered, not raised: with no differences at all both p-values are 1.0.
    """
    from scipy import stats

    queries = sorted(set(values_a) & set(values_b))
    if len(queries) < 2:
        raise InvalidParameter(f"a paired test needs at least 2 queries judged in both runs, got {len(queries)}")
    a = [values_a[qid] for qid in queries]
    b = [values_b[qid] for qid in queries]
    differences = [y - x for x, y in zip(a, b, strict=True)]
    if all(abs(diff) < 1e-12 for diff in differences):
        t_stat, t_p, w_stat, w_p = 0.0, 1.0, 0.0, 1.0
    else:
        if max(differences) - min(differences) < 1e-12:  # constant non-zero differences: t is infinite
            t_stat, t_p = math.copysign(math.inf, differences[0]), 0.0
        else:
            t_result = stats.ttest_rel(b, a)
            t_stat, t_p = float(t_result.statistic), float(t_result.pvalue)
        w_result = stats.wilcoxon(b, a, zero_method="wilcox")
        w_stat, w_p = float(w_result.statistic), float(w_result.pvalue)
    return PairedTest(
        measure=measure,
        queries=len(queries),
        mean_a=sum(a) / len(a),
        mean_b=sum(b) / len(b),
        improved=sum(diff > 1e-12 for diff in differences),
        worsened=sum(diff < -1e-12 for diff in differences),
        t_statistic=t_stat,
        t_pvalue=t_p,
        wilcoxon_statistic=w_stat,
        wilcoxon_pvalue=w_p,
    )


def compare_runs(
    qrels: Qrels, run_a: Mapping[str, Mapping[str, float]], run_b: Mapping[str, Mapping[str, float]],
    measure: str = "nDCG@10",
) -> Comparison:
    """Evaluate both runs on every judged query (a query a run does not answer scores 0) and test `measure`."""
    evaluation_a, evaluation_b = evaluate(qrels, run_a), evaluate(qrels, run_b)
    if measure not in evaluation_a.measures:
        raise InvalidParameter(f"unknown measure {measure!r}; choose one of {', '.join(evaluation_a.measures)}")
    test = paired_test(evaluation_a.values(measure), evaluation_b.values(measure), measure)
    return Comparison(evaluation_a, evaluation_b, test)
