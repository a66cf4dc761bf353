"""Schemathesis hooks for the contract test: teach the generator the one cross-parameter rule of GET /search.

`year_from` must not be after `year_to` (the API answers 422, as documented); JSON Schema cannot relate two query
parameters, so a generated pair in the wrong order is put in order before it is sent.
"""

from __future__ import annotations

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):  # noqa: ANN001, ANN003 - schemathesis' hook signature
    query = case.query
    if case.path != "/search" or not isinstance(query, dict):
        return
    low, high = _year(query.get("year_from")), _year(query.get("year_to"))
    if low is not None and high is not None and low > high:
        query["year_from"], query["year_to"] = query["year_to"], query["year_from"]


def _year(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None
