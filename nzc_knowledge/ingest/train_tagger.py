"""Fit the tagger's calibrators on the "tune" half of the hand-labelled passages; the other half is held out.

    python -m nzc_knowledge.ingest.train_tagger [--passages eval/tags/passages.jsonl] [--out .../tagger_weights.json]
    python -m nzc_knowledge.ingest.train_tagger --resources-from INDEX_DIR --resources-only  # resource thresholds only

eval/tags/passages.jsonl holds passages of the sample corpus labelled by reading them (domains, barriers, levers a
passage treats substantively), each with a `split`: resources whose sha256(id) is even are "tune", odd ones
"held_out", so no resource has passages on both sides. What is fitted here is small and label-agnostic: per family
and encoder space, a logistic combination of the evidence features (`tag.FEATURES`) and an isotonic map from that
score to a probability (fitted on cross-validated scores, grouped by resource), the number of prototypes averaged
per label, the decision thresholds (per family; per label only in a family where that wins on held-out folds of the
tune half, `choose_label_thresholds`) and the climate-content gate. Which label a passage is about still comes from
the label knowledge, so the weights cannot learn the sample corpus' topics.

Resource thresholds ("resource_thresholds", `fit_resource_thresholds`): a resource's label probability is rolled up
from its passages (`tag.roll_up`), so it is decided with thresholds of its own, chosen for micro-F1 against the
curated tags of the tune half's resources only (same sha256 split; `nzc eval tags` reports the other half). The
rolled-up probabilities come from an index of the sample corpus (`--resources-from`: its passages, vectors and
curated tags); `--resources-only` keeps the passage weights of `--out` and refits only these thresholds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nzc_knowledge.encoders import DEFAULT_MULTILINGUAL_ENCODER, Encoder, load_encoder
from nzc_knowledge.errors import FormatError
from nzc_knowledge.ingest.manifest import curated_empty_families, curated_keys
from nzc_knowledge.ingest.tag import (
    FEATURES,
    MAIN_SPACE,
    MULTILINGUAL_SPACE,
    WEIGHTS_FILE,
    Calibrator,
    Tagger,
    TaggerSettings,
    passing_labels,
    roll_up,
)
from nzc_knowledge.settings import Settings
from nzc_knowledge.taxonomy import FAMILIES, TAG_FAMILIES, keys_of
from nzc_knowledge.text.jsonl import read_jsonl

PASSAGES_FILE = Path("eval/tags/passages.jsonl")
VECTOR_CACHE = Path("eval/cache/tags")
TOP_K_CHOICES = (5, 10, 20)
THRESHOLD_CHOICES = tuple(round(float(value), 2) for value in np.arange(0.1, 0.65, 0.05))
MIN_LABEL_SUPPORT = 5  # a label needs this many labelled tune passages for a threshold of its own
# Per-label thresholds must beat one family threshold by this much micro-F1 on the tune folds: with ~150 passages a
# smaller gain is noise (domains gained 0.012 on tune folds and lost on held-out passages with them).
LABEL_THRESHOLD_MARGIN = 0.02
SPLITS = ("tune", "held_out")


def is_training(resource_id: str) -> bool:
    """The deterministic half of the labelled resources the calibrators are fitted on ("tune")."""
    return int(hashlib.sha256(resource_id.encode()).hexdigest(), 16) % 2 == 0


@dataclass
class LabelledPassage:
    """A passage of the sample corpus with the labels a reader gave it."""

    id: str
    resource_id: str
    language: str
    split: str
    title: str
    text: str
    labels: dict[str, set[str]] = field(default_factory=dict)  # family -> keys

    @property
    def embedding_text(self) -> str:
        """What the pipeline embeds for a chunk: the resource title, then the passage."""
        return f"{self.title}\n{self.text}" if self.title and not self.text.startswith(self.title) else self.text


def load_passages(path: Path = PASSAGES_FILE) -> list[LabelledPassage]:
    """Read labelled passages; a line with an unknown key, split or missing field is an error naming the line."""
    passages = []
    for number, row in read_jsonl(path):
        try:
            labels = {family: set(row[family]) for family in TAG_FAMILIES}
            passage = LabelledPassage(row["id"], row["resource_id"], row["language"], row["split"],
                                      row.get("title", ""), row["text"], labels)
        except (KeyError, TypeError) as error:
            raise FormatError(path, number, f"not a labelled passage ({error})") from error
        for family, keys in labels.items():
            unknown = keys - set(keys_of(family))
            if unknown:
                raise FormatError(path, number, f"unknown {family} {sorted(unknown)}; allowed: {', '.join(keys_of(family))}")
        if passage.split not in SPLITS:
            raise FormatError(path, number, f"split must be one of {', '.join(SPLITS)}, not {passage.split!r}")
        passages.append(passage)
    return passages


def cached_vectors(encoder: Encoder, texts: Sequence[str], cache_dir: Path = VECTOR_CACHE) -> np.ndarray:
    """Encode texts once per encoder and text set; the .npy cache lives in a gitignored folder."""
    digest = hashlib.sha256("\n\x00".join([encoder.info.name, *texts]).encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"{encoder.info.name}-{digest}.npy"
    if path.exists():
        return np.load(path)
    vectors = encoder.encode_passages(list(texts), batch_size=32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def label_matrix(passages: Sequence[LabelledPassage], family: str) -> np.ndarray:
    """(passages x labels) 0/1 truth in taxonomy order."""
    keys = keys_of(family)
    return np.array([[int(key in passage.labels[family]) for key in keys] for passage in passages], dtype=np.int64)


def fit_calibrator(features: np.ndarray, truth: np.ndarray, groups: np.ndarray) -> tuple[Calibrator, np.ndarray]:
    """Logistic combination of the evidence features, then isotonic regression on out-of-fold scores; also the
    out-of-fold probabilities (for choosing thresholds without looking at in-sample fits)."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    mean, scale = features.mean(axis=0), features.std(axis=0)
    scale = np.where(scale > 1e-6, scale, 1.0)  # a constant feature (no context phrases for domains) stays 0
    standard = (features - mean) / scale
    out_of_fold = np.zeros(len(truth))
    folds = min(5, len(set(groups)))
    for train, test in GroupKFold(n_splits=folds).split(standard, truth, groups):
        model = LogisticRegression(C=1.0, max_iter=1000).fit(standard[train], truth[train])
        out_of_fold[test] = model.decision_function(standard[test])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(standard, truth)
    isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(out_of_fold, truth)
    calibrator = Calibrator(mean, scale, model.coef_[0], float(model.intercept_[0]),
                            np.asarray(isotonic.X_thresholds_), np.asarray(isotonic.y_thresholds_))
    return calibrator, isotonic.predict(out_of_fold)


