"""One pooled connection per request for its reads, shared by its loaders and listings.

graphql-core resolves sibling fields concurrently, and a nested query runs several loader
batches; with a connection per batch one request held several pooled connections at once,
so a pool of 20 served far fewer than 20 heavy requests. Here the request's first read
checks a connection out; later reads reuse it; the router closes it when the request ends.

- **Serialised.** A connection (and an AsyncSession) must never serve two tasks at once:
  each use holds a per-request asyncio.Lock. Loader batches are few per request.
- **Autocommit.** Reads need no transaction: each statement runs on its own, so no BEGIN /
  ROLLBACK round trips, and a failed statement cannot leave the next one in an aborted
  transaction. Writes (mutations) keep their own transaction on their own session.
- **A fresh AsyncSession per use**, bound to the connection: no identity map outlives a
  batch, exactly as when each batch had its own session (rows are detached values).
- **Fail fast.** Once the database is found unreachable, every later use in the request
  raises DatabaseUnavailableError at once instead of waiting for the pool again.
- **Deadlines.** The statement runs in the task that asked for it, so the request guard
  (security/deadline.py) sees and cancels that task at the deadline as before. If the request
  ends while a statement is still in flight, the connection is closed once that statement
  is over (cancelled by the guard), never under it.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from graphql_api.db_health import DatabaseUnavailableError, is_database_unavailable

logger = logging.getLogger("graphql_api.request_db")

# Closers of connections whose request ended mid-statement; referenced until they finish.
_pending_closers: set[asyncio.Task[None]] = set()


class RequestEndedError(RuntimeError):
    """A read was attempted after its request had ended (an orphaned loader batch)."""


class RequestDatabase:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._lock = asyncio.Lock()
        self._connection: AsyncConnection | None = None
        self._failure: BaseException | None = None
        self._closed = False

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """An AsyncSession on the request's connection, for this caller alone."""
        async with self._lock:
            if self._closed:
                raise RequestEndedError("the request has ended")
            if self._failure is not None:
                raise DatabaseUnavailableError("the database became unavailable") from (
                    self._failure
                )
            try:
                connection = await self._connected()
                async with AsyncSession(bind=connection, expire_on_commit=False) as session:
                    yield session
            except Exception as error:
                if is_database_unavailable(error):
                    self._failure = error
                raise

    async def release(self) -> None:
        """Give the connection back to the pool now (the next read takes one again): e.g.
        before a mutation opens its own transaction, so a request never holds two."""
        async with self._lock:
            await self._give_back()

    async def close(self) -> None:
        """End of the request: no more reads; the connection goes back to the pool."""
        self._closed = True
        if self._lock.locked():
            # A use is under way: a statement still running (the request hit its deadline, an
            # orphaned batch) or a connection still being checked out, which `_connection`
            # does not show yet. Close after it, without making the request wait for it.
            closer = asyncio.create_task(self._close_after_current_use())
            _pending_closers.add(closer)
            closer.add_done_callback(_pending_closers.discard)
            return
        await self._give_back()

    async def _close_after_current_use(self) -> None:
        async with self._lock:
            await self._give_back()

    async def _give_back(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await _close_quietly(connection)

    async def _connected(self) -> AsyncConnection:
        if self._connection is None:
            connection = await self._engine.connect()
            try:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            except BaseException:
                await _close_quietly(connection)
                raise
            self._connection = connection
        return self._connection


async def _close_quietly(connection: AsyncConnection) -> None:
    """Return the connection to the pool. A connection that broke is discarded by the pool
    itself; nothing here may turn a finished request into an error."""
    with suppress(Exception):
        await connection.close()
