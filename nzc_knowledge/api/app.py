"""The FastAPI application factory."""

from __future__ import annotations

import logging
import secrets
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from fastapi_offline import FastAPIOffline
from starlette.routing import compile_path
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import nzc_knowledge
from nzc_knowledge.api.deps import reject_repeated_parameters
from nzc_knowledge.api.engine import EngineHolder
from nzc_knowledge.api.jobs import JobRunner
from nzc_knowledge.api.logs import configure_logging
from nzc_knowledge.api.metrics import ApiMetrics
from nzc_knowledge.api.middleware import (
    AdminGuardMiddleware,
    BodyLimitMiddleware,
    RequestObserverMiddleware,
    SecurityHeadersMiddleware,
    upload_aware_limit,
)
from nzc_knowledge.api.openapi import install_openapi
from nzc_knowledge.api.reindex_worker import ReindexWorker
from nzc_knowledge.api.routes import admin, cities, meta, observability, search
from nzc_knowledge.encoders import Encoders
from nzc_knowledge.errors import NZCError
from nzc_knowledge.recommend.peers import PeerService
from nzc_knowledge.search.backend import backend_factory
from nzc_knowledge.settings import Settings

logger = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, encoders: Encoders | None = None) -> FastAPI:
    """Build the app and wire its parts; the encoders and the snapshot load in the lifespan, not at import time.

    `encoders`: the encoders to use (tests share one, a benchmark hands in loaded ones); by default a new `Encoders`
    per app, each encoder loaded on first use.

    Example:
        app = create_app(Settings(index_dir=Path("indexes")))
        uvicorn.run(app)
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging(settings.log_format, settings.log_level)
        attach_audit_log(settings.index_dir)
        holder = EngineHolder(settings.index_dir, encoders or Encoders.with_options(settings.encoder_options),
                              peer_factory=PeerService.from_snapshot, backend_factory=backend_factory(settings))
        app.state.holder = holder
        # Builds run in a worker process at lower priority with their own encoders (and the same NZC_EXTRACT_*
        # limits as `nzc ingest`): searches keep their cores and memory while a reindex runs.
        app.state.jobs = JobRunner(holder, settings.source_dir, settings.keep_snapshots,
                                   settings.multilingual_encoder_name, build=ReindexWorker(settings),
                                   state_dir=settings.index_dir / "jobs")  # every replica reads every job
        holder.load()
        yield
        app.state.jobs.shutdown()
        holder.close()

    # FastAPIOffline serves Swagger UI and ReDoc from the package's own files: FastAPI's default /docs loads them from
    # a CDN, which the portal's network (and CI) cannot reach.
    app = FastAPIOffline(
        title="nzc-knowledge",
        version=nzc_knowledge.__version__,
        description="Search and peer-city recommendations over a climate-action knowledge repository for European cities.",
        lifespan=lifespan,
        dependencies=[Depends(reject_repeated_parameters)],
    )
    app.state.settings = settings
    # Names callers in the audit log (HMAC of the token); random per process, so the log holds no testable digest.
    app.state.audit_key = secrets.token_bytes(32)
    app.state.metrics = ApiMetrics(holder_of=lambda: app.state.holder, jobs_of=lambda: app.state.jobs)
    # Added innermost first: a request passes observer -> headers -> CORS -> admin guard -> body cap -> routes, so a
    # stranger hears 401/403 (not even the size limit) and nothing is received before both checks pass.
    app.add_middleware(BodyLimitMiddleware, limit_for=upload_aware_limit(settings))
    app.add_middleware(AdminGuardMiddleware, settings=settings, audit_key=app.state.audit_key)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestObserverMiddleware, metrics=app.state.metrics)
    register_error_handlers(app)
    app.include_router(search.router)
    app.include_router(meta.router)
    app.include_router(admin.router)
    app.include_router(observability.router)
    app.include_router(cities.router)
    add_page_routes(app)
    install_openapi(app, settings)
    return app


def add_page_routes(app: FastAPI) -> None:
    """Serve the page's files at their own paths (GET and HEAD only).

    Not a StaticFiles mount at "/": a catch-all mount swallowed every unmatched method and path, so `OPTIONS /search`
    or `GET /twinning` reached the file server and answered 405 without `Allow` or 404 instead of the router's 405.
    """
    if not (STATIC_DIR / "index.html").exists():
        return
    files = StaticFiles(directory=STATIC_DIR, html=True)

    async def page_file(request: Request) -> Response:
        return await files.get_response(request.url.path.lstrip("/") or ".", request.scope)

    paths = ["/"] + [f"/{path.name}" for path in sorted(STATIC_DIR.iterdir())
                     if path.is_file() and not path.name.startswith(".")]
    for path in paths:
        app.router.add_route(path, page_file, methods=["GET", "HEAD"], include_in_schema=False)
    app.state.page_paths = paths


def attach_audit_log(index_dir: Path) -> None:
    """Admin actions (who, when, what) go to <index_dir>/audit.log as well as to the server log."""
    audit = logging.getLogger("nzc.audit")
    audit.setLevel(logging.INFO)
    path = (Path(index_dir) / "audit.log").resolve()
    if any(getattr(handler, "baseFilename", None) == str(path) for handler in audit.handlers):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%S%z"))
    audit.addHandler(handler)


def allowed_methods(request: Request) -> str:
    """Every method on this path, from the OpenAPI paths and the plain routes.

    Starlette's 405 names only the first matching route's methods, but `GET /admin/jobs/{id}` and
    `DELETE /admin/jobs/{id}` are two routes (and FastAPI nests included routers, so the router list is not flat).
    """
    path = request.scope["path"]
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if compile_path(template)[0].match(path):
            methods |= {method.upper() for method in operations}
    for route in request.app.router.routes:
        if getattr(route, "methods", None) and getattr(route, "path_regex", None) and route.path_regex.match(path):
            methods |= set(route.methods)
    return ", ".join(sorted(methods))


def register_error_handlers(app: FastAPI) -> None:
    """One place maps domain errors and validation errors to JSON `{"detail": message}`."""

    @app.exception_handler(NZCError)
    async def domain_error(request: Request, error: NZCError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return JSONResponse(status_code=error.status, content={"detail": error.message}, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        # Starlette's own errors (404 no route, 405 with Allow, 413 from the body cap) in the same body shape.
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return JSONResponse(status_code=error.status_code, content={"detail": str(error.detail)}, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        messages = []
        for item in error.errors():
            where = ".".join(str(part) for part in item.get("loc", ()) if part not in ("query", "path", "body"))
            messages.append(f"{where or 'request'}: {item.get('msg')}")
        return JSONResponse(status_code=422, content={"detail": "; ".join(messages)})

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        # Never a bare 500 page: log the cause, answer with a message the portal can show.
        logger.exception("unexpected error on %s", request.url.path)
        return JSONResponse(status_code=500, content={"detail": "internal error; the incident was logged"})
