"""The peer score: how alike two cities' challenges, sizes and places are.

Score of a candidate peer P for a city Q (all parts in [0, 1]):

    tags(Q, P)      = sum over families f of  w_f * cos(v_f(Q), v_f(P))  /  sum of w_f over the families Q has
        v_f = tag weights of the family (see profiles.py) x idf (a tag every city has tells little);
        w_domains = 0.4, w_barriers = 0.4, w_levers = 0.2 (FAMILY_WEIGHTS): NetZeroCities pairs cities on
        shared emission domains and challenges first, levers of change second.
    passages(Q, P)  = how closely P's resources treat what Q's resources treat (passages.py), from the
        snapshot's own passage embeddings (the multilingual index when the snapshot has one, since it
        places an Italian and an English text on one topic close together); b = BEST_PAIR_SHARE = 0.75.
        Tags say *which* challenge (energy, finance); passages say *which kind* (lignite district
        heating, shore power at ports); `nzc eval peers [--tags-only]` measures what each adds.
    challenge(Q, P) = (1 - t) * tags + t * passages, t = TEXT_WEIGHT = 1.0 (0 when either city has
        no embedded resource, or for a scorer built with text weight 0: the tags-only formula). On
        the expert cases the passages found the expected peers better than any mix with the tags; the
        tags still explain the match (shared_domains, ...) and filter it.
    size(Q, P)      = exp(-1.5 * |log10(population Q / population P)|)   (1 at equal size, 0.35 at 5x; 0.5 if unknown)
    geography(Q, P) = exp(-distance / 500 km)  (without coordinates: 0.7 same country, 0.4 same region, 0.1)

    score = (1 - s - g) * challenge + s * size + g * geography,
        s = SIZE_WEIGHT = 0.15 when prefer_similar_size, g = 0.2 when prefer_nearby (else 0).

The weights (`PeerWeights`) and the passage vectors were chosen by `nzc eval peers --tune`: a grid
search on the `tune` half of the expert cases only, reported on the `held_out` half
(eval/reports/peers-tuning.md, eval/reports/peers.md).

A queried city without content is matched on size and geography only (s = g = 0.5).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from nzc_knowledge.errors import InvalidParameter
from nzc_knowledge.models import Resource
from nzc_knowledge.recommend.passages import PassageSimilarity, has_climate_content
from nzc_knowledge.recommend.profiles import CityDirectory, CityRecord
from nzc_knowledge.taxonomy import TAG_FAMILIES, keys_of

FAMILY_WEIGHTS = {"domains": 0.4, "barriers": 0.4, "levers": 0.2}
TEXT_WEIGHT = 1.0  # tuned (eval/reports/peers-tuning.md): tags decide only where a city has no embedded resource
BEST_PAIR_SHARE = 0.75
SIZE_WEIGHT = 0.15
GEO_WEIGHT = 0.2
SIZE_SCALE = 1.5
DISTANCE_SCALE_KM = 500.0
UNKNOWN_SIZE_SIMILARITY = 0.5
EVIDENCE_PER_PEER = 3
COMPONENTS = ("challenge", "tags", "passages", "size", "geography")


@dataclass(frozen=True)
class MatchBasis:
    """What a match of two cities rests on: the tags both treat, the peer's closest resources, the closest pair."""

    shared: dict[str, list[str]]  # family -> keys, strongest first
    evidence: list[str]  # resource ids
    pair: tuple[str, str, float] | None  # (query resource, peer resource, similarity)
    distance_km: int | None


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
                raise InvalidParameter(f"peer weight {name} must be between 0 and 1, got {getattr(self, name)!r}")
        if self.size + GEO_WEIGHT >= 1.0:
            raise InvalidParameter(f"peer weight size must be below {1 - GEO_WEIGHT} so the challenge keeps a share")

    def family(self, family: str) -> float:
        return float(getattr(self, family))


