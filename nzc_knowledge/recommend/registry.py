"""The city registry: every Covenant of Mayors signatory (JRC GCoM – MyCovenant, 2024) as a plain CSV.

`scripts/build_city_registry.py` turns the JRC signatory list into `nzc_knowledge/recommend/data/cities.csv` with
`parse_signatories` + `write_registry`; the engine reads it back with `read_registry`.

A signatory is either a local authority (kind `city`) or a group of municipalities that signed
together (kind `group`, "Alkmaar, Bergen, Castricum, ..." or "Unione dei Comuni della Bassa
Romagna"). A group is never treated as one city: it keeps its member names, and member
municipalities that have their own row point back to it with `group_id`.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

RegistryKind = Literal["city", "group"]

REGISTRY_COLUMNS = (
    "id", "name", "country", "population", "lat", "lon", "kind", "group_id", "group_name", "members", "commitments",
    "status",
)
MEMBER_SEPARATOR = "|"
# The Covenant of Mayors (like Eurostat) writes Greece as EL and the United Kingdom as UK; ISO 3166-1 says GR, GB.
COUNTRY_FIXES = {"EL": "GR", "UK": "GB"}
COMMITMENT_FLAGS = (
    ("commitment_CoM2020_flag", "2020"),
    ("commitment_CoM2030_flag", "2030"),
    ("commitment_CoM2050_flag", "2050"),
    ("commitment_mayoradapt_flag", "adapt"),
)
COMMITMENT_LABELS = {
    "2020": "Covenant of Mayors 2020 (-20% CO2)",
    "2030": "Covenant of Mayors 2030 (-40% CO2 or more)",
    "2050": "Covenant of Mayors 2050 (climate neutrality)",
    "adapt": "Mayors Adapt (climate adaptation)",
}
# A group's name starting with one of these is the name of an association, not a list of member towns.
_ORGANISATION_WORDS = (
    "unione", "union", "comunità montana", "comunita montana", "mancomunidad", "consorzio", "consorcio", "district",
    "asbl", "associazione", "association", "network", "area ", "valli", "sierra", "gal ", "mas ", "klimaatoverleg",
    "communauté", "agglomeration", "agglomération", "pays ", "provincia", "province", "region", "région",
)
_LIST_PREFIX = re.compile(r"^(?:congiunto\s+)?(?:comuni|comunità|comunita)\s+di\s+|^[A-Z][A-Z.]{1,9}\s+-\s+", re.IGNORECASE)
_LIST_SEPARATOR = re.compile(r"\s*[,;]\s*|\s+/\s+|\s+(?:e|i|y|and|és|et|und|en)\s+(?=[A-ZÀ-Ý])")


@dataclass(frozen=True)
class RegistryEntry:
    """One Covenant of Mayors signatory, as stored in `nzc_knowledge/recommend/data/cities.csv`."""

    id: str
    name: str  # as the Covenant of Mayors writes it ("Dublin City Council", "NANTES METROPOLE")
    country: str  # ISO 3166-1 alpha-2, upper case
    population: int | None
    lat: float | None
    lon: float | None
    kind: RegistryKind = "city"
    group_id: str | None = None  # for a member municipality: the id of the group it signed with
    group_name: str | None = None
    members: tuple[str, ...] = ()  # for a group: its member municipalities
    commitments: tuple[str, ...] = ()  # "2020", "2030", "2050", "adapt"
    status: str = "published"


def default_registry_path() -> Path:
    """The registry shipped with the package (package data), used when no other registry file is given."""
    return Path(str(resources.files("nzc_knowledge.recommend") / "data" / "cities.csv"))


def split_member_names(name: str) -> list[str]:
    """Member towns of a group named by listing them ("Sacile, Brugnera"); [] for an association's name."""
    text = _LIST_PREFIX.sub("", name.strip())
    if text.lower().startswith(_ORGANISATION_WORDS) or not re.search(r"[,;]|\s/\s", text):
        return []
    parts = [part.strip(" .") for part in _LIST_SEPARATOR.split(text)]
    return [part for part in parts if len(part) > 1 and not re.search(r"[\d()]", part)]


