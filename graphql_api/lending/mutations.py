"""Lending mutations."""

from decimal import Decimal
from typing import Annotated

import strawberry

from graphql_api import relation_specs
from graphql_api.context import Info
from graphql_api.graph.mutations import (
    UserError,
    idempotency_key_field,
    input_data,
    run_mutation,
    user_errors_field,
)
from graphql_api.lending import service
from graphql_api.lending.types import LoanApplication


@strawberry.input(description="A loan application to score and record.")
class ApplyForLoanInput:
    member_number: str = strawberry.field(description="The applicant's member number.")
    amount: Decimal = strawberry.field(
        description="Requested amount: > 0, at most 2 decimal places, at most 100000000.00."
    )
    income: Decimal = strawberry.field(
        description="Annual income: > 0, at most 2 decimal places, at most 1000000000.00."
    )
    employment_years: int = strawberry.field(description="Years in employment, 0 to 80.")
    idempotency_key: str | None = idempotency_key_field()


@strawberry.type(description="Result of applyForLoan.")
class ApplyForLoanPayload:
    loan_application: LoanApplication | None = strawberry.field(
        description="The scored application; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type
class LendingMutation:
    @strawberry.mutation(
        description="Apply for a loan: scored by the current policy (rules-v1), stored with"
        " the policy version, and audited as loan.applied in the same transaction."
    )
    async def apply_for_loan(
        self,
        info: Info,
        input: Annotated[ApplyForLoanInput, strawberry.argument(description="The application.")],
    ) -> ApplyForLoanPayload:
        outcome = await run_mutation(
            info,
            operation=service.OPERATION,
            command=lambda: service.LoanApplicationCommand.parse(input_data(input)),
            work=service.apply_for_loan,
        )
        return ApplyForLoanPayload(
            loan_application=await outcome.load(
                info, relation_specs.LOAN_APPLICATION_BY_ID, LoanApplication
            ),
            user_errors=outcome.user_errors,
        )
