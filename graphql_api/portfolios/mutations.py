"""Portfolio mutations (being written)."""

import strawberry


@strawberry.type
class PortfolioMutation:
    @strawberry.mutation(description="Placeholder until the portfolios mutations land.")
    def placeholder_portfolios(self) -> bool:
        return False
