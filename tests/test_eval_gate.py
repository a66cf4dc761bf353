"""Regression gate: hybrid nDCG@10 on the fixture corpus must stay above the floor recorded in eval/gate.json.

The fixture (tests/data/eval_fixture, BEIR format) is indexed with the production pipeline and the real
MiniLM model into tmp_path, then evaluated through `nzc eval beir` exactly as an evaluator would run it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nzc_knowledge.cli import main

ROOT = Path(__file__).parents[1]
FIXTURE = ROOT / "tests" / "data" / "eval_fixture"
GATE = json.loads((ROOT / "eval" / "gate.json").read_text(encoding="utf-8"))

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def encoder():
    from nzc_knowledge.encoders import load_encoder

    return load_encoder()


def test_gate_file_records_how_the_floor_was_measured():
    assert GATE["metric"] == "nDCG@10" and GATE["mode"] == "hybrid"
    assert GATE["floor"] == pytest.approx(GATE["measured"] - GATE["margin"])
    assert GATE["command"].startswith("nzc eval beir tests/data/eval_fixture")


def test_fixture_index_is_built_once_and_reused(tmp_path, encoder):
    from nzc_knowledge.eval.formats import read_beir
    from nzc_knowledge.eval.harness import beir_index

    dataset = read_beir(FIXTURE, "test")
    first = beir_index(dataset, tmp_path, encoder)
    second = beir_index(dataset, tmp_path, encoder)
    assert not first.reused and second.reused
    assert first.index_dir == second.index_dir and second.snapshot.id == first.snapshot.id
    assert [resource.id for resource in second.snapshot.resources] == [document.id for document in dataset.corpus]
    assert second.snapshot.resources[0].title == dataset.corpus[0].title


def test_hybrid_ndcg_stays_above_the_recorded_floor(tmp_path):
    result = CliRunner().invoke(main, [
        "eval", "beir", str(FIXTURE), "--mode", "hybrid", "--json", "--quiet",
        "--cache-dir", str(tmp_path / "cache"), "--runs-dir", str(tmp_path / "runs"),
    ])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    measured = scores["hybrid"][GATE["metric"]]
    assert measured >= GATE["floor"], (
        f"hybrid {GATE['metric']} on the fixture fell to {measured:.4f}, below the floor {GATE['floor']:.4f} "
        f"(recorded {GATE['measured']:.4f} by `{GATE['command']}`); if the drop is intended, re-measure and update eval/gate.json"
    )
    run = (tmp_path / "runs" / "eval_fixture-test-hybrid.trec").read_text().splitlines()
    assert run and len(run[0].split()) == 6
