"""Finding cities by any spelling and describing one: the city search and the city profile."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nzc_knowledge.errors import InvalidParameter
from nzc_knowledge.models import (
    CityMatch, CityProfile, CitySearch, Commitment, GroupRef, Resource, ResourceBrief, WeightedTag,
)
from nzc_knowledge.recommend.explain import explain_profile
from nzc_knowledge.recommend.names import iso_countries, normalise_country
from nzc_knowledge.recommend.profiles import CityDirectory, CityRecord
from nzc_knowledge.recommend.registry import COMMITMENT_LABELS
from nzc_knowledge.taxonomy import label_for

MAX_LIMIT = 100
MAX_QUERY_CHARS = 200
MAX_ALIASES = 25


def check_limit(limit: int) -> int:
    """`limit` when it is an integer from 1 to MAX_LIMIT, else InvalidParameter."""
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1 or limit > MAX_LIMIT:
        raise InvalidParameter(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    return limit


def _summary_fields(record: CityRecord) -> dict[str, Any]:
    """The `CitySummary` fields of a record (the start of a search hit and of a profile)."""
    return {
        "city": record.name,
        "country": record.country,
        "kind": record.kind,
        "has_content": record.has_content,
        "resource_count": len(record.resources),
        "population": record.population,
        "size_class": record.size,
        "region": record.region,
        "registry_name": record.registry.name if record.registry else None,
    }


def search_cities(directory: CityDirectory, q: str | None = None, limit: int = 10, country: str | None = None) -> CitySearch:
    """Cities whose spellings match `q` (exact, prefix, then fuzzy); content cities when `q` is empty."""
    limit = check_limit(limit)
    code = normalise_country(country) if country else None
    if q is not None and len(q) > MAX_QUERY_CHARS:
        raise InvalidParameter(f"q is too long: give at most {MAX_QUERY_CHARS} characters")
    records = directory.records
    if not q or not q.strip():
        positions = [p for p in directory.content_positions if code is None or records[p].country == code]
        positions.sort(key=lambda p: records[p].name.casefold())
        items = [CityMatch(**_summary_fields(records[p]), score=None, matched=None) for p in positions[:limit]]
        return CitySearch(query=q or "", total=len(positions), cities=items)
    hits = directory.index.search(q, limit=limit, country=code)
    items = [
        CityMatch(**_summary_fields(records[position]), score=round(score, 1), matched=spelling)
        for position, score, spelling in hits
    ]
    return CitySearch(query=q, total=len(items), cities=items)


def city_profile(
    directory: CityDirectory, resources: Mapping[str, Resource], name: str, country: str | None = None
) -> CityProfile:
    """A city's profile: registry facts, weighted tags, its resources, and what the profile rests on."""
    position = directory.index.resolve(name, country)
    record = directory.records[position]
    group = None
    if record.registry and record.registry.group_id:
        group = GroupRef(id=record.registry.group_id, name=record.registry.group_name)
        group_position = directory.by_registry_id.get(record.registry.group_id)
        if group_position is not None:
            group.name = directory.records[group_position].name
    commitments = record.registry.commitments if record.registry else ()
    return CityProfile(
        **_summary_fields(record),
        country_name=iso_countries().get(record.country or "", None),
        registry_id=record.registry.id if record.registry else None,
        aliases=_aliases(directory, position),
        lat=record.lat,
        lon=record.lon,
        population_source=record.population_source,
        commitments=[Commitment(key=key, label=COMMITMENT_LABELS.get(key, key)) for key in commitments],
        members=list(record.registry.members) if record.registry and record.kind == "group" else [],
        group=group,
        domains=_weighted(record, "domains"),
        barriers=_weighted(record, "barriers"),
        levers=_weighted(record, "levers"),
        resources=[_brief(resources, resource_id) for resource_id in record.resources],
        explanation=explain_profile(record),
    )


def _aliases(directory: CityDirectory, position: int) -> list[str]:
    record = directory.records[position]
    seen = {record.name.casefold()}
    aliases = []
    for spelling in [*record.spellings, *directory.index.names_of(position)]:
        if spelling.casefold() not in seen:
            seen.add(spelling.casefold())
            aliases.append(spelling)
    return aliases[:MAX_ALIASES]


def _weighted(record: CityRecord, family: str) -> list[WeightedTag]:
    weights = record.weights.get(family, {})
    return [
        WeightedTag(key=key, label=label_for(family, key).label, weight=round(weight, 3))
        for key, weight in sorted(weights.items(), key=lambda item: (-item[1], item[0]))
    ]


def _brief(resources: Mapping[str, Resource], resource_id: str) -> ResourceBrief:
    resource = resources.get(resource_id)
    if resource is None:
        return ResourceBrief(id=resource_id, title=None, type=None, year=None, url=None, domains=[], barriers=[], levers=[])
    return ResourceBrief(
        id=resource.id, title=resource.title, type=resource.type, year=resource.year, url=resource.url,
        domains=resource.tag_keys("domains"), barriers=resource.tag_keys("barriers"), levers=resource.tag_keys("levers"),
    )
