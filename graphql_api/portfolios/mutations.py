"""Portfolio mutations: request a portfolio, record a recommendation for one."""

from decimal import Decimal
from typing import Annotated

import strawberry

from graphql_api import relation_specs
from graphql_api.context import Info
from graphql_api.graph.enums import RiskProfile
from graphql_api.graph.mutations import (
    UserError,
    idempotency_key_field,
    input_data,
    row_id,
    run_mutation,
    user_errors_field,
)
from graphql_api.portfolios import service
from graphql_api.portfolios.allocation import MAX_LINES, RULES_V1_MODEL
from graphql_api.portfolios.types import Portfolio, Recommendation


@strawberry.input(description="A portfolio to request; the built-in model recommends at once.")
class RequestPortfolioRecommendationInput:
    member_number: str = strawberry.field(description="The requesting member's number.")
    risk_profile: RiskProfile = strawberry.field(description="How much risk the member accepts.")
    amount_usd: Decimal = strawberry.field(
        description="Amount to invest in US dollars: > 0, at most 2 decimal places, at most"
        " 10000000000.00."
    )
    idempotency_key: str | None = idempotency_key_field()


@strawberry.type(description="Result of requestPortfolioRecommendation.")
class RequestPortfolioRecommendationPayload:
    portfolio: Portfolio | None = strawberry.field(
        description="The new portfolio, RECOMMENDED, with its recommendation; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


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
    idempotency_key: str | None = idempotency_key_field()


@strawberry.type(description="Result of recordRecommendation.")
class RecordRecommendationPayload:
    recommendation: Recommendation | None = strawberry.field(
        description="The stored recommendation (its `portfolio` is now RECOMMENDED); null when"
        " refused."
    )
    user_errors: list[UserError] = user_errors_field()


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
            portfolio=await outcome.load(info, relation_specs.PORTFOLIO_BY_ID, Portfolio),
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
            recommendation=await outcome.load(
                info, relation_specs.RECOMMENDATION_BY_ID, Recommendation
            ),
            user_errors=outcome.user_errors,
        )
