"""Assembles the domains into the one schema; `finance-api export-schema` prints it."""

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError, OperationDefinitionNode
from strawberry import relay
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.relay.types import GlobalIDValueError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from graphql_api.agent.resolvers import AgentQuery
from graphql_api.audit.resolvers import AuditQuery
from graphql_api.auth.matrix import MUTATION_ACTIONS, QUERY_ACTIONS, SUBSCRIPTION_ACTIONS
from graphql_api.context import Info
from graphql_api.graph.errors import PublicOrMaskedErrors, is_public, mask_escaped
from graphql_api.graph.extensions import QueryStats, RequestIdInExtensions
from graphql_api.graph.nodes import NodeRow
from graphql_api.graph.permissions import guard_root_fields
from graphql_api.graph.scalars import DateTimeScalar, DecimalScalar
from graphql_api.lending.mutations import LendingMutation
from graphql_api.lending.resolvers import LendingQuery
from graphql_api.members.mutations import MemberMutation
from graphql_api.members.resolvers import MemberQuery
from graphql_api.portfolios.mutations import PortfolioMutation
from graphql_api.predictions.mutations import PredictionMutation
from graphql_api.predictions.resolvers import PredictionQuery
from graphql_api.realtime.resolvers import Subscription
from graphql_api.security.cost import QueryCostLimit
from graphql_api.security.limits import RequestLimits, add_default_code
from graphql_api.telemetry.operation import OperationTelemetry


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its global `id` (Relay); null if there is none.")
    async def node(
        self,
        info: Info,
        id: Annotated[
            relay.GlobalID, strawberry.argument(description="A global id from an `id` field.")
        ],
    ) -> relay.Node | None:
        try:
            node_type = id.resolve_type(info)
        except GlobalIDValueError:
            # A well-formed id naming no node type identifies nothing: not found, not a crash.
            return None
        if not issubclass(node_type, NodeRow):
            return None
        found = await node_type.resolve_nodes(info=info, node_ids=[id.node_id])
        return found[0]


Query = merge_types(
    "Query", (MemberQuery, AgentQuery, LendingQuery, PredictionQuery, AuditQuery, NodeQuery)
)
Query.__strawberry_definition__.description = "Read access to the finance graph."  # type: ignore[attr-defined]
Mutation = merge_types(
    "Mutation", (MemberMutation, LendingMutation, PortfolioMutation, PredictionMutation)
)
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Write workflows. Each runs in one transaction with its audit rows, returns `userErrors`"
    " for expected refusals, and accepts an `idempotencyKey` where it creates rows."
)


logger = logging.getLogger("graphql_api.errors")


def _request_id(context: object) -> str:
    return str(getattr(context, "request_id", "unknown"))


guard_root_fields(Query, QUERY_ACTIONS)
guard_root_fields(Mutation, MUTATION_ACTIONS)
guard_root_fields(Subscription, SUBSCRIPTION_ACTIONS)


# `execute` serves HTTP POST (and in-process callers); subscriptions run only over the
# WebSocket (`stream`, graphql_api/realtime): elsewhere they are an operation type not allowed
# (HTTP 400, BAD_REQUEST), not a field that resolves to null.
EXECUTABLE_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})


OPERATION_NAME_REQUIRED = "Must provide operation name if query contains multiple operations."


class OneOperationChosen(SchemaExtension):
    """A document with several operations needs an `operationName` (GraphQL spec; graphql-
    core's message). strawberry would run the first one. A validation error, so nothing runs;
    the compiled path leaves such documents to the resolvers (compiled/document.py)."""

    def on_validate(self) -> Iterator[None]:
        # Before the yield: strawberry checks for errors before the extensions' exits. After
        # ValidationCache in the list, which sets the errors on its entry.
        context = self.execution_context
        document = context.graphql_document
        # strawberry's `operation_name` falls back to the first operation's name: only the
        # name the request gave will do (private, so a strawberry change fails the tests).
        if document is not None and context._provided_operation_name is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                error = GraphQLError(
                    OPERATION_NAME_REQUIRED, extensions={"code": "GRAPHQL_VALIDATION_FAILED"}
                )
                # A new list: ValidationCache's cached one must not change. Validation itself
                # is then skipped (errors are set): one error is enough.
                context.pre_execution_errors = [*(context.pre_execution_errors or []), error]
        yield


class FinanceSchema(strawberry.Schema):
    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        allowed = EXECUTABLE_OPERATIONS.intersection(
            EXECUTABLE_OPERATIONS if allowed_operation_types is None else allowed_operation_types
        )
        result = await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )
        if result.errors:
            result.errors = mask_escaped(result.errors, _request_id(context_value))
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Called with every error before masking. Strawberry's default logs each one at
        ERROR, with a traceback; here the caller's own mistakes (parse, validation, limits,
        PublicError) get a code and a DEBUG line, and unexpected errors are left to
        PublicOrMaskedErrors, which logs them once with the request id."""
        # Parse and validation errors arrive before execution has produced a result.
        before_execution = execution_context is None or execution_context.result is None
        for error in errors:
            if is_public(error):
                add_default_code(error, before_execution=before_execution)
                logger.debug("refused: %s", error.message)


# One schema per process: strawberry's relay `node` field can be bound to only one schema.
# Behaviour that differs by environment (limits, introspection) is decided per request from
# the context settings, by RequestLimits.
schema = FinanceSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    config=StrawberryConfig(
        sort_schema=True,
        # Suggestions ("Did you mean ...?") reveal the schema to callers who cannot introspect.
        disable_field_suggestions=True,
        relay_max_results=100,
        scalar_map={Decimal: DecimalScalar, datetime: DateTimeScalar},
    ),
    extensions=[
        # Before the caches: sets the parser's token limit and adds the validation rules.
        RequestLimits,
        ParserCache,
        lambda: ValidationCache(maxsize=1024),
        OneOperationChosen,
        # After validation, before execution: refuses over-budget operations before any SQL.
        QueryCostLimit,
        PublicOrMaskedErrors,
        RequestIdInExtensions,
        QueryStats,
        # Last, so it sees the errors before they are masked: the access log's operation.
        OperationTelemetry,
    ],
)
