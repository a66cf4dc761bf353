"""`nzc eval peers` over the session snapshot (real model): the report of each split, tuning on tune cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _fixture_cases(path: Path) -> Path:
    rows = [("kozani", "tune", "Kozani", {"Velenje": 2, "Mannheim": 1}),
            ("velenje", "held_out", "Velenje", {"Kozani": 2, "Aarhus": 1}),
            ("ljubljana", "tune", "Ljubljana", {"Milan": 1, "Valencia": 1}),
            ("lyon", "held_out", "Lyon", {"Milan": 1, "Valencia": 1})]
    path.write_text("".join(json.dumps({"id": i, "split": s, "city": c, "expected": e, "why": "fixture"}) + "\n"
                            for i, s, c, e in rows), encoding="utf-8")
    return path


def test_eval_peers_reports_each_split_and_the_engine_before_round_2(built_index, tmp_path):
    from click.testing import CliRunner

    from nzc_knowledge.cli import main

    cases = _fixture_cases(tmp_path / "cases.jsonl")
    args = ["eval", "peers", "--index-dir", str(built_index[0]), "--cases", str(cases), "--report", "--report-dir",
            str(tmp_path)]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert {"tune", "held_out", "all"} <= set(payload["splits"]) and payload["splits"]["held_out"]["cases"] == 2
    assert all(0 <= value <= 1 for part in payload["splits"].values() for value in part["measures"].values())
    (before,) = payload["baselines"].values()
    assert before["passage_vectors"] == "dense" and before["weights"]["text"] == 0.5
    report = (tmp_path / "peers.md").read_text(encoding="utf-8")
    assert "| held_out | 2 |" in report and "P@3 ceiling" in report and "| kozani | tune |" in report
    held_out = CliRunner().invoke(main, [*args[:-3], "--split", "held_out"])
    assert held_out.exit_code == 0 and "kozani" not in held_out.output and "velenje" in held_out.output


@pytest.mark.slow
def test_eval_peers_tune_chooses_on_tune_cases_and_is_no_worse_there_than_the_defaults(built_index, tmp_path):
    from click.testing import CliRunner

    from nzc_knowledge.cli import main

    cases = _fixture_cases(tmp_path / "cases.jsonl")
    result = CliRunner().invoke(main, ["eval", "peers", "--index-dir", str(built_index[0]), "--cases", str(cases),
                                       "--tune", "--json", "--report", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    before = payload["baselines"]["Defaults of this build, before tuning"]["splits"]["tune"]["measures"]
    assert payload["splits"]["tune"]["measures"]["P@3"] >= before["P@3"]
    assert payload["weights"] == payload["tuning"][0]["weights"]
    assert "## Tuning grid on the tune cases" in (tmp_path / "peers-tuning.md").read_text(encoding="utf-8")