def best_threshold(probabilities: np.ndarray, truth: np.ndarray, choices: Sequence[float] = THRESHOLD_CHOICES) -> float:
    """The decision threshold with the best micro-F1 on (decisions) probabilities and 0/1 truth."""
    from sklearn.metrics import f1_score

    scored = [(f1_score(truth, (probabilities >= t).astype(int), zero_division=0), -abs(t - 0.5), t) for t in choices]
    return round(float(max(scored)[2]), 2)


def micro_f1(truth: np.ndarray, decided: np.ndarray) -> float:
    """Micro-F1 of 0/1 (items x labels) decisions."""
    total = int(truth.sum() + decided.sum())
    return 2 * int((truth & decided).sum()) / total if total else 0.0


def per_label_thresholds(probabilities: np.ndarray, truth: np.ndarray, family_threshold: float, max_per_family: int,
                         min_support: int = MIN_LABEL_SUPPORT) -> np.ndarray:
    """One threshold per label, each chosen for the family's micro-F1 with the others held; labels with fewer than
    `min_support` labelled passages keep the family's threshold, so a rare label does not flip on one passage."""
    thresholds = np.full(truth.shape[1], family_threshold)
    for column in range(truth.shape[1]):
        if truth[:, column].sum() < min_support:
            continue
        scored = []
        for choice in THRESHOLD_CHOICES:
            trial = thresholds.copy()
            trial[column] = choice
            scored.append((micro_f1(truth, passing_labels(probabilities, trial, max_per_family)), -abs(choice - family_threshold), choice))
        thresholds[column] = max(scored)[2]
    return thresholds


