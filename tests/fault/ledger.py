"""What the database holds after a fault: acknowledged writes, loan/audit pairs, duplicates.

Reads as the server's own role (not through the API), after the fault is over."""

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

LOAN_AUDIT_ACTION = "loan.applied"
LOAN_ENTITY = "LoanApplication"


@dataclass(frozen=True)
class Baseline:
    """The highest ids before a scenario: only newer rows are the scenario's own (the demo
    data has loans whose audit rows were never part of it)."""

    loan_id: int
    audit_id: int


@dataclass(frozen=True)
class Orphans:
    loans_without_audit: list[int]
    audits_without_loan: list[int]
    loans: int  # loans the scenario created
    audits: int


async def _baseline(url: str) -> Baseline:
    connection = await asyncpg.connect(url)
    try:
        loan = await connection.fetchval("SELECT coalesce(max(id), 0) FROM loan_applications")
        audit = await connection.fetchval("SELECT coalesce(max(id), 0) FROM audit_logs")
        return Baseline(loan, audit)
    finally:
        await connection.close()


def baseline(url: str) -> Baseline:
    return asyncio.run(_baseline(url))


_LOANS_WITHOUT_AUDIT = """
SELECT l.id FROM loan_applications l
WHERE l.id > $1 AND NOT EXISTS (
    SELECT 1 FROM audit_logs a
    WHERE a.action = $2 AND a.entity_type = $3 AND a.entity_id = l.id::text)
ORDER BY l.id"""

_AUDITS_WITHOUT_LOAN = """
SELECT a.id FROM audit_logs a
WHERE a.id > $1 AND a.action = $2 AND NOT EXISTS (
    SELECT 1 FROM loan_applications l WHERE l.id::text = a.entity_id AND a.entity_type = $3)
ORDER BY a.id"""


async def _orphans(url: str, since: Baseline) -> Orphans:
    connection = await asyncpg.connect(url)
    try:
        args = (LOAN_AUDIT_ACTION, LOAN_ENTITY)
        lonely_loans = await connection.fetch(_LOANS_WITHOUT_AUDIT, since.loan_id, *args)
        lonely_audits = await connection.fetch(_AUDITS_WITHOUT_LOAN, since.audit_id, *args)
        loans = await connection.fetchval(
            "SELECT count(*) FROM loan_applications WHERE id > $1", since.loan_id
        )
        audits = await connection.fetchval(
            "SELECT count(*) FROM audit_logs WHERE id > $1 AND action = $2",
            since.audit_id,
            LOAN_AUDIT_ACTION,
        )
        return Orphans(
            [r["id"] for r in lonely_loans], [r["id"] for r in lonely_audits], loans, audits
        )
    finally:
        await connection.close()


def orphans(url: str, since: Baseline) -> Orphans:
    return asyncio.run(_orphans(url, since))


async def _lost(url: str, loan_ids: list[int]) -> list[int]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            """SELECT l.id FROM loan_applications l
               JOIN audit_logs a ON a.action = $2 AND a.entity_type = $3
                                AND a.entity_id = l.id::text
               WHERE l.id = ANY($1::bigint[])""",
            loan_ids,
            LOAN_AUDIT_ACTION,
            LOAN_ENTITY,
        )
        found = {r["id"] for r in rows}
        return [loan_id for loan_id in loan_ids if loan_id not in found]
    finally:
        await connection.close()


def lost_writes(url: str, loan_ids: Iterable[int]) -> list[int]:
    """Acknowledged loan ids with no loan row, or a loan row without its audit row."""
    return asyncio.run(_lost(url, sorted(set(loan_ids))))


async def _rows_per_amount(url: str, since: Baseline) -> dict[str, int]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT amount::text AS amount, count(*) AS n FROM loan_applications"
            " WHERE id > $1 GROUP BY amount",
            since.loan_id,
        )
        return {r["amount"]: r["n"] for r in rows}
    finally:
        await connection.close()


def rows_per_amount(url: str, since: Baseline) -> dict[str, int]:
    """Loan rows per amount; the workload gives every idempotency key its own amount."""
    return asyncio.run(_rows_per_amount(url, since))


async def _backends(url: str, database: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = $1 AND application_name = 'finance-graphql'",
            database,
        )
        return count
    finally:
        await connection.close()


def wait_for_no_api_backends(url: str, database: str, timeout: float = 15.0) -> None:
    """After the API died: its sessions are gone, so nothing it started can still commit."""
    deadline = time.monotonic() + timeout
    while asyncio.run(_backends(url, database)):
        if time.monotonic() > deadline:
            raise AssertionError("the killed API's database sessions are still there")
        time.sleep(0.1)
