"""MCP over streamable HTTP at /mcp, in the API's own FastAPI app.

- **Keys:** ApiKeyAuthMiddleware covers /mcp as it covers /graphql (same keys, same cache):
  a request without a valid key gets 401 before the MCP server sees it, and the tools read
  the viewer it put on the request.
- **Stateless, JSON responses:** every POST carries one JSON-RPC message and gets its answer
  as one JSON body: no session table, no SSE stream, any worker can answer any request.
  GET and DELETE get 405.
- **Limits:** the SDK refuses bodies over `mcp_max_request_body_bytes` with 413 before parsing;
  the /graphql rate limiter's buckets (per API key) also count /mcp requests.
- **Lifespan:** the SDK's session manager runs inside the app's lifespan, after the engine.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route

from graphql_api.auth.service import Viewer
from graphql_api.config import Settings
from graphql_api.mcp_server.execute import Caller, Services, new_request_id
from graphql_api.mcp_server.server import build_server
from graphql_api.security.rate_limit import RateLimitMiddleware

MCP_PATH = "/mcp"


def install_mcp(app: Starlette, settings: Settings) -> None:
    """Serve MCP at /mcp; call after `install_security` (it shares its rate limiter)."""
    manager = StreamableHTTPSessionManager(
        app=build_server(_caller_from_request(settings)),
        json_response=True,
        stateless=True,
        max_request_body_size=settings.mcp_max_request_body_bytes,
    )
    # POST only: stateless with JSON responses, the server never pushes, so the standalone
    # SSE stream a GET would open stays empty and open for ever (one socket and task per GET,
    # no deadline). The spec lets a server answer GET with 405 instead; DELETE (end session)
    # is 405 too, there being no sessions.
    endpoint = StreamableHTTPASGIApp(manager)
    app.router.routes.append(Route(MCP_PATH, endpoint=endpoint, methods=["POST"]))
    limiter = getattr(app.state, "rate_limiter", None)
    if limiter is not None:
        shared = getattr(app.state, "shared_rate_limiter", None)
        app.user_middleware.append(
            Middleware(RateLimitMiddleware, limiter=limiter, shared=shared, graphql_path=MCP_PATH)
        )
    _run_in_lifespan(app, manager)


def _caller_from_request(settings: Settings) -> Any:
    async def caller_of(ctx: ServerRequestContext[Any, Any]) -> Caller | None:
        request = ctx.request
        if not isinstance(request, Request):
            return None
        viewer: Viewer | None = request.scope.get("state", {}).get("viewer")
        if viewer is None:
            return None
        state = request.app.state
        services = Services(
            settings=settings,
            engine=state.engine,
            sessionmaker=state.sessionmaker,
            sentiment_model=state.sentiment_model,
            pension_client=state.pension_client,
        )
        request_id = request.scope.get("state", {}).get("request_id") or new_request_id()
        return Caller(viewer, services, request_id)

    return caller_of


def _run_in_lifespan(app: Starlette, manager: StreamableHTTPSessionManager) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        async with inner(app) as state, manager.run():
            yield state

    app.router.lifespan_context = lifespan
