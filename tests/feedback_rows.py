"""Many feedback rows on one prediction: the data the amplification loop feeds on."""

import asyncio

import asyncpg


async def _insert(database_url: str, rows: int) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        prediction_id: int = await connection.fetchval(
            "SELECT id FROM predictions ORDER BY created_at DESC, id DESC LIMIT 1"
        )
        await connection.executemany(
            "INSERT INTO feedback (prediction_id, is_correct, comment) VALUES ($1, $2, $3)",
            [(prediction_id, i % 2 == 0, f"load test {i}") for i in range(rows)],
        )
        return prediction_id
    finally:
        await connection.close()


def add_feedback(database_url: str, rows: int = 158) -> int:
    """Add `rows` feedback rows to the newest prediction; returns its id."""
    return asyncio.run(_insert(database_url, rows))
