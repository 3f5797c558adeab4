"""Connection pool gauges: connections in use, callers waiting, configured size.

Kept current by the pool's own events rather than read at scrape time, so they are right in
multiprocess mode too (each worker writes its own values; see metrics.py). Every path that
takes a connection (the request's reads, compiled reads, mutations, key lookups) goes
through the pool, so all of them are counted.

"Waiting" has no pool event: SQLAlchemy's pools hand out connections through `_do_get`, the
method each pool class implements, so the instrumented pool's instance gets a wrapper that
counts the callers inside it and times them. A pool recreated by `engine.dispose()` (only at
shutdown here) loses the wrapper; its events stay (they live on the engine).
"""

import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool, QueuePool

from graphql_api.telemetry.metrics import POOL_IN_USE, POOL_SIZE, POOL_WAIT, POOL_WAITING

# Every instrumented pool of this process (tests run several apps in one process).
_pools: "weakref.WeakSet[Pool]" = weakref.WeakSet()


def instrument_pool(engine: AsyncEngine) -> None:
    """Idempotent per engine; called from the app's lifespan once the engine exists."""
    target = engine.sync_engine
    pool = target.pool
    if pool in _pools:
        return
    _pools.add(pool)
    if not event.contains(target, "checkout", _checked_out):
        event.listen(target, "checkout", _checked_out)
        event.listen(target, "checkin", _checked_in)
    pool._do_get = _counting_waiters(pool._do_get)  # type: ignore[method-assign]
    _refresh_size()
    _refresh()


def forget_pool(engine: AsyncEngine) -> None:
    """At shutdown: this engine's pool no longer counts."""
    _pools.discard(engine.sync_engine.pool)
    _refresh_size()
    _refresh()


def _counting_waiters(do_get: Callable[[], Any]) -> Callable[[], Any]:
    def do_get_counted() -> Any:
        POOL_WAITING.inc()
        started = time.perf_counter()
        try:
            return do_get()
        finally:
            POOL_WAITING.dec()
            POOL_WAIT.observe(time.perf_counter() - started)

    return do_get_counted


# Checkout and checkin run on every request: a counter step, not a walk over the pools.
def _checked_out(*_: Any) -> None:
    POOL_IN_USE.inc()


def _checked_in(*_: Any) -> None:
    POOL_IN_USE.dec()


def _refresh(returning: int = 0) -> None:
    in_use = sum(pool.checkedout() for pool in _pools if isinstance(pool, QueuePool))
    POOL_IN_USE.set(max(0, in_use - returning))


def _refresh_size() -> None:
    POOL_SIZE.set(sum(pool.size() for pool in _pools if isinstance(pool, QueuePool)))
