"""Peer cities: cities that face similar challenges, with an explanation a city officer can act on.

`PeerService` puts the parts together for one snapshot: the city directory (profiles.py: every
known city and its names), the scorer (scorer.py: challenge, size, geography; passages.py: the
passage similarity), the prose (explain.py) and the Pilot/Twin planner (twinning.py). It answers
in the typed models of nzc_knowledge/models.py; the API maps them onto its response schemas.

Peers are cities with content (a city without resources has no challenge profile to compare). A
queried city without content is matched on size and geography only, and the answer says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nzc_knowledge.index.snapshot import Snapshot
from nzc_knowledge.models import (
    CityProfile, CitySearch, Peer, PeerSuggestion, Resource, ScoreComponents, TwinningPlan,
)
from nzc_knowledge.recommend.explain import explain_match, explain_profile
from nzc_knowledge.recommend.lookup import check_limit, city_profile, search_cities
from nzc_knowledge.recommend.names import normalise_country
from nzc_knowledge.recommend.passages import PASSAGE_VECTORS, VectorSource, resource_vectors
from nzc_knowledge.recommend.profiles import CityDirectory, build_city_profiles
from nzc_knowledge.recommend.scorer import COMPONENTS, PeerScorer, PeerWeights, choose_weights
from nzc_knowledge.recommend.twinning import plan_twinning
from nzc_knowledge.taxonomy import keys_of, normalise_key

logger = logging.getLogger(__name__)

FILTER_FAMILIES = {"domain": "domains", "barrier": "barriers", "lever": "levers"}


class PeerService:
    """Peer-city suggestions, city search and profiles, and Pilot/Twin pairing over one snapshot's cities.

    Built once per loaded snapshot (about a second: the registry's names and GeoNames' alternates);
    a peers query is then a few vector operations over the content cities.

    Example:
        service = PeerService.from_snapshot(Snapshot.load(store.current_path()), registry_path)
        service.peers("Kraków", limit=3).peers[0].explanation
        service.twinning(["Milan", "Lahti"], ["Parma", "Velenje", "Kozani"], max_twins_per_pilot=2)
    """

    def __init__(self, scorer: PeerScorer, snapshot_id: str | None = None, passage_vectors: str = "none") -> None:
        self.scorer = scorer
        self.snapshot_id = snapshot_id
        self.passage_vectors = passage_vectors  # "dense", "multilingual", "given" (in memory) or "none"

    @classmethod
    def from_snapshot(
        cls, snapshot: Snapshot, registry_path: Path | None = None, use_geonames: bool = True,
        text_weight: float | None = None, weights: PeerWeights | None = None, passage_vectors: str = PASSAGE_VECTORS,
        backend: VectorSource | None = None,
    ) -> PeerService:
        """The service over a loaded snapshot: its stored city profiles, else profiles built now from `registry_path`
        (default: the registry shipped with the package); passage vectors read from `backend` (default: the
        snapshot's own indexes)."""
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
        vectors = resource_vectors(snapshot, passage_vectors, backend)
        source = "multilingual" if passage_vectors == "multilingual" and snapshot.multilingual is not None else "dense"
        directory = CityDirectory.load(stored, use_geonames=use_geonames)
        scorer = PeerScorer.build(directory, snapshot.resources, vectors, choose_weights(weights, text_weight))
        return cls(scorer, snapshot.manifest.get("snapshot_id"), source)

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
        stored = build_city_profiles(resources, registry_path)
        directory = CityDirectory.load(stored, use_geonames=use_geonames)
        scorer = PeerScorer.build(directory, resources, vectors or {}, choose_weights(weights, text_weight))
        return cls(scorer, None, "given" if vectors else "none")

    def reweighted(self, weights: PeerWeights) -> PeerService:
        """The same service scoring with other weights (cheap: names, profiles and passages are shared)."""
        return PeerService(self.scorer.reweighted(weights), self.snapshot_id, self.passage_vectors)

    @property
    def weights(self) -> PeerWeights:
        return self.scorer.weights

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
    ) -> PeerSuggestion:
        """The `limit` content cities most similar to `city`, each with shared tags, explanation, evidence.

        `domain`/`barrier`/`lever`: the peer must treat at least one of the given keys of each field given.
        `country`/`exclude_country`: ISO-2 codes a peer must / must not be in.
        """
        limit = check_limit(limit)
        required = {
            FILTER_FAMILIES[name]: [normalise_key(name, value, keys_of(FILTER_FAMILIES[name])) for value in values]
            for name, values in (("domain", domain), ("barrier", barrier), ("lever", lever)) if values
        }
        include = {normalise_country(code) for code in country}
        exclude = {normalise_country(code, "exclude_country") for code in exclude_country}
        scorer = self.scorer
        position = scorer.resolve(city, city_country)
        record = scorer.records[position]
        candidates = scorer.candidates(position, include, exclude, required)
        answer = PeerSuggestion(
            city=record.name,
            country=record.country,
            has_content=record.has_content,
            basis="challenges" if record.has_content else "size_and_geography",
            note=None if record.has_content else explain_profile(record),
        )
        if len(candidates) == 0:
            answer.note = "No city with content matches these filters."
            return answer
        for peer_row, parts in scorer.rank(position, candidates, prefer_similar_size, prefer_nearby, limit):
            answer.peers.append(self._peer(position, peer_row, parts, prefer_nearby))
        return answer

    def _peer(self, query_position: int, peer_row: int, parts: dict[str, float], prefer_nearby: bool) -> Peer:
        scorer = self.scorer
        peer = scorer.records[scorer.content[peer_row]]
        basis = scorer.match_basis(query_position, peer_row, parts)
        query = scorer.records[query_position]
        return Peer(
            city=peer.name,
            country=peer.country,
            score=round(parts["total"], 4),
            shared_domains=basis.shared["domains"],
            shared_barriers=basis.shared["barriers"],
            shared_levers=basis.shared["levers"],
            explanation=explain_match(query, peer, basis.shared, basis.evidence, basis.distance_km, scorer.resources,
                                      prefer_nearby, basis.pair),
            evidence=basis.evidence,
            registry_name=peer.registry.name if peer.registry else None,
            population=peer.population,
            size_class=peer.size,
            distance_km=basis.distance_km,
            components=ScoreComponents(**{name: round(parts[name], 4) for name in COMPONENTS}),
        )

    def search_cities(self, q: str | None = None, limit: int = 10, country: str | None = None) -> CitySearch:
        """Cities whose spellings match `q` (exact, prefix, then fuzzy); content cities when `q` is empty."""
        return search_cities(self.scorer.directory, q, limit, country)

    def city(self, name: str, country: str | None = None) -> CityProfile:
        """A city's profile: registry facts, weighted tags, its resources, and what the profile rests on."""
        return city_profile(self.scorer.directory, self.scorer.resources, name, country)

    def twinning(self, pilots: Sequence[str], twins: Sequence[str], max_twins_per_pilot: int = 1) -> TwinningPlan:
        """Pair Pilot cities with Twin cities, maximising total fit (see twinning.py)."""
        return plan_twinning(self.scorer, pilots, twins, max_twins_per_pilot)


__all__ = ["PeerService", "PeerWeights", "resource_vectors"]
