"""A deterministic split of a query set into a tuning half and a held-out half.

Why: ranking choices (weights, thresholds, expansions) made while looking at a query set flatter that set. Every
tuning decision is taken on the tuning half only and reports show the held-out half beside the whole set. The
rule depends on the query id alone (the first byte of its SHA-256, even: tuning), so it needs no bookkeeping in
the query files, is the same on every machine and assigns a query added later without moving the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Literal, TypeVar

from nzc_knowledge.errors import InvalidParameter

Half = Literal["tuning", "held-out"]
HALVES: tuple[Half, ...] = ("tuning", "held-out")
T = TypeVar("T")


def half_of(query_id: str) -> Half:
    """'tuning' or 'held-out' for one query id."""
    return "tuning" if hashlib.sha256(query_id.encode("utf-8")).digest()[0] % 2 == 0 else "held-out"


def select_half(items: Mapping[str, T], half: str) -> dict[str, T]:
    """The entries of `items` (keyed by query id) in `half`; 'all' keeps everything."""
    if half == "all":
        return dict(items)
    if half not in HALVES:
        raise InvalidParameter(f"unknown half {half!r}; expected all, tuning or held-out")
    return {query_id: item for query_id, item in items.items() if half_of(query_id) == half}


def held_out_ids(query_ids: Iterable[str]) -> set[str]:
    return {query_id for query_id in query_ids if half_of(query_id) == "held-out"}
