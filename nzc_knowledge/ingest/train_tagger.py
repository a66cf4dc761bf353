"""Fit the tagger's per-family logistic models on curated tags, holding half of the resources out.

    python -m nzc_knowledge.ingest.train_tagger --index-dir indexes [--out nzc_knowledge/ingest/tagger_weights.json]

The snapshot must be built from a corpus whose manifest has curated tags (the sample corpus). Resources are
split by a hash of their id: the "train" half fits the models, the "held-out" half measures them, so the
figures printed (and reported by `nzc eval tags`) are not measured on what the weights were fitted to.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_fscore_support

from nzc_knowledge.encoders import load_encoder
from nzc_knowledge.index import Snapshot, SnapshotStore
from nzc_knowledge.ingest.tag import FEATURES, WEIGHTS_FILE, Tagger, label_features
from nzc_knowledge.taxonomy import FAMILIES, TAG_FAMILIES


def is_training(resource_id: str) -> bool:
    """The deterministic half of the corpus the tagger is fitted on."""
    return int(hashlib.sha256(resource_id.encode()).hexdigest(), 16) % 2 == 0


def feature_rows(snapshot: Snapshot, tagger: Tagger):
    """(family -> X, y, resource ids, label keys) over resources that have curated tags."""
    rows: dict[str, tuple[list, list, list, list]] = {family: ([], [], [], []) for family in TAG_FAMILIES}
    for position, resource in enumerate(snapshot.resources):
        curated = {family: [t.key for t in getattr(resource, family) if t.source == "curated"] for family in TAG_FAMILIES}
        if not any(curated.values()) and resource.type is not None:
            continue
        chunk_rows = snapshot.resource_chunks[position]
        chunks = [snapshot.chunks[row] for row in chunk_rows]
        vectors = np.asarray(snapshot.dense.vectors[chunk_rows], dtype=np.float32)
        hits, similarities = tagger.evidence(chunks, vectors, resource.language)
        for family in TAG_FAMILIES:
            X, y, ids, keys = rows[family]
            for column, label in enumerate(FAMILIES[family]):
                counts = [chunk_hits.get(f"{family}:{label.key}", {}) for chunk_hits in hits]
                X.append(label_features(counts, similarities[family], column))
                y.append(int(label.key in curated[family]))
                ids.append(resource.id)
                keys.append(label.key)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=Path("indexes"))
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = parser.parse_args()
    snapshot = Snapshot.load(SnapshotStore(args.index_dir).current_path())
    tagger = Tagger(load_encoder())
    weights = {}
    for family, (X, y, ids, _) in feature_rows(snapshot, tagger).items():
        X, y = np.asarray(X), np.asarray(y)
        train = np.array([is_training(resource_id) for resource_id in ids])
        mean, scale = X[train].mean(axis=0), X[train].std(axis=0) + 1e-9
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
        model.fit((X[train] - mean) / scale, y[train])
        predicted = model.predict((X[~train] - mean) / scale)
        precision, recall, f1, _ = precision_recall_fscore_support(y[~train], predicted, average="binary", zero_division=0)
        print(f"{family:9s} held-out label decisions: precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f} "
              f"({int((~train).sum())} decisions, {int(train.sum())} for training)")
        weights[family] = {
            "features": list(FEATURES),
            "mean": mean.round(6).tolist(),
            "scale": scale.round(6).tolist(),
            "coef": model.coef_[0].round(6).tolist(),
            "intercept": round(float(model.intercept_[0]), 6),
        }
    weights["trained_on"] = {"snapshot": snapshot.id, "split": "sha256(resource id) even = train, odd = held out"}
    args.out.write_text(json.dumps(weights, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
