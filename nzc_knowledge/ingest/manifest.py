"""Read curators' `manifest.jsonl` files: one JSON object a line, validated against the portal's vocabulary.

A malformed line, an unknown field or a value outside the vocabulary is reported with its line number
and that line is skipped; every other line is used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from nzc_knowledge.models import Resource
from nzc_knowledge.taxonomy import TAG_FAMILIES, TYPE_KEYS, keys_of

MANIFEST_NAME = "manifest.jsonl"
REQUIRED = ("id", "file")
OPTIONAL = ("title", "type", "city", "country", "language", "year", "url", "domains", "barriers", "levers")
# Eurostat and the EU institutions write Greece as EL and the United Kingdom as UK; ISO 3166-1 says GR and GB.
COUNTRY_ALIASES = {"EL": "GR", "UK": "GB"}
VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")
URL_SCHEMES = ("http", "https")  # the page renders `url` as a link: javascript: or data: would run there


@dataclass
class ManifestEntry:
    """One validated manifest line; `path` is the resolved document path."""

    id: str
    path: Path
    fields: dict[str, Any]
    line: int


@dataclass
class Manifest:
    entries: dict[Path, ManifestEntry] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def read_manifest(path: Path, source_root: Path) -> Manifest:
    """Validate every line of one manifest file; paths are relative to the manifest's folder."""
    manifest = Manifest()
    seen_ids: set[str] = set()
    where = path.relative_to(source_root).as_posix()
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = _parse_line(line, path.parent, source_root)
        except ValueError as error:
            manifest.errors.append(f"{where}:{number}: {error}; line skipped")
            continue
        if entry.id in seen_ids:
            manifest.errors.append(f"{where}:{number}: duplicate id {entry.id!r}; line skipped")
            continue
        if entry.path in manifest.entries:
            manifest.errors.append(f"{where}:{number}: file {entry.fields['file']!r} is listed twice; line skipped")
            continue
        entry.line = number
        seen_ids.add(entry.id)
        manifest.entries[entry.path] = entry
    return manifest


def _parse_line(line: str, folder: Path, source_root: Path) -> ManifestEntry:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"malformed JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(data, dict):
        raise ValueError("a manifest line must be a JSON object")
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(REQUIRED + OPTIONAL)}")
    for name in REQUIRED:
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise ValueError(f"missing required field {name!r}")
    if not VALID_ID.match(data["id"]):
        raise ValueError(f"invalid id {data['id']!r}: use letters, digits and . _ : - (at most 200 characters)")
    path = (folder / data["file"]).resolve()
    if not path.is_relative_to(source_root.resolve()):
        raise ValueError(f"file {data['file']!r} points outside the source folder")
    fields = {name: value for name, value in data.items() if name not in REQUIRED and value not in (None, "", [])}
    validate_fields(fields)
    fields["file"] = data["file"]
    return ManifestEntry(id=data["id"], path=path, fields=fields, line=0)


def validate_fields(fields: dict[str, Any]) -> None:
    for name in ("title", "city", "url"):
        if name in fields and not isinstance(fields[name], str):
            raise ValueError(f"{name} must be a string")
    if "url" in fields:
        fields["url"] = web_address(fields["url"])
    if "type" in fields:
        fields["type"] = _one_of("type", fields["type"], TYPE_KEYS)
    if "country" in fields:
        country = str(fields["country"]).strip().upper()
        country = COUNTRY_ALIASES.get(country, country)
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise ValueError(f"country {fields['country']!r} is not an ISO 3166-1 alpha-2 code (e.g. DE, IT, GR)")
        fields["country"] = country
    if "language" in fields:
        language = str(fields["language"]).strip().lower()
        if not re.fullmatch(r"[a-z]{2}", language):
            raise ValueError(f"language {fields['language']!r} is not an ISO 639-1 code (e.g. en, it, de)")
        fields["language"] = language
    if "year" in fields:
        year = fields["year"]
        if isinstance(year, str) and year.strip().isdigit():
            year = int(year)
        if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2100:
            raise ValueError(f"year {fields['year']!r} must be an integer between 1900 and 2100")
        fields["year"] = year
    for family in ("domains", "barriers", "levers"):
        if family in fields:
            values = fields[family]
            if not isinstance(values, list):
                raise ValueError(f"{family} must be a list of keys")
            fields[family] = [_one_of(family[:-1], value, keys_of(family)) for value in values]


def web_address(url: str) -> str:
    """`url` if it is an absolute http(s) address with a host; ValueError otherwise."""
    candidate = url.strip()
    try:
        parts = urlsplit(candidate)
    except ValueError:
        parts = None
    if (parts is None or parts.scheme.lower() not in URL_SCHEMES or not parts.hostname
            or any(character.isspace() or ord(character) < 0x20 for character in candidate)):
        raise ValueError(f"url {url!r} is not an http(s) address")
    return candidate


def _one_of(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if isinstance(value, str) and value.strip().lower() in allowed:
        return value.strip().lower()
    raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")


def curated_empty_families(manifest: Path) -> dict[str, set[str]]:
    """family -> ids of resources whose manifest line gives that family as an empty list."""
    empty: dict[str, set[str]] = {family: set() for family in TAG_FAMILIES}
    if not Path(manifest).exists():
        return empty
    with Path(manifest).open(encoding="utf-8") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # the ingest reports malformed manifest lines; here they simply judge nothing
            if not isinstance(row, dict) or "id" not in row:
                continue
            for family in TAG_FAMILIES:
                if row.get(family) == []:
                    empty[family].add(str(row["id"]))
    return empty


def curated_keys(resource: Resource, family: str) -> list[str]:
    """The keys of `family` that curators gave `resource` (not the tagger's)."""
    return [tag.key for tag in getattr(resource, family) if tag.source == "curated"]
