"""PostgreSQL's CPU per request: the backends that serve one target, read through psutil.

A compiled read moves work from the server process into PostgreSQL, so the server's own
CPU alone would flatter it. Each target's pool names its connections (application_name),
so its backends can be found in pg_stat_activity. Only possible when PostgreSQL runs on
this machine (the embedded server, or a local DATABASE_URL); otherwise the figure is None.
"""

import asyncio

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import psutil

from graphql_api.bench import processes

APPLICATION_NAMES = {"api": "finance-graphql", "floor": "finance-bench-floor"}

Snapshot = dict[int, float]  # backend pid -> CPU seconds so far


async def _backend_pids(database_url: str, application_name: str) -> list[int]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = $1",
            application_name,
        )
    finally:
        await connection.close()
    return [int(row["pid"]) for row in rows]


def snapshot(database_url: str, target: str) -> Snapshot | None:
    """CPU seconds of the target's backends, or None when they are not local processes."""
    pids = asyncio.run(_backend_pids(database_url, APPLICATION_NAMES[target]))
    seconds: Snapshot = {}
    for pid in pids:
        try:
            process = psutil.Process(pid)
            if "postgres" not in process.name():
                return None  # that pid is another machine's backend
            seconds[pid] = processes.cpu_seconds(process)
        except psutil.NoSuchProcess:
            continue
        except psutil.AccessDenied:
            return None
    return seconds or None


def used(before: Snapshot | None, after: Snapshot | None) -> float | None:
    """CPU seconds the backends used in between (backends opened meanwhile count whole)."""
    if before is None or after is None:
        return None
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
