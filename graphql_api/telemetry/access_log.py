"""One JSON line per request, and the per-request metrics, from one pure-ASGI middleware.

It sits just inside the request-id middleware (and inside the OpenTelemetry one when tracing
is on), so it sees every request whatever refuses it later: the guard's 4xx, auth's 401, the
limiter's 429, the 503 of an outage, the 504 of a deadline. What happened inside is noted on
a `RequestRecord` that the code below reaches through a context variable: the GraphQL
extension (operation.py) and the compiled-reads path fill in the operation and the plan.

The line goes to the "graphql_api.access" logger at INFO:

    {"ts":"2026-11-23T10:15:02.113Z","request_id":"6f1c…","method":"POST","path":"/graphql",
     "status":200,"operation_name":"AgentContext","operation_type":"query","role":"AGENT",
     "duration_ms":4.21,"sql_statements":2,"outcome":"ok","plan":"compiled"}

Probes and scrapes (/healthz, /readyz, /metrics) are neither logged nor counted.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_api.observability import counting_statements
from graphql_api.security.http_errors import is_graphql_path
from graphql_api.telemetry.metrics import (
    RATE_LIMITED,
    REQUEST_DURATION,
    REQUEST_STATEMENTS,
    REQUESTS,
    operation_names,
)

ACCESS_LOGGER: Final = "graphql_api.access"
QUIET_PATHS: Final = frozenset({"/healthz", "/readyz", "/metrics"})
_MAX_LOGGED_NAME: Final = 128

logger = logging.getLogger(ACCESS_LOGGER)


@dataclass(slots=True)
class RequestRecord:
    """What the layers of one request found out about it."""

    status: int | None = None
    operation_name: str | None = None
    operation_type: str | None = None  # query | mutation | subscription, once parsed
    graphql_errors: bool = False  # the response carries `errors`
    unexpected_errors: bool = False  # ... and one of them was masked (a bug)
    plan: str | None = None  # compiled | resolvers


_current: ContextVar[RequestRecord | None] = ContextVar("request_record", default=None)


def current_request() -> RequestRecord | None:
    """The record of the request this code runs for, or None outside a request."""
    return _current.get()


@contextmanager
def recording_request() -> Iterator[RequestRecord]:
    record = RequestRecord()
    token = _current.set(record)
    try:
        yield record
    finally:
        _current.reset(token)


def outcome_of(record: RequestRecord, *, failed: bool) -> str:
    status = record.status
    if failed or status is None:
        return "error"
    if status == 429:
        return "rate_limited"
    if status == 503:
        return "unavailable"
    if status in (408, 504):
        return "timeout"
    if status >= 500 or record.unexpected_errors:
        return "error"
    if status >= 400:
        return "refused"
    return "graphql_error" if record.graphql_errors else "ok"


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, *, log: bool, metrics: bool, tracing: bool) -> None:
        self.app = app
        self.log = log
        self.metrics = metrics
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in QUIET_PATHS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        failed = True
        with recording_request() as record, counting_statements() as statements:

            async def observed_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    record.status = message["status"]
                elif self.tracing and not message.get("more_body", False):
                    # The tracing middleware ends its span with the last body message.
                    _annotate_span(scope, record, statements[0])
                await send(message)

            try:
                await self.app(scope, receive, observed_send)
                failed = False
            finally:
                self._finish(scope, record, time.perf_counter() - started, statements[0], failed)

    def _finish(
        self, scope: Scope, record: RequestRecord, seconds: float, statements: int, failed: bool
    ) -> None:
        outcome = outcome_of(record, failed=failed)
        role = _role(scope)
        # Operations only: a GET of /graphql is the GraphiQL page, not a GraphQL request.
        if self.metrics and scope["method"] == "POST" and is_graphql_path(scope["path"]):
            _count(record, outcome, role, seconds, statements)
        if self.log and logger.isEnabledFor(logging.INFO):
            line = _line(scope, record, outcome, role, seconds, statements)
            # handle(makeRecord(...)), not info(): info() walks the deep async call stack to
            # find the caller's file and line, which the access line never shows (measured:
            # ~20 us a request, as much as the rest of the line).
            logger.handle(
                logger.makeRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, line, (), None)
            )


def _role(scope: Scope) -> str | None:
    viewer = scope.get("state", {}).get("viewer")
    return str(viewer.role) if viewer is not None else None


def _count(
    record: RequestRecord, outcome: str, role: str | None, seconds: float, statements: int
) -> None:
    operation_type = record.operation_type or ""
    name = operation_names.label(record.operation_name) if operation_type else ""
    REQUESTS.labels(operation_type, name, outcome).inc()
    REQUEST_DURATION.labels(operation_type, name).observe(seconds)
    REQUEST_STATEMENTS.labels(operation_type).observe(statements)
    if outcome == "rate_limited":
        RATE_LIMITED.labels(role or "none").inc()


def _line(
    scope: Scope,
    record: RequestRecord,
    outcome: str,
    role: str | None,
    seconds: float,
    statements: int,
) -> str:
    name = record.operation_name
    fields: dict[str, Any] = {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "request_id": scope.get("state", {}).get("request_id"),
        "method": scope["method"],
        "path": scope["path"],
        "status": record.status if record.status is not None else 500,
        "operation_name": name[:_MAX_LOGGED_NAME] if name else None,
        "operation_type": record.operation_type,
        "role": role,
        "duration_ms": round(seconds * 1000, 2),
        "sql_statements": statements,
        "outcome": outcome,
    }
    if record.plan is not None:
        fields["plan"] = record.plan
    return orjson.dumps(fields).decode()


def _annotate_span(scope: Scope, record: RequestRecord, statements: int) -> None:
    span = trace.get_current_span()
    if not span.is_recording():
        return
    attributes: dict[str, str | int] = {
        "finance.outcome": outcome_of(record, failed=False),
        "finance.sql_statements": statements,
    }
    role = _role(scope)
    request_id = scope.get("state", {}).get("request_id")
    if record.operation_type:
        attributes["graphql.operation.type"] = record.operation_type
    if record.operation_name:
        attributes["graphql.operation.name"] = record.operation_name[:_MAX_LOGGED_NAME]
    if role:
        attributes["finance.role"] = role
    if isinstance(request_id, str):
        attributes["finance.request_id"] = request_id
    if record.plan:
        attributes["finance.plan"] = record.plan
    span.set_attributes(attributes)
