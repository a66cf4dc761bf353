"""Evaluate and tune peer suggestions against expert cases (`eval/peer_cases.jsonl`): `nzc eval peers`.

Each case is a query: a city, the cities an expert would expect as its peers with a graded relevance
(2 = the closest twins, 1 = good peers) and a "why" written from the resources' texts and registry
facts. The engine's peers form the run; `ir_measures` computes P@3 (share of the first three that the
expert expected, any grade), Success@3 (reported as hit@3: at least one expected peer among the first
three) and nDCG@5 (graded gains).

Every case carries a `split`, fixed by a rule on its id alone (`split_for`), so it was set before any
tuning and a new case does not move the others: `tune` cases are the only ones `tune_weights` sees;
`held_out` cases measure what the tuned weights do on cases they were not chosen for. Cases of
`round` 1 were also the cases the weights before round 2 were set by hand on, so "held_out, round 2"
is the subset no weight choice has ever seen.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ir_measures
import numpy as np
from ir_measures import P, Qrel, ScoredDoc, Success, nDCG

from nzc_knowledge.errors import AmbiguousCity, FormatError, InvalidParameter, UnknownCity
from nzc_knowledge.recommend.peers import PeerService
from nzc_knowledge.recommend.scorer import PeerWeights

DEFAULT_CASES = Path("eval") / "peer_cases.jsonl"  # relative to the working directory, like the other eval files
MEASURES = {"P@3": P(rel=1) @ 3, "hit@3": Success(rel=1) @ 3, "nDCG@5": nDCG @ 5}
OBJECTIVE = ("P@3", "nDCG@5", "hit@3")  # what tuning maximises, in order of precedence
SPLITS = ("tune", "held_out")
RUN_DEPTH = 10
# The grid `tune_weights` searches (declared before the first tuning run; see eval/README.md).
DEFAULT_GRID: dict[str, tuple[float, ...]] = {
    "domains": (0.2, 0.4, 0.6),
    "barriers": (0.2, 0.4, 0.6),
    "levers": (0.0, 0.2, 0.4),
    "text": (0.0, 0.25, 0.5, 0.75, 1.0),
    "best_pair": (0.25, 0.5, 0.75),
    "size": (0.0, 0.1, 0.15, 0.25),
}


# The engine before round 2 (weights set by hand on the 17 round-1 cases, English dense vectors): reported beside
# the tuned engine so the figures stay comparable with the earlier hit@3 1.00 / nDCG@5 0.594.
ROUND_1_WEIGHTS = {"domains": 0.4, "barriers": 0.4, "levers": 0.2, "text": 0.5, "best_pair": 0.5, "size": 0.15}
ROUND_1_VECTORS = "dense"


def split_for(case_id: str) -> str:
    """`held_out` when the first byte of the id's SHA-256 is odd, else `tune` (stable, blind to the results)."""
    return "held_out" if hashlib.sha256(case_id.encode("utf-8")).digest()[0] % 2 else "tune"


@dataclass(frozen=True)
class PeerCase:
    """One expert case: a city, its expected peers with relevance grades, why, and the split it belongs to."""

    id: str
    city: str
    expected: dict[str, int]
    why: str
    split: str
    round: int = 1


