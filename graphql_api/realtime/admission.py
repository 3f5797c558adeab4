"""What a `subscribe` message must be before its operation may start.

- The message shape (`well_formed`): a message that is not of the protocol's shape closes the
  connection with 4400. That includes wrongly typed payload fields (`variables` or
  `extensions` not an object, `operationName` not a string): strawberry would pass them on
  and fail inside execution with an untyped INTERNAL_SERVER_ERROR.
- The document (`refusal`): exactly one operation must be chosen, as the GraphQL spec asks
  (several operations need an `operationName` naming one of them), it must be a
  subscription, and its cost estimate must be within the limit. strawberry itself would run
  the *first* operation of a document with several and no `operationName`, which the cost
  check could not know: so the choice is made here, once, and the estimate is of exactly the
  operation strawberry runs.
"""

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
)

from graphql_api.config import Settings
from graphql_api.security.cost import estimate_nodes, too_complex

NOT_ALLOWED = "Only subscriptions run over WebSocket: send queries and mutations as HTTP POST."
# graphql-core's own messages (graphql.execution.execute), so clients see the same words as
# from any spec-following server.
NAME_REQUIRED = "Must provide operation name if query contains multiple operations."
NO_OPERATION = "Must provide an operation."
INVALID_DOCUMENT = "GRAPHQL_VALIDATION_FAILED"
_OPTIONAL_OBJECTS = ("variables", "extensions")


def well_formed(message: object) -> bool:
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return False
    if message["type"] in ("subscribe", "complete") and not isinstance(message.get("id"), str):
        return False
    if message["type"] == "subscribe":
        return _well_formed_payload(message.get("payload"))
    return True


def _well_formed_payload(payload: object) -> bool:
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return False
    if any(not isinstance(payload.get(key), dict | None) for key in _OPTIONAL_OBJECTS):
        return False
    return isinstance(payload.get("operationName"), str | None)


def refusal(
    schema: GraphQLSchema,
    settings: Settings,
    query: str,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> GraphQLError | None:
    """The error that stops the operation before it starts, or None. A document that does
    not parse or validate is left to strawberry, which says why."""
    try:
        document = parse(query, max_tokens=settings.max_query_tokens)
    except GraphQLError:
        return None
    chosen = _chosen_operation(document, operation_name)
    if isinstance(chosen, GraphQLError):
        return chosen
    if chosen.operation is not OperationType.SUBSCRIPTION:
        return GraphQLError(NOT_ALLOWED, extensions={"code": "OPERATION_NOT_ALLOWED"})
    try:
        estimate = estimate_nodes(schema, document, operation_name, variables)
    except Exception:  # an invalid document: validation reports it
        return None
    limit = settings.max_query_nodes
    return too_complex(estimate, limit) if estimate is not None and estimate > limit else None


def _chosen_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | GraphQLError:
    """The operation that will run (the one `estimate_nodes` then estimates), or why none."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) == 1:
            return operations[0]
        message = NAME_REQUIRED if operations else NO_OPERATION
        return GraphQLError(message, extensions={"code": INVALID_DOCUMENT})
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    return GraphQLError(
        f"Unknown operation named '{operation_name}'.", extensions={"code": INVALID_DOCUMENT}
    )
