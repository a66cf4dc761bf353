"""Readers and writers for the formats evaluators already use: BEIR folders and TREC qrels / runs.

    BEIR folder   corpus.jsonl {"_id","title","text"}, queries.jsonl {"_id","text"}, qrels/<split>.tsv
                  (tab-separated `query-id corpus-id score` with a header row)
    TREC qrels    `qid 0 docid relevance` (whitespace-separated, no header)
    TREC run      `qid Q0 docid rank score tag`

A malformed line is an error that names the file and the line number: an evaluation that silently drops
judgments or results reports numbers nobody can trust.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nzc_knowledge.errors import FormatError, InvalidParameter, NotFound
from nzc_knowledge.text.jsonl import read_jsonl

Qrels = dict[str, dict[str, int]]  # query id -> document id -> graded relevance
Run = dict[str, dict[str, float]]  # query id -> document id -> score (higher is better)

BEIR_QRELS_HEADER = ("query-id", "corpus-id", "score")
QUERY_KINDS = ("keyword", "question", "filtered", "typo", "cross_lingual", "acronym", "everyday")


@dataclass(frozen=True)
class BeirDocument:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Query:
    """One evaluation query; `kind`, `filters` and `language` are used by the product's own query sets."""

    id: str
    text: str
    kind: str | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    language: str | None = None  # the language the query is written in (cross-lingual set)


@dataclass
class BeirDataset:
    """A BEIR folder, read for one split: only the queries that have judgments in that split."""

    path: Path
    split: str
    corpus: list[BeirDocument]
    queries: dict[str, Query]
    qrels: Qrels

    @property
    def corpus_file(self) -> Path:
        return self.path / "corpus.jsonl"


