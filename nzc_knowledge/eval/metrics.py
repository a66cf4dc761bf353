"""Retrieval metrics through ir-measures (pytrec_eval underneath), named as ir-measures writes them.

Why a library: nDCG, AP and reciprocal rank have conventions (gain, cut-offs, ties, unjudged documents)
that hand-written code gets subtly wrong; numbers from trec_eval's implementation compare with
published ones.

One convention is ours and explicit: a judged query that the run answers with nothing scores 0 on
every metric (pytrec_eval would silently leave it out of the mean and flatter the system).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ir_measures
from ir_measures import AP, RR, R, nDCG

from nzc_knowledge.eval.formats import Qrels, Run

DEFAULT_MEASURES = (nDCG @ 10, RR @ 10, R @ 10, R @ 100, AP)
METRIC_NAMES = tuple(str(measure) for measure in DEFAULT_MEASURES)  # nDCG@10, RR@10, R@10, R@100, AP


@dataclass
class Evaluation:
    """Per-query values and their means over every judged query."""

    per_query: dict[str, dict[str, float]]  # query id -> metric name -> value
    measures: tuple[str, ...]

    @property
    def aggregate(self) -> dict[str, float]:
        return mean_of(self.per_query, self.measures)

    def subset(self, query_ids: Iterable[str]) -> Evaluation:
        wanted = set(query_ids)
        return Evaluation({qid: values for qid, values in self.per_query.items() if qid in wanted}, self.measures)

    def values(self, measure: str) -> dict[str, float]:
        return {qid: values[measure] for qid, values in self.per_query.items()}


def parse_measures(names: Iterable[str] | None) -> tuple:
    """ir-measures objects from names like 'nDCG@10'; the defaults when none are given."""
    if not names:
        return DEFAULT_MEASURES
    return tuple(ir_measures.parse_measure(name) for name in names)


def evaluate(qrels: Qrels, run: Mapping[str, Mapping[str, float]], measures: Iterable | None = None) -> Evaluation:
    """Score `run` against `qrels` over every query of `qrels` that has at least one relevant document."""
    measures = tuple(measures or DEFAULT_MEASURES)
    names = tuple(str(measure) for measure in measures)
    judged = {qid: docs for qid, docs in qrels.items() if any(score > 0 for score in docs.values())}
    per_query: dict[str, dict[str, float]] = {qid: dict.fromkeys(names, 0.0) for qid in judged}
    answered = {qid: dict(docs) for qid, docs in run.items() if qid in judged and docs}
    if answered:
        for metric in ir_measures.iter_calc(measures, judged, answered):
            per_query[metric.query_id][str(metric.measure)] = float(metric.value)
    return Evaluation(per_query, names)


def mean_of(per_query: Mapping[str, Mapping[str, float]], measures: Iterable[str]) -> dict[str, float]:
    measures = tuple(measures)
    if not per_query:
        return dict.fromkeys(measures, 0.0)
    return {name: sum(values[name] for values in per_query.values()) / len(per_query) for name in measures}


def group_means(evaluation: Evaluation, group_of: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """Means per group of queries (e.g. per query kind), with the group's size under "queries"."""
    groups: dict[str, dict[str, dict[str, float]]] = {}
    for qid, values in evaluation.per_query.items():
        groups.setdefault(group_of.get(qid, "unspecified"), {})[qid] = values
    return {name: mean_of(members, evaluation.measures) | {"queries": float(len(members))}
            for name, members in sorted(groups.items())}


def run_from_ranking(ranking: Mapping[str, list[tuple[str, float]]]) -> Run:
    """A run whose scores keep the given order exactly.

    trec_eval sorts by score and breaks ties by document id, which would silently reorder documents
    the engine tied (and ordered by id the other way). Subtracting rank x 1e-9 splits ties only:
    the engine's scores are rounded to 1e-6, so no two distinct scores swap.
    """
    run: Run = {}
    for query_id, ranked in ranking.items():
        run[query_id] = {doc_id: float(score) - rank * 1e-9 for rank, (doc_id, score) in enumerate(ranked)}
    return run
