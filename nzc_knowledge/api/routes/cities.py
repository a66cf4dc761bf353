"""Cities: search the registry and the content, city profiles, peer cities, Pilot/Twin pairing.

Thin layer: every endpoint calls the snapshot's `PeerService` (nzc_knowledge/recommend/peers.py)
and returns its answer through a response model. Unknown cities answer 404 with the close matches,
ambiguous names 400, invalid parameters 422 (domain errors mapped by the app's handler).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, WithJsonSchema

from nzc_knowledge.api.deps import get_peer_service
from nzc_knowledge.api.openapi import BarrierKey, CountryCode, DomainKey, LeverKey, OptionalCountryCode, errors
from nzc_knowledge.recommend.peers import MAX_LIMIT, PeerService
from nzc_knowledge.recommend.twinning import MAX_CAPACITY, MAX_CITIES_PER_SIDE

router = APIRouter(tags=["cities"])

PeerServiceDep = Annotated[PeerService, Depends(get_peer_service)]
# The constraints below are stated in the schema only (WithJsonSchema): the service enforces them with its own,
# more helpful messages, which pydantic's generic ones would replace.
NON_BLANK = {"type": "string", "minLength": 1, "pattern": "\\S"}
CityPath = Annotated[
    str,
    Path(description="A city as any common spelling names it (Milano, Milan, Kraków, Krakow); 'Name, CC' disambiguates"),
    WithJsonSchema(NON_BLANK),
]
CityName = Annotated[str, WithJsonSchema(NON_BLANK)]
ERRORS = errors(
    503,
    e400="The name is ambiguous (several countries): add the country",
    e404="Unknown city; the message lists close matches",
    e422="Invalid parameter (unknown tag key, country code, limit, a repeated parameter)",
)


class CitySummary(BaseModel):
    city: str = Field(description="As the content's manifest names it, else the registry's clean name")
    country: str | None = Field(description="ISO 3166-1 alpha-2")
    kind: Literal["city", "group"] = Field(description="'group': municipalities that signed the Covenant together")
    has_content: bool = Field(description="Whether the repository holds resources about this city")
    resource_count: int
    population: int | None
    size_class: Literal["small", "medium", "large", "metropolis"] | None = Field(
        description="small < 50,000 <= medium < 250,000 <= large < 1,000,000 <= metropolis"
    )
    region: str | None = Field(description="European macro-region (Nordic, Baltic, Western, Southern, Central-Eastern, ...)")
    registry_name: str | None = Field(description="The name in the Covenant of Mayors registry, when the city is in it")


class CityHit(CitySummary):
    score: float | None = Field(description="Match strength 0-100 (exact spelling 100); null when listing")
    matched: str | None = Field(description="The spelling that matched the query")


class CitySearchResponse(BaseModel):
    query: str
    total: int
    cities: list[CityHit]


class WeightedTag(BaseModel):
    key: str
    label: str
    weight: float = Field(description="Share of the city's resources treating it, weighted by confidence (curated 1.0, predicted 0.7)")


class Commitment(BaseModel):
    key: str = Field(description="2020, 2030, 2050 (Covenant of Mayors targets) or adapt (Mayors Adapt)")
    label: str


class ResourceBrief(BaseModel):
    id: str
    title: str | None
    type: str | None
    year: int | None
    url: str | None
    domains: list[str]
    barriers: list[str]
    levers: list[str]


class GroupRef(BaseModel):
    id: str
    name: str | None


class CityProfile(CitySummary):
    country_name: str | None
    registry_id: str | None
    aliases: list[str] = Field(description="Other spellings that find this city")
    lat: float | None
    lon: float | None
    population_source: Literal["registry", "geonames"] | None
    commitments: list[Commitment]
    members: list[str] = Field(description="Member municipalities of a group")
    group: GroupRef | None = Field(description="The group a member municipality signed with")
    domains: list[WeightedTag]
    barriers: list[WeightedTag]
    levers: list[WeightedTag]
    resources: list[ResourceBrief]
    explanation: str = Field(description="What the profile rests on (content, registry, or both)")


class PeerComponents(BaseModel):
    challenge: float = Field(description="Challenge similarity: (1 - t) * tags + t * passages")
    tags: float = Field(description="Weighted cosine over domain (0.4), barrier (0.4) and lever (0.2) vectors")
    passages: float = Field(description="How closely the peer's resources treat what the city's resources treat")
    size: float
    geography: float


class Peer(BaseModel):
    city: str
    country: str | None
    score: float
    shared_domains: list[str]
    shared_barriers: list[str]
    shared_levers: list[str]
    explanation: str
    evidence: list[str] = Field(description="Ids of the peer's resources that support the match, best first")
    registry_name: str | None
    population: int | None
    size_class: str | None
    distance_km: int | None
    components: PeerComponents


class PeersResponse(BaseModel):
    city: str
    country: str | None
    has_content: bool
    basis: Literal["challenges", "size_and_geography"] = Field(
        description="'size_and_geography' when the city has no content to compare challenges with"
    )
    note: str | None
    peers: list[Peer]


CITY_LIST = {"type": "array", "items": NON_BLANK, "minItems": 1, "maxItems": MAX_CITIES_PER_SIDE, "uniqueItems": True}


class TwinningRequest(BaseModel):
    pilots: Annotated[list[CityName], WithJsonSchema(CITY_LIST)] = Field(
        description="Pilot cities (any common spelling), each once", examples=[["Milan", "Lahti"]])
    twins: Annotated[list[CityName], WithJsonSchema(CITY_LIST)] = Field(
        description="Twin cities to pair with the pilots, each once, none also a pilot",
        examples=[["Parma", "Velenje", "Kozani"]])
    max_twins_per_pilot: Annotated[int, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_CAPACITY})] = Field(
        1, description="How many twins one pilot can take")


class Pair(BaseModel):
    pilot: str
    pilot_country: str | None
    twin: str
    twin_country: str | None
    score: float
    shared_domains: list[str]
    shared_barriers: list[str]
    shared_levers: list[str]
    explanation: str
    evidence: list[str] = Field(description="The pilot's resources the twin can learn from, best first")


class Unpaired(BaseModel):
    city: str
    country: str | None
    role: Literal["pilot", "twin"]
    reason: Literal["no_content", "capacity_exhausted", "no_twin_left"]
    detail: str


class TwinningResponse(BaseModel):
    pairs: list[Pair]
    unpaired: list[Unpaired]
    total_score: float = Field(description="Sum of the pair scores: what the assignment maximises")
    max_twins_per_pilot: int
    method: str


@router.get("/cities", response_model=CitySearchResponse, summary="Find cities in the registry and the content",
            responses=errors(503, e422=ERRORS[422]["description"]))
def search_cities(
    service: PeerServiceDep,
    q: Annotated[str, Query(description="Any spelling, or its beginning; empty lists the cities with content"),
                 WithJsonSchema({"type": "string", "maxLength": 200})] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    country: Annotated[OptionalCountryCode | None, Query(description="Only cities of this ISO-2 country")] = None,
) -> dict[str, Any]:
    return service.search_cities(q, limit=limit, country=country)


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
) -> dict[str, Any]:
    return service.peers(
        city, limit=limit, domain=domain or [], barrier=barrier or [], lever=lever or [], country=country or [],
        exclude_country=exclude_country or [], prefer_similar_size=prefer_similar_size, prefer_nearby=prefer_nearby,
        city_country=city_country,
    )


@router.get("/cities/{city:path}", response_model=CityProfile, summary="A city's profile with its resources", responses=ERRORS)
def city_profile(
    service: PeerServiceDep,
    city: CityPath,
    country: Annotated[OptionalCountryCode | None, Query(description="ISO-2 country, when the name exists in several")] = None,
) -> dict[str, Any]:
    return service.city(city, country)


@router.post("/twinning", response_model=TwinningResponse, summary="Pair Pilot and Twin cities for the best total fit",
             responses=errors(400, 413, 503, e422="Empty lists, duplicates, a city on both sides, unknown or ambiguous names, "
                                             "max_twins_per_pilot out of range"))
def twinning(service: PeerServiceDep, body: TwinningRequest) -> dict[str, Any]:
    return service.twinning(body.pilots, body.twins, body.max_twins_per_pilot)
