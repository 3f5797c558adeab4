"""GraphQL types of the wealth domain: portfolios and their recommendations."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from graphql_api import models, relation_specs
from graphql_api.context import Info
from graphql_api.graph.connection import CountedConnection
from graphql_api.graph.declare import (
    SqlContext,
    attribute,
    capped_list,
    column,
    computed,
    latest_of,
    to_one,
)
from graphql_api.graph.enums import PortfolioStatus, RiskProfile
from graphql_api.graph.nodes import NodeRow
from graphql_api.kit.formats import json_decimal_sql
from graphql_api.portfolios.allocation import MAX_LINES

if TYPE_CHECKING:
    from graphql_api.members.types import Member

MemberRef = Annotated["Member", strawberry.lazy("graphql_api.members.types")]
# A portfolio keeps a short history of recommendations; the list is bounded on purpose.
MAX_RECOMMENDATIONS = 50


@strawberry.type(description="One asset class and its weight in a recommended allocation.")
class AllocationLine:
    asset_class: str = attribute("Asset class, e.g. equities or bonds.")
    weight: Decimal = attribute("Share of the portfolio, 0 to 1.")


def allocation_lines(recommendation: Any, _info: Info) -> list[AllocationLine]:
    """The Python form of `lines`: the stored allocation, item by item."""
    items: list[dict[str, Any]] = recommendation.allocation
    return [
        AllocationLine(asset_class=str(item["assetClass"]), weight=Decimal(item["weight"]))
        for item in items
    ]


def allocation_lines_sql(recommendation: str, sql: SqlContext) -> str:
    """The SQL form: the same items, in stored order, weights through NUMERIC as Decimal."""
    line = sql.alias("line")
    weight = json_decimal_sql(f"{line}.item->>'weight'")
    item = f"json_build_object('assetClass', {line}.item->>'assetClass', 'weight', {weight})"
    items = f"jsonb_array_elements({recommendation}.allocation) WITH ORDINALITY"
    lines = f"coalesce(json_agg({item} ORDER BY {line}.position), '[]'::json)"
    # Aliases and our own SQL only: no request value is ever spliced.
    return f"(SELECT {lines} FROM {items} AS {line}(item, position))"  # noqa: S608


@strawberry.type(description="A model's recommended allocation for a portfolio.")
class Recommendation(NodeRow):
    __model__ = models.Recommendation
    __by_id__ = relation_specs.RECOMMENDATION_BY_ID

    id: relay.NodeID[int]
    portfolio_id: strawberry.Private[int]
    allocation: JSON = column(
        'The allocation as stored: [{"assetClass", "weight"}], weights as strings.'
    )
    model_name: str = column("The model or agent that recommended it.")
    rationale: str | None = column("Why the model chose this allocation.")
    created_at: datetime = column("When it was recorded.")
    lines: list[AllocationLine] = computed(
        "The allocation as typed lines, in stored order.",
        python=allocation_lines,
        sql=allocation_lines_sql,
        cap=MAX_LINES,
    )
    portfolio: "Portfolio" = to_one(
        relation_specs.RECOMMENDATION_PORTFOLIO, "The portfolio this recommendation is for."
    )


@strawberry.type(description="A member's request for a portfolio of a size and risk profile.")
class Portfolio(NodeRow):
    __model__ = models.Portfolio
    __by_id__ = relation_specs.PORTFOLIO_BY_ID

    id: relay.NodeID[int]
    member_id: strawberry.Private[int]
    risk_profile: RiskProfile = column("Risk the member accepts.")
    amount_usd: Decimal = column("Amount to invest, in US dollars.")
    status: PortfolioStatus = column("QUEUED or RECOMMENDED.")
    created_at: datetime = column("When the portfolio was requested.")
    updated_at: datetime = column("When the portfolio last changed.")
    recommendations: list[Recommendation] = capped_list(
        relation_specs.PORTFOLIO_RECOMMENDATIONS,
        f"Recommendations, newest first (at most {MAX_RECOMMENDATIONS}).",
        cap=MAX_RECOMMENDATIONS,
    )
    # Reads the same page as `recommendations`, so both fields share one loader batch.
    latest_recommendation: Recommendation | None = latest_of(
        relation_specs.PORTFOLIO_RECOMMENDATIONS,
        "The newest recommendation, or null while the portfolio is queued.",
        window=MAX_RECOMMENDATIONS,
    )
    member: MemberRef = to_one(relation_specs.PORTFOLIO_MEMBER, "The member who requested it.")


@strawberry.type(name="PortfolioConnection", description="A page of portfolios.")
class PortfolioConnection(CountedConnection[Portfolio]):
    pass
