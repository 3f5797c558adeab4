"""Installs the observability pieces on the app: see the package docstring."""

import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graphql_api.config import Settings
from graphql_api.observability import install_statement_counter
from graphql_api.telemetry.access_log import ACCESS_LOGGER, AccessLogMiddleware
from graphql_api.telemetry.metrics import CONTENT_TYPE_LATEST, exposition, token_matches
from graphql_api.telemetry.metrics import worker_stopped as metrics_worker_stopped
from graphql_api.telemetry.otel_env import exporter_names
from graphql_api.telemetry.pool import forget_pool, instrument_pool
from graphql_api.telemetry.readiness import Readiness

if TYPE_CHECKING:
    from graphql_api.telemetry.tracing import ClientSpans

__all__ = ["install_telemetry", "readiness_endpoint"]

METRICS_PATH = "/metrics"


def install_telemetry(app: Starlette, settings: Settings) -> None:
    """Call in create_app just before the request-id middleware is added: the access log
    then runs inside it (it has the request id) and outside everything else (it sees every
    refusal); the tracing middleware, when on, goes around the access log."""
    if app.middleware_stack is not None:
        raise RuntimeError("install_telemetry must run before the application starts")
    tracing = bool(exporter_names())
    app.add_middleware(
        AccessLogMiddleware,
        log=settings.access_log,
        metrics=settings.metrics_enabled,
        tracing=tracing,
    )
    spans = _start_tracing(app) if tracing else None
    app.state.tracer_provider = spans.provider if spans is not None else None
    if settings.access_log:
        _ensure_access_log_handler()
    if settings.metrics_enabled:
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        app.router.add_route(METRICS_PATH, _metrics_endpoint(token), methods=["GET"])
    if settings.database_url:
        app.state.readiness = Readiness(settings.database_url, settings.readiness_timeout_seconds)
    _wrap_lifespan(app, settings, spans)


def _start_tracing(app: Starlette) -> "ClientSpans":
    # Imported only when tracing is on: the SDK and instrumentations take a while to load.
    from graphql_api.telemetry.tracing import ClientSpans, trace_requests, tracer_provider_from_env

    provider = tracer_provider_from_env()
    assert provider is not None  # exporter_names() said tracing is on
    trace_requests(app, provider)
    return ClientSpans(provider)


async def readiness_endpoint(request: Request) -> Response:
    ready, body = await request.app.state.readiness.check()
    return JSONResponse(
        body, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"}
    )


def _metrics_endpoint(token: str | None) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        if token is not None and not token_matches(request.headers.get("authorization"), token):
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    return metrics


def _wrap_lifespan(app: Starlette, settings: Settings, spans: "ClientSpans | None") -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        async with inner(app) as state:
            engine = app.state.engine
            # Statements per request, for the metrics and the access log.
            install_statement_counter(engine)
            if settings.metrics_enabled:
                instrument_pool(engine)
            if spans is not None:
                spans.start(engine)
            try:
                yield state
            finally:
                if spans is not None:
                    spans.stop()
                forget_pool(engine)
                metrics_worker_stopped()

    app.router.lifespan_context = lifespan


def _ensure_access_log_handler() -> None:
    """The access lines go to stdout as bare JSON (one per line), in every worker process,
    unless the logging configuration already gives the logger a handler."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