def _required_text(path: Path, number: int, row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        raise FormatError(path, number, f"missing {key!r}")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FormatError(path, number, f"{key!r} must be a string, got {type(value).__name__}")
    if key == "_id" and not str(value).strip():
        raise FormatError(path, number, "empty '_id'")
    return str(value)


def read_corpus(path: Path) -> list[BeirDocument]:
    """BEIR corpus.jsonl; `title` may be empty or absent, `_id` and `text` are required and ids are unique."""
    documents: list[BeirDocument] = []
    seen: set[str] = set()
    for number, row in read_jsonl(path):
        doc_id = _required_text(path, number, row, "_id")
        if doc_id in seen:
            raise FormatError(path, number, f"duplicate document id {doc_id!r}")
        seen.add(doc_id)
        text = _required_text(path, number, row, "text")
        title = row.get("title") or ""
        if not isinstance(title, str):
            raise FormatError(path, number, f"'title' must be a string, got {type(title).__name__}")
        documents.append(BeirDocument(doc_id, title, text))
    return documents


def read_queries(path: Path) -> dict[str, Query]:
    """queries.jsonl: {"_id", "text"} plus, for the product's query sets, "kind", "filters" and "language"."""
    queries: dict[str, Query] = {}
    for number, row in read_jsonl(path):
        query_id = _required_text(path, number, row, "_id")
        if query_id in queries:
            raise FormatError(path, number, f"duplicate query id {query_id!r}")
        text = _required_text(path, number, row, "text")
        kind = row.get("kind")
        if kind is not None and kind not in QUERY_KINDS:
            raise FormatError(path, number, f"unknown kind {kind!r}; expected one of {', '.join(QUERY_KINDS)}")
        filters = row.get("filters") or {}
        if not isinstance(filters, dict):
            raise FormatError(path, number, "'filters' must be an object such as {\"country\": [\"PL\"]}")
        language = row.get("language")
        if language is not None and not (isinstance(language, str) and len(language) == 2 and language.islower()):
            raise FormatError(path, number, f"'language' must be an ISO 639-1 code such as \"it\", got {language!r}")
        queries[query_id] = Query(query_id, text, kind, filters, language)
    return queries


def read_qrels(path: Path) -> Qrels:
    """Qrels in BEIR TSV (`query-id corpus-id score`, header optional) or TREC (`qid 0 docid rel`) form.

    The form is told by the first line: a BEIR header or three tab-separated columns is BEIR, four
    whitespace-separated columns is TREC. Every later line must have the same shape.
    """
    qrels: Qrels = {}
    columns: int | None = None
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t") if columns != 4 else line.split()
            if columns is None:
                if tuple(part.strip() for part in parts) == BEIR_QRELS_HEADER:
                    columns = 3
                    continue
                parts = parts if len(parts) == 3 else line.split()
                if len(parts) not in (3, 4):
                    raise FormatError(path, number, f"expected `query-id<TAB>corpus-id<TAB>score` or "
                                                    f"`qid 0 docid relevance`, got {len(parts)} columns")
                columns = len(parts)
            if len(parts) != columns:
                shape = "query-id<TAB>corpus-id<TAB>score" if columns == 3 else "qid 0 docid relevance"
                raise FormatError(path, number, f"expected {columns} columns ({shape}), got {len(parts)}")
            query_id, doc_id, score = (parts[0], parts[1], parts[2]) if columns == 3 else (parts[0], parts[2], parts[3])
            query_id, doc_id = query_id.strip(), doc_id.strip()
            if not query_id or not doc_id:
                raise FormatError(path, number, "empty query or document id")
            try:
                relevance = int(score)
            except ValueError:
                raise FormatError(path, number, f"relevance {score.strip()!r} is not an integer") from None
            judged = qrels.setdefault(query_id, {})
            if doc_id in judged and judged[doc_id] != relevance:
                raise FormatError(path, number, f"{query_id}/{doc_id} is judged twice ({judged[doc_id]} and {relevance})")
            judged[doc_id] = relevance
    return qrels


def write_qrels(path: Path, qrels: Mapping[str, Mapping[str, int]]) -> None:
    """BEIR TSV with header, queries and documents in a stable order."""
    lines = ["\t".join(BEIR_QRELS_HEADER)]
    for query_id in sorted(qrels, key=_natural):
        for doc_id in sorted(qrels[query_id]):
            lines.append(f"{query_id}\t{doc_id}\t{int(qrels[query_id][doc_id])}")
    _write_lines(path, lines)


def read_run(path: Path) -> Run:
    """A TREC run `qid Q0 docid rank score tag`; the score orders documents (the rank column is checked, not used)."""
    run: Run = {}
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 6:
                raise FormatError(path, number, f"expected 6 columns (qid Q0 docid rank score tag), got {len(parts)}")
            query_id, _, doc_id, rank, score, _ = parts
            try:
                int(rank)
                value = float(score)
            except ValueError:
                raise FormatError(path, number, f"rank {rank!r} must be an integer and score {score!r} a number") from None
            if not math.isfinite(value):
                raise FormatError(path, number, f"score {score!r} is not a finite number")
            ranked = run.setdefault(query_id, {})
            if doc_id in ranked:
                raise FormatError(path, number, f"document {doc_id!r} appears twice for query {query_id!r}")
            ranked[doc_id] = value
    return run


def write_run(path: Path, run: Mapping[str, Mapping[str, float]], tag: str) -> None:
    """TREC run, each query's documents by descending score, ranks from 1."""
    if not tag or any(char.isspace() for char in tag):
        raise InvalidParameter(f"run tag {tag!r} must be one word (it is the 6th column of a TREC run)")
    lines = []
    for query_id in sorted(run, key=_natural):
        ordered = sorted(run[query_id].items(), key=lambda item: (-item[1], item[0]))
        for rank, (doc_id, score) in enumerate(ordered, start=1):
            lines.append(f"{query_id} Q0 {doc_id} {rank} {score:.10f} {tag}")
    _write_lines(path, lines)


def read_beir(path: Path, split: str = "test") -> BeirDataset:
    """A BEIR folder for one split; only queries judged in `qrels/<split>.tsv` are kept."""
    path = Path(path)
    for required in ("corpus.jsonl", "queries.jsonl"):
        if not (path / required).exists():
            raise NotFound(f"{path} is not a BEIR folder: {required} is missing")
    qrels_path = path / "qrels" / f"{split}.tsv"
    if not qrels_path.exists():
        available = sorted(item.stem for item in (path / "qrels").glob("*.tsv")) if (path / "qrels").exists() else []
        raise NotFound(f"no qrels for split {split!r} in {path / 'qrels'} (available: {', '.join(available) or 'none'})")
    qrels = read_qrels(qrels_path)
    queries = read_queries(path / "queries.jsonl")
    missing = sorted(set(qrels) - set(queries))
    if missing:
        raise FormatError(qrels_path, None, f"{len(missing)} judged queries are not in queries.jsonl (e.g. {missing[0]!r})")
    return BeirDataset(path, split, read_corpus(path / "corpus.jsonl"),
                       {query_id: queries[query_id] for query_id in sorted(qrels, key=_natural)}, qrels)


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _natural(value: str) -> tuple[int, int | str]:
    """Numeric ids in numeric order, then the others alphabetically (SciFact ids are numbers)."""
    return (0, int(value)) if value.isdigit() else (1, value)
