"""Pilot/Twin pairing: optimal under the capacity limit (not greedy), explained, validated."""

from __future__ import annotations

import itertools
from dataclasses import asdict

import numpy as np
import pytest

from nzc_knowledge.errors import InvalidParameter
from nzc_knowledge.models import Resource, Tag
from nzc_knowledge.recommend.peers import PeerService
from nzc_knowledge.recommend.twinning import assign


def greedy(fit: np.ndarray, capacity: int) -> list[tuple[int, int]]:
    """Best pair first: the baseline the assignment must beat."""
    pairs, used, load = [], set(), [0] * fit.shape[0]
    for score, pilot, twin in sorted(((fit[p, t], p, t) for p in range(fit.shape[0]) for t in range(fit.shape[1])),
                                     reverse=True):
        if twin not in used and load[pilot] < capacity:
            pairs.append((pilot, twin))
            used.add(twin)
            load[pilot] += 1
    return sorted(pairs)


def total(fit: np.ndarray, pairs) -> float:
    return float(sum(fit[pilot, twin] for pilot, twin in pairs))


def brute_force(fit: np.ndarray, capacity: int) -> float:
    """Best total over every way to give each twin a pilot (or none) within capacity."""
    pilots, twins = fit.shape
    best = 0.0
    for choice in itertools.product(range(-1, pilots), repeat=twins):
        if all(choice.count(pilot) <= capacity for pilot in range(pilots)):
            best = max(best, sum(fit[pilot, twin] for twin, pilot in enumerate(choice) if pilot >= 0))
    return best


def test_hand_solved_case_where_greedy_is_worse():
    # Pilots A, B; twins X, Y; one twin each. Greedy takes A-X (0.9) and is left with B-Y (0.1): 1.0.
    # The optimum pairs A-Y (0.8) and B-X (0.7): 1.5.
    fit = np.array([[0.9, 0.8], [0.7, 0.1]])
    assert greedy(fit, 1) == [(0, 0), (1, 1)] and total(fit, greedy(fit, 1)) == pytest.approx(1.0)
    assert assign(fit, 1) == [(0, 1), (1, 0)] and total(fit, assign(fit, 1)) == pytest.approx(1.5)


def test_capacity_is_respected_and_used():
    fit = np.array([[0.9, 0.8, 0.7], [0.1, 0.2, 0.3]])
    pairs = assign(fit, 2)
    assert [pilot for pilot, _ in pairs].count(0) == 2 and len(pairs) == 3
    assert sorted(twin for _, twin in pairs) == [0, 1, 2]
    assert assign(fit, 1) == [(0, 0), (1, 2)]


@pytest.mark.parametrize("seed", range(12))
def test_assignment_is_optimal_on_small_random_cases(seed):
    rng = np.random.default_rng(seed)
    fit = rng.random((int(rng.integers(1, 4)), int(rng.integers(1, 6))))
    capacity = int(rng.integers(1, 3))
    pairs = assign(fit, capacity)
    assert all([pilot for pilot, _ in pairs].count(p) <= capacity for p in range(fit.shape[0]))
    assert len({twin for _, twin in pairs}) == len(pairs)
    assert total(fit, pairs) == pytest.approx(brute_force(fit, capacity))
    assert total(fit, pairs) >= total(fit, greedy(fit, capacity)) - 1e-12


def test_capacity_below_one_is_an_error():
    with pytest.raises(ValueError):
        assign(np.ones((2, 2)), 0)


def make(rid, city, country, domains, barriers, levers, title=None) -> Resource:
    curated = lambda keys: [Tag(key, 1.0, "curated") for key in keys]  # noqa: E731
    return Resource(id=rid, file=f"{rid}.md", title=title or rid, city=city, country=country,
                    domains=curated(domains), barriers=curated(barriers), levers=curated(levers))


CORPUS = [
    make("milan-heat", "Milan", "IT", ["energy"], ["finance", "regulation"], ["finance", "technology"],
         "Financing the Expansion of Milan's District Heating Network"),
    make("milan-waste", "Milan", "IT", ["waste_circular"], ["governance", "capacity"], ["social_innovation"]),
    make("lahti-coal", "Lahti", "FI", ["energy"], ["finance", "regulation"], ["finance", "technology"],
         "Financing Lahti's Exit from Coal"),
    make("kozani-heat", "Kozani", "GR", ["energy"], ["technology", "finance"], ["technology", "finance"]),
    make("velenje-heat", "Velenje", "SI", ["energy"], ["finance", "technology"], ["finance", "technology"]),
    make("parma-payt", "Parma", "IT", ["waste_circular"], ["acceptance", "data"], ["technology", "participation"]),
    make("ljubljana-zero-waste", "Ljubljana", "SI", ["waste_circular"], ["technology", "acceptance"],
         ["technology", "social_innovation"]),
]