def fit_family(features: np.ndarray, spaces: np.ndarray, truth: np.ndarray, groups: np.ndarray
               ) -> tuple[dict[str, Calibrator], np.ndarray]:
    """Calibrators of one family per encoder space, and out-of-fold probabilities (passages x labels)."""
    count = truth.shape[1]
    calibrators, probabilities = {}, np.zeros(truth.shape)
    for space in sorted(set(spaces)):
        rows = spaces == space
        calibrator, out_of_fold = fit_calibrator(features[rows].reshape(-1, features.shape[2]), truth[rows].reshape(-1),
                                                 np.repeat(groups[rows], count))
        calibrators[space] = calibrator
        probabilities[rows] = out_of_fold.reshape(-1, count)
    return calibrators, probabilities


def choose_label_thresholds(features: np.ndarray, spaces: np.ndarray, truth: np.ndarray, groups: np.ndarray,
                            max_per_family: int, folds: int = 5) -> tuple[bool, float, float]:
    """Whether thresholds per label beat one per family: calibrators and thresholds are fitted on the other folds of
    the tune half (grouped by resource) and judged on the held-out fold. Returns (per label wins, family-threshold
    micro-F1, per-label micro-F1), both over all folds' decisions."""
    from sklearn.model_selection import GroupKFold

    decided = {"family": np.zeros(truth.shape, dtype=np.int64), "label": np.zeros(truth.shape, dtype=np.int64)}
    for train, test in GroupKFold(n_splits=min(folds, len(set(groups)))).split(features, truth, groups):
        calibrators, out_of_fold = fit_family(features[train], spaces[train], truth[train], groups[train])
        family_threshold = best_threshold(out_of_fold.reshape(-1), truth[train].reshape(-1))
        own = per_label_thresholds(out_of_fold, truth[train], family_threshold, max_per_family)
        probabilities = np.zeros(truth[test].shape)
        for space in set(spaces[test]):
            rows = spaces[test] == space
            calibrator = calibrators.get(space) or calibrators[MAIN_SPACE]
            probabilities[rows] = calibrator(features[test][rows].reshape(-1, features.shape[2])).reshape(int(rows.sum()), -1)
        decided["family"][test] = passing_labels(probabilities, family_threshold, max_per_family)
        decided["label"][test] = passing_labels(probabilities, own, max_per_family)
    family_f1, label_f1 = micro_f1(truth, decided["family"]), micro_f1(truth, decided["label"])
    return label_f1 >= family_f1 + LABEL_THRESHOLD_MARGIN, family_f1, label_f1


def top_domain_accuracy(features: np.ndarray, passages: Sequence[LabelledPassage]) -> float:
    """Share of single-domain passages whose closest domain (label knowledge only) is the labelled one."""
    keys = keys_of("domains")
    rows = [row for row, passage in enumerate(passages) if len(passage.labels["domains"]) == 1]
    if not rows:
        return 0.0
    best = features[rows, :, FEATURES.index("similarity")].argmax(axis=1)
    return float(np.mean([keys[column] in passages[row].labels["domains"] for row, column in zip(rows, best, strict=True)]))


