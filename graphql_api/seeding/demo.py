"""Loads data/demo.json into an empty database: the ~50 hand-shaped members the demo and the
agent walkthroughs rely on. One transaction, so a failure leaves no half-loaded demo behind."""

import asyncio
import json
from typing import Any

import asyncpg  # type: ignore[import-untyped, unused-ignore]

from graphql_api.seeding.demo_format import (
    DemoAudit,
    DemoData,
    DemoMember,
    DemoPortfolio,
    DemoPrediction,
    read_demo,
)

# Audit `entity` paths name a collection of the member's record; entity_type is the API's name
# for that kind of row (as in the GraphQL schema, e.g. LoanApplication).
ENTITY_TYPES = {
    "member": "Member",
    "pension_account": "PensionAccount",
    "portfolios": "Portfolio",
    "recommendations": "Recommendation",
    "loan_applications": "LoanApplication",
    "predictions": "Prediction",
    "feedback": "Feedback",
}

_MEMBER_SQL = """
INSERT INTO members (member_number, full_name, email, status, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $5) RETURNING id"""
_PENSION_SQL = """
INSERT INTO pension_accounts
    (member_id, contribution_balance, currency, last_synced_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"""
_PORTFOLIO_SQL = """
INSERT INTO portfolios (member_id, risk_profile, amount_usd, status, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"""
_RECOMMENDATION_SQL = """
INSERT INTO recommendations (portfolio_id, allocation, model_name, rationale, created_at)
VALUES ($1, $2, $3, $4, $5) RETURNING id"""
_LOAN_SQL = """
INSERT INTO loan_applications (member_id, amount, income, employment_years, risk_score,
    decision, scoring_model_version, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"""
_PREDICTION_SQL = """
INSERT INTO predictions (member_id, text, sentiment, confidence, model_version, created_at)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"""
_FEEDBACK_SQL = """
INSERT INTO feedback (prediction_id, is_correct, comment, created_at)
VALUES ($1, $2, $3, $4) RETURNING id"""
_AUDIT_SQL = """
INSERT INTO audit_logs
    (request_id, actor, action, entity_type, entity_id, member_id, payload, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"""


async def load_demo(database_url: str) -> bool:
    """Load the demo members if `members` is empty; True if loaded, False if skipped."""
    data = await asyncio.to_thread(read_demo)
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            # Blocks concurrent inserts into members (and other loaders: the mode conflicts
            # with itself) until commit, so "empty" still holds when we insert.
            await connection.execute("LOCK TABLE members IN SHARE ROW EXCLUSIVE MODE")
            if await connection.fetchval("SELECT EXISTS (SELECT 1 FROM members)"):
                return False
            await _insert_all(connection, data)
        return True
    finally:
        await connection.close()


async def _insert_all(connection: Any, data: DemoData) -> None:
    for member in data.members:
        ids = await _insert_member(connection, member)
        await connection.executemany(
            _AUDIT_SQL, [_audit_row(entry, ids, data.actor) for entry in member.audit_logs]
        )


async def _insert_member(connection: Any, member: DemoMember) -> dict[str, int]:
    """Insert one member and its records; return database ids keyed by audit entity path."""
    member_id = await connection.fetchval(
        _MEMBER_SQL,
        member.member_number,
        member.full_name,
        member.email,
        member.status.value,
        member.created_at,
    )
    account = member.pension_account
    ids = {
        "member": member_id,
        "pension_account": await connection.fetchval(
            _PENSION_SQL,
            member_id,
            account.contribution_balance,
            account.currency,
            account.last_synced_at,
            account.created_at,
            # The mirror row last changed at its latest sync.
            account.last_synced_at or account.created_at,
        ),
    }
    for index, portfolio in enumerate(member.portfolios):
        ids |= await _insert_portfolio(connection, member_id, f"portfolios/{index}", portfolio)
    for index, loan in enumerate(member.loan_applications):
        ids[f"loan_applications/{index}"] = await connection.fetchval(
            _LOAN_SQL,
            member_id,
            loan.amount,
            loan.income,
            loan.employment_years,
            loan.risk_score,
            loan.decision.value,
            loan.scoring_model_version,
            loan.created_at,
        )
    for index, prediction in enumerate(member.predictions):
        ids |= await _insert_prediction(connection, member_id, f"predictions/{index}", prediction)
    return ids


async def _insert_portfolio(
    connection: Any, member_id: int, path: str, portfolio: DemoPortfolio
) -> dict[str, int]:
    # A recommended portfolio was last touched when its latest recommendation arrived.
    touched = max([portfolio.created_at, *(r.created_at for r in portfolio.recommendations)])
    portfolio_id = await connection.fetchval(
        _PORTFOLIO_SQL,
        member_id,
        portfolio.risk_profile.value,
        portfolio.amount_usd,
        portfolio.status.value,
        portfolio.created_at,
        touched,
    )
    ids = {path: portfolio_id}
    for index, rec in enumerate(portfolio.recommendations):
        # Weights go back out as the exact strings they came in as ("0.6000"), never floats.
        allocation = [
            {"assetClass": item.asset_class, "weight": format(item.weight, "f")}
            for item in rec.allocation
        ]
        ids[f"{path}/recommendations/{index}"] = await connection.fetchval(
            _RECOMMENDATION_SQL,
            portfolio_id,
            json.dumps(allocation),
            rec.model_name,
            rec.rationale,
            rec.created_at,
        )
    return ids


async def _insert_prediction(
    connection: Any, member_id: int, path: str, prediction: DemoPrediction
) -> dict[str, int]:
    prediction_id = await connection.fetchval(
        _PREDICTION_SQL,
        member_id,
        prediction.text,
        prediction.sentiment.value,
        prediction.confidence,
        prediction.model_version,
        prediction.created_at,
    )
    ids = {path: prediction_id}
    for index, verdict in enumerate(prediction.feedback):
        ids[f"{path}/feedback/{index}"] = await connection.fetchval(
            _FEEDBACK_SQL, prediction_id, verdict.is_correct, verdict.comment, verdict.created_at
        )
    return ids


def _audit_row(entry: DemoAudit, ids: dict[str, int], actor: str) -> tuple[Any, ...]:
    if entry.entity not in ids:
        raise ValueError(f"audit entry {entry.action} points at unknown entity {entry.entity!r}")
    collection = entry.entity.split("/")[-2] if "/" in entry.entity else entry.entity
    return (
        entry.request_id,
        actor,
        entry.action,
        ENTITY_TYPES[collection],
        str(ids[entry.entity]),
        ids["member"],
        json.dumps(entry.payload),
        entry.created_at,
    )
