"""Quality of the automatic tags: precision, recall and F1 per label, micro/macro per family, against curated tags.

Ground truth is what curators wrote (tags with source "curated"); the prediction is `Resource.predicted`,
the tagger's output, which the pipeline computes without looking at the curated tags. A resource counts
for a family when curators judged it for that family: it has curated tags there, or its manifest line
gives that family as an empty list (an events calendar with `"domains": []` is a judgment too: every
tag predicted for it is a false positive).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

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


def curated_empty_families(manifest: Path) -> dict[str, set[str]]:
    """family -> ids of resources whose manifest line gives that family as an empty list."""
    empty: dict[str, set[str]] = {family: set() for family in TAG_FAMILIES}
    if not Path(manifest).exists():
        return empty
    with Path(manifest).open(encoding="utf-8") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # the ingest reports malformed manifest lines; here they simply judge nothing
            if not isinstance(row, dict) or "id" not in row:
                continue
            for family in TAG_FAMILIES:
                if row.get(family) == []:
                    empty[family].add(str(row["id"]))
    return empty


def curated_keys(resource: Resource, family: str) -> list[str]:
    return [tag.key for tag in getattr(resource, family) if tag.source == "curated"]


def predicted_keys(resource: Resource, family: str) -> list[str]:
    return [tag.key for tag in resource.predicted.get(family, [])]


def held_out_split() -> Callable[[str], bool] | None:
    """Which resource ids the tagger's weights were NOT fitted on (None when the tagger has no such split)."""
    try:
        from nzc_knowledge.ingest.train_tagger import is_training
    except ImportError:
        return None
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
