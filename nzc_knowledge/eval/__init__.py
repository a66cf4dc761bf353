"""Relevance evaluation in the community's formats: BEIR folders, TREC qrels and runs, ir-measures metrics.

    formats  read/write BEIR corpora, queries, qrels (TSV with header) and TREC qrels/runs
    metrics  nDCG@10, RR@10, R@10, R@100, AP through ir-measures (pytrec_eval underneath)
    harness  build or reuse an index of a BEIR corpus with the production pipeline; run queries per mode
    compare  per-query deltas of two runs with paired significance tests
    tags     precision/recall/F1 of the automatic tags against the curated ones
    report   Markdown reports and PNG plots under eval/reports/
"""
