"""The FastAPI application factory (routes under /api/v1) and its lifespan.

Startup migrates the database to head, resends jobs left queued and starts the lease reaper;
shutdown stops the reaper and closes connections.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from client.settings import Settings, get_settings
from server import __version__
from server.api.errors import problems_body, validation_problems
from server.api.routes import checkpoints, experiments, health, hulls, metrics, worker
from server.db.migrate import upgrade
from server.docs import install_docs
from server.errors import Conflict, DomainError, Invalid, NotFound, Unavailable
from server.reaper import Reaper, startup_pass
from server.runtime import Runtime

API_PREFIX = "/api/v1"
STATUS_OF: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    Unavailable: 503,
}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    runtime: Runtime = app.state.runtime
    await run_in_threadpool(upgrade, runtime.settings.resolved_database_url)
    await run_in_threadpool(startup_pass, runtime)
    reaper = Reaper(runtime, runtime.settings.reaper_seconds)
    reaper.start()
    try:
        yield
    finally:
        await run_in_threadpool(reaper.stop)
        runtime.close()


async def domain_error_handler(_request: Request, error: Exception) -> JSONResponse:
    """The one mapping of domain errors to statuses: 404, 409, 422 (field list), 503."""
    assert isinstance(error, DomainError)
    status = next((code for kind, code in STATUS_OF.items() if isinstance(error, kind)), 500)
    if isinstance(error, Invalid):
        return JSONResponse(problems_body(error.problems), status_code=status)
    return JSONResponse({"detail": error.message}, status_code=status)


async def validation_error_handler(_request: Request, error: Exception) -> JSONResponse:
    """Request validation errors as the API promises: one {field, message, type} per problem."""
    assert isinstance(error, RequestValidationError)
    return JSONResponse(problems_body(validation_problems(error.errors())), status_code=422)


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app for `settings` (default: from the environment); nothing connects until startup."""
    settings = settings or get_settings()
    app = FastAPI(
        title="lmclab",
        version=__version__,
        description="Convex and linear mode connectivity experiments (DESIGN.md).",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = Runtime.build(settings)
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    for module in (health, experiments, hulls, metrics, checkpoints, worker):
        app.include_router(module.router, prefix=API_PREFIX)
    install_docs(app)
    return app
