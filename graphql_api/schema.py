"""Assembles the domains into the one schema; `finance-api export-schema` prints it."""

from decimal import Decimal

import strawberry
from strawberry import relay
from strawberry.extensions import MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from graphql_api.agent.resolvers import AgentQuery
from graphql_api.audit.resolvers import AuditQuery
from graphql_api.graph.errors import PublicOrMaskedErrors
from graphql_api.graph.extensions import QueryStats, RequestIdInExtensions
from graphql_api.graph.scalars import DecimalScalar
from graphql_api.lending.mutations import LendingMutation
from graphql_api.lending.resolvers import LendingQuery
from graphql_api.members.mutations import MemberMutation
from graphql_api.members.resolvers import MemberQuery
from graphql_api.portfolios.mutations import PortfolioMutation
from graphql_api.predictions.mutations import PredictionMutation
from graphql_api.predictions.resolvers import PredictionQuery


@strawberry.type
class NodeQuery:
    node: relay.Node | None = relay.node(
        description="Any object by its global `id` (Relay); null if there is none."
    )


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


# One schema per process: strawberry's relay `node` field can be bound to only one schema.
# Behaviour that differs by environment is decided per request from the context settings.
schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(
        sort_schema=True,
        # Suggestions ("Did you mean ...?") reveal the schema to callers who cannot introspect.
        disable_field_suggestions=True,
        relay_max_results=100,
        scalar_map={Decimal: DecimalScalar},
    ),
    extensions=[
        lambda: MaxTokensLimiter(max_token_count=2000),
        ParserCache,
        lambda: ValidationCache(maxsize=1024),
        PublicOrMaskedErrors,
        RequestIdInExtensions,
        QueryStats,
    ],
)
