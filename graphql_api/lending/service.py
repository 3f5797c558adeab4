"""Loan applications: validate, score with the versioned policy, store, audit."""

from typing import Annotated

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.audit import service as audit_service
from graphql_api.auth.policy import Action, require
from graphql_api.kit.command_fields import AnnualIncome, IdempotencyKey, LoanAmount, MemberNumber
from graphql_api.kit.commands import CommandInput, RequestMeta
from graphql_api.kit.errors import ErrorCode, refuse
from graphql_api.lending.scoring import LoanInput, ScoringInputError, score_loan
from graphql_api.members.service import require_member
from graphql_api.models import LoanApplication

OPERATION = "applyForLoan"


class LoanApplicationCommand(CommandInput):
    member_number: MemberNumber
    amount: LoanAmount
    income: AnnualIncome
    employment_years: Annotated[int, Field(ge=0, le=80)]
    idempotency_key: IdempotencyKey | None = None


async def apply_for_loan(
    session: AsyncSession, command: LoanApplicationCommand, meta: RequestMeta
) -> int:
    require(meta.viewer, Action.APPLY_FOR_LOAN)
    member = await require_member(session, command.member_number)
    try:
        version, score = score_loan(
            LoanInput(command.amount, command.income, command.employment_years)
        )
    except ScoringInputError as error:
        # Only an income/amount ratio too large for the score column gets here.
        raise refuse(ErrorCode.INVALID_INPUT, str(error), "amount") from None
    application = LoanApplication(
        member_id=member.id,
        amount=command.amount,
        income=command.income,
        employment_years=command.employment_years,
        risk_score=score.risk_score,
        decision=score.decision,
        scoring_model_version=version,
    )
    session.add(application)
    await session.flush()
    await audit_service.record(
        session,
        meta,
        action="loan.applied",
        entity=application,
        member_id=member.id,
        payload={
            "amount": str(command.amount),
            "income": str(command.income),
            "employmentYears": command.employment_years,
            "riskScore": str(score.risk_score),
            "decision": score.decision.value,
            "scoringModelVersion": version,
        },
    )
    return application.id
