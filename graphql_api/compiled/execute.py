"""Running a compiled statement: one statement on one connection from the engine's pool,
with no transaction (no BEGIN / ROLLBACK round trips) and no SQLAlchemy result machinery:
the driver's `fetchval` returns PostgreSQL's JSON text, which is never parsed in Python.

The engine's `before_cursor_execute` and `after_cursor_execute` listeners still see the
statement (called here with the statement and its parameters): the statement counter
(observability.py), the request deadline's cancellation hook (security/http.py) and
OpenTelemetry's SQL spans work as for every other statement. A
connection whose statement failed or was cancelled is invalidated rather than pooled, so no
connection with an interrupted statement is handed to another request.
"""

from types import SimpleNamespace

from sqlalchemy.ext.asyncio import AsyncEngine

from graphql_api.compiled.plans import Statement


async def fetch_json(engine: AsyncEngine, statement: Statement) -> str:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        params = tuple(statement.params)
        dispatch = engine.sync_engine.dispatch
        # Listeners keep per-statement state on the context (OpenTelemetry's SQL span does).
        context = SimpleNamespace()
        event_args = (connection.sync_connection, None, statement.sql, params, context, False)
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(*event_args)
        try:
            text: str = await raw.driver_connection.fetchval(statement.sql, *params)  # type: ignore[union-attr]
        except BaseException:
            await connection.invalidate()
            raise
        finally:
            if dispatch.after_cursor_execute:
                dispatch.after_cursor_execute(*event_args)
        return text
