"""Peer evaluation: the expert cases, their split, P@3 / hit@3 / nDCG@5, fast ranking and weight tuning."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from nzc_knowledge.models import Resource, Tag
from nzc_knowledge.eval.peers import (
    DEFAULT_CASES, PeerCase, evaluate_peers, load_cases, ranked_peers, split_for, tune_weights, weight_grid,
    with_weights,
)
from nzc_knowledge.recommend.peers import PeerService, PeerWeights

ROOT = Path(__file__).resolve().parents[2]


def make(rid: str, city: str, country: str, domains, barriers, levers) -> Resource:
    curated = lambda keys: [Tag(key, 1.0, "curated") for key in keys]  # noqa: E731
    return Resource(id=rid, file=f"{rid}.md", title=rid, city=city, country=country, language="en",
                    domains=curated(domains), barriers=curated(barriers), levers=curated(levers))


CORPUS = [
    make("kozani-heat", "Kozani", "GR", ["energy"], ["technology", "finance"], ["technology", "finance"]),
    make("velenje-heat", "Velenje", "SI", ["energy"], ["finance", "technology"], ["finance", "technology"]),
    make("lahti-coal", "Lahti", "FI", ["energy"], ["finance", "regulation"], ["finance", "technology"]),
    make("parma-payt", "Parma", "IT", ["waste_circular"], ["acceptance", "data"], ["technology", "governance"]),
    make("ljubljana-waste", "Ljubljana", "SI", ["waste_circular"], ["technology", "acceptance"], ["technology"]),
    make("barcelona-waste", "Barcelona", "ES", ["waste_circular"], ["acceptance", "procurement"], ["participation"]),
    make("tallinn-blocks", "Tallinn", "EE", ["buildings"], ["finance", "capacity"], ["finance", "participation"]),
    make("vilnius-blocks", "Vilnius", "LT", ["buildings"], ["finance", "procurement"], ["finance", "governance"]),
    make("milan-lez", "Milan", "IT", ["mobility"], ["acceptance", "data"], ["technology", "governance"]),
    make("krakow-stoves", "Kraków", "PL", ["energy", "buildings"], ["acceptance", "finance"], ["governance", "finance"]),
]


def case(case_id: str, city: str, expected: dict[str, int], split: str = "tune") -> PeerCase:
    return PeerCase(id=case_id, city=city, expected=expected, why="test", split=split)


@pytest.fixture(scope="module")
def service() -> PeerService:
    rng = np.random.default_rng(3)
    vectors = {resource.id: rng.normal(size=12) for resource in CORPUS}
    return PeerService.from_resources(CORPUS, use_geonames=False, vectors=vectors)


# ------------------------------------------------------------------ the committed cases


def test_committed_cases_are_enough_split_by_the_id_rule_and_name_content_cities():
    cases = load_cases(ROOT / DEFAULT_CASES)
    assert len(cases) >= 30 and len({c.id for c in cases}) == len(cases)
    assert all(c.split == split_for(c.id) for c in cases), "a case's split must follow split_for, not a choice"
    held_out = sum(c.split == "held_out" for c in cases)
    assert 0.4 <= held_out / len(cases) <= 0.6
    manifest_cities = {json.loads(line)["city"] for line in (ROOT / "ingest" / "manifest.jsonl").read_text().splitlines()
                       if line.strip() and json.loads(line).get("city")}
    for item in cases:
        assert item.city in manifest_cities and set(item.expected) <= manifest_cities, item.id
        assert item.city not in item.expected and set(item.expected.values()) <= {1, 2}, item.id
        assert len(item.why) > 100, item.id


def test_split_rule_is_stable_and_blind_to_content():
    assert split_for("kozani-lignite-heat") == split_for("kozani-lignite-heat")
    assert {split_for(f"case-{n}") for n in range(20)} == {"tune", "held_out"}


def test_load_cases_filters_by_split_and_names_bad_lines(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text(
        json.dumps({"id": "a", "split": "tune", "city": "Kozani", "expected": {"Velenje": 2}}) + "\n"
        + json.dumps({"id": "b", "split": "held_out", "city": "Parma", "expected": {"Ljubljana": 1}}) + "\n",
        encoding="utf-8")
    assert [c.id for c in load_cases(path, "held_out")] == ["b"]
    assert [c.id for c in load_cases(path)] == ["a", "b"]
    with pytest.raises(ValueError, match="unknown split 'train'"):
        load_cases(path, "train")
    path.write_text(path.read_text() + '{"id": "c", "city": "Milan"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"cases.jsonl:3: not a peer case"):
        load_cases(path)
    path.write_text(json.dumps({"id": "d", "split": "dev", "city": "Milan", "expected": {}}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="split 'dev' is not one of tune, held_out"):
        load_cases(path)


# ------------------------------------------------------------------ measures


def test_precision_at_3_is_the_share_of_the_top_three_the_expert_expected(service):
    cases = [case("kozani", "Kozani", {"Velenje": 2, "Lahti": 1, "Parma": 1}),
             case("parma", "Parma", {"Ljubljana": 2, "Barcelona": 1, "Tallinn": 1, "Vilnius": 1}, split="held_out")]
    report = evaluate_peers(service, cases)
    for item, row in zip(cases, report["per_case"]):
        top3 = [label.split(" (")[0] for label in row["top5"][:3]]
        assert row["P@3"] == pytest.approx(len(set(top3) & set(item.expected)) / 3, abs=1e-4)
        assert row["hit@3"] == (1.0 if set(top3) & set(item.expected) else 0.0)
    assert report["splits"]["tune"]["cases"] == 1 and report["splits"]["held_out"]["cases"] == 1
    assert report["splits"]["all"]["measures"]["P@3"] == pytest.approx(
        np.mean([row["P@3"] for row in report["per_case"]]), abs=1e-4)


def test_precision_ceiling_reports_cases_with_fewer_than_three_expected_peers(service):
    report = evaluate_peers(service, [case("riga", "Kozani", {"Velenje": 2, "Lahti": 1})])
    assert report["splits"]["tune"]["P@3 ceiling"] == pytest.approx(2 / 3, abs=1e-4)


def test_unknown_city_in_a_case_is_a_clear_error(service):
    with pytest.raises(ValueError, match="peer case 'x'"):
        evaluate_peers(service, [case("x", "Atlantis", {"Velenje": 1})])


# ------------------------------------------------------------------ fast ranking and tuning


@pytest.mark.parametrize("weights", [PeerWeights(), PeerWeights(text=0.0, size=0.0), PeerWeights(levers=0.0, text=0.5)])
def test_fast_ranking_orders_peers_as_the_service_does(service, weights):
    scored = service.reweighted(weights)
    positions = [scored.scorer.resolve(name) for name in ("Kozani", "Parma", "Tallinn", "Warsaw")]
    runs = ranked_peers(scored, positions, depth=6)
    for position, run in zip(positions, runs):
        record = scored.scorer.records[position]
        answer = asdict(scored.peers(record.name, limit=6, city_country=record.country))
        assert run == [f"{peer['city']} ({peer['country']})" for peer in answer["peers"]]


def test_reweighted_service_scores_with_the_new_weights_and_leaves_the_original_alone(service):
    tags_only = service.reweighted(PeerWeights(text=0.0))
    peer = asdict(tags_only.peers("Tallinn", limit=1))["peers"][0]
    assert peer["components"]["challenge"] == pytest.approx(peer["components"]["tags"])
    original = asdict(service.peers("Tallinn", limit=1))["peers"][0]
    assert original["components"]["challenge"] != pytest.approx(original["components"]["tags"])


def test_weight_grid_keeps_one_combination_per_family_ratio():
    grid = weight_grid({"domains": (0.2, 0.4), "barriers": (0.2, 0.4), "levers": (0.2, 0.4), "text": (0.5,),
                        "best_pair": (0.5,), "size": (0.15,)})
    ratios = {tuple(np.round(np.array([w.domains, w.barriers, w.levers]) / (w.domains + w.barriers + w.levers), 6))
              for w in grid}
    assert len(grid) == len(ratios) == 7  # 8 combinations, (0.2, 0.2, 0.2) and (0.4, 0.4, 0.4) are one
    with pytest.raises(ValueError, match="unknown peer weights in the grid: \\['colour'\\]"):
        weight_grid({"colour": (1.0,)})


def test_tuning_sees_tune_cases_only_and_its_best_row_is_what_the_service_then_scores(service):
    tune = [case("kozani", "Kozani", {"Velenje": 2, "Lahti": 1}), case("parma", "Parma", {"Ljubljana": 2, "Barcelona": 1}),
            case("tallinn", "Tallinn", {"Vilnius": 2, "Kraków": 1})]
    with pytest.raises(ValueError, match="tune cases only"):
        tune_weights(service, [*tune, case("milan", "Milan", {"Parma": 1}, split="held_out")])
    grid = {"text": (0.0, 0.5, 1.0), "size": (0.0, 0.15), "levers": (0.0, 0.2)}
    results = tune_weights(service, tune, grid)
    assert len(results) == 12
    keys = [(-row["measures"]["P@3"], -row["measures"]["nDCG@5"], -row["measures"]["hit@3"]) for row in results]
    assert keys == sorted(keys)
    best = results[0]
    rescored = evaluate_peers(with_weights(service, best["weights"]), tune)
    assert rescored["measures"] == pytest.approx(best["measures"], abs=1e-4)
    default = evaluate_peers(service.reweighted(PeerWeights(text=0.5, size=0.15, levers=0.2)), tune)["measures"]
    assert best["measures"]["P@3"] >= default["P@3"]  # the grid holds this combination, so the best is no worse


def test_peer_weights_are_validated():
    with pytest.raises(ValueError, match="peer weight text must be between 0 and 1"):
        PeerWeights(text=1.5)
    with pytest.raises(ValueError, match="size must be below"):
        PeerWeights(size=0.9)
