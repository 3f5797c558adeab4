"""Every service entry point asks the policy first, whatever the transport: called directly
(no GraphQL guard in front) by a role the policy refuses, or with no viewer at all, each one
raises ForbiddenError and writes nothing. Without its `require`, each call below would write a
row or fail with another refusal (NOT_FOUND, UPSTREAM_UNAVAILABLE), so these tests would fail.
"""

import asyncio
import inspect
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from graphql_api.auth.policy import Action, ForbiddenError, can
from graphql_api.auth.service import Viewer
from graphql_api.db import to_async_url
from graphql_api.kit.commands import RequestMeta
from graphql_api.lending import service as lending
from graphql_api.members import service as members
from graphql_api.members import sync
from graphql_api.models import Role, Sentiment
from graphql_api.portfolios import service as portfolios
from graphql_api.predictions import service as predictions
from graphql_api.predictions.sentiment import SentimentResult
from tests.db_counts import row_counts

SERVICE_MODULES: tuple[ModuleType, ...] = (members, sync, lending, portfolios, predictions)
MEMBER_NUMBER = "M-100002"

Call = Callable[[AsyncSession, RequestMeta], Awaitable[int]]


def _unique() -> str:
    return uuid.uuid4().hex[:10]


def _create_member(session: AsyncSession, meta: RequestMeta) -> Awaitable[int]:
    unique = _unique()
    command = members.CreateMemberCommand.parse(
        {
            "member_number": f"T-{unique}",
            "full_name": "Policy Probe",
            "email": f"probe-{unique}@example.org",
            "status": "ACTIVE",
        }
    )
    return members.create_member(session, command, meta)


def _sync_member(session: AsyncSession, meta: RequestMeta) -> Awaitable[int]:
    command = sync.SyncMemberCommand.parse({"member_number": MEMBER_NUMBER})
    return sync.sync_member(session, command, meta, upstream=None)


def _apply_for_loan(session: AsyncSession, meta: RequestMeta) -> Awaitable[int]:
    command = lending.LoanApplicationCommand.parse(
        {
            "member_number": MEMBER_NUMBER,
            "amount": Decimal("1000.00"),
            "income": Decimal("50000.00"),
            "employment_years": 3,
        }
    )
    return lending.apply_for_loan(session, command, meta)


def _request_portfolio(session: AsyncSession, meta: RequestMeta) -> Awaitable[int]:
    command = portfolios.PortfolioRequestCommand.parse(
        {"member_number": MEMBER_NUMBER, "risk_profile": "BALANCED", "amount_usd": "1000.00"}
    )
    return portfolios.request_portfolio(session, command, meta)


def _record_recommendation(session: AsyncSession, meta: RequestMeta) -> Awaitable[int]:
    command = portfolios.RecordRecommendationCommand.parse(
        {
            "portfolio_id": 1,
            "model_name": "policy-probe",
            "allocation": [{"asset_class": "CASH", "weight": Decimal("1.0000")}],
        }
    )
    return portfolios.record_recommendation(session, command, meta)


def _create_prediction(session: AsyncSession, meta: RequestMeta) -> Awaitable[int]:
    command = predictions.PredictSentimentCommand.parse(
        {"member_number": MEMBER_NUMBER, "text": "All fine, thanks."}
    )
    scored = predictions.Scored("probe-v1", SentimentResult(Sentiment.POSITIVE, Decimal("0.9")))
    return predictions.create_prediction(session, command, meta, scored)


def _submit_feedback(session: AsyncSession, meta: RequestMeta) -> Awaitable[int]:
    command = predictions.SubmitFeedbackCommand.parse({"prediction_id": 1, "is_correct": True})
    return predictions.submit_feedback(session, command, meta)


# Each entry point, its action, and how to call it with valid input on the demo data.
ENTRY_POINTS: dict[str, tuple[Action, Call]] = {
    "create_member": (Action.CREATE_MEMBER, _create_member),
    "sync_member": (Action.SYNC_MEMBER, _sync_member),
    "apply_for_loan": (Action.APPLY_FOR_LOAN, _apply_for_loan),
    "request_portfolio": (Action.REQUEST_RECOMMENDATION, _request_portfolio),
    "record_recommendation": (Action.RECORD_RECOMMENDATION, _record_recommendation),
    "create_prediction": (Action.PREDICT_SENTIMENT, _create_prediction),
    "submit_feedback": (Action.SUBMIT_FEEDBACK, _submit_feedback),
}


def _viewer(role: Role) -> Viewer:
    member_id = 10 if role is Role.MEMBER else None
    return Viewer(key_id=0, role=role, member_id=member_id, label=f"service-test-{role}")


def _forbidden_callers() -> list[Any]:
    """(entry point, caller) for every role the policy refuses, and for no viewer at all."""
    cases: list[Any] = []
    for name, (action, _) in ENTRY_POINTS.items():
        refused = [role for role in Role if not can(_viewer(role), action)]
        cases += [pytest.param(name, role, id=f"{name}-{role}") for role in refused]
        cases.append(pytest.param(name, None, id=f"{name}-no-viewer"))
    return cases


def test_the_table_names_every_service_entry_point() -> None:
    """A new service function taking a RequestMeta must be added above (and ask the policy)."""
    found = {
        name
        for module in SERVICE_MODULES
        for name, function in inspect.getmembers(module, inspect.iscoroutinefunction)
        if function.__module__ == module.__name__
        and not name.startswith("_")
        and "meta" in inspect.signature(function).parameters
    }
    assert found == set(ENTRY_POINTS)


@pytest.mark.parametrize(("name", "role"), _forbidden_callers())
def test_a_forbidden_caller_is_refused_before_any_write(
    demo_loaded: str, name: str, role: Role | None
) -> None:
    action, call = ENTRY_POINTS[name]
    meta = RequestMeta(request_id="service-test", viewer=_viewer(role) if role else None)
    before = row_counts(demo_loaded)

    async def run() -> int:
        engine = create_async_engine(to_async_url(demo_loaded), poolclass=NullPool)
        try:
            async with async_sessionmaker(engine)() as session, session.begin():
                return await call(session, meta)  # commits if it was not refused
        finally:
            await engine.dispose()

    with pytest.raises(ForbiddenError) as refused:
        asyncio.run(run())
    assert refused.value.action is action
    assert row_counts(demo_loaded) == before
