"""The per-key token bucket in Redis, so every worker and host enforces one limit.

Same algorithm and numbers as the in-process `TokenBucketLimiter` (rate_limit.py): one hash
per caller (`tokens`, `updated`), refilled and taken from atomically by one Lua script per
request. The script reads the time with Redis `TIME`, so workers' clocks never matter, and
sets a TTL of burst/rate seconds (plus one): by then the bucket has refilled completely,
which is the same as no bucket, so idle keys vanish by themselves.

**Redis unreachable: fail open to the per-process bucket.** Every error (refused, timed
out, a script error, anything else redis-py raises) makes the request use the worker's own
`TokenBucketLimiter` instead, logs a WARNING at most once a minute, and skips Redis for
`retry_interval_seconds` so an outage adds no latency to each request. Why open rather than
closed: the API key is still checked on every request, and each worker still enforces the
configured limit on its own, so during an outage a caller can get at most N workers times
the limit (the behaviour without Redis) rather than the whole API answering 429 or 500
because a cache is down. Socket timeouts are short (0.3 s) and redis-py's own retries are
off: a slow Redis costs one request one timeout, then nothing until the next retry.
"""

import logging
import time
from typing import Any, Final

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from graphql_api.security.rate_limit import TokenBucketLimiter

logger = logging.getLogger("graphql_api.security")

KEY_PREFIX: Final = "finance-api:rate-limit:"
SOCKET_TIMEOUT_SECONDS: Final = 0.3

# KEYS[1]: the caller's hash. ARGV: rate per second, burst, TTL in milliseconds.
# Returns {allowed (1 or 0), seconds until a token is available (a string: Lua numbers
# would be truncated to integers in the reply)}.
BUCKET_SCRIPT: Final = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = burst
else
  tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
end
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
           'updated', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {allowed, string.format('%.17g', wait)}
"""


class RedisTokenBucket:
    """Token buckets in Redis with the in-process `fallback` while Redis is unreachable.

    Create it anywhere; `acquire` connects lazily on the running event loop; `aclose` on
    shutdown."""

    def __init__(
        self,
        url: str,
        fallback: TokenBucketLimiter,
        *,
        socket_timeout: float = SOCKET_TIMEOUT_SECONDS,
        retry_interval_seconds: float = 5.0,
        warning_interval_seconds: float = 60.0,
    ) -> None:
        self.fallback = fallback
        self.retry_interval_seconds = retry_interval_seconds
        self.warning_interval_seconds = warning_interval_seconds
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._script = self._client.register_script(BUCKET_SCRIPT)
        self._ttl_ms = str(int(fallback.burst / fallback.rate * 1000) + 1000)
        self._rate = repr(fallback.rate)
        self._burst = repr(fallback.burst)
        self._skip_redis_until = 0.0
        self._last_warning: float | None = None
        self.failures = 0  # Redis errors so far (each served from the fallback)

    async def acquire(self, key: str) -> float:
        """Take a token for `key`: 0.0 if granted, else the seconds until one is available."""
        if time.monotonic() < self._skip_redis_until:
            return self.fallback.acquire(key)
        try:
            reply: Any = await self._script(
                keys=[KEY_PREFIX + key], args=[self._rate, self._burst, self._ttl_ms]
            )
            allowed, wait = int(reply[0]), float(reply[1])
        except Exception as error:  # Redis trouble of any kind must never fail a request
            self._unavailable(error)
            return self.fallback.acquire(key)
        return 0.0 if allowed else max(wait, 1e-9)

    def _unavailable(self, error: Exception) -> None:
        self.failures += 1
        now = time.monotonic()
        self._skip_redis_until = now + self.retry_interval_seconds
        if self._last_warning is None or now - self._last_warning >= self.warning_interval_seconds:
            self._last_warning = now
            logger.warning(
                "rate limit: Redis unavailable (%s: %s); using per-process buckets, "
                "retrying Redis every %g s",
                type(error).__name__,
                error,
                self.retry_interval_seconds,
            )

    async def aclose(self) -> None:
        await self._client.aclose()
