"""Quality of the automatic tags: on hand-labelled passages, on an outside benchmark, and against curated tags.

- Passages (eval/tags/passages.jsonl, read by `train_tagger.load_passages`): per-label and micro/macro precision,
  recall, F1 per family on the held-out half, per language, the calibration (Brier score, reliability curve) and
  top-domain accuracy against the ten-line baseline.
- Outside check: the SDG Classification Benchmark's expert-labelled snippets for SDGs with a clean domain
  (`SDG_DOMAINS`), top-domain accuracy of ours against the baseline; SDG 13 shows what cross-cutting text gets.
- Resources: `Resource.predicted` (the tagger's output, computed without looking at curated tags) against the
  curated tags. A resource counts for a family when curators judged it for that family: it has curated tags
  there, or its manifest line gives that family as an empty list (an events calendar with `"domains": []` is a
  judgment too: every tag predicted for it is a false positive).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nzc_knowledge.ingest.manifest import curated_keys
from nzc_knowledge.ingest.tag import passing_labels
from nzc_knowledge.ingest.train_tagger import is_training
from nzc_knowledge.models import Resource
from nzc_knowledge.taxonomy import TAG_FAMILIES, keys_of


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    support: int  # curated occurrences
    predicted: int = 0  # predicted occurrences


@dataclass
class FamilyQuality:
    family: str
    resources: int  # resources judged by curators for this family
    micro: Scores
    macro: Scores
    labels: dict[str, Scores] = field(default_factory=dict)
    exact_match: float = 0.0  # share of resources whose predicted set equals the curated set


def predicted_keys(resource: Resource, family: str) -> list[str]:
    return [tag.key for tag in resource.predicted.get(family, [])]


def held_out_split() -> Callable[[str], bool]:
    """Which resource ids the tagger's weights were NOT fitted on."""
    return lambda resource_id: not is_training(resource_id)


def tag_quality(
    resources: Iterable[Resource],
    curated_empty: Mapping[str, set[str]] | None = None,
    include: Callable[[str], bool] | None = None,
) -> dict[str, FamilyQuality]:
    """Per family: per-label and micro/macro precision, recall, F1 (scikit-learn) over the curated resources.

    `include` keeps only some resource ids, e.g. the half the tagger's weights were not fitted on.
    """
    from sklearn.metrics import precision_recall_fscore_support
    from sklearn.preprocessing import MultiLabelBinarizer

    resources = [resource for resource in resources if include is None or include(resource.id)]
    curated_empty = curated_empty or {}
    report: dict[str, FamilyQuality] = {}
    for family in TAG_FAMILIES:
        labels = list(keys_of(family))
        judged = [r for r in resources if curated_keys(r, family) or r.id in curated_empty.get(family, set())]
        if not judged:
            continue
        truth = [set(curated_keys(r, family)) for r in judged]
        guess = [set(predicted_keys(r, family)) & set(labels) for r in judged]
        binarizer = MultiLabelBinarizer(classes=labels)
        y_true, y_pred = binarizer.fit_transform(truth), binarizer.transform(guess)
        precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
        per_label = {
            label: Scores(float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]), int(y_pred[:, i].sum()))
            for i, label in enumerate(labels)
        }
        averaged = {}
        for average in ("micro", "macro"):
            p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
            averaged[average] = Scores(float(p), float(r), float(f), int(y_true.sum()), int(y_pred.sum()))
        exact = sum(t == g for t, g in zip(truth, guess, strict=True)) / len(judged)
        report[family] = FamilyQuality(family, len(judged), averaged["micro"], averaged["macro"], per_label, exact)
    return report


# ---- passage-level evaluation on the hand-labelled passages (eval/tags/passages.jsonl) ------------------------

