"""Schema extensions: per-operation SQL statement counts in `extensions`."""

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from graphql_api.observability import counting_statements


class QueryStats(SchemaExtension):
    """Adds `extensions.sqlStatements`: how many SQL statements the operation ran."""

    _cell: list[int] | None = None

    def on_operation(self) -> Iterator[None]:
        settings = getattr(self.execution_context.context, "settings", None)
        if settings is None or not settings.query_stats_enabled:
            yield
            return
        with counting_statements() as cell:
            self._cell = cell
            yield

    def get_results(self) -> dict[str, Any]:
        return {} if self._cell is None else {"sqlStatements": self._cell[0]}


class RequestIdInExtensions(SchemaExtension):
    """Echoes the request id in `extensions.requestId`, next to the X-Request-ID header."""

    def get_results(self) -> dict[str, Any]:
        return {"requestId": getattr(self.execution_context.context, "request_id", None)}
