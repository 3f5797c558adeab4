"""Rate limiting per API key: a token bucket.

Each caller has a bucket of `rate_limit_burst` tokens (default 200) that refills at
`rate_limit_per_second` (default 20/s). A request takes one token; with none left it is
refused with HTTP 429, a `Retry-After` header (whole seconds, rounded up) and
`{"errors": [{"message": "Rate limit exceeded; retry after N s.",
"extensions": {"code": "RATE_LIMITED", "retryAfter": N}}]}`. Nothing else runs for it.

The key is `scope["state"]["api_key_id"]`, set by the authentication middleware, which must
therefore run before this one (see `graphql_api.security.install_security`); requests
without a valid key never get here on /graphql (auth answers 401 first), so the client-IP
fallback only covers other paths. Unauthenticated floods (each costs one indexed key lookup)
are for the gateway to throttle per IP. Behind a proxy or load balancer, run uvicorn with
`--proxy-headers --forwarded-allow-ips=<the proxy>` or every anonymous caller shares the
proxy's bucket.

Memory is bounded: a bucket that has refilled completely is the same as no bucket, so idle
ones are dropped (least recently used first, checked on every request), and at most
`rate_limit_max_clients` are kept (past that the least recently used is dropped early,
which can only favour that caller).

**Across workers and hosts.** Without `redis_url` the buckets live in the worker process:
with N workers (`--workers N`, several pods or hosts) a caller whose requests are spread over
them gets up to N times the configured rate and burst. With `FINANCE_API_REDIS_URL` set,
each key's bucket lives in Redis instead (`redis_bucket.RedisTokenBucket`: the same
algorithm in one atomic Lua script on Redis time), so all of them enforce one limit; while
Redis is unreachable each worker falls back to its own bucket here (fail open, logged).
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from graphql_api.security.http_errors import GRAPHQL_PATH, is_graphql_path, send_error

RATE_LIMITED = "RATE_LIMITED"


class TokenBucketLimiter:
    """Token buckets keyed by caller, for one event loop (no locking: `acquire` never
    awaits)."""

    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_second <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate_per_second must be > 0, burst and max_keys >= 1")
        self.rate = rate_per_second
        self.burst = float(burst)
        self.max_keys = max_keys
        self._clock = clock
        # key -> [tokens, last update]; ordered by last update (oldest first).
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()
        self._refill_seconds = self.burst / self.rate

    def __len__(self) -> int:
        return len(self._buckets)

    def acquire(self, key: str) -> float:
        """Take a token for `key`: 0.0 if granted, else the seconds until one is available."""
        now = self._clock()
        self._evict(now)
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            tokens = self.burst
        else:
            tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[key] = [tokens, now]
        return wait

    def _evict(self, now: float) -> None:
        buckets = self._buckets
        while buckets:
            _, (_, updated) = next(iter(buckets.items()))
            if now - updated < self._refill_seconds and len(buckets) < self.max_keys:
                break
            buckets.popitem(last=False)


def client_key(scope: Scope) -> str:
    api_key_id = scope.get("state", {}).get("api_key_id")
    if api_key_id:
        return f"key:{api_key_id}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


class SharedBuckets(Protocol):
    """Buckets shared by every worker (redis_bucket.RedisTokenBucket)."""

    async def acquire(self, key: str) -> float: ...


class RateLimitMiddleware:
    """Refuses GraphQL requests over their caller's rate with 429 (other paths pass). With
    `shared` buckets they decide (and fall back to `limiter` themselves)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: TokenBucketLimiter,
        shared: SharedBuckets | None = None,
        graphql_path: str = GRAPHQL_PATH,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.shared = shared
        self.graphql_path = graphql_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_graphql_path(scope["path"], self.graphql_path):
            key = client_key(scope)
            if self.shared is not None:
                wait = await self.shared.acquire(key)
            else:
                wait = self.limiter.acquire(key)
            if wait > 0:
                retry_after = max(1, math.ceil(wait))
                await send_error(
                    scope,
                    send,
                    429,
                    f"Rate limit exceeded; retry after {retry_after} s.",
                    RATE_LIMITED,
                    headers=[("Retry-After", str(retry_after))],
                    retryAfter=retry_after,
                )
                return
        await self.app(scope, receive, send)
