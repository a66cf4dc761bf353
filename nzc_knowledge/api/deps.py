"""FastAPI dependencies: the engine of the current snapshot, its services, the admin guard."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from nzc_knowledge.api.engine import Engine, EngineHolder
from nzc_knowledge.errors import Forbidden, Unauthorized
from nzc_knowledge.search.service import SearchService
from nzc_knowledge.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_holder(request: Request) -> EngineHolder:
    return request.app.state.holder


def get_engine(request: Request) -> Engine:
    """The engine for this request, taken once so the whole request sees one snapshot."""
    return get_holder(request).current()


def get_search_service(engine: Annotated[Engine, Depends(get_engine)]) -> SearchService:
    return engine.search


def get_peer_service(engine: Annotated[Engine, Depends(get_engine)]):
    """The peer-city engine of this snapshot, built on first use."""
    from nzc_knowledge.recommend.peers import PeerService

    return engine.service("peers", PeerService)


def require_admin(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> str:
    """Bearer-token guard for /admin/*: 403 when no token is configured, 401 without a header, 403 when wrong."""
    if not settings.admin_token:
        raise Forbidden("admin endpoints are disabled: set NZC_ADMIN_TOKEN on the server to enable them")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not token:
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <NZC_ADMIN_TOKEN>'")
    if not hmac.compare_digest(token.strip().encode(), settings.admin_token.encode()):
        raise Forbidden("invalid admin token")
    return f"token:{hashlib_digest(token)}"


def hashlib_digest(token: str) -> str:
    """A short, non-reversible name for the caller in the audit log (never the token itself)."""
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()[:8]


SearchDep = Annotated[SearchService, Depends(get_search_service)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
HolderDep = Annotated[EngineHolder, Depends(get_holder)]
AdminDep = Annotated[str, Depends(require_admin)]
