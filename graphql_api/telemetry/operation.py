"""Where the request record (access_log.py) learns which operation ran, on either path.

- The resolver path: `OperationTelemetry`, a schema extension, notes the operation's name and
  type, whether the response carries errors, and whether one of them is unexpected (masked).
- The compiled-reads path (graphql_api/compiled/http.py) answers before strawberry runs, and
  calls `note_compiled_read` when it does.
"""

from collections.abc import Iterator
from functools import lru_cache

from graphql import GraphQLError, OperationDefinitionNode, parse
from strawberry.extensions import SchemaExtension

from graphql_api.graph.errors import is_public
from graphql_api.telemetry.access_log import current_request


class OperationTelemetry(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        record = current_request()
        if record is None:
            return
        context = self.execution_context
        record.plan = "resolvers"
        record.operation_name = context.operation_name
        try:
            record.operation_type = context.operation_type.value
        except RuntimeError:  # not parsed, or no operation of that name
            record.operation_type = None
        result = context.result
        errors: list[GraphQLError] = list((result.errors if result else None) or ())
        record.graphql_errors = bool(errors or context.pre_execution_errors)
        record.unexpected_errors = not all(map(is_public, errors))


def note_compiled_read(query: str, operation_name: str | None) -> None:
    """The compiled path answered this read (a query operation) with one statement."""
    record = current_request()
    if record is None:
        return
    record.plan = "compiled"
    record.operation_type = "query"
    record.operation_name = operation_name or _only_operation_name(query)


@lru_cache(maxsize=256)
def _only_operation_name(query: str) -> str | None:
    """The name of the document's operation (it has exactly one when no operationName is
    given). Compiled documents are few and repeat, so each is parsed here once."""
    try:
        document = parse(query, no_location=True)
    except GraphQLError:
        return None
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            return definition.name.value if definition.name else None
    return None
