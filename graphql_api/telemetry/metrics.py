"""The Prometheus metrics (prometheus-client) and their exposition at GET /metrics.

Module-level metric objects in the default registry, as prometheus-client intends: every app
in the process adds to the same series (in production there is one app per process).

**Workers.** By default each worker process exposes only its own counts at /metrics, so with
`--workers N` a scrape sees one worker at random. Set `PROMETHEUS_MULTIPROC_DIR` to an empty
directory (emptied before each start, writable by every worker) and the workers write their
values there; any worker's /metrics then reports the sum over all of them (prometheus-client's
multiprocess mode). Gauges are summed over the live workers ("livesum"): the pool gauges add
up the workers' pools, and the breaker gauge counts workers per breaker state.

**Cardinality.** Operation names come from callers, so at most MAX_OPERATION_NAMES distinct
names get their own series per process; later ones are counted as "other".
"""

import hmac
import os
import re
import threading
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

MULTIPROCESS_DIR_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"
MAX_OPERATION_NAMES: Final = 100
OTHER_OPERATION: Final = "other"
ANONYMOUS_OPERATION: Final = "anonymous"
_MAX_NAME_LENGTH: Final = 64
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")

# Seconds: a compiled read takes milliseconds, the request deadline is 10 s by default.
LATENCY_BUCKETS: Final = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STATEMENT_BUCKETS: Final = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89)

REQUESTS: Final = Counter(
    "finance_api_requests",
    "GraphQL endpoint requests by operation and outcome (ok, graphql_error, refused, "
    "rate_limited, unavailable, timeout, error).",
    ["operation_type", "operation_name", "outcome"],
)
REQUEST_DURATION: Final = Histogram(
    "finance_api_request_duration_seconds",
    "GraphQL endpoint request latency, from the request's arrival to its last byte.",
    ["operation_type", "operation_name"],
    buckets=LATENCY_BUCKETS,
)
REQUEST_STATEMENTS: Final = Histogram(
    "finance_api_request_sql_statements",
    "SQL statements per GraphQL endpoint request (authentication's key lookup included).",
    ["operation_type"],
    buckets=STATEMENT_BUCKETS,
)
RATE_LIMITED: Final = Counter(
    "finance_api_rate_limited_requests",
    "Requests refused with 429 by the rate limiter, by the caller's role.",
    ["role"],
)
POOL_SIZE: Final = Gauge(
    "finance_api_db_pool_size",
    "Configured size of the database connection pool (overflow not included).",
    multiprocess_mode="livesum",
)
POOL_IN_USE: Final = Gauge(
    "finance_api_db_pool_connections_in_use",
    "Pooled database connections checked out right now.",
    multiprocess_mode="livesum",
)
POOL_WAITING: Final = Gauge(
    "finance_api_db_pool_waiting",
    "Callers waiting for a pooled database connection (or for a new one to open).",
    multiprocess_mode="livesum",
)
POOL_WAIT: Final = Histogram(
    "finance_api_db_pool_wait_seconds",
    "Time to get a pooled database connection.",
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
UPSTREAM_CALLS: Final = Counter(
    "finance_api_upstream_calls",
    "Calls to upstream providers by outcome (ok, not_found, unavailable, circuit_open, "
    "no_time, auth_error, bad_response, invalid_request, cancelled, error).",
    ["upstream", "outcome"],
)
UPSTREAM_DURATION: Final = Histogram(
    "finance_api_upstream_call_duration_seconds",
    "Upstream call latency, retries and backoff included.",
    ["upstream"],
    buckets=LATENCY_BUCKETS,
)
UPSTREAM_BREAKER: Final = Gauge(
    "finance_api_upstream_circuit_state",
    "1 for the circuit breaker's current state (closed, half-opened, opened); summed over "
    "workers in multiprocess mode.",
    ["upstream", "state"],
    multiprocess_mode="livesum",
)
BREAKER_STATES: Final = ("closed", "half-opened", "opened")


class _OperationNames:
    """The operation names that have a series of their own (bounded, per process)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def label(self, name: str | None) -> str:
        if name is None:
            return ANONYMOUS_OPERATION
        if name in self._known:
            return name
        if len(name) > _MAX_NAME_LENGTH or not _GRAPHQL_NAME.fullmatch(name):
            return OTHER_OPERATION
        with self._lock:
            if len(self._known) >= self.limit:
                return OTHER_OPERATION
            self._known.add(name)
        return name


operation_names = _OperationNames(MAX_OPERATION_NAMES)


def record_upstream_call(upstream: str, outcome: str, seconds: float) -> None:
    UPSTREAM_CALLS.labels(upstream, outcome).inc()
    UPSTREAM_DURATION.labels(upstream).observe(seconds)


def record_breaker_state(upstream: str, state: str) -> None:
    for known in BREAKER_STATES:
        UPSTREAM_BREAKER.labels(upstream, known).set(1 if known == state else 0)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR_VARIABLE))


def exposition() -> bytes:
    """The text /metrics serves: this process's registry, or every worker's values."""
    if not multiprocess_mode():
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def worker_stopped() -> None:
    """Drop this process's live gauges from the multiprocess files (at shutdown)."""
    if multiprocess_mode():
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def token_matches(authorization: str | None, token: str) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


__all__ = ["CONTENT_TYPE_LATEST", "exposition", "operation_names", "token_matches"]