def load_cases(path: Path, split: str | None = None) -> list[PeerCase]:
    """Read the cases (only `split`'s when given); a malformed line is an error naming its line number."""
    if split is not None and split not in SPLITS:
        raise InvalidParameter(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    cases = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            expected = {str(name): int(grade) for name, grade in row["expected"].items()}
            case = PeerCase(id=str(row["id"]), city=str(row["city"]), expected=expected, why=str(row.get("why", "")),
                            split=str(row.get("split") or split_for(str(row["id"]))), round=int(row.get("round", 1)))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise FormatError(path, number, f"not a peer case ({error}); expected id, city, expected{{name: grade}}, why")
        if case.split not in SPLITS:
            raise FormatError(path, number, f"split {case.split!r} is not one of {', '.join(SPLITS)}")
        if split is None or case.split == split:
            cases.append(case)
    if not cases:
        raise InvalidParameter(f"{path} holds no peer case" + (f" in split {split!r}" if split else ""))
    return cases


@dataclass(frozen=True)
class CaseQuery:
    """A peer case resolved against the registry: the queried city's row and the expected labels."""

    case: PeerCase
    position: int
    expected: dict[str, int]  # record label -> grade


def resolve_cases(service: PeerService, cases: Sequence[PeerCase]) -> list[CaseQuery]:
    """Each case's city and expected peers as registry rows; an unknown or ambiguous name is a 4xx error."""
    scorer = service.scorer
    queries = []
    for case in cases:
        try:
            position = scorer.resolve(case.city)
            expected = {scorer.records[scorer.resolve(name)].label: grade for name, grade in case.expected.items()}
        except (UnknownCity, AmbiguousCity) as error:
            raise InvalidParameter(f"peer case {case.id!r}: {error.message}") from error
        queries.append(CaseQuery(case, position, expected))
    return queries


def ranked_peers(service: PeerService, positions: Sequence[int], depth: int = RUN_DEPTH) -> list[list[str]]:
    """Labels of the first `depth` peers of each city, ranked as `service.peers` ranks them (default options).

    Scores only (no explanations, no evidence), so a grid of weights can be searched quickly;
    tests check the order against `service.peers`.
    """
    scorer = service.scorer
    candidates = np.arange(len(scorer.content))
    scores = scorer.score_matrix(list(positions), candidates)["total"]
    names = np.array([scorer.records[position].name for position in scorer.content])
    labels = [scorer.records[position].label for position in scorer.content]
    runs = []
    for query, position in enumerate(positions):
        keep = candidates != scorer.content_row.get(position, -1)
        order = np.lexsort((names[keep], -scores[query][keep]))[:depth]
        runs.append([labels[row] for row in candidates[keep][order]])
    return runs


def score_runs(queries: Sequence[CaseQuery], runs: Sequence[Sequence[str]]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """(aggregate, per case) of MEASURES for the runs, by ir_measures."""
    qrels = [Qrel(query.case.id, label, grade) for query in queries for label, grade in query.expected.items()]
    run = [ScoredDoc(query.case.id, label, float(len(labels) - rank))
           for query, labels in zip(queries, runs) for rank, label in enumerate(labels)]
    per_case: dict[str, dict[str, float]] = {query.case.id: dict.fromkeys(MEASURES, 0.0) for query in queries}
    for metric in ir_measures.iter_calc(list(MEASURES.values()), qrels, run):
        name = next(key for key, measure in MEASURES.items() if measure == metric.measure)
        per_case[metric.query_id][name] = float(metric.value)
    aggregate = {name: float(np.mean([values[name] for values in per_case.values()])) for name in MEASURES}
    return aggregate, per_case


def precision_ceiling(case: PeerCase, cutoff: int = 3) -> float:
    """The best P@3 a case allows: an expert who expects two peers caps it at 2/3."""
    return min(cutoff, len(case.expected)) / cutoff


def _groups(cases: Sequence[PeerCase], resources: Mapping[str, int]) -> dict[str, list[str]]:
    """Case ids per group: each split, all, held-out cases of round 2 (never seen by any tuning), round 1's cases,
    and held-out cases by how many resources (with climate content) the queried city has."""
    groups = {split: [case.id for case in cases if case.split == split] for split in SPLITS}
    groups["all"] = [case.id for case in cases]
    groups["held_out, round 2"] = [case.id for case in cases if case.split == "held_out" and case.round >= 2]
    groups["round 1 (both splits)"] = [case.id for case in cases if case.round == 1]
    groups["held_out, city with 1 resource"] = [c.id for c in cases if c.split == "held_out" and resources[c.id] <= 1]
    groups["held_out, city with 2+ resources"] = [c.id for c in cases if c.split == "held_out" and resources[c.id] > 1]
    return {name: ids for name, ids in groups.items() if ids}


def evaluate_peers(service: PeerService, cases: list[PeerCase], depth: int = RUN_DEPTH, **peer_options: Any) -> dict[str, Any]:
    """Run every case through `service.peers` and score the runs per split; per-case rows show what was found."""
    queries = resolve_cases(service, cases)
    scorer = service.scorer
    runs = []
    for query in queries:
        record = scorer.records[query.position]
        answer = service.peers(record.name, limit=depth, city_country=record.country, **peer_options)
        runs.append([f"{peer.city} ({peer.country})" if peer.country else peer.city for peer in answer.peers])
    aggregate, per_case = score_runs(queries, runs)
    resources = {query.case.id: sum(scorer.has_climate_content(rid) for rid in scorer.records[query.position].resources)
                 for query in queries}
    rows = [
        {"id": query.case.id, "split": query.case.split, "round": query.case.round, "city": query.case.city,
         "resources": resources[query.case.id],
         "top5": labels[:5], "expected": sorted(query.expected, key=lambda k: -query.expected[k]),
         **{name: round(per_case[query.case.id][name], 4) for name in MEASURES}}
        for query, labels in zip(queries, runs)
    ]
    by_id = {case.id: case for case in cases}
    splits = {
        name: {
            "cases": len(ids),
            "measures": {m: round(float(np.mean([per_case[i][m] for i in ids])), 4) for m in MEASURES},
            "P@3 ceiling": round(float(np.mean([precision_ceiling(by_id[i]) for i in ids])), 4),
        }
        for name, ids in _groups(cases, resources).items()
    }
    return {
        "cases": len(cases),
        "measures": {name: round(value, 4) for name, value in aggregate.items()},
        "splits": splits,
        "weights": asdict(service.weights),
        "passage_vectors": service.passage_vectors,
        "per_case": rows,
    }


def weight_grid(grid: Mapping[str, Iterable[float]] = DEFAULT_GRID) -> list[PeerWeights]:
    """Every combination of the grid's values, family weights deduplicated by their ratios (only ratios count)."""
    names = [field.name for field in fields(PeerWeights)]
    unknown = set(grid) - set(names)
    if unknown:
        raise InvalidParameter(f"unknown peer weights in the grid: {sorted(unknown)}; known: {', '.join(names)}")
    default = PeerWeights()
    values = [tuple(grid.get(name, (getattr(default, name),))) for name in names]
    seen: set[tuple[float, ...]] = set()
    combinations = []
    for combination in itertools.product(*values):
        weights = PeerWeights(**dict(zip(names, combination)))
        families = np.array([weights.domains, weights.barriers, weights.levers])
        if families.sum() == 0:
            continue
        key = (*np.round(families / families.sum(), 6), weights.text, weights.best_pair, weights.size)
        if key not in seen:
            seen.add(key)
            combinations.append(weights)
    return combinations


def _distance(weights: PeerWeights, reference: PeerWeights) -> float:
    return sum(abs(getattr(weights, field.name) - getattr(reference, field.name)) for field in fields(weights))


def tune_weights(
    service: PeerService, cases: Sequence[PeerCase], grid: Mapping[str, Iterable[float]] = DEFAULT_GRID,
    depth: int = RUN_DEPTH,
) -> list[dict[str, Any]]:
    """Score every weight combination on the `tune` cases only; best first by P@3, then nDCG@5, then hit@3.

    Ties go to the combination closest to the service's current weights, so tuning moves a weight only
    when that measurably helps. Passing held-out cases is an error: they must not steer the choice.
    """
    if any(case.split != "tune" for case in cases):
        raise ValueError("tune_weights takes tune cases only; held-out cases would leak into the choice")
    queries = resolve_cases(service, cases)
    positions = [query.position for query in queries]
    current = service.weights
    results = []
    for weights in weight_grid(grid):
        runs = ranked_peers(service.reweighted(weights), positions, depth)
        aggregate, _ = score_runs(queries, runs)
        results.append({"weights": asdict(weights), "measures": {name: round(v, 4) for name, v in aggregate.items()},
                        "distance": round(_distance(weights, current), 4)})
    results.sort(key=lambda row: (*(-row["measures"][name] for name in OBJECTIVE), row["distance"]))
    return results


def tune_peer_scoring(
    services: Mapping[str, PeerService], cases: Sequence[PeerCase], grid: Mapping[str, Iterable[float]] = DEFAULT_GRID,
    depth: int = RUN_DEPTH,
) -> list[dict[str, Any]]:
    """`tune_weights` for each passage-vector source (services keyed by it), merged best first.

    On a tie the source given first wins (pass the previous behaviour first).
    """
    results = []
    for source, service in services.items():
        results.extend({"vectors": source, **row} for row in tune_weights(service, cases, grid, depth))
    results.sort(key=lambda row: (*(-row["measures"][name] for name in OBJECTIVE), row["distance"]))
    return results


def _table(splits: Mapping[str, Mapping[str, Any]]) -> list[str]:
    lines = ["| cases | n | " + " | ".join(MEASURES) + " | P@3 ceiling |",
             "| --- | ---: | " + " | ".join("---:" for _ in MEASURES) + " | ---: |"]
    for name, part in splits.items():
        values = " | ".join(f"{part['measures'][m]:.3f}" for m in MEASURES)
        lines.append(f"| {name} | {part['cases']} | {values} | {part['P@3 ceiling']:.3f} |")
    return lines


def peers_report(path: Path, command: str, facts: Mapping[str, Any], report: Mapping[str, Any],
                 baselines: Mapping[str, Mapping[str, Any]] | None = None,
                 tuning: Sequence[Mapping[str, Any]] | None = None) -> Path:
    """Markdown: measures per split (and per baseline), the tuning grid's best rows, then every case."""
    lines = ["# Peer cities against expert cases", "", f"Command: `{command}`  ", f"Written: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  "]
    lines += [f"{name}: {value}  " for name, value in facts.items()]
    lines += ["", f"## Weights in use: {json.dumps(report['weights'])}, passage vectors {report['passage_vectors']}", "",
              *_table(report["splits"]), ""]
    for name, other in (baselines or {}).items():
        lines += [f"## {name}: {json.dumps(other['weights'])}, passage vectors {other['passage_vectors']}", "",
                  *_table(other["splits"]), ""]
    if tuning:
        lines += ["## Tuning grid on the tune cases (best 10 of " + str(len(tuning)) + ")", "",
                  "| rank | weights | " + " | ".join(MEASURES) + " |", "| ---: | --- | " + " | ".join("---:" for _ in MEASURES) + " |"]
        for rank, row in enumerate(tuning[:10], start=1):
            weights = ", ".join(f"{k} {v:g}" for k, v in row["weights"].items())
            weights += f"; vectors {row['vectors']}" if "vectors" in row else ""
            lines.append(f"| {rank} | {weights} | " + " | ".join(f"{row['measures'][m]:.3f}" for m in MEASURES) + " |")
        lines.append("")
    lines += ["## Per case", "", "| case | split | round | P@3 | hit@3 | nDCG@5 | top 3 | expected |",
              "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |"]
    for row in sorted(report["per_case"], key=lambda r: (r["split"], r["P@3"], r["id"])):
        expected = set(row["expected"])
        top = ", ".join(f"**{label}**" if label in expected else label for label in row["top5"][:3])
        lines.append(f"| {row['id']} | {row['split']} | {row['round']} | {row['P@3']:.2f} | {row['hit@3']:.0f} | "
                     f"{row['nDCG@5']:.3f} | {top} | {', '.join(row['expected'])} |")
    lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def with_weights(service: PeerService, weights: Mapping[str, float]) -> PeerService:
    """`service` rescored with `weights` (a mapping as `tune_weights` rows hold them)."""
    return service.reweighted(replace(service.weights, **weights))
