"""Cities: search the registry and the content, city profiles, peer cities, Pilot/Twin pairing.

Thin layer: every endpoint calls the snapshot's `PeerService` (nzc_knowledge/recommend/peers.py)
and maps its typed answer (nzc_knowledge/models.py) onto a response schema (api/schemas.py).
Unknown cities answer 404 with the close matches, ambiguous names 400, invalid parameters 422
(domain errors mapped by the app's handler).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import WithJsonSchema

from nzc_knowledge.api.deps import get_peer_service
from nzc_knowledge.api.openapi import BarrierKey, CountryCode, DomainKey, LeverKey, OptionalCountryCode, errors
from nzc_knowledge.api.schemas import (
    NON_BLANK, CityProfile, CitySearchResponse, PeersResponse, TwinningRequest, TwinningResponse,
)
from nzc_knowledge.recommend.lookup import MAX_LIMIT
from nzc_knowledge.recommend.peers import PeerService

router = APIRouter(tags=["cities"])

PeerServiceDep = Annotated[PeerService, Depends(get_peer_service)]
# Stated in the schema only (WithJsonSchema): the service enforces it with its own, more helpful messages.
CityPath = Annotated[
    str,
    Path(description="A city as any common spelling names it (Milano, Milan, Kraków, Krakow); 'Name, CC' disambiguates"),
    WithJsonSchema(NON_BLANK),
]
ERRORS = errors(
    503,
    e400="The name is ambiguous (several countries): add the country",
    e404="Unknown city; the message lists close matches",
    e422="Invalid parameter (unknown tag key, country code, limit, a repeated parameter)",
)


@router.get("/cities", response_model=CitySearchResponse, summary="Find cities in the registry and the content",
            responses=errors(503, e422=ERRORS[422]["description"]))
def search_cities(
    service: PeerServiceDep,
    q: Annotated[str, Query(description="Any spelling, or its beginning; empty lists the cities with content"),
                 WithJsonSchema({"type": "string", "maxLength": 200})] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    country: Annotated[OptionalCountryCode | None, Query(description="Only cities of this ISO-2 country")] = None,
) -> CitySearchResponse:
    return CitySearchResponse.model_validate(service.search_cities(q, limit=limit, country=country), from_attributes=True)


# `{city:path}`: registry names such as "Bruxelles / Brussel" hold a slash (sent as %2F). The peers route is declared
# first so that ".../peers" is not read as part of a city name.
@router.get("/cities/{city:path}/peers", response_model=PeersResponse, summary="Cities with similar challenges, explained",
            responses=ERRORS)
def city_peers(
    service: PeerServiceDep,
    city: CityPath,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 5,
    domain: Annotated[list[DomainKey] | None, Query()] = None,
    barrier: Annotated[list[BarrierKey] | None, Query()] = None,
    lever: Annotated[list[LeverKey] | None, Query()] = None,
    country: Annotated[list[CountryCode] | None, Query(description="Peers must be in one of these ISO-2 countries")] = None,
    exclude_country: Annotated[list[CountryCode] | None, Query(description="Peers must not be in these countries")] = None,
    prefer_similar_size: bool = True,
    prefer_nearby: bool = False,
    city_country: Annotated[OptionalCountryCode | None, Query(description="ISO-2 country of the queried city, when ambiguous")] = None,
) -> PeersResponse:
    answer = service.peers(
        city, limit=limit, domain=domain or [], barrier=barrier or [], lever=lever or [], country=country or [],
        exclude_country=exclude_country or [], prefer_similar_size=prefer_similar_size, prefer_nearby=prefer_nearby,
        city_country=city_country,
    )
    return PeersResponse.model_validate(answer, from_attributes=True)


@router.get("/cities/{city:path}", response_model=CityProfile, summary="A city's profile with its resources", responses=ERRORS)
def city_profile(
    service: PeerServiceDep,
    city: CityPath,
    country: Annotated[OptionalCountryCode | None, Query(description="ISO-2 country, when the name exists in several")] = None,
) -> CityProfile:
    return CityProfile.model_validate(service.city(city, country), from_attributes=True)


@router.post("/twinning", response_model=TwinningResponse, summary="Pair Pilot and Twin cities for the best total fit",
             responses=errors(400, 413, 503, e422="Empty lists, duplicates, a city on both sides, unknown or ambiguous names, "
                                             "max_twins_per_pilot out of range"))
def twinning(service: PeerServiceDep, body: TwinningRequest) -> TwinningResponse:
    plan = service.twinning(body.pilots, body.twins, body.max_twins_per_pilot)
    return TwinningResponse.model_validate(plan, from_attributes=True)
