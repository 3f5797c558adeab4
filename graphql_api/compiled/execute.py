"""Running a compiled statement: one statement on one connection from the engine's pool,
with no transaction (no BEGIN / ROLLBACK round trips) and no SQLAlchemy result machinery:
the driver's `fetchval` returns PostgreSQL's JSON text, which is never parsed in Python.

The engine's `before_cursor_execute` listeners still see the statement (called here with
the statement and its parameters): the statement counter (observability.py) and the request
deadline's cancellation hook (security/http.py) work as for every other statement. A
connection whose statement failed or was cancelled is invalidated rather than pooled, so no
connection with an interrupted statement is handed to another request. Checkout, statement
and check-in run in one greenlet: one switch into SQLAlchemy's sync pool instead of three.
"""

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
    with engine.connect() as connection:
        listeners = engine.dispatch.before_cursor_execute
        if listeners:
            listeners(connection, None, sql, params, None, False)
        driver: Any = connection.connection.driver_connection
        try:
            return await_(driver.fetchval(sql, *params))
        except BaseException:
            connection.invalidate()
            raise