# SDGs of the SDG Classification Benchmark with a clean counterpart among our domains. Left out: SDG 11
# (sustainable cities: transport, housing, planning and disaster risk mixed, no single domain), SDG 14 (life below
# water: fisheries and oceans, not urban green infrastructure), SDG 6 (water and sanitation) and SDG 13 (climate
# action: cross-cutting by definition; reported apart as the share that gets no domain).
SDG_DOMAINS: dict[int, str] = {7: "energy", 9: "industry", 12: "waste_circular", 15: "nature_based"}
CROSS_CUTTING_SDG = 13


@dataclass
class OutsideSnippet:
    """One expert-labelled snippet of the SDG Classification Benchmark."""

    id: str
    text: str
    sdg: int
    domain: str | None  # SDG_DOMAINS[sdg], None for the cross-cutting SDG


def load_sdg_check(sdgs: Mapping[int, str] | None = None) -> list[OutsideSnippet]:
    """Positive snippets (experts judged them relevant to their SDG) of the mapped SDGs and of SDG 13.

    The benchmark ships as a CSV inside the `sdgclassification-benchmark` package (1,251 snippets, one SDG each,
    label True when relevant); only the relevant ones say what a text is about.
    """
    from sdgclassification.benchmark.load_benchmark_df import load_benchmark_df

    mapping = dict(SDG_DOMAINS if sdgs is None else sdgs)
    frame = load_benchmark_df()
    frame = frame[(frame["label"] == True) & (frame["sdg"].isin([*mapping, CROSS_CUTTING_SDG]))]  # noqa: E712
    return [OutsideSnippet(str(row.id), str(row.text), int(row.sdg), mapping.get(int(row.sdg)))
            for row in frame.itertuples(index=False)]


def scores_from_matrices(truth: np.ndarray, predicted: np.ndarray, labels: Sequence[str], judged: int) -> FamilyQuality:
    """Per-label and micro/macro precision, recall, F1 from (items x labels) 0/1 matrices."""
    from sklearn.metrics import precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, average=None,
                                                                     labels=range(len(labels)), zero_division=0)
    per_label = {label: Scores(float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]), int(predicted[:, i].sum()))
                 for i, label in enumerate(labels)}
    averaged = {}
    for average in ("micro", "macro"):
        p, r, f, _ = precision_recall_fscore_support(truth, predicted, average=average, zero_division=0)
        averaged[average] = Scores(float(p), float(r), float(f), int(truth.sum()), int(predicted.sum()))
    exact = float(np.mean(np.all(truth == predicted, axis=1))) if len(truth) else 0.0
    return FamilyQuality("", judged, averaged["micro"], averaged["macro"], per_label, exact)


@dataclass
class Reliability:
    """Calibration of the predicted probabilities on held-out passages (every family's label decisions)."""

    brier: float
    brier_base_rate: float  # always predicting the tune half's label frequency: the score to beat
    bins_predicted: list[float]
    bins_observed: list[float]
    bins_count: list[int]
    per_family_brier: dict[str, float] = field(default_factory=dict)


def reliability(probabilities: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
                base_rates: Mapping[str, float], bins: int = 10) -> Reliability:
    """Brier score and reliability curve (scikit-learn) pooled over families."""
    from sklearn.metrics import brier_score_loss

    pooled_p = np.concatenate([probabilities[f].reshape(-1) for f in probabilities])
    pooled_y = np.concatenate([truth[f].reshape(-1) for f in probabilities])
    base = np.concatenate([np.full(truth[f].size, base_rates[f]) for f in probabilities])
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(pooled_p, edges[1:-1]), 0, bins - 1)
    predicted, observed, counts = [], [], []
    for b in range(bins):
        mask = which == b
        if mask.any():
            predicted.append(float(pooled_p[mask].mean()))
            observed.append(float(pooled_y[mask].mean()))
            counts.append(int(mask.sum()))
    return Reliability(
        brier=float(brier_score_loss(pooled_y, pooled_p)), brier_base_rate=float(brier_score_loss(pooled_y, base)),
        bins_predicted=predicted, bins_observed=observed, bins_count=counts,
        per_family_brier={f: float(brier_score_loss(truth[f].reshape(-1), probabilities[f].reshape(-1))) for f in probabilities},
    )


