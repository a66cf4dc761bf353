"""Regression gate: hybrid nDCG@10 on the fixture corpus must stay above the floor recorded in eval/gate.json.

The fixture (tests/data/eval_fixture, BEIR format) is indexed with the production pipeline and the real
models into a temporary cache, then evaluated through `nzc eval beir` exactly as an evaluator would run it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nzc_knowledge.cli import main

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests" / "data" / "eval_fixture"
GATE = json.loads((ROOT / "eval" / "gate.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def encoders():
    from nzc_knowledge.encoders import DEFAULT_MULTILINGUAL_ENCODER, load_encoder

    return load_encoder(), load_encoder(DEFAULT_MULTILINGUAL_ENCODER)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, encoders):
    """The fixture indexed once for this module, in a cache folder the CLI tests reuse."""
    from nzc_knowledge.eval.formats import read_beir
    from nzc_knowledge.eval.harness import beir_index

    cache = tmp_path_factory.mktemp("eval-cache")
    dataset = read_beir(FIXTURE, "test")
    return dataset, cache, beir_index(dataset, cache, encoders[0], multilingual_encoder=encoders[1])


def beir_cli(cache: Path, runs: Path, *options: str) -> dict:
    result = CliRunner().invoke(main, ["eval", "beir", str(FIXTURE), "--json", "--quiet", "--cache-dir", str(cache),
                                       "--runs-dir", str(runs), *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_gate_file_records_how_the_floor_was_measured():
    assert GATE["metric"] == "nDCG@10" and GATE["mode"] == "hybrid"
    assert GATE["floor"] == pytest.approx(GATE["measured"] - GATE["margin"])
    assert GATE["command"].startswith("nzc eval beir tests/data/eval_fixture")


def test_fixture_index_is_built_once_and_reused(indexed, encoders):
    from nzc_knowledge.eval.harness import beir_index

    dataset, cache, first = indexed
    second = beir_index(dataset, cache, encoders[0], multilingual_encoder=encoders[1])
    assert not first.reused and second.reused
    assert second.index_dir == first.index_dir and second.snapshot.id == first.snapshot.id
    assert [resource.id for resource in second.snapshot.resources] == [document.id for document in dataset.corpus]
    assert second.snapshot.resources[0].title == dataset.corpus[0].title
    assert second.snapshot.multilingual is not None  # built like production: with the multilingual index


def test_hybrid_ndcg_stays_above_the_recorded_floor(indexed, tmp_path):
    _, cache, _ = indexed
    scores = beir_cli(cache, tmp_path / "runs", "--mode", "hybrid")
    measured = scores["hybrid"][GATE["metric"]]
    assert measured >= GATE["floor"], (
        f"hybrid {GATE['metric']} on the fixture fell to {measured:.4f}, below the floor {GATE['floor']:.4f} "
        f"(recorded {GATE['measured']:.4f} by `{GATE['command']}`); if the drop is intended, re-measure and update eval/gate.json"
    )
    run = (tmp_path / "runs" / "eval_fixture-test-hybrid.trec").read_text().splitlines()
    assert run and len(run[0].split()) == 6


def test_ranking_only_path_returns_what_search_returns(indexed, encoders):
    """The grid's fast path (no snippets, cached analysis) must rank exactly like SearchService.search."""
    from nzc_knowledge.eval.harness import RankingOnly, make_service, run_queries

    dataset, _, built = indexed
    service = make_service(built.snapshot, encoders[0], None, encoders[1])
    ranker = RankingOnly(dataset.queries)
    for mode in ("lexical", "dense", "hybrid"):
        searched, _ = run_queries(service, dataset.queries, mode, show_progress=False)
        assert ranker.run(service, mode) == searched


def test_grid_lists_every_combination_best_first(indexed, tmp_path):
    _, cache, _ = indexed
    payload = beir_cli(cache, tmp_path / "runs", "--mode", "hybrid", "--rrf-k", "10", "--rrf-k", "60",
                       "--dense-weight", "1", "--dense-weight", "2")
    grid = payload["hybrid_grid"]
    assert sorted((row["ranking"]["rrf_k"], row["ranking"]["dense_weight"]) for row in grid) == [
        (10, 1.0), (10, 2.0), (60, 1.0), (60, 2.0)]
    assert [row["nDCG@10"] for row in grid] == sorted((row["nDCG@10"] for row in grid), reverse=True)
