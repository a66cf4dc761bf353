"""FastAPI dependencies: the engine of the current snapshot, its services, the admin guard."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from nzc_knowledge.api.engine import Engine, EngineHolder
from nzc_knowledge.errors import AdminDenied, Forbidden, InvalidParameter, Unauthorized
from nzc_knowledge.recommend.peers import PeerService
from nzc_knowledge.search.service import SearchService
from nzc_knowledge.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_holder(request: Request) -> EngineHolder:
    return request.app.state.holder


def get_engine(request: Request) -> Iterator[Engine]:
    """The engine for this request, leased once so the whole request sees one snapshot, which stays in memory until
    the request is done even when a reindex publishes a new one meanwhile."""
    with get_holder(request).lease() as engine:
        yield engine


def get_search_service(engine: Annotated[Engine, Depends(get_engine)]) -> SearchService:
    return engine.search


def get_peer_service(engine: Annotated[Engine, Depends(get_engine)]) -> PeerService:
    """The peer-city service of this snapshot, built on first use."""
    return engine.peers


def admin_caller(authorization: str | None, settings: Settings, audit_key: bytes) -> str:
    """Check an admin request's bearer token and name the caller for the audit log; raise AdminDenied otherwise.

    403 when no token is configured, 401 without a bearer header, 403 for a wrong token. The name is a keyed HMAC
    of the token (key: random per process), so a reader of the log cannot test token guesses against it.
    """
    if not settings.admin_token:
        raise AdminDenied(
            Forbidden("admin endpoints are disabled: set NZC_ADMIN_TOKEN on the server to enable them"), "disabled"
        )
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AdminDenied(Unauthorized("missing bearer token: send 'Authorization: Bearer <NZC_ADMIN_TOKEN>'"), "anonymous")
    if not hmac.compare_digest(token.encode(), settings.admin_token.encode()):
        raise AdminDenied(Forbidden("invalid admin token"), "bad-token")
    return f"token:{hmac.new(audit_key, token.encode(), hashlib.sha256).hexdigest()[:8]}"


# Declared so that the OpenAPI description names the bearer scheme; the check itself is `admin_caller`.
bearer_scheme = HTTPBearer(auto_error=False, description="The server's NZC_ADMIN_TOKEN")


def require_admin(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """Bearer-token guard for /admin/* (the admin middleware already refused bad tokens before the body was read)."""
    return admin_caller(request.headers.get("authorization"), settings, request.app.state.audit_key)


def reject_repeated_parameters(request: Request) -> None:
    """A scalar query parameter given twice (`q=a&q=b`) is an error, not silently the last value."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    for field in _query_fields(route.dependant):
        values = request.query_params.getlist(field.alias)
        if len(values) > 1 and not _is_list(field.field_info.annotation):
            raise InvalidParameter(f"{field.alias} is given {len(values)} times; give it once")


def _query_fields(dependant: Any) -> Iterator[Any]:
    """The query parameters of an endpoint and of all its sub-dependencies."""
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _query_fields(sub)


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, UnionType):
        return any(_is_list(member) for member in get_args(annotation))
    return get_origin(annotation) in (list, tuple, set, frozenset) or annotation in (list, tuple, set, frozenset)


SearchDep = Annotated[SearchService, Depends(get_search_service)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
HolderDep = Annotated[EngineHolder, Depends(get_holder)]
AdminDep = Annotated[str, Depends(require_admin)]