@dataclass
class PassageEvaluation:
    """Everything `nzc eval tags` reports about passages and the outside check."""

    passages: dict[str, int]  # split -> passages
    languages: dict[str, dict[str, int]]  # split -> language -> passages
    quality: dict[str, dict[str, FamilyQuality]]  # split -> family -> scores
    quality_by_language: dict[str, dict[str, float]]  # held-out language -> family -> micro-F1
    no_domain: dict[str, float]  # held-out: share of passages labelled without domain that got none, and events
    reliability: Reliability
    outside: dict[str, Any]
    passage_top_domain: dict[str, float]  # held-out single-domain passages: ours vs the ten-line baseline


def top_domain(scores: np.ndarray) -> list[str]:
    keys = keys_of("domains")
    return [keys[int(column)] for column in scores.argmax(axis=1)]


def evaluate_passages(tagger, passages: Sequence, vectors: np.ndarray, multilingual_vectors: np.ndarray | None,
                      baseline_vectors: np.ndarray, outside: Sequence[OutsideSnippet], outside_vectors: np.ndarray,
                      outside_baseline: np.ndarray) -> PassageEvaluation:
    """Per-family F1 per split, calibration on the held-out split, top-domain accuracy inside and outside.

    `baseline_vectors` / `outside_baseline`: (items x domains) cosine with the one-line domain descriptions (the
    ten-line baseline: highest wins), computed by the caller with the main encoder.
    """
    from nzc_knowledge.ingest.train_tagger import label_matrix

    features, spaces, _ = tagger.features([p.text for p in passages], [p.language for p in passages], vectors,
                                          multilingual_vectors)
    probabilities = tagger.probabilities(features, spaces)
    quality: dict[str, dict[str, FamilyQuality]] = {}
    truths = {family: label_matrix(passages, family) for family in TAG_FAMILIES}
    decided = {family: passing_labels(probabilities[family], tagger.thresholds[family], tagger.settings.max_per_family)
               for family in TAG_FAMILIES}
    splits = {split: np.array([p.split == split for p in passages]) for split in ("tune", "held_out")}
    for split, rows in splits.items():
        quality[split] = {}
        for family in TAG_FAMILIES:
            item = scores_from_matrices(truths[family][rows], decided[family][rows], keys_of(family), int(rows.sum()))
            item.family = family
            quality[split][family] = item
    held = splits["held_out"]
    by_language: dict[str, dict[str, float]] = {}
    for language in sorted({p.language for p, keep in zip(passages, held, strict=True) if keep}):
        rows = held & np.array([p.language == language for p in passages])
        by_language[language] = {family: scores_from_matrices(truths[family][rows], decided[family][rows],
                                                              keys_of(family), int(rows.sum())).micro.f1
                                 for family in TAG_FAMILIES}
    without_domain = held & (truths["domains"].sum(axis=1) == 0)
    events = held & np.array(["events" in p.resource_id for p in passages])
    no_domain = {
        "held-out passages labelled with no domain": float(without_domain.sum()),
        "of which got no domain": float((decided["domains"][without_domain].sum(axis=1) == 0).mean()) if without_domain.any() else 0.0,
        "events-calendar passages with any tag": float(sum(decided[f][events].sum() for f in TAG_FAMILIES)),
    }
    base_rates = {family: float(truths[family][splits["tune"]].mean()) for family in TAG_FAMILIES}
    calibration = reliability({f: probabilities[f][held] for f in TAG_FAMILIES}, {f: truths[f][held] for f in TAG_FAMILIES},
                              base_rates)
    single = held & (truths["domains"].sum(axis=1) == 1)
    ranking = _domain_ranking(tagger, features["domains"], spaces)
    truth_single = [next(iter(p.labels["domains"])) for p, keep in zip(passages, single, strict=True) if keep]
    passage_top = {
        "passages": float(single.sum()),
        "ours": _accuracy(top_domain(ranking[single]), truth_single),
        "label knowledge only (similarity)": _accuracy(top_domain(features["domains"][single][:, :, 0]), truth_single),
        "baseline (one-line descriptions)": _accuracy(top_domain(baseline_vectors[single]), truth_single),
    }
    return PassageEvaluation(
        passages={split: int(rows.sum()) for split, rows in splits.items()},
        languages={split: dict(sorted(Counter(p.language for p, keep in zip(passages, rows, strict=True) if keep).items()))
                   for split, rows in splits.items()},
        quality=quality, quality_by_language=by_language, no_domain=no_domain, reliability=calibration,
        outside=outside_check(tagger, outside, outside_vectors, outside_baseline), passage_top_domain=passage_top,
    )


