"""Seeding: the demo file, its loader, and the synthetic seeder against real PostgreSQL.

The loaders run in a database of their own (same server as `database_url`): the demo loader
only loads into an empty `members` table, and the members seeded here must not show up in
other modules' tests, which share `database_url`.
"""

import json
from collections.abc import Iterator
from decimal import Decimal
from random import Random

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import pytest
from pydantic import ValidationError

from graphql_api.lending.scoring import LoanInput, RulesV1Policy
from graphql_api.models.enums import LoanDecision, MemberStatus, PortfolioStatus, RiskProfile
from graphql_api.seeding import catalog, load_demo, seed_synthetic
from graphql_api.seeding.demo_format import DemoData, demo_path, read_demo
from graphql_api.seeding.synthetic_rows import build_batch
from tests.db import fresh_database

session = pytest.mark.asyncio(loop_scope="session")
TABLES = (
    "members",
    "pension_accounts",
    "portfolios",
    "recommendations",
    "loan_applications",
    "predictions",
    "feedback",
    "audit_logs",
)


@pytest.fixture(scope="module")
def seed_url(postgres_server_url: str) -> Iterator[str]:
    with fresh_database(postgres_server_url) as url:
        yield url


async def _counts(url: str) -> dict[str, int]:
    connection = await asyncpg.connect(url)
    try:
        return {t: await connection.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
    finally:
        await connection.close()


async def _fetch(url: str, query: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return list(await connection.fetch(query))
    finally:
        await connection.close()


def test_demo_file_covers_the_promised_mix() -> None:
    members = read_demo().members
    assert 45 <= len(members) <= 60
    assert {m.status for m in members} == set(MemberStatus)
    portfolios = [p for m in members for p in m.portfolios]
    assert {(p.risk_profile, p.status) for p in portfolios} == {
        (r, s) for r in RiskProfile for s in PortfolioStatus
    }
    latest = {m.loan_applications[-1].decision if m.loan_applications else None for m in members}
    assert latest == {None, LoanDecision.APPROVED, LoanDecision.REVIEW, LoanDecision.DECLINED}
    assert len({m.email.lower() for m in members}) == len(members)
    assert all(m.email.endswith(("@example.com", "@example.org")) for m in members)


def test_demo_recommendations_sum_to_one_and_follow_their_portfolio() -> None:
    for member in read_demo().members:
        for portfolio in member.portfolios:
            recommended = portfolio.status is PortfolioStatus.RECOMMENDED
            assert (1 <= len(portfolio.recommendations) <= 2) is recommended
            for rec in portfolio.recommendations:
                assert sum(item.weight for item in rec.allocation) == Decimal(1)
                assert all(item.weight.as_tuple().exponent == -4 for item in rec.allocation)
                assert rec.created_at > portfolio.created_at > member.created_at


def test_demo_loans_are_scored_by_the_lending_policy() -> None:
    policy = RulesV1Policy()
    loans = [loan for m in read_demo().members for loan in m.loan_applications]
    for loan in loans:
        score = policy.score(LoanInput(loan.amount, loan.income, loan.employment_years))
        assert loan.risk_score == score.risk_score
        if loan.scoring_model_version == "rules-v1":
            assert loan.decision is score.decision
        else:
            assert loan.decision is LoanDecision.DECLINED
    assert {loan.decision for loan in loans} == set(LoanDecision)


def test_demo_format_rejects_money_as_a_json_number() -> None:
    raw = json.loads(demo_path().read_text(encoding="utf-8"))
    raw["members"][0]["pension_account"]["contribution_balance"] = 125430.55
    with pytest.raises(ValidationError, match="decimal string"):
        DemoData.model_validate_json(json.dumps(raw))


def test_synthetic_member_is_the_same_whatever_the_batch() -> None:
    alone = build_batch([7], seed=42).rows
    among = build_batch([6, 7, 8], seed=42).rows
    assert alone["members"][0][1:] == among["members"][1][1:]
    assert build_batch([7], seed=43).rows["members"][0] != alone["members"][0]


def test_fast_risk_score_matches_the_lending_policy() -> None:
    policy, rng = RulesV1Policy(), Random(7)
    for _ in range(2000):
        income, amount, years = rng.randrange(1, 10**9), rng.randrange(1, 10**9), rng.randrange(81)
        expected = policy.score(
            LoanInput(catalog.cents(amount), catalog.cents(income), years)
        ).risk_score
        assert catalog.risk_score(income, amount, years) == expected


@session
async def test_load_demo_loads_once_into_an_empty_database(seed_url: str) -> None:
    assert (await _counts(seed_url))["members"] == 0
    assert await load_demo(seed_url) is True
    counts = await _counts(seed_url)
    demo = read_demo().members
    assert counts["members"] == len(demo)
    assert counts["pension_accounts"] == len(demo)
    assert counts["loan_applications"] == sum(len(m.loan_applications) for m in demo)
    assert counts["audit_logs"] == sum(len(m.audit_logs) for m in demo)

    assert await load_demo(seed_url) is False
    assert await _counts(seed_url) == counts


@session
async def test_loaded_demo_keeps_links_statuses_and_exact_weights(seed_url: str) -> None:
    statuses = await _fetch(seed_url, "SELECT DISTINCT status FROM members")
    assert {row["status"] for row in statuses} == {s.value for s in MemberStatus}
    orphans = await _fetch(
        seed_url,
        "SELECT m.id FROM members m LEFT JOIN pension_accounts p ON p.member_id = m.id "
        "WHERE p.id IS NULL",
    )
    assert orphans == []
    decisions = await _fetch(seed_url, "SELECT DISTINCT decision FROM loan_applications")
    assert {"APPROVED", "REVIEW"} <= {row["decision"] for row in decisions}
    sums = await _fetch(
        seed_url,
        "SELECT (SELECT sum((e->>'weight')::numeric) FROM jsonb_array_elements(allocation) e) "
        "AS total FROM recommendations",
    )
    assert sums
    assert all(row["total"] == Decimal(1) for row in sums)
    dangling = await _fetch(
        seed_url,
        "SELECT a.id FROM audit_logs a WHERE a.entity_type = 'LoanApplication' AND NOT EXISTS "
        "(SELECT 1 FROM loan_applications l WHERE l.id = a.entity_id::bigint "
        "AND l.member_id = a.member_id)",
    )
    assert dangling == []


async def _synthetic_counts(url: str) -> dict[str, int]:
    rows = await _fetch(
        url,
        "SELECT count(*) AS members, "
        "count(*) FILTER (WHERE EXISTS (SELECT 1 FROM pension_accounts p WHERE p.member_id = m.id))"
        " AS with_account, "
        "(SELECT count(*) FROM loan_applications l JOIN members s ON s.id = l.member_id "
        " WHERE s.member_number LIKE 'S-%') AS loans, "
        "(SELECT count(*) FROM audit_logs a JOIN members s ON s.id = a.member_id "
        " WHERE s.member_number LIKE 'S-%') AS audits "
        "FROM members m WHERE m.member_number LIKE 'S-%'",
    )
    return dict(rows[0])


@session
async def test_seed_synthetic_creates_only_missing_members(seed_url: str) -> None:
    lines: list[str] = []
    assert await seed_synthetic(seed_url, 300, progress=lines.append) == 300
    first = await _synthetic_counts(seed_url)
    assert first["members"] == first["with_account"] == 300
    assert first["loans"] > 100
    assert first["audits"] >= 2 * 300  # at least member.created and member.synced each
    assert any(line.startswith("seeded 300/300 members") for line in lines)

    assert await seed_synthetic(seed_url, 300, progress=lines.append) == 0
    assert await _synthetic_counts(seed_url) == first
    assert await seed_synthetic(seed_url, 350, progress=lines.append) == 50
    assert (await _synthetic_counts(seed_url))["members"] == 350
    numbers = await _fetch(
        seed_url, "SELECT max(member_number) AS last FROM members WHERE member_number LIKE 'S-%'"
    )
    assert numbers[0]["last"] == "S-0000350"
