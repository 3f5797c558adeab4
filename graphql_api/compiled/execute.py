"""Running a compiled statement: one statement on one connection from the engine's pool,
with no transaction (no BEGIN / ROLLBACK round trips) and no SQLAlchemy result machinery:
the driver's `fetchval` returns PostgreSQL's JSON text, which is never parsed in Python.

The engine's `before_cursor_execute` and `after_cursor_execute` listeners still see the
statement (called here with the statement, its parameters and a per-statement context): the
statement counter (observability.py), the request deadline's cancellation hook
(security/deadline.py) and OpenTelemetry's SQL spans work as for every other statement. A
connection whose statement failed or was cancelled is invalidated rather than pooled, so no
connection with an interrupted statement is handed to another request. Checkout, statement
and check-in run in one greenlet: one switch into SQLAlchemy's sync pool instead of three.
"""

from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.concurrency import await_, greenlet_spawn

from graphql_api.compiled.plans import Statement


async def fetch_json(engine: AsyncEngine, statement: Statement) -> str:
    text: str = await greenlet_spawn(
        _fetch_in_greenlet, engine.sync_engine, statement.sql, tuple(statement.params)
    )
    return text


def _fetch_in_greenlet(engine: Engine, sql: str, params: tuple[Any, ...]) -> Any:
    dispatch = engine.dispatch
    with engine.connect() as connection:
        # Listeners keep per-statement state on the context (OpenTelemetry's SQL span does).
        event_args = (connection, None, sql, params, SimpleNamespace(), False)
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(*event_args)
        driver: Any = connection.connection.driver_connection
        try:
            return await_(driver.fetchval(sql, *params))
        except BaseException:
            connection.invalidate()
            raise
        finally:
            if dispatch.after_cursor_execute:
                dispatch.after_cursor_execute(*event_args)