def fit_weights(passages: Sequence[LabelledPassage], encoder: Encoder, multilingual: Encoder | None,
                cache_dir: Path = VECTOR_CACHE, top_k_choices: Sequence[int] = TOP_K_CHOICES) -> dict:
    """Everything tagger_weights.json holds, fitted on the tune passages only."""
    tune = [passage for passage in passages if passage.split == "tune"]
    vectors = cached_vectors(encoder, [p.embedding_text for p in tune], cache_dir)
    multilingual_vectors = cached_vectors(multilingual, [p.embedding_text for p in tune], cache_dir) if multilingual else None
    texts, languages = [p.text for p in tune], [p.language for p in tune]
    chosen_top_k, evidence, accuracy = None, None, -1.0
    tagger = Tagger(encoder, multilingual_encoder=multilingual, weights={})  # one tagger: prototypes encoded once
    for top_k in top_k_choices:
        tagger.top_k = top_k
        candidate = tagger.features(texts, languages, vectors, multilingual_vectors)
        score = top_domain_accuracy(candidate[0]["domains"], tune)
        print(f"top_k {top_k}: closest domain right on {score:.3f} of single-domain tune passages")
        if score > accuracy:
            chosen_top_k, evidence, accuracy = top_k, candidate, score
    features, spaces, cross = evidence
    spaces = np.array(spaces)
    groups = np.array([p.resource_id for p in tune])
    max_per_family = TaggerSettings().max_per_family
    families: dict[str, dict] = {family: {} for family in TAG_FAMILIES}
    thresholds: dict[str, float] = {}
    own_thresholds: dict[str, dict[str, float]] = {}
    for family in TAG_FAMILIES:
        truth = label_matrix(tune, family)
        calibrators, out_of_fold = fit_family(features[family], spaces, truth, groups)
        families[family] = {space: calibrator.to_dict() for space, calibrator in calibrators.items()}
        thresholds[family] = best_threshold(out_of_fold.reshape(-1), truth.reshape(-1))
        per_label, family_f1, label_f1 = choose_label_thresholds(features[family], spaces, truth, groups, max_per_family)
        print(f"{family}: grouped CV on tune, micro-F1 with one threshold {family_f1:.3f}, per label {label_f1:.3f}")
        if per_label:
            chosen = per_label_thresholds(out_of_fold, truth, thresholds[family], max_per_family)
            own_thresholds[family] = {key: round(float(value), 2) for key, value in zip(keys_of(family), chosen, strict=True)
                                      if abs(value - thresholds[family]) > 1e-9}
    # climate text: the 5th percentile of labelled climate passages' closeness to cross-cutting climate phrases; the
    # resource-level check rolls passages up, so one stray passage of an events page does not pass
    gate: dict[str, float] = {}
    for space in sorted(set(spaces)):
        climate = [score for score, p, s in zip(cross, tune, spaces, strict=True) if s == space and any(p.labels.values())]
        gate[space] = round(float(np.percentile(climate, 5)), 4)
    return {
        "version": 4,
        "features": list(FEATURES),
        "top_k": chosen_top_k,
        "encoders": {MAIN_SPACE: encoder.info.name, MULTILINGUAL_SPACE: multilingual.info.name if multilingual else None},
        "families": families,
        "thresholds": thresholds,
        "label_thresholds": own_thresholds,
        "climate_gate": gate,
        "trained_on": {"passages": len(tune), "split": "eval/tags/passages.jsonl split == 'tune' (sha256(resource id) even)"},
    }


@dataclass
class RolledUpResources:
    """The sample corpus' resources as the tagger sees them before deciding: rolled-up probabilities per family,
    whether their passages read as climate text, and the curated tags where curators judged the family."""

    ids: list[str]
    probabilities: dict[str, np.ndarray]  # family -> (resources x labels) rolled-up probability
    climate_text: np.ndarray  # (resources,) passes the climate-text gate without a domain
    truth: dict[str, np.ndarray]  # family -> (resources x labels) curated 0/1
    judged: dict[str, np.ndarray]  # family -> (resources,) curators judged this family


