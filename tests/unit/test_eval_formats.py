"""Readers and writers of BEIR folders and TREC qrels/runs: round trips and clear errors on malformed lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nzc_knowledge.errors import FormatError, NotFound
from nzc_knowledge.eval.formats import (
    read_beir,
    read_corpus,
    read_qrels,
    read_queries,
    read_run,
    write_qrels,
    write_run,
)

FIXTURE = Path(__file__).parents[1] / "data" / "eval_fixture"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_read_beir_fixture_keeps_only_judged_queries_of_the_split():
    dataset = read_beir(FIXTURE, "test")
    assert len(dataset.corpus) == 18
    assert dataset.corpus[0].id == "d01" and dataset.corpus[0].title.startswith("Financing a district heating")
    assert list(dataset.queries) == [str(n) for n in range(1, 19)]  # numeric ids in numeric order
    assert dataset.qrels["1"] == {"d01": 2, "d02": 1, "d03": 1}


def test_read_beir_names_missing_split_and_available_ones(tmp_path):
    with pytest.raises(NotFound, match=r"no qrels for split 'train'.*available: test"):
        read_beir(FIXTURE, "train")
    with pytest.raises(NotFound, match="corpus.jsonl is missing"):
        read_beir(tmp_path)


def test_beir_qrels_with_header_and_trec_qrels_read_alike(tmp_path):
    beir = write(tmp_path / "beir.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t0\nq2\td3\t1\n")
    trec = write(tmp_path / "trec.txt", "q1 0 d1 2\nq1 0 d2 0\n\nq2 0 d3 1\n")
    assert read_qrels(beir) == read_qrels(trec) == {"q1": {"d1": 2, "d2": 0}, "q2": {"d3": 1}}


def test_qrels_round_trip(tmp_path):
    qrels = {"10": {"b": 1, "a": 2}, "2": {"c": 0}}
    write_qrels(tmp_path / "qrels.tsv", qrels)
    lines = (tmp_path / "qrels.tsv").read_text().splitlines()
    assert lines == ["query-id\tcorpus-id\tscore", "2\tc\t0", "10\ta\t2", "10\tb\t1"]
    assert read_qrels(tmp_path / "qrels.tsv") == qrels


@pytest.mark.parametrize(
    ("reader", "name", "text", "line", "problem"),
    [
        (read_qrels, "qrels.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\n", 3, "expected 3 columns"),
        (read_qrels, "qrels.tsv", "query-id\tcorpus-id\tscore\nq1\td1\thigh\n", 2, "relevance 'high' is not an integer"),
        (read_qrels, "qrels.tsv", "q1 0 d1 1\nq1 0 d2\n", 2, "expected 4 columns"),
        (read_qrels, "qrels.tsv", "q1\td1\t1\nq1\td1\t2\n", 2, "judged twice"),
        (read_qrels, "qrels.tsv", "just-one-column\n", 1, "got 1 columns"),
        (read_run, "run.trec", "q1 Q0 d1 1 0.5 tag\nq1 Q0 d2 2 0.4\n", 2, "expected 6 columns"),
        (read_run, "run.trec", "q1 Q0 d1 first 0.5 tag\n", 1, "must be an integer"),
        (read_run, "run.trec", "q1 Q0 d1 1 nan tag\n", 1, "not a finite number"),
        (read_run, "run.trec", "q1 Q0 d1 1 0.5 tag\nq1 Q0 d1 2 0.4 tag\n", 2, "appears twice"),
    ],
)
def test_malformed_qrels_and_runs_name_file_and_line(tmp_path, reader, name, text, line, problem):
    path = write(tmp_path / name, text)
    with pytest.raises(FormatError, match=problem) as raised:
        reader(path)
    assert raised.value.line == line
    assert str(raised.value).startswith(f"{path}:{line}: ")


def test_run_round_trip_orders_by_score_and_numbers_ranks(tmp_path):
    run = {"q2": {"x": 0.5}, "q1": {"a": 0.1, "b": 0.9, "c": 0.5}}
    write_run(tmp_path / "run.trec", run, tag="nzc-hybrid")
    lines = (tmp_path / "run.trec").read_text().splitlines()
    assert lines[0].split() == ["q1", "Q0", "b", "1", "0.9000000000", "nzc-hybrid"]
    assert [line.split()[2] for line in lines] == ["b", "c", "a", "x"]
    assert [line.split()[3] for line in lines] == ["1", "2", "3", "1"]
    assert read_run(tmp_path / "run.trec") == run


def test_run_tag_must_be_one_word(tmp_path):
    with pytest.raises(ValueError, match="must be one word"):
        write_run(tmp_path / "run.trec", {"q": {"d": 1.0}}, tag="two words")


def test_corpus_and_queries_report_bad_json_with_line_number(tmp_path):
    corpus = write(tmp_path / "corpus.jsonl", '{"_id": "a", "title": "T", "text": "x"}\n{"_id": "b", "text": \n')
    with pytest.raises(FormatError, match=r"corpus.jsonl:2: not valid JSON"):
        read_corpus(corpus)
    missing = write(tmp_path / "c2.jsonl", '{"title": "no id", "text": "x"}\n')
    with pytest.raises(FormatError, match=r"c2.jsonl:1: missing '_id'"):
        read_corpus(missing)
    duplicate = write(tmp_path / "c3.jsonl", '{"_id": "a", "text": "x"}\n{"_id": "a", "text": "y"}\n')
    with pytest.raises(FormatError, match=r"c3.jsonl:2: duplicate document id 'a'"):
        read_corpus(duplicate)


def test_queries_carry_kind_and_filters_and_reject_unknown_kinds(tmp_path):
    rows = [{"_id": "f1", "text": "waste heat", "kind": "filtered", "filters": {"country": ["PL"]}},
            {"_id": "k1", "text": "green roofs"}]
    path = write(tmp_path / "queries.jsonl", "".join(json.dumps(row) + "\n" for row in rows))
    queries = read_queries(path)
    assert queries["f1"].kind == "filtered" and queries["f1"].filters == {"country": ["PL"]}
    assert queries["k1"].kind is None and queries["k1"].filters == {}
    bad = write(tmp_path / "bad.jsonl", '{"_id": "x", "text": "t", "kind": "fuzzy"}\n')
    with pytest.raises(FormatError, match=r"bad.jsonl:1: unknown kind 'fuzzy'"):
        read_queries(bad)


def test_queries_carry_their_language_and_reject_what_is_not_a_language_code(tmp_path):
    path = write(tmp_path / "queries.jsonl", '{"_id": "x1", "text": "zona a basse emissioni", "language": "it"}\n')
    assert read_queries(path)["x1"].language == "it"
    bad = write(tmp_path / "bad.jsonl", '{"_id": "x2", "text": "t", "language": "Italian"}\n')
    with pytest.raises(FormatError, match=r"bad.jsonl:1: 'language' must be an ISO 639-1 code"):
        read_queries(bad)


def test_crosslingual_set_has_six_queries_in_each_of_six_languages():
    root = Path(__file__).parents[2] / "eval" / "crosslingual"
    queries, qrels = read_queries(root / "queries.jsonl"), read_qrels(root / "qrels.tsv")
    languages = [query.language for query in queries.values()]
    assert sorted(set(languages)) == ["de", "es", "fr", "it", "nl", "pl"]
    assert all(languages.count(language) == 6 for language in set(languages))
    assert set(qrels) == set(queries) and all(2 in judged.values() for judged in qrels.values())


def test_product_query_set_is_well_formed_and_fully_judged():
    """eval/queries.jsonl and eval/qrels.tsv: at least 60 queries, all seven kinds, every query judged, languages named."""
    root = Path(__file__).parents[2] / "eval"
    queries, qrels = read_queries(root / "queries.jsonl"), read_qrels(root / "qrels.tsv")
    assert len(queries) >= 60
    assert {query.kind for query in queries.values()} == {"keyword", "question", "filtered", "typo", "cross_lingual", "acronym",
                                                          "everyday"}
    assert all(query.language for query in queries.values())
    everyday = [query for query in queries.values() if query.kind == "everyday"]
    assert len(everyday) >= 24 and "en" in {query.language for query in everyday}
    assert len({query.language for query in everyday} - {"en"}) >= 3
    assert set(qrels) == set(queries)
    assert all(any(score > 0 for score in judged.values()) for judged in qrels.values())
    assert all(query.filters for query in queries.values() if query.kind == "filtered")
