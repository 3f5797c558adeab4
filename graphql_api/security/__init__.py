"""Request limits, HTTP hardening and rate limiting for the GraphQL endpoint.

- `limits`: per-operation limits (tokens, depth, aliases, introspection) as a schema
  extension, and error codes for the errors they produce.
- `http`: the HTTP guard (method, media type, body size, JSON shape, request deadline).
- `rate_limit`: a token bucket per API key or client IP; `redis_bucket`: the same bucket in
  Redis, shared by every worker and host.
- `slow_clients`: uvicorn HTTP protocols with a request-header deadline (`finance-api serve`
  selects them; they are not middleware).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware

from graphql_api.config import Settings
from graphql_api.runtime.serve import tuned_gc
from graphql_api.security.guard import GraphQLRequestGuard
from graphql_api.security.rate_limit import RateLimitMiddleware, TokenBucketLimiter
from graphql_api.security.redis_bucket import RedisTokenBucket
from graphql_api.security.response_cap import ResponseSizeCap

__all__ = ["install_security"]


def install_security(app: Starlette, settings: Settings) -> None:
    """Install the HTTP guard and the rate limiter on `app` (before it starts).

    Order matters. A request should meet, outermost first:

    1. request id (so every refusal below carries X-Request-ID);
    2. `GraphQLRequestGuard`: cheap checks first (method, media type, body size, JSON shape)
       and the request deadline around everything after it;
    3. authentication, which sets `scope["state"]["api_key_id"]`;
    4. `RateLimitMiddleware`, keyed by that id (on /graphql every request reaching it has
       one: auth already refused the rest with 401);
    5. the GraphQL router.

    Starlette's `add_middleware` PREPENDS: the middleware added last runs first. So this adds
    the guard with `add_middleware` (outermost of what exists so far) and APPENDS the rate
    limiter to `app.user_middleware` (innermost, so it runs after every middleware added
    before or after this call, authentication included).

    It also wraps the app's lifespan, so it runs in every worker process: at the end of
    start-up the garbage collector is tuned (`settings.gc_tuning`, serve.tuned_gc), and at
    shutdown the Redis client of the shared buckets (with `settings.redis_url`) is closed.

    In `create_app`:

        app.add_middleware(ApiKeyAuthMiddleware)   # auth: before install_security ...
        install_security(app, settings)             # ... so the guard runs before auth
        app.add_middleware(RequestIdMiddleware)    # last added: runs first

    Auth added after `install_security` still runs before the rate limiter, but then also
    before the guard (its key lookup would run for requests the guard refuses).
    """
    if app.middleware_stack is not None:
        raise RuntimeError("install_security must run before the application starts")
    shared: RedisTokenBucket | None = None
    if settings.rate_limit_enabled:
        limiter = TokenBucketLimiter(
            settings.rate_limit_per_second,
            settings.rate_limit_burst,
            max_keys=settings.rate_limit_max_clients,
        )
        if settings.redis_url:
            shared = RedisTokenBucket(settings.redis_url, fallback=limiter)
        app.state.rate_limiter = limiter
        app.state.shared_rate_limiter = shared
        app.user_middleware.append(Middleware(RateLimitMiddleware, limiter=limiter, shared=shared))
    _wrap_lifespan(app, settings, shared)
    # Added before the guard, so it runs inside it: the guard's deadline covers it too.
    app.add_middleware(ResponseSizeCap, max_bytes=settings.max_response_bytes)
    app.add_middleware(
        GraphQLRequestGuard,
        max_body_bytes=settings.max_request_body_bytes,
        timeout_seconds=settings.request_timeout_seconds,
    )


def _wrap_lifespan(app: Starlette, settings: Settings, shared: RedisTokenBucket | None) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        try:
            async with inner(app) as state:
                # Last of start-up, so the engine, schema and model are frozen too.
                with tuned_gc(settings.gc_tuning):
                    yield state
        finally:
            if shared is not None:
                await shared.aclose()

    app.router.lifespan_context = lifespan