def rolled_up_resources(tagger: Tagger, index_dir: Path, manifest: Path) -> RolledUpResources:
    """Roll up the passage probabilities of every resource of the index's current snapshot, as ingest does."""
    from nzc_knowledge.index import Snapshot, SnapshotStore

    snapshot = Snapshot.load(SnapshotStore(index_dir).current_path())
    empty = curated_empty_families(manifest)
    probabilities = {family: np.zeros((len(snapshot.resources), len(FAMILIES[family]))) for family in TAG_FAMILIES}
    climate = np.zeros(len(snapshot.resources), dtype=bool)
    for row, (resource, rows) in enumerate(zip(snapshot.resources, snapshot.resource_chunks, strict=True)):
        if not len(rows):
            continue
        chunks = snapshot.chunks_of(rows)
        multilingual = snapshot.multilingual.vectors_of(rows) if snapshot.multilingual is not None else None
        passage, margins = tagger.passage_probabilities([chunk.text for chunk in chunks],
                                                        [chunk.language or resource.language for chunk in chunks],
                                                        snapshot.dense.vectors_of(rows), multilingual)
        for family, values in passage.items():
            probabilities[family][row] = roll_up(values, tagger.settings)
        climate[row] = tagger.has_climate_content({"domains": []}, margins)
    truth = {family: np.array([[int(key in curated_keys(resource, family)) for key in keys_of(family)]
                               for resource in snapshot.resources], dtype=np.int64) for family in TAG_FAMILIES}
    judged = {family: truth[family].any(axis=1) | np.array([resource.id in empty[family] for resource in snapshot.resources])
              for family in TAG_FAMILIES}
    return RolledUpResources([resource.id for resource in snapshot.resources], probabilities, climate, truth, judged)


def _best_family_threshold(probabilities: np.ndarray, truth: np.ndarray, max_per_family: int, prefer: float) -> float:
    """The one threshold with the best micro-F1 of the decided labels (ties: the one nearest `prefer`)."""
    scored = [(micro_f1(truth, passing_labels(probabilities, choice, max_per_family)), -abs(choice - prefer), choice)
              for choice in THRESHOLD_CHOICES]
    return round(float(max(scored)[2]), 2)


def fit_resource_thresholds(resources: RolledUpResources, include: np.ndarray, passage_thresholds: dict[str, np.ndarray],
                            max_per_family: int, folds: int = 5) -> dict:
    """Resource thresholds chosen on the `include`d resources (the tune half) that curators judged.

    A family gets a resource threshold of its own only where that beats its passage thresholds (`passage_thresholds`,
    one per label) by `LABEL_THRESHOLD_MARGIN` micro-F1 on held-out folds of the included resources, and thresholds
    per label only where those beat the family's by the same margin: with ~45 curated resources per half, a smaller
    gain is noise. Domains first: a resource without a domain and without climate text gets no tags at all, so the
    barriers' and levers' decisions depend on the domain thresholds."""
    from collections import Counter

    from sklearn.model_selection import KFold

    chosen: dict[str, float] = {}
    own: dict[str, dict[str, float]] = {}
    report: dict[str, dict[str, float]] = {}
    has_tags = resources.climate_text.copy()
    for family in TAG_FAMILIES:  # "domains" comes first in TAG_FAMILIES
        probabilities = resources.probabilities[family]
        if family != "domains":  # barriers and levers of a resource without climate content are never tagged
            probabilities = probabilities * has_tags[:, None]
        rows = include & resources.judged[family]
        values, truth = probabilities[rows], resources.truth[family][rows]
        passage = np.asarray(passage_thresholds[family], dtype=float)
        prefer = float(Counter(passage.tolist()).most_common(1)[0][0])  # the family's passage threshold
        family_threshold = _best_family_threshold(values, truth, max_per_family, prefer)
        # fitted on the other folds of the included resources, judged on the held-out fold
        decided = {kind: np.zeros(truth.shape, dtype=np.int64) for kind in ("passage", "family", "label")}
        for train, test in KFold(n_splits=min(folds, len(truth)), shuffle=True, random_state=0).split(values):
            fold_family = _best_family_threshold(values[train], truth[train], max_per_family, prefer)
            labels = per_label_thresholds(values[train], truth[train], fold_family, max_per_family)
            decided["passage"][test] = passing_labels(values[test], passage, max_per_family)
            decided["family"][test] = passing_labels(values[test], fold_family, max_per_family)
            decided["label"][test] = passing_labels(values[test], labels, max_per_family)
        cv = {kind: micro_f1(truth, value) for kind, value in decided.items()}
        report[family] = {"resources": int(rows.sum()), "fitted_family_threshold": family_threshold,
                          **{f"cv_f1_{kind}_thresholds": round(value, 3) for kind, value in cv.items()}}
        used = passage
        if max(cv["family"], cv["label"]) >= cv["passage"] + LABEL_THRESHOLD_MARGIN:
            chosen[family] = family_threshold
            used = np.full(truth.shape[1], family_threshold)
            if cv["label"] >= cv["family"] + LABEL_THRESHOLD_MARGIN:
                used = per_label_thresholds(values, truth, family_threshold, max_per_family)
                own[family] = {key: round(float(value), 2) for key, value in zip(keys_of(family), used, strict=True)
                               if abs(value - family_threshold) > 1e-9}
        if family == "domains":
            has_tags = has_tags | passing_labels(resources.probabilities["domains"], used, max_per_family).any(axis=1)
    return {"families": chosen, "labels": own,
            "trained_on": {"resources": {family: value["resources"] for family, value in report.items()},
                           "split": "curated resources of the sample corpus with sha256(resource id) even (tune)"},
            "fit": report}


