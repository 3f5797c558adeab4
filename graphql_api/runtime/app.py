"""The FastAPI application: lifespan-managed engine, request ids, GraphQL at /graphql."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from cross_web import HTTPException
from fastapi import FastAPI, Request, Response, WebSocket
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from graphql_api.auth.key_cache import VerifiedKeyCache
from graphql_api.auth.middleware import ApiKeyAuthMiddleware
from graphql_api.compiled.http import CompiledReads, CompiledReadsMiddleware
from graphql_api.config import Settings, get_settings
from graphql_api.context import Context
from graphql_api.db import create_engine, create_sessionmaker
from graphql_api.db_health import DatabaseUnavailableError, unavailable_cause
from graphql_api.graph.loaders import Loaders
from graphql_api.ide import install_ide
from graphql_api.mcp_server.http import install_mcp
from graphql_api.observability import install_statement_counter, request_id_from
from graphql_api.predictions.sentiment import load_model
from graphql_api.realtime.lifecycle import realtime, router_options, websocket_context
from graphql_api.realtime.transport import SubscriptionTransport
from graphql_api.request_db import RequestDatabase
from graphql_api.schema import schema
from graphql_api.security import install_security
from graphql_api.security.deadline import install_deadline_cancellation
from graphql_api.security.http_errors import CODE_BY_STATUS, error_body
from graphql_api.telemetry.install import install_telemetry, readiness_endpoint
from graphql_api.unavailable import DatabaseUnavailableMiddleware
from graphql_api.upstream import PensionClient

REQUEST_ID_HEADER = "X-Request-ID"


# CompiledReads (graphql_api/compiled/http.py) notes `extensions.plan` on the resolvers'
# answers; compilable reads never reach the router (CompiledReadsMiddleware answers them).
class FinanceGraphQLRouter(CompiledReads, SubscriptionTransport, GraphQLRouter[Context, None]):
    # orjson is several times faster than json.dumps on large nested results.
    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def run(  # type: ignore[override]
        self,
        request: Request | WebSocket,
        context: Context = UNSET,
        root_value: None = UNSET,
    ) -> Response | WebSocket:
        # Strawberry answers its HTTP-level refusals (e.g. an unknown operationName, GraphiQL
        # when disabled) in plain text; give them the GraphQL error shape like ours.
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            code = CODE_BY_STATUS.get(error.status_code, "BAD_REQUEST")
            return Response(
                error_body(error.reason, code),
                status_code=error.status_code,
                media_type="application/json",
            )
        finally:
            # The request's read connection goes back to the pool before the response is sent.
            if isinstance(context, Context):
                await context.db.close()

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # An operation that could not reach the database failed as a whole, for a reason that
        # is neither the caller's nor a bug: DatabaseUnavailableMiddleware answers it with 503
        # instead of a 200 carrying partial data and masked errors.
        for error in result.errors or ():
            if (cause := unavailable_cause(error.original_error)) is not None:
                raise DatabaseUnavailableError("a GraphQL operation lost the database") from cause
        return await super().process_result(request, result)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set; `finance-api serve` starts one for you.")
    database_url = settings.database_url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings, database_url)
        if settings.query_stats_enabled:
            install_statement_counter(engine)
        install_deadline_cancellation(engine)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        # Loaded once per process: model start-up is slow, prediction is not.
        app.state.sentiment_model = load_model(settings.sentiment_model)
        app.state.pension_client = _pension_client(settings)
        try:
            # Subscriptions: this worker's LISTEN connection and event hub (graphql_api/realtime).
            async with realtime(app.state, settings, engine):
                yield
        finally:
            if app.state.pension_client is not None:
                await app.state.pension_client.aclose()
            await engine.dispose()

    async def get_context(request: HTTPConnection) -> Context:
        if request.scope["type"] == "websocket":  # the viewer comes with `connection_init`
            return websocket_context(request, settings)
        # Built per request inside the running loop: aiodataloader binds to it. The loaders
        # read only the rows the authorization policy lets the viewer read (in the SQL).
        viewer = getattr(request.state, "viewer", None)  # None only for the GraphiQL page
        db = RequestDatabase(request.app.state.engine)
        return Context(
            settings=settings,
            sessionmaker=request.app.state.sessionmaker,
            db=db,
            loaders=Loaders(db, viewer=viewer),
            viewer=viewer,
            request_id=request.state.request_id,
            sentiment_model=request.app.state.sentiment_model,
            pension_client=request.app.state.pension_client,
        )

    app = FastAPI(
        title="finance-graphql",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # Tracing is ours (graphql_api/telemetry, from the OTEL_* variables). FastAPI's own
        # would add a second set of spans, and asks OpenTelemetry on every request whether
        # it is configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    # add_middleware prepends (the last added runs first); a request meets, in this order:
    # request id -> access log and metrics -> security guard (method, media type, body size,
    # deadline) -> 503 for database outages -> auth -> rate limit -> compiled reads -> router.
    # Auth goes before install_security (see its docstring).
    # One verified-key cache per worker: the auth middleware's, and connection_init's (realtime).
    app.state.verified_keys = VerifiedKeyCache(settings.api_key_cache_seconds)
    app.add_middleware(ApiKeyAuthMiddleware, verified_keys=app.state.verified_keys)
    app.add_middleware(
        DatabaseUnavailableMiddleware,
        retry_after_seconds=settings.db_unavailable_retry_after_seconds,
    )
    install_security(app, settings)
    # MCP at /mcp: same keys (auth above), same rate limiter, its own body limit.
    install_mcp(app, settings)
    # Innermost, after auth and the rate limiter: a read that compiles is answered with one
    # SQL statement (graphql_api/compiled/http.py); everything else goes on to the router.
    app.user_middleware.append(Middleware(CompiledReadsMiddleware, settings=settings))
    # Metrics, the access log and tracing: just inside the request id (graphql_api/telemetry).
    install_telemetry(app, settings)
    app.add_middleware(RequestIdMiddleware)
    router = FinanceGraphQLRouter(
        schema,
        context_getter=get_context,
        # GraphiQL is our own offline page (graphql_api/ide), not strawberry's CDN one.
        graphql_ide=None,
        # JSON POST only: no operation runs over GET (the guard refuses it first anyway).
        allow_queries_via_get=False,
        multipart_uploads_enabled=False,
        # graphql-transport-ws for subscriptions only (graphql_api/realtime/transport.py).
        **router_options(settings),
    )
    install_ide(app, settings)
    app.include_router(router, prefix="/graphql")
    app.get("/healthz", include_in_schema=False)(_health)
    # Ready: the database answers and its migrations are at this release's head.
    app.get("/readyz", include_in_schema=False)(readiness_endpoint)
    return app


def _pension_client(settings: Settings) -> PensionClient | None:
    if not settings.pension_api_base_url:
        return None
    return PensionClient(settings.pension_api_base_url, settings.pension_api_key.get_secret_value())


class RequestIdMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware task overhead): sets `request.state.request_id` from
    X-Request-ID or a fresh one, and echoes it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope).get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


async def _health() -> dict[str, Any]:
    return {"status": "ok"}