def outside_check(tagger, snippets: Sequence[OutsideSnippet], vectors: np.ndarray, baseline: np.ndarray) -> dict[str, Any]:
    """Top-domain accuracy on the mapped SDG snippets, ours vs the ten-line baseline; what SDG 13 text gets."""
    features, spaces, _ = tagger.features([s.text for s in snippets], ["en"] * len(snippets), vectors, None)
    probabilities = tagger.probabilities(features, spaces)["domains"]
    ranking = _domain_ranking(tagger, features["domains"], spaces)
    mapped = np.array([s.domain is not None for s in snippets])
    truth = [s.domain for s in snippets if s.domain is not None]
    ours, base = top_domain(ranking[mapped]), top_domain(baseline[mapped])
    knowledge = top_domain(features["domains"][mapped][:, :, 0])
    confident = (probabilities[mapped] >= tagger.thresholds["domains"]).any(axis=1)
    per_sdg = {}
    for sdg, domain in SDG_DOMAINS.items():
        rows = [i for i, s in enumerate(s for s in snippets if s.domain is not None) if s.sdg == sdg]
        per_sdg[f"SDG {sdg} -> {domain}"] = {
            "snippets": len(rows), "ours": _accuracy([ours[i] for i in rows], [truth[i] for i in rows]),
            "baseline": _accuracy([base[i] for i in rows], [truth[i] for i in rows]),
        }
    general = ~mapped
    general_tags = passing_labels(probabilities[general], tagger.thresholds["domains"], tagger.settings.max_per_family)
    return {
        "snippets": int(mapped.sum()),
        "ours": _accuracy(ours, truth),
        "label knowledge only (similarity)": _accuracy(knowledge, truth),
        "baseline (one-line descriptions)": _accuracy(base, truth),
        "ours, abstaining below the threshold (abstention counts as wrong)":
            _accuracy([o if c else None for o, c in zip(ours, confident, strict=True)], truth),
        "abstained": float(1 - confident.mean()),
        "per_sdg": per_sdg,
        "sdg13_snippets": int(general.sum()),
        "sdg13_no_domain": float((general_tags.sum(axis=1) == 0).mean()) if general.any() else 0.0,
        "sdg13_domains": dict(Counter(k for row in general_tags for k, v in zip(keys_of("domains"), row, strict=True) if v)),
    }


def _domain_ranking(tagger, domain_features: np.ndarray, spaces: Sequence[str]) -> np.ndarray:
    """(items x domains) uncalibrated evidence score: ranks like the probabilities, without isotonic ties."""
    ranking = np.zeros(domain_features.shape[:2])
    for row, space in enumerate(spaces):
        calibrator = tagger.calibrators["domains"].get(space) or tagger.calibrators["domains"]["main"]
        ranking[row] = calibrator.score(domain_features[row])
    return ranking


def _accuracy(predicted: Sequence[str | None], truth: Sequence[str]) -> float:
    return float(np.mean([p == t for p, t in zip(predicted, truth, strict=True)])) if truth else 0.0