def add_resource_thresholds(weights: dict, index_dir: Path, manifest: Path, encoder: Encoder,
                            multilingual: Encoder | None) -> dict:
    """The weights with "resource_thresholds" fitted on the tune half's curated resources of the index at `index_dir`."""
    tagger = Tagger(encoder, multilingual_encoder=multilingual, weights=weights)
    resources = rolled_up_resources(tagger, index_dir, manifest)
    include = np.array([is_training(resource_id) for resource_id in resources.ids])
    fitted = fit_resource_thresholds(resources, include, tagger.thresholds, tagger.settings.max_per_family)
    for family, fit in fitted.pop("fit").items():
        print(f"resources {family}: {fit}")
    return {**weights, "version": 4, "resource_thresholds": fitted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=Path, default=PASSAGES_FILE)
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    parser.add_argument("--cache-dir", type=Path, default=VECTOR_CACHE)
    parser.add_argument("--multilingual-encoder", default=DEFAULT_MULTILINGUAL_ENCODER, help="or 'none'")
    parser.add_argument("--resources-from", type=Path, default=None,
                        help="index of the sample corpus: fit the resource thresholds on its tune-half curated resources")
    parser.add_argument("--manifest", type=Path, default=None, help="the corpus manifest (default: NZC_SOURCE_DIR's)")
    parser.add_argument("--resources-only", action="store_true",
                        help="keep the passage weights in --out, refit only the resource thresholds")
    args = parser.parse_args()
    if args.resources_only and args.resources_from is None:
        parser.error("--resources-only needs --resources-from")
    settings = Settings()
    multilingual = None if args.multilingual_encoder == "none" else load_encoder(args.multilingual_encoder)
    # MiniLM with the backend NZC_ENCODER_BACKEND names, as ingest uses it: the calibrators fit that encoder's cosines
    encoder = load_encoder(options=settings.encoder_options)
    if args.resources_only:
        weights = json.loads(args.out.read_text(encoding="utf-8"))
    else:
        weights = fit_weights(load_passages(args.passages), encoder, multilingual, args.cache_dir)
    if args.resources_from is not None:
        manifest = args.manifest or Path(settings.source_dir) / "manifest.jsonl"
        weights = add_resource_thresholds(weights, args.resources_from, manifest, encoder, multilingual)
    args.out.write_text(json.dumps(weights, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} (top_k {weights['top_k']}, thresholds {weights['thresholds']}, "
          f"climate gate {weights['climate_gate']})")


if __name__ == "__main__":
    main()
