"""`nzc eval` commands that need no model: compare, error messages, registration."""

from __future__ import annotations

import json

from click.testing import CliRunner

from nzc_knowledge.cli import main


def write_files(tmp_path):
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"q{i}\td{i}\t1\n" for i in range(6)))
    # A finds the relevant document at rank 2, B at rank 1, for every query
    (tmp_path / "a.trec").write_text("".join(f"q{i} Q0 x{i} 1 2.0 a\nq{i} Q0 d{i} 2 1.0 a\n" for i in range(6)))
    (tmp_path / "b.trec").write_text("".join(f"q{i} Q0 d{i} 1 2.0 b\nq{i} Q0 x{i} 2 1.0 b\n" for i in range(6)))


def test_eval_group_registers_the_commands():
    result = CliRunner().invoke(main, ["eval", "--help"])
    assert result.exit_code == 0
    for name in ("beir", "queries", "compare", "tags"):
        assert name in result.output


def test_compare_prints_means_deltas_tests_and_writes_the_plot(tmp_path):
    write_files(tmp_path)
    plot = tmp_path / "delta.png"
    args = ["eval", "compare", str(tmp_path / "a.trec"), str(tmp_path / "b.trec"), "--qrels", str(tmp_path / "qrels.tsv"),
            "--plot", str(plot)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "nDCG@10" in result.output and "paired t-test" in result.output and "Wilcoxon" in result.output
    assert plot.exists() and plot.stat().st_size > 1000
    payload = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
    assert payload["means"]["RR@10"] == {"a": 0.5, "b": 1.0, "delta": 0.5}
    assert payload["test"]["improved"] == 6 and payload["test"]["wilcoxon_pvalue"] < 0.05


def test_malformed_run_is_one_clear_line_with_its_line_number(tmp_path):
    write_files(tmp_path)
    (tmp_path / "bad.trec").write_text("q0 Q0 d0 1 1.0 a\nq1 Q0 d1 1.0 a\n")
    result = CliRunner().invoke(main, ["eval", "compare", str(tmp_path / "a.trec"), str(tmp_path / "bad.trec"),
                                       "--qrels", str(tmp_path / "qrels.tsv"), "--plot", str(tmp_path / "p.png")])
    assert result.exit_code == 1
    assert f"Error: {tmp_path / 'bad.trec'}:2: expected 6 columns (qid Q0 docid rank score tag), got 5" in result.output
    assert "Traceback" not in result.output


def test_beir_with_a_missing_split_fails_cleanly(tmp_path):
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text('{"_id": "d1", "text": "x"}\n')
    (folder / "queries.jsonl").write_text('{"_id": "q1", "text": "x"}\n')
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    result = CliRunner().invoke(main, ["eval", "beir", str(folder), "--split", "dev", "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == 1
    assert "no qrels for split 'dev'" in result.output and "available: test" in result.output


def test_queries_rejects_judgments_for_unknown_queries_before_loading_anything(tmp_path):
    (tmp_path / "queries.jsonl").write_text('{"_id": "k1", "text": "green roofs", "kind": "keyword"}\n')
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nk1\ta\t1\nk9\tb\t2\n")
    result = CliRunner().invoke(main, ["eval", "queries", str(tmp_path / "queries.jsonl"), str(tmp_path / "qrels.tsv"),
                                       "--index-dir", str(tmp_path / "no-index")])
    assert result.exit_code == 1
    assert "judges queries that" in result.output and "k9" in result.output
