"""Peer cities: cities that face similar challenges, with an explanation a city officer can act on.

Score of a candidate peer P for a city Q (all parts in [0, 1]):

    tags(Q, P)      = sum over families f of  w_f * cos(v_f(Q), v_f(P))  /  sum of w_f over the families Q has
        v_f = tag weights of the family (see profiles.py) x idf (a tag every city has tells little);
        w_domains = 0.4, w_barriers = 0.4, w_levers = 0.2 (FAMILY_WEIGHTS): NetZeroCities pairs cities on
        shared emission domains and challenges first, levers of change second.
    passages(Q, P)  = how closely P's resources treat what Q's resources treat, from the snapshot's own
        passage embeddings (no model at query time; the multilingual index when the snapshot has one,
        PASSAGE_VECTORS, since it places an Italian and an English text on one topic close together;
        else the English-centric dense index): resource vector = mean of its chunk vectors;
        only resources with a tag (no climate content, no say); vectors centred per language (even the
        multilingual encoder places same-language texts a little closer);
        pair similarity rescaled so the corpus' median cross-city pair is 0 and identical is 1;
        passages = (1 - b) * mean over Q's resources of the best match among P's + b * the best pair,
        b = BEST_PAIR_SHARE = 0.75.
        Tags say *which* challenge (energy, finance); passages say *which kind* (lignite district
        heating, shore power at ports); `nzc eval peers [--tags-only]` measures what each adds.
    challenge(Q, P) = (1 - t) * tags + t * passages, t = TEXT_WEIGHT = 1.0 (0 when either city has
        no embedded resource, or for a service built with text_weight=0: the tags-only formula). On
        the expert cases the passages found the expected peers better than any mix with the tags; the
        tags still explain the match (shared_domains, ...) and filter it.
    size(Q, P)      = exp(-1.5 * |log10(population Q / population P)|)   (1 at equal size, 0.35 at 5x; 0.5 if unknown)
    geography(Q, P) = exp(-distance / 500 km)  (without coordinates: 0.7 same country, 0.4 same region, 0.1)

    score = (1 - s - g) * challenge + s * size + g * geography,
        s = SIZE_WEIGHT = 0.15 when prefer_similar_size, g = 0.2 when prefer_nearby (else 0).

The weights (`PeerWeights`) and the passage vectors were chosen by `nzc eval peers --tune`: a grid
search on the `tune` half of the expert cases only, reported on the `held_out` half
(eval/reports/peers-tuning.md, eval/reports/peers.md).

Peers are cities with content (a city without resources has no challenge profile to compare). A
queried city without content is matched on size and geography only (s = g = 0.5), and the
explanation says so.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from nzc_knowledge.errors import InvalidParameter
from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.models import Resource
from nzc_knowledge.recommend.names import iso_countries, normalise_country
from nzc_knowledge.recommend.profiles import (
    CityDirectory, CityRecord, build_city_profiles, region_label, size_words,
)
from nzc_knowledge.recommend.registry import COMMITMENT_LABELS
from nzc_knowledge.taxonomy import TAG_FAMILIES, keys_of, label_for, normalise_key

logger = logging.getLogger(__name__)

FAMILY_WEIGHTS = {"domains": 0.4, "barriers": 0.4, "levers": 0.2}
TEXT_WEIGHT = 1.0  # tuned (eval/reports/peers-tuning.md): tags decide only where a city has no embedded resource
BEST_PAIR_SHARE = 0.75
PASSAGE_VECTORS = "multilingual"  # which of the snapshot's dense indexes passages(Q, P) compares ("dense" or "multilingual")
MIN_LANGUAGE_RESOURCES = 3  # a language with fewer embedded resources is centred on the corpus mean
BASELINE_SAMPLE = 2000  # resources sampled to find the median cross-city similarity of a large corpus
SIZE_WEIGHT = 0.15
GEO_WEIGHT = 0.2
SIZE_SCALE = 1.5
DISTANCE_SCALE_KM = 500.0
UNKNOWN_SIZE_SIMILARITY = 0.5
MAX_LIMIT = 100
EVIDENCE_PER_PEER = 3
CLOSE_PAIR = 0.25  # rescaled passage similarity above which the closest pair of resources is named
FILTER_FAMILIES = {"domain": "domains", "barrier": "barriers", "lever": "levers"}


@dataclass(frozen=True)
class PeerWeights:
    """The weights of the peer score (see the module docstring); defaults are the tuned values."""

    domains: float = FAMILY_WEIGHTS["domains"]
    barriers: float = FAMILY_WEIGHTS["barriers"]
    levers: float = FAMILY_WEIGHTS["levers"]
    text: float = TEXT_WEIGHT
    best_pair: float = BEST_PAIR_SHARE
    size: float = SIZE_WEIGHT

    def __post_init__(self) -> None:
        for name in ("domains", "barriers", "levers", "text", "best_pair", "size"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"peer weight {name} must be between 0 and 1, got {getattr(self, name)!r}")
        if self.size + GEO_WEIGHT >= 1.0:
            raise ValueError(f"peer weight size must be below {1 - GEO_WEIGHT} so the challenge keeps a share")

    def family(self, family: str) -> float:
        return float(getattr(self, family))


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


class PeerService:
    """Peer-city suggestions and Pilot/Twin pairing over one snapshot's cities.

    Built once per loaded snapshot (about a second: the registry's names and GeoNames' alternates);
    a peers query is then a few vector operations over the content cities.

    Example:
        service = PeerService(Snapshot.load(store.current_path()))
        service.peers("Kraków", limit=3)["peers"][0]["explanation"]
        service.twinning(["Milan", "Lahti"], ["Parma", "Velenje", "Kozani"], max_twins_per_pilot=2)
    """

    def __init__(
        self, snapshot: Snapshot, registry_path: Path | None = None, use_geonames: bool = True,
        text_weight: float | None = None, weights: PeerWeights | None = None, passage_vectors: str = PASSAGE_VECTORS,
    ) -> None:
        stored = snapshot.extras.get("cities")
        if stored is None:
            logger.warning(
                "snapshot %s has no cities.json (built without the cities extension); deriving city profiles now",
                snapshot.manifest.get("snapshot_id"),
            )
            try:
                stored = build_city_profiles(snapshot.resources, registry_path)
            except FileNotFoundError as error:
                logger.warning("%s; peers are limited to the content cities", error)
                stored = build_city_profiles(snapshot.resources, entries=[])
        self.snapshot_id: str | None = snapshot.manifest.get("snapshot_id")
        vectors = resource_vectors(snapshot, passage_vectors)
        self.passage_vectors = "multilingual" if passage_vectors == "multilingual" and snapshot.multilingual is not None else "dense"
        self._setup(stored, snapshot.resources, use_geonames, vectors, _weights(weights, text_weight))

    @classmethod
    def from_resources(
        cls, resources: list[Resource], registry_path: Path | None = None, use_geonames: bool = True,
        vectors: dict[str, np.ndarray] | None = None, text_weight: float | None = None,
        weights: PeerWeights | None = None,
    ) -> PeerService:
        """A service over resources held in memory (tests, benchmarks): profiles built as an ingest would.

        `vectors` (resource id -> unit vector) enables the passage part of the score; without it the
        score uses the tags only.
        """
        service = cls.__new__(cls)
        service.snapshot_id = None
        service.passage_vectors = "given" if vectors else "none"
        service._setup(
            build_city_profiles(resources, registry_path), resources, use_geonames, vectors or {}, _weights(weights, text_weight)
        )
        return service

    def reweighted(self, weights: PeerWeights) -> PeerService:
        """The same service scoring with other weights (cheap: names, profiles and passages are shared).

        A service built with text weight 0 has no passage vectors, so the text weight stays 0 then.
        """
        service = copy.copy(self)
        service._set_weights(weights if self.passages.size or weights.text == 0 else replace(weights, text=0.0))
        return service

    # ------------------------------------------------------------------ setup

    def _setup(
        self, stored: dict[str, Any], resources: list[Resource], use_geonames: bool, vectors: dict[str, np.ndarray],
        weights: PeerWeights,
    ) -> None:
        self.text_weight = weights.text  # decides whether passage vectors are prepared at all
        self.directory = CityDirectory.load(stored, use_geonames=use_geonames)
        self.records: list[CityRecord] = self.directory.records
        self.resources: dict[str, Resource] = {resource.id: resource for resource in resources}
        self.content: np.ndarray = np.asarray(self.directory.content_positions, dtype=np.int64)
        self.content_row = {int(record): row for row, record in enumerate(self.content)}
        count = len(self.content)
        self.keys = {family: keys_of(family) for family in TAG_FAMILIES}
        self.raw: dict[str, np.ndarray] = {}
        self.unit: dict[str, np.ndarray] = {}  # per family: tag weights x idf, unit length per city
        self.idf: dict[str, np.ndarray] = {}
        for family in TAG_FAMILIES:
            matrix = np.zeros((count, len(self.keys[family])), dtype=np.float64)
            for row, position in enumerate(self.content):
                tag_weights = self.records[position].weights.get(family, {})
                for column, key in enumerate(self.keys[family]):
                    matrix[row, column] = tag_weights.get(key, 0.0)
            self.raw[family] = matrix
            document_frequency = (matrix > 0).sum(axis=0)
            self.idf[family] = np.log((1 + count) / (1 + document_frequency)) + 1.0
            weighted = matrix * self.idf[family]
            norms = np.linalg.norm(weighted, axis=1, keepdims=True)
            self.unit[family] = np.divide(weighted, norms, out=np.zeros_like(weighted), where=norms > 0)
        self.family_present = np.stack([(self.raw[family] > 0).any(axis=1) for family in TAG_FAMILIES], axis=1)
        self._set_weights(weights)
        self.log_population = np.array(
            [math.log10(self.records[p].population) if self.records[p].population else np.nan for p in self.content]
        )
        self.lat = np.radians(np.array([self.records[p].lat if self.records[p].lat is not None else np.nan for p in self.content]))
        self.lon = np.radians(np.array([self.records[p].lon if self.records[p].lon is not None else np.nan for p in self.content]))
        self.country = np.array([self.records[p].country or "" for p in self.content], dtype=object)
        self.region = np.array([self.records[p].region or "" for p in self.content], dtype=object)
        self._setup_passages(vectors)

    def _set_weights(self, weights: PeerWeights) -> None:
        """The weight-dependent part: family-weighted challenge vectors, text and size weights."""
        self.weights = weights
        self.text_weight = weights.text
        blocks = [np.sqrt(weights.family(family)) * self.unit[family] for family in TAG_FAMILIES]
        self.challenge = np.hstack(blocks) if blocks else np.zeros((len(self.content), 0))
        self.family_weight = np.array([weights.family(family) for family in TAG_FAMILIES])

    def _setup_passages(self, vectors: dict[str, np.ndarray]) -> None:
        """Resource vectors grouped by content city (rows `offsets[i]:offsets[i+1]`), and the corpus baseline."""
        ids: list[str] = []
        offsets = [0]
        for position in self.content:
            # A resource without any tag has no climate content (an events calendar): it says nothing of the challenge.
            ids.extend(rid for rid in self.records[position].resources if rid in vectors and self.has_climate_content(rid))
            offsets.append(len(ids))
        self.passage_ids = ids
        self.passage_offsets = np.asarray(offsets, dtype=np.int64)
        self.has_passages = np.diff(self.passage_offsets) > 0
        self.passage_row = {rid: row for row, rid in enumerate(ids)}
        self.baseline = 0.0
        if ids and self.text_weight > 0:
            matrix = np.stack([np.asarray(vectors[rid], dtype=np.float32) for rid in ids])
            matrix = self._center_languages(matrix, ids)
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            self.passages = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
            # A contiguous transpose: OpenBLAS multiplies by a transposed view up to 100x slower.
            self.passages_t = np.ascontiguousarray(self.passages.T)
            owner = np.repeat(np.arange(len(self.content)), np.diff(self.passage_offsets))
            sample = np.random.default_rng(0).permutation(len(ids))[:BASELINE_SAMPLE]
            similarity = self.passages[sample] @ self.passages[sample].T
            cross_city = owner[sample][:, None] != owner[sample][None, :]
            if cross_city.any():
                self.baseline = float(np.median(similarity[cross_city]))
        else:
            self.passages = np.zeros((0, 1), dtype=np.float32)
            self.passages_t = np.zeros((1, 0), dtype=np.float32)
            self.has_passages = np.zeros(len(self.content), dtype=bool)

    def has_climate_content(self, resource_id: str) -> bool:
        """Whether a resource has any tag (the contract: a page with no climate content gets none)."""
        resource = self.resources.get(resource_id)
        return resource is None or any(getattr(resource, family) for family in TAG_FAMILIES)

    def _center_languages(self, matrix: np.ndarray, ids: list[str]) -> np.ndarray:
        """Subtract each language's mean vector (the corpus mean for rare languages).

        Why: the English-centric encoder places texts of one language close together whatever their
        topic (two Italian notes on waste and on energy communities look alike); centring per language
        leaves the topic, so an Italian note on afforestation matches an English one on tree planting.
        """
        languages = np.array([(self.resources[rid].language if rid in self.resources else None) or "" for rid in ids])
        centred = matrix - matrix.mean(axis=0)
        for language in set(languages.tolist()):
            rows = languages == language
            if language and rows.sum() >= MIN_LANGUAGE_RESOURCES:
                centred[rows] = matrix[rows] - matrix[rows].mean(axis=0)
        return centred

    def _pair_similarity(self, query_row: int) -> np.ndarray:
        """Rescaled similarity of the query city's resources (rows) to every embedded resource (columns)."""
        start, end = self.passage_offsets[query_row], self.passage_offsets[query_row + 1]
        raw = self.passages[start:end] @ self.passages_t
        return np.clip((raw - self.baseline) / (1.0 - self.baseline), 0.0, 1.0)

    def _block_similarity(self, query_row: int, peer_row: int) -> np.ndarray:
        """Rescaled similarity of one city's resources (rows) to another's (columns)."""
        query = slice(self.passage_offsets[query_row], self.passage_offsets[query_row + 1])
        peer = slice(self.passage_offsets[peer_row], self.passage_offsets[peer_row + 1])
        raw = self.passages[query] @ self.passages_t[:, peer]
        return np.clip((raw - self.baseline) / (1.0 - self.baseline), 0.0, 1.0)

    def _passage_scores(self, query_rows: np.ndarray, candidate_rows: np.ndarray) -> np.ndarray:
        """passages(Q, P), queries x candidates; 0 where either city has no embedded resource."""
        scores = np.zeros((len(query_rows), len(candidate_rows)))
        if not self.has_passages.any():
            return scores
        present = np.flatnonzero(self.has_passages)
        starts = self.passage_offsets[present]
        column_of = {int(row): column for column, row in enumerate(present)}
        candidates = [column_of.get(int(row)) for row in candidate_rows]
        for index, query_row in enumerate(query_rows):
            if not self.has_passages[query_row]:
                continue
            per_resource = np.maximum.reduceat(self._pair_similarity(int(query_row)), starts, axis=1)
            share = self.weights.best_pair
            city = (1 - share) * per_resource.mean(axis=0) + share * per_resource.max(axis=0)
            scores[index] = [city[column] if column is not None else 0.0 for column in candidates]
        return scores

    # ------------------------------------------------------------------ lookup

    def resolve(self, name: str, country: str | None = None) -> int:
        """Record position of the city `name` spells (UnknownCity / AmbiguousCity list the options)."""
        return self.directory.index.resolve(name, country)

    def record(self, name: str, country: str | None = None) -> CityRecord:
        return self.records[self.resolve(name, country)]

    def search_cities(self, q: str | None = None, limit: int = 10, country: str | None = None) -> dict[str, Any]:
        """Cities whose spellings match `q` (exact, prefix, then fuzzy); content cities when `q` is empty."""
        limit = _check_limit(limit)
        code = normalise_country(country) if country else None
        if q is not None and len(q) > 200:
            raise InvalidParameter("q is too long: give at most 200 characters")
        if not q or not q.strip():
            positions = [p for p in self.directory.content_positions if code is None or self.records[p].country == code]
            positions.sort(key=lambda p: self.records[p].name.casefold())
            items = [self._summary(p) | {"score": None, "matched": None} for p in positions[:limit]]
            return {"query": q or "", "total": len(positions), "cities": items}
        hits = self.directory.index.search(q, limit=limit, country=code)
        items = [self._summary(position) | {"score": round(score, 1), "matched": spelling} for position, score, spelling in hits]
        return {"query": q, "total": len(items), "cities": items}

    def _summary(self, position: int) -> dict[str, Any]:
        record = self.records[position]
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

    def city(self, name: str, country: str | None = None) -> dict[str, Any]:
        """A city's profile: registry facts, weighted tags, its resources, and what the profile rests on."""
        position = self.resolve(name, country)
        record = self.records[position]
        profile = self._summary(position)
        group = None
        if record.registry and record.registry.group_id:
            group = {"id": record.registry.group_id, "name": record.registry.group_name}
            group_position = self.directory.by_registry_id.get(record.registry.group_id)
            if group_position is not None:
                group["name"] = self.records[group_position].name
        profile.update({
            "country_name": iso_countries().get(record.country or "", None),
            "registry_id": record.registry.id if record.registry else None,
            "aliases": self._aliases(position),
            "lat": record.lat,
            "lon": record.lon,
            "population_source": record.population_source,
            "commitments": [
                {"key": key, "label": COMMITMENT_LABELS.get(key, key)} for key in (record.registry.commitments if record.registry else ())
            ],
            "members": list(record.registry.members) if record.registry and record.kind == "group" else [],
            "group": group,
            "domains": self._weighted(record, "domains"),
            "barriers": self._weighted(record, "barriers"),
            "levers": self._weighted(record, "levers"),
            "resources": [self._resource_summary(resource_id) for resource_id in record.resources],
            "explanation": self._profile_explanation(record),
        })
        return profile

    def _aliases(self, position: int) -> list[str]:
        record = self.records[position]
        seen = {record.name.casefold()}
        aliases = []
        for spelling in [*record.spellings, *self.directory.index.names_of(position)]:
            if spelling.casefold() not in seen:
                seen.add(spelling.casefold())
                aliases.append(spelling)
        return aliases[:25]

    def _weighted(self, record: CityRecord, family: str) -> list[dict[str, Any]]:
        weights = record.weights.get(family, {})
        return [
            {"key": key, "label": label_for(family, key).label, "weight": round(weight, 3)}
            for key, weight in sorted(weights.items(), key=lambda item: (-item[1], item[0]))
        ]

    def _resource_summary(self, resource_id: str) -> dict[str, Any]:
        resource = self.resources.get(resource_id)
        if resource is None:
            return {"id": resource_id, "title": None, "type": None, "year": None, "url": None,
                    "domains": [], "barriers": [], "levers": []}
        return {
            "id": resource.id, "title": resource.title, "type": resource.type, "year": resource.year, "url": resource.url,
            "domains": resource.tag_keys("domains"), "barriers": resource.tag_keys("barriers"),
            "levers": resource.tag_keys("levers"),
        }

    def _profile_explanation(self, record: CityRecord) -> str:
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

    # ------------------------------------------------------------------ scoring

    def _challenge_scores(self, query_rows: np.ndarray, candidate_rows: np.ndarray) -> np.ndarray:
        """Challenge similarity, queries x candidates, normalised by the families each query has."""
        raw = self.challenge[query_rows] @ np.ascontiguousarray(self.challenge[candidate_rows].T)
        available = self.family_present[query_rows].astype(np.float64) @ self.family_weight
        return np.divide(raw, available[:, None], out=np.zeros_like(raw), where=available[:, None] > 0)

    def _size_scores(self, log_population: np.ndarray, candidate_rows: np.ndarray) -> np.ndarray:
        difference = np.abs(log_population[:, None] - self.log_population[candidate_rows][None, :])
        scores = np.exp(-SIZE_SCALE * difference)
        return np.where(np.isnan(scores), UNKNOWN_SIZE_SIMILARITY, scores)

    def _distances(self, lat: np.ndarray, lon: np.ndarray, candidate_rows: np.ndarray) -> np.ndarray:
        """Great-circle km, queries x candidates (NaN where a coordinate is unknown)."""
        lat2, lon2 = self.lat[candidate_rows][None, :], self.lon[candidate_rows][None, :]
        lat1, lon1 = lat[:, None], lon[:, None]
        a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))

    def _geo_scores(self, queries: list[CityRecord], candidate_rows: np.ndarray, distances: np.ndarray) -> np.ndarray:
        same_country = np.array([[record.country or "-"] for record in queries], dtype=object) == self.country[candidate_rows][None, :]
        same_region = np.array([[record.region or "-"] for record in queries], dtype=object) == self.region[candidate_rows][None, :]
        fallback = np.where(same_country, 0.7, np.where(same_region, 0.4, 0.1))
        return np.where(np.isnan(distances), fallback, np.exp(-np.nan_to_num(distances) / DISTANCE_SCALE_KM))

    def score_matrix(
        self, query_positions: Sequence[int], candidate_rows: np.ndarray, prefer_similar_size: bool = True,
        prefer_nearby: bool = False,
    ) -> dict[str, np.ndarray]:
        """Score components and total for queries (record positions) x candidates (content rows)."""
        queries = [self.records[position] for position in query_positions]
        has_content = np.array([position in self.content_row for position in query_positions])
        query_rows = np.array([self.content_row.get(position, 0) for position in query_positions], dtype=np.int64)
        tags = self._challenge_scores(query_rows, candidate_rows)
        passages = self._passage_scores(query_rows, candidate_rows)
        with_text = self.text_weight * (self.has_passages[query_rows][:, None] & self.has_passages[candidate_rows][None, :])
        challenge = ((1 - with_text) * tags + with_text * passages) * has_content[:, None]
        log_population = np.array([math.log10(r.population) if r.population else np.nan for r in queries])
        size = self._size_scores(log_population, candidate_rows)
        lat = np.radians(np.array([r.lat if r.lat is not None else np.nan for r in queries], dtype=np.float64))
        lon = np.radians(np.array([r.lon if r.lon is not None else np.nan for r in queries], dtype=np.float64))
        distances = self._distances(lat, lon, candidate_rows)
        geography = self._geo_scores(queries, candidate_rows, distances)
        s = self.weights.size if prefer_similar_size else 0.0
        g = GEO_WEIGHT if prefer_nearby else 0.0
        with_content = (1 - s - g) * challenge + s * size + g * geography
        # Without content only size and place are known; geography always counts then.
        s_only = 0.5 if prefer_similar_size else 0.0
        without_content = (s_only * size + 0.5 * geography) / (s_only + 0.5)
        total = np.where(has_content[:, None], with_content, without_content)
        return {
            "total": total, "challenge": challenge, "tags": tags * has_content[:, None],
            "passages": passages * has_content[:, None], "size": size, "geography": geography, "distance": distances,
        }

    # ------------------------------------------------------------------ peers

    def peers(
        self,
        city: str,
        limit: int = 5,
        domain: Sequence[str] = (),
        barrier: Sequence[str] = (),
        lever: Sequence[str] = (),
        country: Sequence[str] = (),
        exclude_country: Sequence[str] = (),
        prefer_similar_size: bool = True,
        prefer_nearby: bool = False,
        city_country: str | None = None,
    ) -> dict[str, Any]:
        """The `limit` content cities most similar to `city`, each with shared tags, explanation, evidence.

        `domain`/`barrier`/`lever`: the peer must treat at least one of the given keys of each field given.
        `country`/`exclude_country`: ISO-2 codes a peer must / must not be in.
        """
        limit = _check_limit(limit)
        required = {
            FILTER_FAMILIES[name]: [normalise_key(name, value, keys_of(FILTER_FAMILIES[name])) for value in values]
            for name, values in (("domain", domain), ("barrier", barrier), ("lever", lever)) if values
        }
        include = {normalise_country(code) for code in country}
        exclude = {normalise_country(code, "exclude_country") for code in exclude_country}
        position = self.resolve(city, city_country)
        record = self.records[position]
        mask = np.ones(len(self.content), dtype=bool)
        if position in self.content_row:
            mask[self.content_row[position]] = False
        if include:
            mask &= np.isin(self.country, list(include))
        if exclude:
            mask &= ~np.isin(self.country, list(exclude))
        for family, wanted in required.items():
            columns = [self.keys[family].index(key) for key in wanted]
            mask &= (self.raw[family][:, columns] > 0).any(axis=1)
        candidates = np.flatnonzero(mask)
        basis = "challenges" if record.has_content else "size_and_geography"
        result: dict[str, Any] = {
            "city": record.name,
            "country": record.country,
            "has_content": record.has_content,
            "basis": basis,
            "note": None if record.has_content else self._profile_explanation(record),
            "peers": [],
        }
        if len(candidates) == 0:
            result["note"] = "No city with content matches these filters."
            return result
        scores = self.score_matrix([position], candidates, prefer_similar_size, prefer_nearby)
        total = scores["total"][0]
        order = np.lexsort((np.array([self.records[self.content[row]].name for row in candidates]), -total))[:limit]
        for column in order:
            peer_row = int(candidates[column])
            components = {name: float(values[0, column]) for name, values in scores.items()}
            result["peers"].append(self._peer_item(position, peer_row, components, prefer_nearby))
        return result

    def shared_tags(self, query_position: int, peer_row: int) -> dict[str, list[str]]:
        """Keys both cities treat, per family, strongest shared first (min weight x idf)."""
        shared: dict[str, list[str]] = {}
        query_row = self.content_row.get(query_position)
        for family in TAG_FAMILIES:
            if query_row is None:
                shared[family] = []
                continue
            both = np.minimum(self.raw[family][query_row], self.raw[family][peer_row]) * self.idf[family]
            columns = [column for column in np.argsort(-both, kind="stable") if both[column] > 0]
            shared[family] = [self.keys[family][column] for column in columns]
        return shared

    def best_pair(self, query_position: int, peer_row: int) -> tuple[str, str, float] | None:
        """(query resource, peer resource, rescaled similarity) of the closest pair of resources, if any."""
        query_row = self.content_row.get(query_position)
        if query_row is None or self.text_weight == 0 or not (self.has_passages[query_row] and self.has_passages[peer_row]):
            return None
        start, end = self.passage_offsets[peer_row], self.passage_offsets[peer_row + 1]
        query_ids = self.passage_ids[self.passage_offsets[query_row]:self.passage_offsets[query_row + 1]]
        peer_ids = self.passage_ids[start:end]
        similarity = self._block_similarity(query_row, peer_row)
        # Only name a pair that treats a common emission domain: a high similarity without one is more
        # likely two texts in the same language than two cities with the same problem.
        for row, query_id in enumerate(query_ids):
            domains = set(self._tag_keys(query_id, "domains"))
            for column, peer_id in enumerate(peer_ids):
                if not domains & set(self._tag_keys(peer_id, "domains")):
                    similarity[row, column] = -1.0
        row, column = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
        if similarity[row, column] < 0:
            return None
        return query_ids[row], peer_ids[column], float(similarity[row, column])

    def _tag_keys(self, resource_id: str, family: str) -> list[str]:
        resource = self.resources.get(resource_id)
        return resource.tag_keys(family) if resource else []

    def evidence(
        self, query_position: int, peer_row: int, shared: dict[str, list[str]], count: int = EVIDENCE_PER_PEER
    ) -> list[str]:
        """The peer's resources closest to the query city's: passage match first, then shared tags treated."""
        record = self.records[self.content[peer_row]]
        query_row = self.content_row.get(query_position)
        text: dict[str, float] = {}
        if query_row is not None and self.text_weight > 0 and self.has_passages[query_row] and self.has_passages[peer_row]:
            similarity = self._block_similarity(query_row, peer_row).max(axis=0)
            start = self.passage_offsets[peer_row]
            text = {rid: float(similarity[self.passage_row[rid] - start]) for rid in record.resources if rid in self.passage_row}
        shared_count = max(1, sum(len(keys) for keys in shared.values()))
        ranked = []
        for order, resource_id in enumerate(record.resources):
            resource = self.resources.get(resource_id)
            if resource is None:
                continue
            tags = sum(
                tag.confidence for family in TAG_FAMILIES for tag in getattr(resource, family) if tag.key in shared[family]
            )
            ranked.append((-(text.get(resource_id, 0.0) + 0.5 * tags / shared_count), order, resource_id))
        ranked.sort()
        return [resource_id for _, _, resource_id in ranked[:count]]

    def _peer_item(self, query_position: int, peer_row: int, components: dict[str, float], prefer_nearby: bool) -> dict[str, Any]:
        peer = self.records[self.content[peer_row]]
        shared = self.shared_tags(query_position, peer_row)
        evidence = self.evidence(query_position, peer_row, shared)
        pair = self.best_pair(query_position, peer_row)
        distance = components.get("distance")
        distance = None if distance is None or math.isnan(distance) else round(distance)
        query = self.records[query_position]
        return {
            "city": peer.name,
            "country": peer.country,
            "score": round(components["total"], 4),
            "shared_domains": shared["domains"],
            "shared_barriers": shared["barriers"],
            "shared_levers": shared["levers"],
            "explanation": self.explain(query, peer, shared, evidence, distance, prefer_nearby, pair),
            "evidence": evidence,
            "registry_name": peer.registry.name if peer.registry else None,
            "population": peer.population,
            "size_class": peer.size,
            "distance_km": distance,
            "components": {
                "challenge": round(components["challenge"], 4),
                "tags": round(components["tags"], 4),
                "passages": round(components["passages"], 4),
                "size": round(components["size"], 4),
                "geography": round(components["geography"], 4),
            },
        }

    # ------------------------------------------------------------------ explanations

    def _context(self, query: CityRecord, peer: CityRecord, distance: int | None, with_distance: bool) -> str:
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

    def explain(
        self, query: CityRecord, peer: CityRecord, shared: dict[str, list[str]], evidence: list[str],
        distance: int | None, prefer_nearby: bool = False, pair: tuple[str, str, float] | None = None,
    ) -> str:
        """Two or three sentences naming what drove the match: shared tags by label, size, place, closest resources."""
        title = lambda rid: f"“{self.resources[rid].title}”"  # noqa: E731
        if pair and pair[2] >= CLOSE_PAIR and pair[0] in self.resources and pair[1] in self.resources:
            see = f" Closest resources: {query.name}'s {title(pair[0])} and {peer.name}'s {title(pair[1])}."
            others = [title(rid) for rid in evidence if rid != pair[1] and rid in self.resources][:1]
            see += f" See also {others[0]}." if others else ""
        else:
            titles = [title(rid) for rid in evidence if rid in self.resources][:2]
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
                f"geography only: {_lower_first(self._context(query, peer, distance, True))}.{treats}{see}"
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
        context = self._context(query, peer, distance, prefer_nearby)
        if not clauses:
            return f"{context}; their resources share no tagged challenge.{see}"
        challenge = "; ".join(clauses)
        return f"{context}. {challenge[:1].upper()}{challenge[1:]}.{see}"

    # ------------------------------------------------------------------ twinning

    def twinning(self, pilots: Sequence[str], twins: Sequence[str], max_twins_per_pilot: int = 1) -> dict[str, Any]:
        """Pair Pilot cities with Twin cities, maximising total fit (see twinning.py)."""
        from nzc_knowledge.recommend.twinning import plan_twinning

        return plan_twinning(self, pilots, twins, max_twins_per_pilot)


