"""Request limits, HTTP hardening and rate limiting for the GraphQL endpoint.

- `limits`: per-operation limits (tokens, depth, aliases, introspection) as a schema
  extension, and error codes for the errors they produce.
- `http`: the HTTP guard (method, media type, body size, JSON shape, request deadline).
- `rate_limit`: a token bucket per API key or client IP.
"""

from starlette.applications import Starlette
from starlette.middleware import Middleware

from graphql_api.config import Settings
from graphql_api.security.http import GraphQLRequestGuard
from graphql_api.security.rate_limit import RateLimitMiddleware, TokenBucketLimiter

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
    before or after this call, authentication included). In `create_app`:

        app.add_middleware(ApiKeyAuthMiddleware)   # auth: before install_security ...
        install_security(app, settings)             # ... so the guard runs before auth
        app.add_middleware(RequestIdMiddleware)    # last added: runs first

    Auth added after `install_security` still runs before the rate limiter, but then also
    before the guard (its key lookup would run for requests the guard refuses).
    """
    if app.middleware_stack is not None:
        raise RuntimeError("install_security must run before the application starts")
    if settings.rate_limit_enabled:
        limiter = TokenBucketLimiter(
            settings.rate_limit_per_second,
            settings.rate_limit_burst,
            max_keys=settings.rate_limit_max_clients,
        )
        app.state.rate_limiter = limiter
        app.user_middleware.append(Middleware(RateLimitMiddleware, limiter=limiter))
    app.add_middleware(
        GraphQLRequestGuard,
        max_body_bytes=settings.max_request_body_bytes,
        timeout_seconds=settings.request_timeout_seconds,
    )
