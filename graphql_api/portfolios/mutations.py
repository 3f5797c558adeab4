"""Portfolio mutations: request a portfolio, record a recommendation for one."""

import re
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types.base import get_object_definition

from graphql_api import relations
from graphql_api.context import Info
from graphql_api.graph.enums import RiskProfile
from graphql_api.graph.mutations import UserError, input_data, run_mutation
from graphql_api.kit.errors import ErrorCode, refuse
from graphql_api.portfolios import service
from graphql_api.portfolios.allocation import MAX_LINES, RULES_V1_MODEL
from graphql_api.portfolios.types import Portfolio, Recommendation

_ROW_ID = re.compile(r"[1-9][0-9]{0,18}")
_MAX_ROW_ID = 2**63 - 1

IDEMPOTENCY_KEY_DESCRIPTION = (
    "1 to 200 characters. A retry with the same key and input returns the first result and"
    " writes nothing; the same key with other input is refused."
)


def row_id(global_id: str, node_type: type, *field: str) -> int:
    """The database id inside a Relay global id of `node_type`. An id that is malformed, of
    another type, or cannot name a row is refused as NOT_FOUND on `field`, like an unknown id:
    a user error with nothing written, not a GraphQL error."""
    type_name = get_object_definition(node_type, strict=True).name
    try:
        decoded = relay.GlobalID.from_id(global_id)
    except relay.GlobalIDValueError:
        decoded = None
    if (
        decoded is None
        or decoded.type_name != type_name
        or not _ROW_ID.fullmatch(decoded.node_id)
        or int(decoded.node_id) > _MAX_ROW_ID
    ):
        raise refuse(ErrorCode.NOT_FOUND, f"No {type_name.lower()} with this id.", *field)
    return int(decoded.node_id)


@strawberry.input(description="A portfolio to request; the built-in model recommends at once.")
class RequestPortfolioRecommendationInput:
    member_number: str = strawberry.field(description="The requesting member's number.")
    risk_profile: RiskProfile = strawberry.field(description="How much risk the member accepts.")
    amount_usd: Decimal = strawberry.field(
        description="Amount to invest in US dollars: > 0, at most 2 decimal places, at most"
        " 10000000000.00."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.type(description="Result of requestPortfolioRecommendation.")
class RequestPortfolioRecommendationPayload:
    portfolio: Portfolio | None = strawberry.field(
        description="The new portfolio, RECOMMENDED, with its recommendation; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


@strawberry.input(description="One asset class and its weight in an allocation.")
class AllocationLineInput:
    asset_class: str = strawberry.field(
        description="Asset class, 1 to 64 characters, unique in the allocation ignoring case."
    )
    weight: Decimal = strawberry.field(
        description="Share of the portfolio: 0 to 1, at most 4 decimal places."
    )


@strawberry.input(description="A recommendation from an advisor or another model.")
class RecordRecommendationInput:
    # strawberry.ID, decoded by row_id: a malformed id is a NOT_FOUND user error rather than
    # a GraphQL error that nulls the whole payload.
    portfolio_id: strawberry.ID = strawberry.field(
        description="Global id (Portfolio.id) of the portfolio the recommendation is for."
    )
    allocation: list[AllocationLineInput] = strawberry.field(
        description=f"1 to {MAX_LINES} lines whose weights sum to 1 (within 0.0001)."
    )
    model_name: str = strawberry.field(
        description="The model or agent that recommends it, 1 to 100 characters."
    )
    rationale: str | None = strawberry.field(
        default=None, description="Why, at most 4000 characters."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description=IDEMPOTENCY_KEY_DESCRIPTION
    )


@strawberry.type(description="Result of recordRecommendation.")
class RecordRecommendationPayload:
    recommendation: Recommendation | None = strawberry.field(
        description="The stored recommendation (its `portfolio` is now RECOMMENDED); null when"
        " refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


@strawberry.type
class PortfolioMutation:
    @strawberry.mutation(
        description=f"Request a portfolio: created QUEUED (audited as portfolio.requested),"
        f" then {RULES_V1_MODEL} records its recommendation (recommendation.recorded) and the"
        " portfolio becomes RECOMMENDED, all in one transaction."
    )
    async def request_portfolio_recommendation(
        self,
        info: Info,
        input: Annotated[
            RequestPortfolioRecommendationInput,
            strawberry.argument(description="The portfolio to request."),
        ],
    ) -> RequestPortfolioRecommendationPayload:
        outcome = await run_mutation(
            info,
            operation=service.REQUEST_OPERATION,
            command=lambda: service.PortfolioRequestCommand.parse(input_data(input)),
            work=service.request_portfolio,
        )
        return RequestPortfolioRecommendationPayload(
            portfolio=await outcome.load(info, relations.PORTFOLIO_BY_ID, Portfolio),
            user_errors=outcome.user_errors,
        )

    @strawberry.mutation(
        description="Record a recommendation for a portfolio (weights must sum to 1) and mark"
        " the portfolio RECOMMENDED; audited as recommendation.recorded in the same transaction."
    )
    async def record_recommendation(
        self,
        info: Info,
        input: Annotated[
            RecordRecommendationInput,
            strawberry.argument(description="The recommendation to record."),
        ],
    ) -> RecordRecommendationPayload:
        def command() -> service.RecordRecommendationCommand:
            return service.RecordRecommendationCommand.parse(
                {
                    **input_data(input),
                    "portfolio_id": row_id(input.portfolio_id, Portfolio, "portfolio_id"),
                    "allocation": [input_data(line) for line in input.allocation],
                }
            )

        outcome = await run_mutation(
            info,
            operation=service.RECORD_OPERATION,
            command=command,
            work=service.record_recommendation,
        )
        return RecordRecommendationPayload(
            recommendation=await outcome.load(info, relations.RECOMMENDATION_BY_ID, Recommendation),
            user_errors=outcome.user_errors,
        )
