"""Challenge profiles of cities: what a city works on, what holds it back, which levers it uses.

A content city (as a manifest names it) gets weighted emission domains, barriers and levers from the
tags of its resources; every Covenant of Mayors signatory gets a registry profile (size, region,
location, commitments) even without content. `build_city_profiles` runs at ingest as a snapshot
extension and stores both compactly in the snapshot (`cities.json`); `CityDirectory.load` reads
them back and builds the name index the peer service resolves cities with.

Tag weight: for each key, the mean over the city's resources of `confidence x source factor`
(curated tags count 1.0, predicted tags `PREDICTED_FACTOR`), so 1.0 means every resource of the
city treats the topic with full confidence; 0.5, half of them do.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from nzc_knowledge.errors import BrokenSnapshot
from nzc_knowledge.models import Resource
from nzc_knowledge.recommend.names import (
    DERIVED, MEMBER, NAME, GeoNames, NameIndex, clean_name, curated_aliases, fold, iso_countries,
)
from nzc_knowledge.recommend.registry import (
    REGISTRY_COLUMNS, RegistryEntry, default_registry_path, read_registry,
)
from nzc_knowledge.taxonomy import TAG_FAMILIES

logger = logging.getLogger(__name__)

FORMAT = 1
PREDICTED_FACTOR = 0.7  # a predicted tag is evidence, but weaker than a curator's
GEONAMES_MIN_POPULATION = 50_000  # below this GeoNames' alternate names are mostly transliteration noise

SIZE_CLASSES: tuple[tuple[str, int | None, str, str], ...] = (
    # key, upper bound (exclusive), singular, plural
    ("small", 50_000, "small town", "small towns"),
    ("medium", 250_000, "mid-size city", "mid-size cities"),
    ("large", 1_000_000, "large city", "large cities"),
    ("metropolis", None, "metropolis", "metropolises"),
)

# EU macro-regions (after EuroVoc's geographical groupings, with the Baltic states on their own and
# the Covenant's non-EU signatories in their neighbourhoods). Used to explain and weigh geography.
REGIONS: dict[str, tuple[str, ...]] = {
    "Nordic": ("DK", "FI", "SE", "NO", "IS", "FO", "GL", "AX"),
    "Baltic": ("EE", "LV", "LT"),
    "Western": ("AT", "BE", "CH", "DE", "FR", "IE", "LI", "LU", "MC", "NL", "GB"),
    "Southern": ("AD", "CY", "ES", "GR", "IT", "MT", "PT", "SM", "VA", "GI"),
    "Central-Eastern": ("BG", "CZ", "HR", "HU", "PL", "RO", "SI", "SK"),
    "Western Balkans": ("AL", "BA", "ME", "MK", "RS", "XK"),
    "Eastern Partnership": ("AM", "AZ", "BY", "GE", "MD", "UA"),
    "Eastern Mediterranean": ("TR", "IL", "PS", "JO", "LB", "IQ", "SY", "EG"),
    "North Africa": ("MA", "TN", "DZ", "LY"),
    "Central Asia": ("KZ", "KG", "TJ", "UZ", "TM"),
}
_REGION_OF = {country: region for region, countries in REGIONS.items() for country in countries}
EUROPEAN_REGIONS = ("Nordic", "Baltic", "Western", "Southern", "Central-Eastern", "Western Balkans", "Eastern Partnership")


def region_of(country: str | None) -> str | None:
    """The macro-region of an ISO-2 country ("Nordic", "Southern", ...); "Other" outside the table."""
    if not country:
        return None
    return _REGION_OF.get(country, "Other")


def region_label(region: str | None) -> str | None:
    if region is None or region == "Other":
        return None
    return f"{region} Europe" if region in ("Nordic", "Western", "Southern", "Central-Eastern") else region


def size_class(population: int | None) -> str | None:
    """small (< 50k), medium (< 250k), large (< 1M), metropolis; None when the population is unknown."""
    if population is None or population <= 0:
        return None
    for key, bound, _singular, _plural in SIZE_CLASSES:
        if bound is None or population < bound:
            return key
    return None


def size_words(size: str | None, plural: bool = False) -> str:
    for key, _bound, singular, plural_form in SIZE_CLASSES:
        if key == size:
            return plural_form if plural else singular
    return "cities" if plural else "city"


def tag_weight(confidence: float, source: str) -> float:
    return float(confidence) * (1.0 if source == "curated" else PREDICTED_FACTOR)


def content_cities(resources: Iterable[Resource]) -> list[dict[str, Any]]:
    """Group resources by city (folded name + country); weights per tag family, resource ids as evidence.

    The city is named as most of its resources' manifest lines name it; its country is the most common one.
    """
    groups: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        if resource.city and resource.city.strip():
            groups[fold(resource.city)].append(resource)
    cities = []
    for members in groups.values():
        names = Counter(resource.city.strip() for resource in members if resource.city)
        countries = Counter(resource.country for resource in members if resource.country)
        profile: dict[str, Any] = {
            "city": names.most_common(1)[0][0],
            "country": countries.most_common(1)[0][0] if countries else None,
            "spellings": sorted(names),
            "resources": sorted(resource.id for resource in members),
        }
        for family in TAG_FAMILIES:
            totals: dict[str, float] = defaultdict(float)
            for resource in members:
                for tag in getattr(resource, family):
                    totals[tag.key] += tag_weight(tag.confidence, tag.source)
            profile[family] = {key: round(total / len(members), 4) for key, total in sorted(totals.items())}
        cities.append(profile)
    cities.sort(key=lambda city: (fold(city["city"]), city["country"] or ""))
    return cities


@lru_cache(maxsize=2)
def _registry_index(entries: tuple[RegistryEntry, ...]) -> NameIndex:
    """Names of registry cities (not groups), for linking content cities to their registry entry.

    Cached per registry (its entries are frozen, the index is only read): every build of city profiles in a process
    (a reindex, each benchmark or test corpus) links against the same 12,000 names.
    """
    index = NameIndex()
    for entry in entries:
        rank = (0 if entry.kind == "city" else 1, -(entry.population or 0))
        clean = clean_name(entry.name)
        entity = index.add_entity(clean.display, entry.country, rank)
        for name in clean.names:
            index.add_name(entity, name, NAME)
            for alias in curated_aliases(name, entry.country):
                index.add_name(entity, alias, NAME)
        for name in clean.derived:
            index.add_name(entity, name, DERIVED)
    return index


def link_to_registry(city: str, country: str | None, entries: list[RegistryEntry], index: NameIndex) -> RegistryEntry | None:
    """The registry city a content city is (same country, a name or curated alias matching); None if absent."""
    spellings = [city, *curated_aliases(city, country)]
    folded = {fold(spelling) for spelling in spellings}
    found: list[tuple[int, int]] = []
    for spelling in spellings:
        found.extend(index.candidates(spelling, country))
    # Prefer a name match over an alias, a city over a group, the registry's own spelling over a cleaned one
    # ("Kranj" over "Mestna občina Kranj"), then the larger population.
    cities = [
        (tier, entries[entity].kind != "city", fold(entries[entity].name) not in folded, -(entries[entity].population or 0), entity)
        for entity, tier in found
    ]
    cities = [item for item in cities if item[0] <= DERIVED]
    if not cities:
        return None
    return entries[min(cities)[4]]


def _registry_rows(entries: list[RegistryEntry]) -> list[list[Any]]:
    return [
        [
            entry.id, entry.name, entry.country, entry.population, entry.lat, entry.lon, entry.kind,
            entry.group_id or "", entry.group_name or "", "|".join(entry.members), " ".join(entry.commitments),
            entry.status,
        ]
        for entry in entries
    ]


def build_city_profiles(
    resources: list[Resource], registry_path: Path | None = None, entries: list[RegistryEntry] | None = None
) -> dict[str, Any]:
    """Snapshot extension: content-city profiles linked to the registry, plus the registry itself (compact).

    The registry is read from `registry_path` (default: the registry shipped with the package)
    unless `entries` are given.

    Example:
        build_snapshot(Path("ingest"), Path("indexes"), extensions={"cities": build_city_profiles})
    """
    path: Path | None = Path(registry_path) if registry_path is not None else default_registry_path()
    if entries is None:
        entries = read_registry(path)
    else:
        path = None  # given in memory
    index = _registry_index(tuple(entries))
    content = content_cities(resources)
    unlinked = []
    for city in content:
        entry = link_to_registry(city["city"], city["country"], entries, index)
        city["registry_id"] = entry.id if entry else None
        if entry is None:
            unlinked.append(f"{city['city']} ({city['country']})")
    if unlinked:
        logger.info("content cities not in the Covenant of Mayors registry: %s", ", ".join(unlinked))
    return {
        "format": FORMAT,
        "registry": {
            "source": path.name if path else None,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest() if path else None,
            "columns": list(REGISTRY_COLUMNS),
            "rows": _registry_rows(entries),
        },
        "content": content,
        "weights": {"curated": 1.0, "predicted": PREDICTED_FACTOR},
        "not_in_registry": unlinked,
    }


def city_profiles_extension(registry_path: Path | None = None) -> Callable[[list[Resource]], dict[str, Any]]:
    """`build_city_profiles` bound to a registry file, for `build_snapshot(extensions={"cities": ...})`."""

    def extension(resources: list[Resource]) -> dict[str, Any]:
        return build_city_profiles(resources, registry_path)

    return extension


def registry_for(source_dir: Path) -> Path:
    """The registry an ingest of `source_dir` uses: the folder's own `registry/cities.csv`, else the bundled one."""
    own = Path(source_dir) / "registry" / "cities.csv"
    return own if own.exists() else default_registry_path()


