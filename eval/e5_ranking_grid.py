"""The multilingual encoder's ranking knobs re-chosen for multilingual-e5-small, on the tuning halves only.

RankingSettings' multilingual weight and similarity floor were chosen for USE, whose cosines run low (a related
cross-lingual pair near 0.3); e5's run high (unrelated pairs near 0.7), so the floor 0.15 admits every passage.
This grid gives e5 a fair chance before comparing it with USE. Usage (from the repository root):

    PYTHONPATH=$PWD python eval/e5_ranking_grid.py --index-dir /tmp/e5-idx > eval/reports/e5-ranking-grid.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

from nzc_knowledge.encoders import load_encoder
from nzc_knowledge.eval.formats import read_qrels, read_queries
from nzc_knowledge.eval.halves import select_half
from nzc_knowledge.eval.harness import CachingEncoder, RankingOnly, make_service
from nzc_knowledge.eval.metrics import evaluate, group_means
from nzc_knowledge.index import Snapshot, SnapshotStore
from nzc_knowledge.search.service import RankingSettings
from nzc_knowledge.settings import Settings

SETS = {"sample": (Path("eval/queries.jsonl"), Path("eval/qrels.tsv")),
        "cross-lingual": (Path("eval/crosslingual/queries.jsonl"), Path("eval/crosslingual/qrels.tsv"))}
GRID = {"multilingual_weight": (0.25, 0.5), "min_multilingual_similarity": (0.15, 0.75, 0.8, 0.85),
        "cross_language_margin": (0.03, 0.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--half", default="tuning", choices=("tuning", "held-out"))
    args = parser.parse_args()
    snapshot = Snapshot.load(SnapshotStore(args.index_dir).current_path())
    multilingual_name = (snapshot.manifest.get("multilingual_encoder") or {})["name"]
    english = CachingEncoder(load_encoder(options=Settings(_env_file=None).encoder_options))
    multilingual = CachingEncoder(load_encoder(multilingual_name))
    sets = {}
    for name, (queries_file, qrels_file) in SETS.items():
        queries = select_half(read_queries(queries_file), args.half)
        sets[name] = (queries, select_half(read_qrels(qrels_file), args.half), RankingOnly(queries))
    rows = []
    for values in itertools.product(*GRID.values()):
        ranking = replace(RankingSettings(), **dict(zip(GRID, values)))
        service = make_service(snapshot, english, ranking, multilingual)
        row = {"ranking": dict(zip(GRID, values))}
        for name, (queries, qrels, ranker) in sets.items():
            evaluation = evaluate(qrels, ranker.run(service, "hybrid"))
            row[name] = round(evaluation.aggregate["nDCG@10"], 4)
            if name == "sample":
                kinds = group_means(evaluation, {qid: query.kind or "unspecified" for qid, query in queries.items()})
                row["sample by kind"] = {kind: round(values_["nDCG@10"], 4) for kind, values_ in kinds.items()}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(json.dumps({"command": "python " + " ".join(sys.argv), "half": args.half, "multilingual_encoder": multilingual_name,
                      "snapshot": snapshot.manifest.get("snapshot_id"), "defaults": asdict(RankingSettings()),
                      "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
