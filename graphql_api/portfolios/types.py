"""GraphQL types of the wealth domain: portfolios and their recommendations."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from graphql_api import models, relations
from graphql_api.context import Info
from graphql_api.graph.connection import CountedConnection
from graphql_api.graph.enums import PortfolioStatus, RiskProfile
from graphql_api.graph.fields import load_list, load_one, required
from graphql_api.graph.mapping import relation_metadata
from graphql_api.graph.nodes import NodeRow

if TYPE_CHECKING:
    from graphql_api.members.types import Member

MemberRef = Annotated["Member", strawberry.lazy("graphql_api.members.types")]
# A portfolio keeps a short history of recommendations; the list is bounded on purpose.
MAX_RECOMMENDATIONS = 50


@strawberry.type(description="One asset class and its weight in a recommended allocation.")
class AllocationLine:
    asset_class: str = strawberry.field(description="Asset class, e.g. equities or bonds.")
    weight: Decimal = strawberry.field(description="Share of the portfolio, 0 to 1.")


@strawberry.type(description="A model's recommended allocation for a portfolio.")
class Recommendation(NodeRow):
    __model__ = models.Recommendation
    __by_id__ = relations.RECOMMENDATION_BY_ID

    id: relay.NodeID[int]
    portfolio_id: strawberry.Private[int]
    allocation: JSON = strawberry.field(
        description='The allocation as stored: [{"assetClass", "weight"}], weights as strings.'
    )
    model_name: str = strawberry.field(description="The model or agent that recommended it.")
    rationale: str | None = strawberry.field(description="Why the model chose this allocation.")
    created_at: datetime = strawberry.field(description="When it was recorded.")

    @strawberry.field(description="The allocation as typed lines, in stored order.")
    def lines(self) -> list[AllocationLine]:
        items: list[dict[str, Any]] = self.allocation  # type: ignore[assignment]
        return [_line(item) for item in items]

    @strawberry.field(
        description="The portfolio this recommendation is for.",
        metadata=relation_metadata(relations.RECOMMENDATION_PORTFOLIO),
    )
    async def portfolio(self, info: Info) -> "Portfolio":
        return await required(load_one(info, relations.RECOMMENDATION_PORTFOLIO, self, Portfolio))


def _line(item: dict[str, Any]) -> AllocationLine:
    return AllocationLine(asset_class=str(item["assetClass"]), weight=Decimal(item["weight"]))


@strawberry.type(description="A member's request for a portfolio of a size and risk profile.")
class Portfolio(NodeRow):
    __model__ = models.Portfolio
    __by_id__ = relations.PORTFOLIO_BY_ID

    id: relay.NodeID[int]
    member_id: strawberry.Private[int]
    risk_profile: RiskProfile = strawberry.field(description="Risk the member accepts.")
    amount_usd: Decimal = strawberry.field(description="Amount to invest, in US dollars.")
    status: PortfolioStatus = strawberry.field(description="QUEUED or RECOMMENDED.")
    created_at: datetime = strawberry.field(description="When the portfolio was requested.")
    updated_at: datetime = strawberry.field(description="When the portfolio last changed.")

    @strawberry.field(
        description=f"Recommendations, newest first (at most {MAX_RECOMMENDATIONS}).",
        metadata=relation_metadata(relations.PORTFOLIO_RECOMMENDATIONS),
    )
    async def recommendations(self, info: Info) -> list[Recommendation]:
        return await load_list(
            info, relations.PORTFOLIO_RECOMMENDATIONS, self.id, Recommendation, MAX_RECOMMENDATIONS
        )

    @strawberry.field(
        description="The newest recommendation, or null while the portfolio is queued.",
        metadata=relation_metadata(relations.PORTFOLIO_RECOMMENDATIONS),
    )
    async def latest_recommendation(self, info: Info) -> Recommendation | None:
        # Same page request as `recommendations`, so both fields share one loader batch.
        found = await load_list(
            info, relations.PORTFOLIO_RECOMMENDATIONS, self.id, Recommendation, MAX_RECOMMENDATIONS
        )
        return found[0] if found else None

    @strawberry.field(
        description="The member who requested it.",
        metadata=relation_metadata(relations.PORTFOLIO_MEMBER),
    )
    async def member(self, info: Info) -> MemberRef:
        from graphql_api.members.types import Member

        return await required(load_one(info, relations.PORTFOLIO_MEMBER, self, Member))


@strawberry.type(name="PortfolioConnection", description="A page of portfolios.")
class PortfolioConnection(CountedConnection[Portfolio]):
    pass
