"""Synthetic members at scale (`finance-api seed --members N`): S-0000001 .. S-{N}, each with a
pension account and a random, per-seed deterministic mix of portfolios, recommendations, loans,
predictions, feedback and audit entries.

Speed comes from COPY: rows are generated in Python in batches, ids are reserved from the
identity sequences up front (so children can reference parents without a round trip, and a
server inserting concurrently just gets other ids), and each table is COPYed in one go. Each
batch commits on its own, so an interrupted run keeps whole members only and a rerun fills in
what is missing.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped, unused-ignore]

from graphql_api.seeding.synthetic_rows import COLUMNS, PARENTS, Batch, build_batch

BATCH_MEMBERS = 10_000
MAX_MEMBERS = 9_999_999
# Serializes concurrent seeders: the second one then sees the first one's members as existing.
_LOCK_KEY = 0x5EED_5EED
# Tables whose rows get reserved ids: every one but audit_logs, whose ids nothing references.
_ID_TABLES = ("members", *PARENTS)
_RESERVE_SQL = (
    "SELECT array(SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2))"
)


async def seed_synthetic(
    database_url: str,
    members: int,
    *,
    progress: Callable[[str], None] = print,
    seed: int = 42,
) -> int:
    """Ensure synthetic members S-0000001 .. S-{members} exist; return how many were created."""
    # Member numbers have 7 digits (S-0000001); more would not fit the scheme.
    if not 0 <= members <= MAX_MEMBERS:
        raise ValueError(f"members must be between 0 and {MAX_MEMBERS:,}")
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        missing = await _missing_numbers(connection, members)
        existing = members - len(missing)
        progress(f"{existing}/{members} synthetic members exist; creating {len(missing)}")
        await _seed_batches(connection, missing, seed, progress)
        return len(missing)
    finally:
        await connection.close()  # also releases the advisory lock


async def _missing_numbers(connection: Any, members: int) -> list[int]:
    rows = await connection.fetch(
        "SELECT substr(member_number, 3)::int AS number FROM members "
        "WHERE member_number ~ '^S-[0-9]{7}$'"
    )
    existing = {row["number"] for row in rows}
    return [number for number in range(1, members + 1) if number not in existing]


async def _seed_batches(
    connection: Any, numbers: list[int], seed: int, progress: Callable[[str], None]
) -> None:
    chunks = [numbers[i : i + BATCH_MEMBERS] for i in range(0, len(numbers), BATCH_MEMBERS)]
    if not chunks:
        return
    started, written, done = time.perf_counter(), 0, 0
    # Python builds the next batch in a thread while the server ingests this one's COPY.
    pending = _build_soon(chunks[0], seed)
    try:
        for index, chunk in enumerate(chunks):
            batch = await pending
            if index + 1 < len(chunks):
                pending = _build_soon(chunks[index + 1], seed)
            written += await _write_batch(connection, batch)
            done += len(chunk)
            elapsed = time.perf_counter() - started
            progress(f"seeded {done}/{len(numbers)} members ({written:,} rows) in {elapsed:.1f}s")
    finally:
        pending.cancel()  # a no-op when done; drops the look-ahead when a write failed


def _build_soon(numbers: list[int], seed: int) -> "asyncio.Task[Batch]":
    return asyncio.create_task(asyncio.to_thread(build_batch, numbers, seed))


async def _write_batch(connection: Any, batch: Batch) -> int:
    counts = batch.counts()
    async with connection.transaction():
        ids = {table: await _reserve_ids(connection, table, counts[table]) for table in _ID_TABLES}
        batch.assign_ids(ids)
        # Dict order is parents before children, as the foreign keys require.
        for table, rows in batch.rows.items():
            if rows:
                await connection.copy_records_to_table(table, records=rows, columns=COLUMNS[table])
    return sum(counts.values())


async def _reserve_ids(connection: Any, table: str, count: int) -> list[int]:
    if count == 0:
        return []
    ids: list[int] = await connection.fetchval(_RESERVE_SQL, table, count)
    return ids
