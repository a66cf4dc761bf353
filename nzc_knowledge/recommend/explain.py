"""The prose of a match and of a profile: what drove it, in words a city officer can act on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nzc_knowledge.models import Resource
from nzc_knowledge.recommend.names import iso_countries
from nzc_knowledge.recommend.profiles import CityRecord, region_label, size_words
from nzc_knowledge.taxonomy import label_for

CLOSE_PAIR = 0.25  # rescaled passage similarity above which the closest pair of resources is named


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _label(family: str, key: str) -> str:
    text = label_for(family, key).label
    return text[:1].lower() + text[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text.startswith(("Both ", "Their ")) else text


def _population(value: int | None) -> str:
    return f"{value:,}" if value else "unknown"


def context(query: CityRecord, peer: CityRecord, distance: int | None, with_distance: bool) -> str:
    """"Both are mid-size cities (...) in Southern Europe" or "Kraków is a large city and Velenje a small town"."""
    if query.size and query.size == peer.size:
        text = (
            f"Both are {size_words(query.size, plural=True)} ({_population(query.population)} and "
            f"{_population(peer.population)} inhabitants)"
        )
    elif query.size and peer.size:
        text = f"{query.name} is a {size_words(query.size)} and {peer.name} a {size_words(peer.size)}"
    else:
        known = query if query.size else peer if peer.size else None
        text = f"{known.name} is a {size_words(known.size)}" if known else "Their sizes are not on record"
    if query.country and query.country == peer.country:
        text += f", both in {iso_countries().get(query.country, query.country)}"
    elif query.region and query.region == peer.region and region_label(query.region):
        text += f", both in {region_label(query.region)}"
    if distance is not None and (with_distance or distance < 300):
        text += f"; they are {distance:,} km apart"
    return text


def explain_match(
    query: CityRecord, peer: CityRecord, shared: Mapping[str, list[str]], evidence: list[str], distance: int | None,
    resources: Mapping[str, Resource], prefer_nearby: bool = False, pair: tuple[str, str, float] | None = None,
) -> str:
    """Two or three sentences naming what drove the match: shared tags by label, size, place, closest resources."""
    title = lambda rid: f"“{resources[rid].title}”"  # noqa: E731
    if pair and pair[2] >= CLOSE_PAIR and pair[0] in resources and pair[1] in resources:
        see = f" Closest resources: {query.name}'s {title(pair[0])} and {peer.name}'s {title(pair[1])}."
        others = [title(rid) for rid in evidence if rid != pair[1] and rid in resources][:1]
        see += f" See also {others[0]}." if others else ""
    else:
        titles = [title(rid) for rid in evidence if rid in resources][:2]
        see = f" See {peer.name}'s {_join(titles)}." if titles else ""
    if not query.has_content:
        topics = [_label("domains", key) for key, _ in sorted(peer.weights.get("domains", {}).items(), key=lambda kv: -kv[1])[:2]]
        hurdles = [_label("barriers", key) for key, _ in sorted(peer.weights.get("barriers", {}).items(), key=lambda kv: -kv[1])[:2]]
        treats = ""
        if topics or hurdles:
            treats = f" {peer.name}'s resources deal with {_join(topics) or 'climate action'}"
            treats += f" held back by {_join(hurdles)}." if hurdles else "."
        return (
            f"{query.name} has no resources in the repository yet, so {peer.name} is suggested on size and "
            f"geography only: {_lower_first(context(query, peer, distance, True))}.{treats}{see}"
        )
    clauses = []
    if shared["domains"]:
        clauses.append(f"both work on {_join([_label('domains', key) for key in shared['domains'][:2]])}")
    if shared["barriers"]:
        clauses.append(f"both are held back by {_join([_label('barriers', key) for key in shared['barriers'][:2]])}")
    if shared["levers"]:
        levers = shared["levers"][:2]
        noun = "levers of change" if len(levers) > 1 else "a lever of change"
        clauses.append(f"both use {_join([_label('levers', key) for key in levers])} as {noun}")
    text = context(query, peer, distance, prefer_nearby)
    if not clauses:
        return f"{text}; their resources share no tagged challenge.{see}"
    challenge = "; ".join(clauses)
    return f"{text}. {challenge[:1].upper()}{challenge[1:]}.{see}"


def explain_profile(record: CityRecord) -> str:
    """What a city's profile rests on: its resources, the Covenant of Mayors registry, or both."""
    count = len(record.resources)
    if record.has_content and record.registry:
        return (
            f"Challenge profile from {count} resource{'s' if count != 1 else ''} about {record.name}; size, "
            f"location and commitments from the Covenant of Mayors registry ({record.registry.name})."
        )
    if record.has_content:
        source = (
            "population and location from GeoNames"
            if record.population_source == "geonames" else "population and location unknown"
        )
        return (
            f"{record.name} is not a Covenant of Mayors signatory: its profile comes from its {count} "
            f"resource{'s' if count != 1 else ''} only ({source}; no commitments on record)."
        )
    kind = "group of municipalities" if record.kind == "group" else "city"
    return (
        f"No resource about {record.name} in the repository yet: the profile of this {kind} comes from the "
        f"Covenant of Mayors registry only (size, location, commitments), so peers are suggested on size "
        f"and geography, not on shared challenges."
    )
