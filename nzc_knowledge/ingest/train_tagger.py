"""Fit the tagger's calibrators on the "tune" half of the hand-labelled passages; the other half is held out.

    python -m nzc_knowledge.ingest.train_tagger [--passages eval/tags/passages.jsonl] [--out .../tagger_weights.json]

eval/tags/passages.jsonl holds passages of the sample corpus labelled by reading them (domains, barriers, levers a
passage treats substantively), each with a `split`: resources whose sha256(id) is even are "tune", odd ones
"held_out", so no resource has passages on both sides. What is fitted here is small and label-agnostic: per family
and encoder space, a logistic combination of the five evidence features (`tag.FEATURES`) and an isotonic map from
that score to a probability (fitted on cross-validated scores, grouped by resource), the number of prototypes
averaged per label, and the climate-content gate. Which label a passage is about still comes from the label
knowledge, so the weights cannot learn the sample corpus' topics.
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
from nzc_knowledge.ingest.tag import FEATURES, MAIN_SPACE, MULTILINGUAL_SPACE, WEIGHTS_FILE, Calibrator, Tagger
from nzc_knowledge.settings import Settings
from nzc_knowledge.taxonomy import FAMILIES, TAG_FAMILIES, keys_of
from nzc_knowledge.text.jsonl import read_jsonl

PASSAGES_FILE = Path("eval/tags/passages.jsonl")
VECTOR_CACHE = Path("eval/cache/tags")
TOP_K_CHOICES = (5, 10, 20)
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


def best_threshold(probabilities: np.ndarray, truth: np.ndarray, choices: Sequence[float] = tuple(np.arange(0.1, 0.65, 0.05))) -> float:
    """The decision threshold with the best micro-F1 on (decisions) probabilities and 0/1 truth."""
    from sklearn.metrics import f1_score

    scored = [(f1_score(truth, (probabilities >= t).astype(int), zero_division=0), -abs(t - 0.5), t) for t in choices]
    return round(float(max(scored)[2]), 2)


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
    chosen, evidence, accuracy = None, None, -1.0
    tagger = Tagger(encoder, multilingual_encoder=multilingual, weights={})  # one tagger: prototypes encoded once
    for top_k in top_k_choices:
        tagger.top_k = top_k
        candidate = tagger.features(texts, languages, vectors, multilingual_vectors)
        score = top_domain_accuracy(candidate[0]["domains"], tune)
        print(f"top_k {top_k}: closest domain right on {score:.3f} of single-domain tune passages")
        if score > accuracy:
            chosen, evidence, accuracy = top_k, candidate, score
    features, spaces, cross = evidence
    groups = np.array([p.resource_id for p in tune])
    families: dict[str, dict] = {family: {} for family in TAG_FAMILIES}
    out_of_fold: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {family: [] for family in TAG_FAMILIES}
    gate: dict[str, float] = {}
    for space in sorted(set(spaces)):
        rows = np.array([s == space for s in spaces])
        for family in TAG_FAMILIES:
            count = len(FAMILIES[family])
            flat = features[family][rows].reshape(-1, len(FEATURES))
            truth = label_matrix([p for p, keep in zip(tune, rows, strict=True) if keep], family).reshape(-1)
            calibrator, probabilities = fit_calibrator(flat, truth, np.repeat(groups[rows], count))
            families[family][space] = calibrator.to_dict()
            out_of_fold[family].append((probabilities, truth))
        # climate text: the 5th percentile of labelled climate passages' closeness to cross-cutting climate phrases;
        # the resource-level check rolls passages up, so one stray passage of an events page does not pass
        climate = [score for score, p, keep in zip(cross, tune, rows, strict=True) if keep and any(p.labels.values())]
        gate[space] = round(float(np.percentile(climate, 5)), 4)
    return {
        "version": 2,
        "features": list(FEATURES),
        "top_k": chosen,
        "encoders": {MAIN_SPACE: encoder.info.name, MULTILINGUAL_SPACE: multilingual.info.name if multilingual else None},
        "families": families,
        "thresholds": {family: best_threshold(np.concatenate([p for p, _ in parts]), np.concatenate([t for _, t in parts]))
                       for family, parts in out_of_fold.items()},
        "climate_gate": gate,
        "trained_on": {"passages": len(tune), "split": "eval/tags/passages.jsonl split == 'tune' (sha256(resource id) even)"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=Path, default=PASSAGES_FILE)
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    parser.add_argument("--cache-dir", type=Path, default=VECTOR_CACHE)
    parser.add_argument("--multilingual-encoder", default=DEFAULT_MULTILINGUAL_ENCODER, help="or 'none'")
    args = parser.parse_args()
    passages = load_passages(args.passages)
    multilingual = None if args.multilingual_encoder == "none" else load_encoder(args.multilingual_encoder)
    # MiniLM with the backend NZC_ENCODER_BACKEND names, as ingest uses it: the calibrators fit that encoder's cosines
    weights = fit_weights(passages, load_encoder(options=Settings().encoder_options), multilingual, args.cache_dir)
    args.out.write_text(json.dumps(weights, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} (top_k {weights['top_k']}, thresholds {weights['thresholds']}, "
          f"climate gate {weights['climate_gate']})")


if __name__ == "__main__":
    main()
