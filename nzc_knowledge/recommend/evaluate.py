"""Evaluate peer suggestions against expert cases (`eval/peer_cases.jsonl`) with hit@3 and nDCG@5.

Each case is a query: a city and the cities an expert would expect as its peers, with a graded
relevance (2 = the closest twins, 1 = good peers) and a "why" written from the resources' texts.
The engine's peers form the run; `ir_measures` computes Success@3 (reported as hit@3: at least one
expected peer among the first three) and nDCG@5 (graded gains).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ir_measures
from ir_measures import Qrel, ScoredDoc, Success, nDCG

from nzc_knowledge.recommend.names import AmbiguousCity, UnknownCity

if TYPE_CHECKING:
    from nzc_knowledge.recommend.peers import PeerService

DEFAULT_CASES = Path(__file__).resolve().parents[2] / "eval" / "peer_cases.jsonl"
MEASURES = {"hit@3": Success(rel=1) @ 3, "nDCG@5": nDCG @ 5}
RUN_DEPTH = 10


@dataclass(frozen=True)
class PeerCase:
    """One expert case: a city, its expected peers with relevance grades, and why."""

    id: str
    city: str
    expected: dict[str, int]
    why: str


def load_cases(path: Path = DEFAULT_CASES) -> list[PeerCase]:
    """Read the cases; a malformed line is an error naming its line number (the file is small and curated)."""
    cases = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            expected = {str(name): int(grade) for name, grade in row["expected"].items()}
            cases.append(PeerCase(id=str(row["id"]), city=str(row["city"]), expected=expected, why=str(row.get("why", ""))))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{path}:{number}: not a peer case ({error}); expected id, city, expected{{name: grade}}, why")
    if not cases:
        raise ValueError(f"{path} holds no peer case")
    return cases


def evaluate_peers(service: PeerService, cases: list[PeerCase], depth: int = RUN_DEPTH, **peer_options: Any) -> dict[str, Any]:
    """Run every case through `service.peers` and score the runs; per-case rows show what was found."""
    qrels: list[Qrel] = []
    run: list[ScoredDoc] = []
    rows = []
    for case in cases:
        try:
            query = service.resolve(case.city)
            expected = {service.records[service.resolve(name)].label: grade for name, grade in case.expected.items()}
        except (UnknownCity, AmbiguousCity) as error:
            raise ValueError(f"peer case {case.id!r}: {error.message}") from error
        qrels.extend(Qrel(case.id, label, grade) for label, grade in expected.items())
        answer = service.peers(service.records[query].name, limit=depth, city_country=service.records[query].country, **peer_options)
        labels = [f"{peer['city']} ({peer['country']})" if peer["country"] else peer["city"] for peer in answer["peers"]]
        run.extend(ScoredDoc(case.id, label, float(depth - rank)) for rank, label in enumerate(labels))
        rows.append({"id": case.id, "city": case.city, "top5": labels[:5], "expected": sorted(expected, key=lambda k: -expected[k])})
    per_query: dict[str, dict[str, float]] = {}
    for metric in ir_measures.iter_calc(list(MEASURES.values()), qrels, run):
        name = next(key for key, measure in MEASURES.items() if measure == metric.measure)
        per_query.setdefault(metric.query_id, {})[name] = metric.value
    for row in rows:
        row.update({name: round(per_query.get(row["id"], {}).get(name, 0.0), 4) for name in MEASURES})
    aggregate = ir_measures.calc_aggregate(list(MEASURES.values()), qrels, run)
    return {
        "cases": len(cases),
        "measures": {name: round(float(aggregate.get(measure, 0.0)), 4) for name, measure in MEASURES.items()},
        "per_case": rows,
    }
