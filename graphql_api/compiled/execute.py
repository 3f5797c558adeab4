"""Running a compiled statement: one statement on the request's one pooled connection
(graphql_api/request_db.py: autocommit, so no BEGIN / ROLLBACK round trips), through the
engine so the statement counter and the request deadline's cancellation hook
(security/http.py) see it. The JSON comes back as text and is never parsed in Python."""

from graphql_api.compiled.plans import Statement
from graphql_api.context import Context


async def fetch_json(context: Context, statement: Statement) -> str:
    async with context.db.session() as session:
        connection = await session.connection()
        result = await connection.exec_driver_sql(statement.sql, tuple(statement.params))
        return str(result.scalar_one())