def _weights(weights: PeerWeights | None, text_weight: float | None) -> PeerWeights:
    """The weights to score with: `weights` (default: the tuned ones), with `text_weight` overriding its text weight."""
    chosen = weights or PeerWeights()
    return chosen if text_weight is None else replace(chosen, text=text_weight)


def resource_vectors(snapshot: Snapshot, source: str = PASSAGE_VECTORS) -> dict[str, np.ndarray]:
    """Resource id -> mean of its chunk vectors (unit length), from the snapshot's `source` index.

    `source` "multilingual" falls back to the dense index when the snapshot was built without one.
    """
    if source not in ("dense", "multilingual"):
        raise ValueError(f"unknown passage vectors {source!r}; choose dense or multilingual")
    index = snapshot.multilingual if source == "multilingual" and snapshot.multilingual is not None else snapshot.dense
    vectors = np.asarray(index.vectors)
    result: dict[str, np.ndarray] = {}
    if len(vectors) == 0:
        return result
    for resource, rows in zip(snapshot.resources, snapshot.resource_chunks):
        if len(rows):
            mean = vectors[rows].mean(axis=0)
            norm = float(np.linalg.norm(mean))
            if norm > 0:
                result[resource.id] = mean / norm
    return result


def _check_limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1 or limit > MAX_LIMIT:
        raise InvalidParameter(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    return limit


__all__ = ["PeerService", "PeerWeights", "FAMILY_WEIGHTS", "TEXT_WEIGHT", "resource_vectors"]