def snapshot_extensions(source_dir: Path) -> dict[str, Callable[[list[Resource]], dict[str, Any]]]:
    """What every snapshot of `source_dir` stores beside the index: the city profiles (`cities.json`)."""
    return {"cities": city_profiles_extension(registry_for(source_dir))}


@dataclass
class CityRecord:
    """One city the engine knows: a content city (maybe linked to the registry) or a registry-only signatory."""

    name: str  # as the content's manifest names it when it has content, else the registry's clean name
    country: str | None
    has_content: bool
    registry: RegistryEntry | None = None
    registry_display: str | None = None
    population: int | None = None
    lat: float | None = None
    lon: float | None = None
    population_source: str | None = None  # "registry" | "geonames"
    resources: list[str] = field(default_factory=list)
    weights: dict[str, dict[str, float]] = field(default_factory=dict)  # family -> key -> weight
    spellings: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.registry.kind if self.registry else "city"

    @property
    def size(self) -> str | None:
        return size_class(self.population)

    @property
    def region(self) -> str | None:
        return region_of(self.country)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.country})" if self.country else self.name


def _entry_from_row(row: list[Any]) -> RegistryEntry:
    (entry_id, name, country, population, lat, lon, kind, group_id, group_name, members, commitments, status) = row
    return RegistryEntry(
        id=str(entry_id), name=name, country=country, population=population, lat=lat, lon=lon,
        kind="group" if kind == "group" else "city", group_id=group_id or None, group_name=group_name or None,
        members=tuple(member for member in members.split("|") if member), commitments=tuple(commitments.split()),
        status=status,
    )


