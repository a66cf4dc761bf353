"""Pilot/Twin pairing that maximises the total fit under a per-pilot capacity.

Each Twin city gets at most one Pilot, each Pilot at most `k` Twins. The pairing maximises the sum
of pair scores (the peer score of `scorer.py` with the similar-size preference): a linear assignment
(Hungarian algorithm, `scipy.optimize.linear_sum_assignment`) on the fit matrix with every Pilot's
row replicated `k` times, so each copy is one place a Twin can take. A greedy "best pair first"
pairing is not optimal: taking A-X (0.9) first can force B-Y (0.1) where A-Y (0.8) + B-X (0.7) was
possible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from nzc_knowledge.errors import AmbiguousCity, InvalidParameter, UnknownCity
from nzc_knowledge.models import TwinningPlan, TwinPair, Unpaired
from nzc_knowledge.recommend.explain import explain_match
from nzc_knowledge.recommend.scorer import PeerScorer

MAX_CITIES_PER_SIDE = 1000
MAX_CAPACITY = 100
METHOD = (
    "linear assignment (Hungarian algorithm, scipy.optimize.linear_sum_assignment) on the pilot x twin fit "
    "matrix with each pilot replicated max_twins_per_pilot times: maximises the sum of pair scores"
)


def assign(fit: np.ndarray, capacity: int) -> list[tuple[int, int]]:
    """(pilot, twin) index pairs maximising the summed fit; a twin is used once, a pilot up to `capacity` times.

    Example:
        assign(np.array([[0.9, 0.8], [0.7, 0.1]]), capacity=1)  # [(0, 1), (1, 0)]: 1.5, where greedy gets 1.0
    """
    if capacity < 1:
        raise ValueError("capacity must be at least 1")
    pilots, twins = fit.shape
    if pilots == 0 or twins == 0:
        return []
    slots = min(capacity, twins)  # more copies of a pilot than there are twins can never be used
    rows, columns = linear_sum_assignment(np.repeat(fit, slots, axis=0), maximize=True)
    return sorted((int(row) // slots, int(column)) for row, column in zip(rows, columns))


def _names(value: Any, field: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise InvalidParameter(f"{field} must be a list of city names")
    if not value:
        raise InvalidParameter(f"{field} is empty: give at least one city")
    if len(value) > MAX_CITIES_PER_SIDE:
        raise InvalidParameter(f"{field} lists {len(value)} cities; at most {MAX_CITIES_PER_SIDE} are accepted")
    return list(value)


def _resolve_all(scorer: PeerScorer, names: list[str], field: str) -> list[int]:
    positions: list[int] = []
    first_name: dict[int, str] = {}
    for number, name in enumerate(names):
        if not name.strip():
            raise InvalidParameter(f"{field}[{number}] is an empty city name")
        try:
            position = scorer.resolve(name)
        except (UnknownCity, AmbiguousCity) as error:
            raise InvalidParameter(f"{field}[{number}]: {error.message}") from error
        if position in first_name:
            other = first_name[position]
            same = f"{other!r} twice" if other == name else f"{other!r} and {name!r}, the same city"
            raise InvalidParameter(f"{field} lists {same} ({scorer.records[position].label}): list each city once")
        first_name[position] = name
        positions.append(position)
    return positions


def plan_twinning(
    scorer: PeerScorer, pilots: Sequence[str], twins: Sequence[str], max_twins_per_pilot: int = 1
) -> TwinningPlan:
    """Validate the lists, score every pilot x twin pair, solve the assignment, explain each pair.

    Unknown or ambiguous names, duplicates, a city on both sides, empty lists and a capacity below 1
    raise InvalidParameter with a message that says what to change. Cities without content cannot be
    scored on challenges and are returned unpaired with that reason, like twins left over once every
    pilot's places are taken.
    """
    if not isinstance(max_twins_per_pilot, int) or isinstance(max_twins_per_pilot, bool) or not (
        1 <= max_twins_per_pilot <= MAX_CAPACITY
    ):
        raise InvalidParameter(
            f"max_twins_per_pilot must be an integer from 1 to {MAX_CAPACITY}, got {max_twins_per_pilot!r}"
        )
    pilot_positions = _resolve_all(scorer, _names(pilots, "pilots"), "pilots")
    twin_positions = _resolve_all(scorer, _names(twins, "twins"), "twins")
    both = [position for position in pilot_positions if position in set(twin_positions)]
    if both:
        labels = ", ".join(scorer.records[position].label for position in both)
        raise InvalidParameter(f"{labels} {'is' if len(both) == 1 else 'are'} both a pilot and a twin: put each city on one side")

    unpaired: list[Unpaired] = []

    def without_content(position: int, role: str) -> None:
        record = scorer.records[position]
        unpaired.append(Unpaired(
            city=record.name, country=record.country, role=role, reason="no_content",  # type: ignore[arg-type]
            detail=f"no resource about {record.name} in the repository: no challenge profile to pair on",
        ))

    active_pilots = [p for p in pilot_positions if scorer.records[p].has_content]
    active_twins = [p for p in twin_positions if scorer.records[p].has_content]
    for position in pilot_positions:
        if not scorer.records[position].has_content:
            without_content(position, "pilot")
    for position in twin_positions:
        if not scorer.records[position].has_content:
            without_content(position, "twin")

    pairs: list[tuple[int, TwinPair]] = []
    if active_pilots and active_twins:
        twin_rows = np.array([scorer.content_row[p] for p in active_twins], dtype=np.int64)
        fit = scorer.score_matrix(active_pilots, twin_rows, prefer_similar_size=True)
        matched = assign(fit["total"], max_twins_per_pilot)
        for pilot_index, twin_index in matched:
            pairs.append(_pair(scorer, active_pilots[pilot_index], active_twins[twin_index],
                               {name: float(values[pilot_index, twin_index]) for name, values in fit.items()}))
        taken_twins = {twin for _, twin in matched}
        taken_pilots = {pilot for pilot, _ in matched}
        places = len(active_pilots) * max_twins_per_pilot
        for index, position in enumerate(active_twins):
            if index not in taken_twins:
                record = scorer.records[position]
                unpaired.append(Unpaired(
                    city=record.name, country=record.country, role="twin", reason="capacity_exhausted",
                    detail=(
                        f"{len(active_twins)} twins with content for {places} places ({len(active_pilots)} pilots x "
                        f"{max_twins_per_pilot}): the places went to twins that fit the pilots better"
                    ),
                ))
        for index, position in enumerate(active_pilots):
            if index not in taken_pilots:
                record = scorer.records[position]
                unpaired.append(Unpaired(
                    city=record.name, country=record.country, role="pilot", reason="no_twin_left",
                    detail="fewer twins with content than pilots: every twin went to a pilot it fits better",
                ))
    order = {position: number for number, position in enumerate(pilot_positions)}
    pairs.sort(key=lambda item: (order[item[0]], -item[1].score))
    return TwinningPlan(
        pairs=[pair for _, pair in pairs],
        unpaired=unpaired,
        total_score=round(sum(pair.score for _, pair in pairs), 4),
        max_twins_per_pilot=max_twins_per_pilot,
        method=METHOD,
    )


def _pair(scorer: PeerScorer, pilot: int, twin: int, components: dict[str, float]) -> tuple[int, TwinPair]:
    """(pilot position, the pair): the twin learns from the pilot, so evidence and explanation cite the pilot's."""
    pilot_record, twin_record = scorer.records[pilot], scorer.records[twin]
    basis = scorer.match_basis(twin, scorer.content_row[pilot], components)
    return pilot, TwinPair(
        pilot=pilot_record.name,
        pilot_country=pilot_record.country,
        twin=twin_record.name,
        twin_country=twin_record.country,
        score=round(components["total"], 4),
        shared_domains=basis.shared["domains"],
        shared_barriers=basis.shared["barriers"],
        shared_levers=basis.shared["levers"],
        explanation=explain_match(twin_record, pilot_record, basis.shared, basis.evidence, basis.distance_km,
                                  scorer.resources, pair=basis.pair),
        evidence=basis.evidence,
    )
