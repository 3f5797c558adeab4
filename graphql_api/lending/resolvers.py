"""Lending queries."""

from typing import Annotated

import strawberry

from graphql_api.context import Info
from graphql_api.graph.connection import After, First
from graphql_api.graph.enums import LoanDecision
from graphql_api.graph.resolve import list_connection
from graphql_api.kit.pagination import DEFAULT_PAGE_SIZE
from graphql_api.lending.repository import LoanCriteria, loan_listing
from graphql_api.lending.types import LoanApplication, LoanApplicationConnection


@strawberry.input(description="Narrows a loan applications query.")
class LoanApplicationFilter:
    decision: LoanDecision | None = strawberry.field(
        default=None, description="Only applications with this decision."
    )
    member_number: str | None = strawberry.field(
        default=None, description="Only this member's applications."
    )


@strawberry.type
class LendingQuery:
    @strawberry.field(description="Loan applications across members, newest first.")
    async def loan_applications(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[
            LoanApplicationFilter | None, strawberry.argument(description="Conditions to match.")
        ] = None,
    ) -> LoanApplicationConnection:
        criteria = (
            LoanCriteria(decision=filter.decision, member_number=filter.member_number)
            if filter
            else LoanCriteria()
        )
        return await list_connection(
            info, loan_listing(criteria), first=first, after=after,
            connection=LoanApplicationConnection, node_type=LoanApplication,
        )  # fmt: skip
