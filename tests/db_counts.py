"""Row counts straight from PostgreSQL, to prove a refused request wrote nothing."""

import asyncio

import asyncpg

TABLES = (
    "members",
    "pension_accounts",
    "portfolios",
    "recommendations",
    "loan_applications",
    "predictions",
    "feedback",
    "audit_logs",
    "idempotency_keys",
)


async def _counts(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(database_url)
    try:
        return {t: await connection.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
    finally:
        await connection.close()


def row_counts(database_url: str) -> dict[str, int]:
    return asyncio.run(_counts(database_url))


async def fetch(database_url: str, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


def statement_running(database_url: str, marker: str) -> bool:
    """Whether a statement containing `marker` is still active in PostgreSQL."""
    rows = asyncio.run(
        fetch(
            database_url,
            "SELECT pid FROM pg_stat_activity WHERE state = 'active'"
            " AND query LIKE $1 AND pid <> pg_backend_pid()",
            f"%{marker}%",
        )
    )
    return bool(rows)