class CityDirectory:
    """All cities (content + registry) with their names, built once per snapshot.

    Example:
        directory = CityDirectory.load(snapshot.extras["cities"])
        record = directory.records[directory.index.resolve("Milano")]
    """

    def __init__(self, records: list[CityRecord], index: NameIndex, stored: dict[str, Any]) -> None:
        self.records = records
        self.index = index
        self.stored = stored
        self.by_registry_id = {record.registry.id: position for position, record in enumerate(records) if record.registry}
        self.content_positions = [position for position, record in enumerate(records) if record.has_content]

    @classmethod
    def load(cls, stored: dict[str, Any], use_geonames: bool = True) -> CityDirectory:
        """Records and the name index from `cities.json`; GeoNames adds alternate names when `use_geonames`."""
        if stored.get("format") != FORMAT:
            raise BrokenSnapshot(f"cities.json has format {stored.get('format')}, this engine reads {FORMAT}: reingest")
        registry = stored["registry"]
        if registry.get("columns") != list(REGISTRY_COLUMNS):
            raise BrokenSnapshot("cities.json has registry columns this engine does not know: reingest")
        entries = [_entry_from_row(row) for row in registry["rows"]]
        by_id = {entry.id: entry for entry in entries}
        records: list[CityRecord] = []
        linked: set[str] = set()
        for city in stored["content"]:
            entry = by_id.get(city["registry_id"]) if city.get("registry_id") else None
            if entry:
                linked.add(entry.id)
            records.append(CityRecord(
                name=city["city"], country=city["country"], has_content=True, registry=entry,
                registry_display=clean_name(entry.name).display if entry else None,
                population=entry.population if entry else None, lat=entry.lat if entry else None,
                lon=entry.lon if entry else None, population_source="registry" if entry and entry.population else None,
                resources=list(city["resources"]), weights={family: dict(city[family]) for family in TAG_FAMILIES},
                spellings=list(city.get("spellings", [city["city"]])),
            ))
        for entry in entries:
            if entry.id in linked:
                continue
            display = clean_name(entry.name).display
            records.append(CityRecord(
                name=display, country=entry.country, has_content=False, registry=entry, registry_display=display,
                population=entry.population, lat=entry.lat, lon=entry.lon,
                population_source="registry" if entry.population else None,
            ))
        geonames = GeoNames.for_countries({record.country for record in records if record.country}) if use_geonames else None
        return cls(records, _name_index(records, geonames), stored)


def _name_index(records: list[CityRecord], geonames: GeoNames | None) -> NameIndex:
    index = NameIndex()
    known_countries = iso_countries()
    for record in records:
        rank = (0 if record.has_content else 1, 0 if record.kind == "city" else 1, -(record.population or 0))
        entity = index.add_entity(record.name, record.country, rank)
        spellings = list(record.spellings)
        derived: list[str] = []
        if record.registry:
            clean = clean_name(record.registry.name)
            spellings.extend(clean.names)
            derived.extend(clean.derived)
        for spelling in list(spellings):
            spellings.extend(curated_aliases(spelling, record.country))
        for spelling in spellings:
            index.add_name(entity, spelling, NAME)
        for spelling in derived:
            index.add_name(entity, spelling, DERIVED)
        if record.kind == "group" and record.registry:
            for member in record.registry.members:
                index.add_name(entity, clean_name(member).display, MEMBER)
        if geonames is not None and record.kind == "city" and record.country in known_countries:
            if record.has_content or (record.population or 0) >= GEONAMES_MIN_POPULATION:
                city = geonames.match(spellings, record.country, record.lat, record.lon)
                if city is not None:
                    for spelling in geonames.alternates(spellings, record.country, record.lat, record.lon):
                        index.add_name(entity, spelling, DERIVED)
                    if record.population is None and record.has_content:
                        # A content city missing from the registry: size and place from GeoNames, and we say so.
                        record.population = int(city["population"]) or None
                        record.lat, record.lon = float(city["latitude"]), float(city["longitude"])
                        record.population_source = "geonames"
    return index