def _flag(value: str) -> bool:
    return value.strip().lower() == "true"


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def parse_signatories(rows: Iterable[dict[str, str]]) -> list[RegistryEntry]:
    """Turn rows of the JRC signatory CSV into registry entries (groups kept as groups).

    Coordinates that are placeholders rather than a place (whole degrees, or one point shared by
    several signatories, such as a country's centroid given to groups) are dropped.
    """
    rows = list(rows)
    shared_points = Counter((row["organisation_latitude"], row["organisation_longitude"]) for row in rows)
    member_names: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row["group_organisation_id"].strip() not in ("", "-") and row["group_profile"] != "True":
            member_names[row["group_organisation_id"].strip()].append(row["organisation_name"].strip())
    entries = []
    for row in rows:
        lat, lon = _number(row["organisation_latitude"]), _number(row["organisation_longitude"])
        point = (row["organisation_latitude"], row["organisation_longitude"])
        if lat is None or lon is None or (lat.is_integer() and lon.is_integer()) or shared_points[point] >= 3:
            lat = lon = None
        country = row["country_code"].strip().upper()
        population = row["population_adhesion"].strip()
        name = re.sub(r"\s+", " ", row["organisation_name"]).strip()
        is_group = row["group_profile"] == "True"
        group_id = row["group_organisation_id"].strip()
        members: list[str] = []
        if is_group:
            members = split_member_names(name)
            for member in member_names.get(row["organisation_id"], []):
                if member.casefold() not in {known.casefold() for known in members}:
                    members.append(member)
        entries.append(RegistryEntry(
            id=row["organisation_id"].strip(),
            name=name,
            country=COUNTRY_FIXES.get(country, country),
            population=int(float(population)) if population.replace(".", "", 1).isdigit() else None,
            lat=None if lat is None else round(lat, 5),
            lon=None if lon is None else round(lon, 5),
            kind="group" if is_group else "city",
            group_id=None if is_group or group_id in ("", "-") else group_id,
            group_name=None if is_group or row["group_name"].strip() in ("", "-") else row["group_name"].strip(),
            members=tuple(members),
            commitments=tuple(token for column, token in COMMITMENT_FLAGS if _flag(row.get(column, ""))),
            status=row["signatory_status"].strip() or "published",
        ))
    return entries


def write_registry(entries: Iterable[RegistryEntry], path: Path) -> int:
    """Write entries as `cities.csv` (UTF-8, one row per signatory); returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(REGISTRY_COLUMNS)
        for entry in entries:
            writer.writerow([
                entry.id, entry.name, entry.country, "" if entry.population is None else entry.population,
                "" if entry.lat is None else entry.lat, "" if entry.lon is None else entry.lon, entry.kind,
                entry.group_id or "", entry.group_name or "", MEMBER_SEPARATOR.join(entry.members),
                " ".join(entry.commitments), entry.status,
            ])
            count += 1
    return count


def read_registry(path: Path | None = None) -> list[RegistryEntry]:
    """Read `cities.csv`; a missing file is an error that says how to build it."""
    path = Path(path) if path is not None else default_registry_path()
    if not path.exists():
        raise FileNotFoundError(
            f"city registry {path} not found: build it with `python scripts/build_city_registry.py` "
            "(see nzc_knowledge/recommend/data/README.md)"
        )
    stat = path.stat()
    return list(_read_registry(str(path.resolve()), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=4)
def _read_registry(path_name: str, mtime_ns: int, size: int) -> tuple[RegistryEntry, ...]:
    """Parsed rows, cached per file version (path, mtime, size): every reindex reads the same registry."""
    path = Path(path_name)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(REGISTRY_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"city registry {path} lacks columns {sorted(missing)}: rebuild it")
        return tuple(
            RegistryEntry(
                id=row["id"],
                name=row["name"],
                country=row["country"],
                population=int(row["population"]) if row["population"] else None,
                lat=float(row["lat"]) if row["lat"] else None,
                lon=float(row["lon"]) if row["lon"] else None,
                kind="group" if row["kind"] == "group" else "city",
                group_id=row["group_id"] or None,
                group_name=row["group_name"] or None,
                members=tuple(member for member in row["members"].split(MEMBER_SEPARATOR) if member),
                commitments=tuple(row["commitments"].split()),
                status=row["status"],
            )
            for row in reader
        )