def choose_weights(weights: PeerWeights | None, text_weight: float | None) -> PeerWeights:
    """The weights to score with: `weights` (default: the tuned ones), with `text_weight` overriding its text weight."""
    chosen = weights or PeerWeights()
    return chosen if text_weight is None else replace(chosen, text=text_weight)


class PeerScorer:
    """Scores the content cities as peers of any known city, by challenge, size and geography.

    Cities are addressed by their position in `directory.records` (queries) and by their row among
    the content cities (`content[row]` is that city's position; candidates).

    Example:
        scorer = PeerScorer.build(directory, resources, vectors, PeerWeights())
        scorer.score_matrix([scorer.resolve("Kozani")], np.arange(len(scorer.content)))["total"]
    """

    def __init__(
        self, directory: CityDirectory, resources: Mapping[str, Resource], passages: PassageSimilarity,
        weights: PeerWeights,
    ) -> None:
        self.directory = directory
        self.records: list[CityRecord] = directory.records
        self.resources = resources
        self.passages = passages
        self.content: np.ndarray = np.asarray(directory.content_positions, dtype=np.int64)
        self.content_row = {int(record): row for row, record in enumerate(self.content)}
        content = [self.records[p] for p in self.content]
        self.keys = {family: keys_of(family) for family in TAG_FAMILIES}
        self.raw: dict[str, np.ndarray] = {}
        self.unit: dict[str, np.ndarray] = {}  # per family: tag weights x idf, unit length per city
        self.idf: dict[str, np.ndarray] = {}
        for family in TAG_FAMILIES:
            matrix = np.array(
                [[record.weights.get(family, {}).get(key, 0.0) for key in self.keys[family]] for record in content],
                dtype=np.float64,
            ).reshape(len(content), len(self.keys[family]))
            self.raw[family] = matrix
            document_frequency = (matrix > 0).sum(axis=0)
            self.idf[family] = np.log((1 + len(content)) / (1 + document_frequency)) + 1.0
            weighted = matrix * self.idf[family]
            norms = np.linalg.norm(weighted, axis=1, keepdims=True)
            self.unit[family] = np.divide(weighted, norms, out=np.zeros_like(weighted), where=norms > 0)
        self.family_present = np.stack([(self.raw[family] > 0).any(axis=1) for family in TAG_FAMILIES], axis=1)
        self.log_population = np.array([math.log10(r.population) if r.population else np.nan for r in content])
        self.lat = np.radians(np.array([r.lat if r.lat is not None else np.nan for r in content]))
        self.lon = np.radians(np.array([r.lon if r.lon is not None else np.nan for r in content]))
        self.country = np.array([r.country or "" for r in content], dtype=object)
        self.region = np.array([r.region or "" for r in content], dtype=object)
        self._set_weights(weights)

    @classmethod
    def build(
        cls, directory: CityDirectory, resources: Sequence[Resource], vectors: Mapping[str, np.ndarray],
        weights: PeerWeights,
    ) -> PeerScorer:
        """A scorer over `directory`'s content cities; `vectors` (resource id -> vector) enable passages(Q, P)."""
        by_id = {resource.id: resource for resource in resources}
        members = [directory.records[position].resources for position in directory.content_positions]
        passages = PassageSimilarity(members, vectors, by_id, enabled=weights.text > 0)
        return cls(directory, by_id, passages, weights)

    def reweighted(self, weights: PeerWeights) -> PeerScorer:
        """The same scorer with other weights (cheap: names, profiles and passages are shared).

        A scorer built with text weight 0 has no passage vectors, so the text weight stays 0 then.
        """
        scorer = copy.copy(self)
        scorer._set_weights(weights if not self.passages.empty or weights.text == 0 else replace(weights, text=0.0))
        return scorer

    def _set_weights(self, weights: PeerWeights) -> None:
        """The weight-dependent part: family-weighted challenge vectors and family weights."""
        self.weights = weights
        blocks = [np.sqrt(weights.family(family)) * self.unit[family] for family in TAG_FAMILIES]
        self.challenge = np.hstack(blocks) if blocks else np.zeros((len(self.content), 0))
        self.family_weight = np.array([weights.family(family) for family in TAG_FAMILIES])

    @property
    def text_weight(self) -> float:
        return self.weights.text

    # ------------------------------------------------------------------ lookup

    def resolve(self, name: str, country: str | None = None) -> int:
        """Record position of the city `name` spells (UnknownCity / AmbiguousCity list the options)."""
        return self.directory.index.resolve(name, country)

    def has_climate_content(self, resource_id: str) -> bool:
        """Whether a resource has any tag (the contract: a page with no climate content gets none)."""
        return has_climate_content(self.resources, resource_id)

    def candidates(
        self, position: int, include: set[str], exclude: set[str], required: Mapping[str, Sequence[str]]
    ) -> np.ndarray:
        """Content rows that may be peers of the city at `position`: not itself, in/out of the countries, treating
        at least one of the required keys of each family."""
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
        return np.flatnonzero(mask)

    # ------------------------------------------------------------------ scoring

    def _tag_scores(self, query_rows: np.ndarray, candidate_rows: np.ndarray) -> np.ndarray:
        """Challenge similarity on tags, queries x candidates, normalised by the families each query has."""
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
        same_country = np.array([[r.country or "-"] for r in queries], dtype=object) == self.country[candidate_rows][None, :]
        same_region = np.array([[r.region or "-"] for r in queries], dtype=object) == self.region[candidate_rows][None, :]
        fallback = np.where(same_country, 0.7, np.where(same_region, 0.4, 0.1))
        return np.where(np.isnan(distances), fallback, np.exp(-np.nan_to_num(distances) / DISTANCE_SCALE_KM))

    def score_matrix(
        self, query_positions: Sequence[int], candidate_rows: np.ndarray, prefer_similar_size: bool = True,
        prefer_nearby: bool = False,
    ) -> dict[str, np.ndarray]:
        """Score components, total and distance for queries (record positions) x candidates (content rows)."""
        queries = [self.records[position] for position in query_positions]
        has_content = np.array([position in self.content_row for position in query_positions])
        query_rows = np.array([self.content_row.get(position, 0) for position in query_positions], dtype=np.int64)
        tags = self._tag_scores(query_rows, candidate_rows)
        passages = self.passages.city_scores(query_rows, candidate_rows, self.weights.best_pair)
        present = self.passages.present
        with_text = self.text_weight * (present[query_rows][:, None] & present[candidate_rows][None, :])
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

    def rank(
        self, position: int, candidate_rows: np.ndarray, prefer_similar_size: bool = True, prefer_nearby: bool = False,
        limit: int | None = None,
    ) -> list[tuple[int, dict[str, float]]]:
        """(content row, score parts) of the best candidates, best first; ties by name."""
        scores = self.score_matrix([position], candidate_rows, prefer_similar_size, prefer_nearby)
        names = np.array([self.records[self.content[row]].name for row in candidate_rows])
        order = np.lexsort((names, -scores["total"][0]))[:limit]
        return [
            (int(candidate_rows[column]), {name: float(values[0, column]) for name, values in scores.items()})
            for column in order
        ]

    # ------------------------------------------------------------------ what a match rests on

    def match_basis(self, query_position: int, peer_row: int, components: Mapping[str, float]) -> MatchBasis:
        """Shared tags, evidence and closest pair of a scored match (`components` as `score` returns them)."""
        shared = self.shared_tags(query_position, peer_row)
        distance = components.get("distance")
        return MatchBasis(
            shared=shared,
            evidence=self.evidence(query_position, peer_row, shared),
            pair=self.best_pair(query_position, peer_row),
            distance_km=None if distance is None or math.isnan(distance) else round(distance),
        )

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
        if query_row is None or self.text_weight == 0:
            return None
        return self.passages.best_pair(query_row, peer_row, lambda rid: self._tag_keys(rid, "domains"))

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
        if query_row is not None and self.text_weight > 0:
            text = self.passages.peer_resource_similarity(query_row, peer_row)
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
