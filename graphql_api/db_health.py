"""Is this exception "the database cannot be reached"? And logging it without a flood.

A request that fails for that reason is not the caller's fault and not a bug: it gets
HTTP 503 SERVICE_UNAVAILABLE with Retry-After (graphql_api/unavailable.py), one WARNING line,
and a traceback at most once per cause per minute, however many requests fail at once.

"Cannot be reached" means: no pooled connection within the pool timeout, connection refused,
reset or closed (OSError, asyncpg's connection errors, SQLSTATE class 08), the server
starting up or shutting down (57P01-57P03), too many connections (53300), and any SQLAlchemy
DBAPIError that invalidated its connection. Not a statement that failed on a live
connection (syntax, constraint, statement timeout): those are bugs or user errors.
"""

import logging
import time
from collections.abc import Iterator

import asyncpg
from sqlalchemy import exc as sa_exc

logger = logging.getLogger("graphql_api.db_health")

# SQLSTATEs that say the server is unreachable or refusing work, whatever the statement.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_TRACEBACK_INTERVAL_SECONDS = 60.0
# How far to follow a DB-API error's `__cause__` chain (adapted error -> asyncpg -> OSError).
_MAX_CAUSE_DEPTH = 5


class DatabaseUnavailableError(Exception):
    """Raised by the request connection for every use after the database was found
    unreachable in the same request: the request fails fast instead of waiting again."""


def is_database_unavailable(error: BaseException) -> bool:
    return unavailable_cause(error) is not None


def unavailable_cause(error: BaseException | None) -> BaseException | None:
    """The exception that makes `error` a database outage (itself, or one inside an
    exception group), or None."""
    if error is None:
        return None
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            if (found := unavailable_cause(inner)) is not None:
                return found
        return None
    if isinstance(error, DatabaseUnavailableError | sa_exc.TimeoutError):
        return error
    if isinstance(error, sa_exc.DBAPIError):
        # The DB-API error wraps the driver's own (asyncpg) error as its cause.
        if error.connection_invalidated or any(map(_is_connection_failure, _causes(error.orig))):
            return error
        return None
    # Raw driver errors reach us when connecting (SQLAlchemy does not wrap those). Only the
    # error itself is checked: an HTTP client's ConnectError also has an OSError as cause.
    return error if _is_connection_failure(error) else None


def root_cause(error: BaseException) -> BaseException:
    """The innermost cause, for the log line: e.g. ConnectionRefusedError, not DBAPIError."""
    if isinstance(error, BaseExceptionGroup) and error.exceptions:
        return root_cause(error.exceptions[0])
    start = error.orig if isinstance(error, sa_exc.DBAPIError) and error.orig else error
    *_, last = _causes(start)
    return last


def _causes(error: BaseException | None) -> Iterator[BaseException]:
    depth = 0
    while error is not None and depth < _MAX_CAUSE_DEPTH:
        yield error
        error = error.__cause__
        depth += 1


def _is_connection_failure(error: BaseException) -> bool:
    if isinstance(error, OSError):  # refused, reset, no socket file, connect timeout
        return True
    if isinstance(error, asyncpg.PostgresError):
        sqlstate = str(getattr(error, "sqlstate", "") or "")
        return sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES
    if isinstance(error, asyncpg.InterfaceError):
        return "connection is closed" in str(error)
    return False


def _qualified_name(kind: type[BaseException]) -> str:
    """`FileNotFoundError`, but `sqlalchemy.TimeoutError`: not the builtin of that name."""
    module = kind.__module__
    if module == "builtins":
        return kind.__qualname__
    return f"{module.split('.')[0]}.{kind.__qualname__}"


class ThrottledTracebacks:
    """Remembers when each cause (exception class) last had its traceback logged."""

    def __init__(self, interval_seconds: float = _TRACEBACK_INTERVAL_SECONDS) -> None:
        self.interval_seconds = interval_seconds
        self._last: dict[str, float] = {}

    def allow(self, cause_name: str) -> bool:
        now = time.monotonic()
        last = self._last.get(cause_name)
        if last is not None and now - last < self.interval_seconds:
            return False
        self._last[cause_name] = now
        return True


_tracebacks = ThrottledTracebacks()


def log_unavailable(request_id: str | None, error: BaseException) -> None:
    """One WARNING per failed request; the traceback only once per cause per minute."""
    cause = root_cause(error)
    name = _qualified_name(type(cause))
    logger.warning(
        "database unavailable for request %s: %s: %s",
        request_id,
        name,
        str(cause)[:200],
        exc_info=error if _tracebacks.allow(name) else None,
    )
