"""Pure ASGI middleware that answers before a request's body is read: admin guard, body-size cap, security headers.

Why pure ASGI and not FastAPI dependencies: a dependency runs after FastAPI has parsed the body, so a stranger could
make the server receive and spool a 20 MB multipart upload before hearing 401. Here nothing calls `receive` until the
request is allowed, and uvicorn only answers `Expect: 100-continue` with `100 Continue` on the first `receive`, so a
refused client never even sends its body.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.routing import compile_path, get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nzc_knowledge.api.deps import admin_caller
from nzc_knowledge.api.logs import REQUEST_ID_HEADER, request_id_from, request_id_var
from nzc_knowledge.api.metrics import ApiMetrics
from nzc_knowledge.errors import AdminDenied
from nzc_knowledge.settings import Settings

audit = logging.getLogger("nzc.audit")
access = logging.getLogger("nzc.access")

ADMIN_PREFIX = "/admin"
UPLOAD_PATH = "/admin/resources"
# A multipart upload carries its form fields (metadata, flags) and part headers beside the file itself.
UPLOAD_FORM_ALLOWANCE = 1_000_000

# The page under api/static loads only its own scripts, styles and JSON (and a `data:` favicon); nothing inline.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# /docs and /redoc load Swagger UI / ReDoc from our own /static-offline-docs (fastapi-offline), but start them with
# an inline script, and ReDoc runs a blob: worker.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self'; img-src 'self' data:; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def client_host(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "-"


class AdminGuardMiddleware:
    """Refuse /admin/* requests without the right bearer token before any of their body is received; audit refusals."""

    def __init__(self, app: ASGIApp, settings: Settings, audit_key: bytes) -> None:
        self.app = app
        self.settings = settings
        self.audit_key = audit_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = get_route_path(scope) if scope["type"] == "http" else ""
        if scope["type"] != "http" or not (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        try:
            admin_caller(Headers(scope=scope).get("authorization"), self.settings, self.audit_key)
        except AdminDenied as denied:
            audit.info("who=%s client=%s action=denied status=%d method=%s path=%s",
                       denied.caller, client_host(scope), denied.status, scope["method"], path)
            headers = {"WWW-Authenticate": "Bearer"} if denied.status == 401 else None
            await JSONResponse({"detail": denied.message}, status_code=denied.status, headers=headers)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Cap every request body: a declared Content-Length over the cap is 413 at once, a streamed body at the cap.

    Starlette's RequestBodyLimitMiddleware checks Content-Length only once the app reads the body or answers, so an
    endpoint would run first; this one answers before routing. `limit_for(path)` gives the cap of a path.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(get_route_path(scope))
        message = f"the request body is larger than the limit of {limit} bytes for this endpoint"
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await JSONResponse({"detail": message}, status_code=413, headers={"Connection": "close"})(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > limit:
                    # An HTTPException passes FastAPI's body parsing untouched and becomes a JSON 413.
                    raise HTTPException(status_code=413, detail=message, headers={"Connection": "close"})
            return event

        await self.app(scope, limited_receive, send)


def upload_aware_limit(settings: Settings) -> Callable[[str], int]:
    """The cap of each path: the upload takes NZC_MAX_UPLOAD_BYTES plus its form, everything else NZC_MAX_REQUEST_BYTES."""
    upload_limit = settings.max_upload_bytes + UPLOAD_FORM_ALLOWANCE

    def limit_for(path: str) -> int:
        return upload_limit if path == UPLOAD_PATH else settings.max_request_bytes

    return limit_for


class SecurityHeadersMiddleware:
    """Add a Content-Security-Policy and the usual hardening headers to every response, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if get_route_path(scope) in DOCS_PATHS else PAGE_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", policy)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestObserverMiddleware:
    """Give each request an id (reused from a sane `X-Request-ID`, else new), echo it, log the request as one line
    and record it in the app's metrics by route template (never the raw path, which would explode the label set)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope).get(REQUEST_ID_HEADER))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering (ServerErrorMiddleware's page)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.observe_request(scope["method"], route, status, seconds)
            access.info("%s %s %d", scope["method"], get_route_path(scope), status,
                        extra={"method": scope["method"], "path": get_route_path(scope), "route": route,
                               "status": status, "duration_ms": round(seconds * 1000, 1), "client": client_host(scope)})
            request_id_var.reset(token)


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/resources/{resource_id}`), also for requests refused before routing."""
    route = scope.get("route")
    if getattr(route, "path", None):
        return route.path
    app = scope.get("app")
    if app is not None:
        path = get_route_path(scope)
        for pattern, template in _documented_paths(app):
            if pattern.match(path):
                return template
    return "unmatched"


def _documented_paths(app: Any) -> list[tuple[re.Pattern[str], str]]:
    """The OpenAPI paths (and the page's files, labelled "page") as patterns, built once per app: requests refused
    by a middleware never reach the router, and FastAPI does not name the plain routes of the page in the scope."""
    compiled = getattr(app.state, "documented_paths", None)
    if compiled is None:
        compiled = [(compile_path(template)[0], template) for template in app.openapi()["paths"]]
        compiled += [(compile_path(path)[0], "page") for path in getattr(app.state, "page_paths", ())]
        app.state.documented_paths = compiled
    return compiled
