"""Portfolio workflows: request a portfolio (the built-in model recommends at once), and record
a recommendation that came from elsewhere (an advisor, another model)."""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.audit import service as audit_service
from graphql_api.auth.policy import Action, require
from graphql_api.kit.command_fields import (
    IdempotencyKey,
    InvestmentAmount,
    MemberNumber,
    ModelName,
    Rationale,
    RowId,
)
from graphql_api.kit.commands import CommandInput, RequestMeta
from graphql_api.kit.errors import CommandRefusedError, ErrorCode, refuse
from graphql_api.members.service import require_member
from graphql_api.models import Portfolio, PortfolioStatus, Recommendation, RiskProfile
from graphql_api.portfolios.allocation import (
    MAX_LINES,
    AllocationLine,
    AllocationValidationError,
    recommend_allocation,
    validate_allocation,
)

REQUEST_OPERATION = "requestPortfolioRecommendation"
RECORD_OPERATION = "recordRecommendation"


class PortfolioRequestCommand(CommandInput):
    member_number: MemberNumber
    risk_profile: RiskProfile
    amount_usd: InvestmentAmount
    idempotency_key: IdempotencyKey | None = None


class AllocationLineInput(BaseModel):
    """One line as given; `validate_allocation` applies the allocation rules in the service."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    asset_class: str
    weight: Decimal


class RecordRecommendationCommand(CommandInput):
    portfolio_id: RowId
    # The cap only bounds the work done on hostile input; the rules live in validate_allocation.
    allocation: Annotated[tuple[AllocationLineInput, ...], Field(max_length=MAX_LINES)]
    model_name: ModelName
    rationale: Rationale | None = None
    idempotency_key: IdempotencyKey | None = None


async def request_portfolio(
    session: AsyncSession, command: PortfolioRequestCommand, meta: RequestMeta
) -> int:
    """Create the portfolio QUEUED, then let `allocation-rules-v1` recommend: RECOMMENDED."""
    require(meta.viewer, Action.REQUEST_RECOMMENDATION)
    member = await require_member(session, command.member_number)
    portfolio = Portfolio(
        member_id=member.id,
        risk_profile=command.risk_profile,
        amount_usd=command.amount_usd,
        status=PortfolioStatus.QUEUED,
    )
    session.add(portfolio)
    await session.flush()
    await audit_service.record(
        session,
        meta,
        action="portfolio.requested",
        entity=portfolio,
        member_id=member.id,
        payload={
            "riskProfile": command.risk_profile.value,
            "amountUsd": str(command.amount_usd),
            "status": PortfolioStatus.QUEUED.value,
        },
    )
    recommended = recommend_allocation(command.risk_profile)
    await _recommend(
        session,
        meta,
        portfolio,
        model_name=recommended.model_name,
        lines=recommended.lines,
        rationale=recommended.rationale,
    )
    return portfolio.id


async def record_recommendation(
    session: AsyncSession, command: RecordRecommendationCommand, meta: RequestMeta
) -> int:
    """Validate the allocation, store it for the portfolio, mark the portfolio RECOMMENDED."""
    require(meta.viewer, Action.RECORD_RECOMMENDATION)
    lines = _checked_lines(command.allocation)
    # Locked: the status change and the new recommendation land together, one writer at a time.
    portfolio = await session.scalar(
        select(Portfolio).where(Portfolio.id == command.portfolio_id).with_for_update()
    )
    if portfolio is None:
        raise refuse(ErrorCode.NOT_FOUND, "No portfolio with this id.", "portfolio_id")
    recommendation = await _recommend(
        session,
        meta,
        portfolio,
        model_name=command.model_name,
        lines=lines,
        rationale=command.rationale,
    )
    return recommendation.id


def _checked_lines(allocation: tuple[AllocationLineInput, ...]) -> tuple[AllocationLine, ...]:
    try:
        return validate_allocation(
            AllocationLine(line.asset_class, line.weight) for line in allocation
        )
    except AllocationValidationError as error:
        raise _allocation_refusal(error) from None


def _allocation_refusal(error: AllocationValidationError) -> CommandRefusedError:
    """Point at the offending input: ("allocation", "2", "weight") or ("allocation",)."""
    if error.index is None:
        return refuse(ErrorCode.INVALID_INPUT, f"Allocation: {error.reason}.", "allocation")
    # validate_allocation names line fields like "lines[2].weight"; keep the attribute.
    _, dot, attribute = error.field.rpartition(".")
    field = ("allocation", str(error.index), *((attribute,) if dot else ()))
    what = f"line {error.index}" + (f" {attribute.replace('_', ' ')}" if dot else "")
    return refuse(ErrorCode.INVALID_INPUT, f"Allocation {what}: {error.reason}.", *field)


async def _recommend(
    session: AsyncSession,
    meta: RequestMeta,
    portfolio: Portfolio,
    *,
    model_name: str,
    lines: tuple[AllocationLine, ...],
    rationale: str | None,
) -> Recommendation:
    recommendation = Recommendation(
        portfolio_id=portfolio.id,
        allocation=[{"assetClass": line.asset_class, "weight": str(line.weight)} for line in lines],
        model_name=model_name,
        rationale=rationale,
    )
    session.add(recommendation)
    previous_status = portfolio.status
    portfolio.status = PortfolioStatus.RECOMMENDED
    await session.flush()
    await audit_service.record(
        session,
        meta,
        action="recommendation.recorded",
        entity=recommendation,
        member_id=portfolio.member_id,
        payload={
            "portfolioId": portfolio.id,
            "modelName": model_name,
            "sleeves": len(lines),
            "previousStatus": previous_status.value,
            "status": PortfolioStatus.RECOMMENDED.value,
        },
    )
    return recommendation