@pytest.fixture(scope="module")
def service() -> PeerService:
    return PeerService.from_resources(CORPUS, use_geonames=False)


def test_pairs_maximise_total_fit_and_are_explained(service):
    answer = asdict(service.twinning(["Milan", "Lahti"], ["Parma", "Kozani", "Velenje", "Ljubljana"], max_twins_per_pilot=2))
    pairs = {(pair["pilot"], pair["twin"]) for pair in answer["pairs"]}
    assert len(pairs) == 4 and answer["unpaired"] == []
    assert {twin for pilot, twin in pairs if pilot == "Milan"} == {"Parma", "Ljubljana"}  # the waste twins
    assert {twin for pilot, twin in pairs if pilot == "Lahti"} == {"Kozani", "Velenje"}  # the heat twins
    assert answer["total_score"] == pytest.approx(sum(pair["score"] for pair in answer["pairs"]), abs=1e-3)
    lahti = next(pair for pair in answer["pairs"] if pair["twin"] == "Velenje")
    assert "energy systems" in lahti["explanation"] and "Financing Lahti's Exit from Coal" in lahti["explanation"]
    assert lahti["evidence"] == ["lahti-coal"] and "linear_sum_assignment" in answer["method"]
    # The service's pairing is the optimum of its own fit matrix.
    rows = np.array([service.scorer.content_row[service.scorer.resolve(name)] for name in ["Parma", "Kozani", "Velenje", "Ljubljana"]])
    fit = service.scorer.score_matrix([service.scorer.resolve("Milan"), service.scorer.resolve("Lahti")], rows)["total"]
    assert answer["total_score"] == pytest.approx(brute_force(fit, 2), abs=1e-3)


def test_twins_beyond_capacity_and_cities_without_content_are_unpaired_with_a_reason(service):
    answer = asdict(service.twinning(["Lahti"], ["Kozani", "Velenje", "Warszawa"], max_twins_per_pilot=1))
    assert len(answer["pairs"]) == 1
    reasons = {item["city"]: item["reason"] for item in answer["unpaired"]}
    assert reasons["Warsaw"] == "no_content"
    assert list(reasons.values()).count("capacity_exhausted") == 1
    exhausted = next(item for item in answer["unpaired"] if item["reason"] == "capacity_exhausted")
    assert exhausted["role"] == "twin" and "1 places" in exhausted["detail"]


def test_a_pilot_without_a_twin_left_is_reported(service):
    answer = asdict(service.twinning(["Lahti", "Milan"], ["Kozani"], max_twins_per_pilot=1))
    assert [(pair["pilot"], pair["twin"]) for pair in answer["pairs"]] == [("Lahti", "Kozani")]
    assert answer["unpaired"] == [{"city": "Milan", "country": "IT", "role": "pilot", "reason": "no_twin_left",
                                   "detail": answer["unpaired"][0]["detail"]}]


@pytest.mark.parametrize(("pilots", "twins", "k", "message"), [
    ([], ["Parma"], 1, "pilots is empty"),
    (["Milan"], [], 1, "twins is empty"),
    (["Milan"], ["Parma"], 0, "max_twins_per_pilot must be an integer from 1"),
    (["Milan", "Milano"], ["Parma"], 1, "pilots lists 'Milan' and 'Milano', the same city"),
    (["Milan"], ["Parma", "Parma"], 1, "twins lists 'Parma' twice"),
    (["Milan", "Lahti"], ["Parma", "lahti"], 1, "Lahti \\(FI\\) is both a pilot and a twin"),
    (["Milan"], ["Parmma"], 1, "twins\\[0\\]: unknown city 'Parmma'; close matches: Parma \\(IT\\)"),
    (["Nicosia"], ["Parma"], 1, "pilots\\[0\\]: 'Nicosia' names cities in several countries"),
])
def test_invalid_requests_say_what_to_change(service, pilots, twins, k, message):
    with pytest.raises(InvalidParameter, match=message):
        asdict(service.twinning(pilots, twins, k))
