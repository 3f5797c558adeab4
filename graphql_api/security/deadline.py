"""The request deadline: one scope per request that a deadline can cancel as a whole.

The HTTP guard (security/guard.py) opens a `request_scope` around each GraphQL request. When
the deadline passes, `RequestScope.expire` cancels the request's task and every task of the
request that ran SQL (dataloader batches run in tasks of their own): asyncpg then cancels the
statement in PostgreSQL, and statements the request would start afterwards are refused
(`install_deadline_cancellation`). `request_time_left` sizes other budgets (the upstream
client's retries) from it; `checkpoint` lets the deadline's timer fire during long
completions.
"""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


class RequestDeadlineExceededError(Exception):
    """Raised instead of running a statement for a request whose deadline has passed."""


class RequestScope:
    """The tasks of one request that have run SQL, so a deadline can cancel them all."""

    __slots__ = ("deadline", "expired", "steps", "tasks")

    def __init__(self, deadline: float | None = None) -> None:
        self.expired = False
        self.steps = 0
        self.tasks: set[asyncio.Task[Any]] = set()
        # Event-loop time (`loop.time()`) at which the request is cut off.
        self.deadline = deadline

    def expire(self) -> int:
        self.expired = True
        current = asyncio.current_task()
        cancelled = 0
        for task in self.tasks:
            if task is not current and not task.done():
                task.cancel()
                cancelled += 1
        return cancelled


# Tasks spawned by the request (asyncio.create_task, loop.call_soon) copy the context, so they
# see the same scope object.
_request_scope: ContextVar[RequestScope | None] = ContextVar("request_scope", default=None)


@contextmanager
def request_scope(timeout_seconds: float) -> Iterator[RequestScope]:
    """The current request's scope, cut off `timeout_seconds` from now (event-loop time)."""
    request = RequestScope(asyncio.get_running_loop().time() + timeout_seconds)
    token = _request_scope.set(request)
    try:
        yield request
    finally:
        _request_scope.reset(token)


def request_time_left() -> float | None:
    """Seconds until the current request's deadline (negative once passed), or None outside
    a request (CLI, tests calling services directly). Work with its own retries or timeouts,
    such as the upstream provider client, sizes its budget from this."""
    request = _request_scope.get()
    if request is None or request.deadline is None:
        return None
    return request.deadline - asyncio.get_running_loop().time()


# Relation resolutions between two yields to the event loop (see `checkpoint`).
_STEPS_PER_YIELD: Final = 256


async def checkpoint() -> None:
    """Called by every relation resolver: lets the event loop run now and then.

    Once a request's rows are in its loaders' caches, graphql-core completes the rest of the
    tree without ever yielding (awaiting a finished future does not suspend), so a large
    answer held the loop for seconds: the deadline's timer could not fire, and every other
    request waited. Yielding every few hundred steps, and at once when the deadline has
    passed, lets the timer cancel the request within moments of its deadline and keeps
    other requests moving, for the cost of a context-variable read per relation."""
    request = _request_scope.get()
    if request is None:
        return
    request.steps += 1
    overdue = request.deadline is not None and (
        asyncio.get_running_loop().time() >= request.deadline
    )
    if overdue or request.steps % _STEPS_PER_YIELD == 0:
        await asyncio.sleep(0)


def install_deadline_cancellation(engine: AsyncEngine) -> None:
    """Let request deadlines reach the database: call once per engine (app lifespan)."""
    event.listen(engine.sync_engine, "before_cursor_execute", _track_statement)


def _track_statement(*_: Any) -> None:
    request = _request_scope.get()
    if request is None:
        return
    if request.expired:
        raise RequestDeadlineExceededError("the request's deadline has passed")
    task = asyncio.current_task()
    if task is not None:
        request.tasks.add(task)
