"""Demo convenience: on the embedded development database, `serve` makes an ADMIN key on
first start and keeps it in the data directory, so a newcomer can query at once.
Never used in production (the caller checks), and never over an external database."""

import os
from pathlib import Path

from graphql_api.auth import service
from graphql_api.config import Settings
from graphql_api.db import create_engine, create_sessionmaker
from graphql_api.models import Role

KEY_FILE = "admin-api-key"


async def ensure_demo_admin_key(settings: Settings, database_url: str) -> str:
    """The stored admin key if it still works, else a new one (written with mode 0600)."""
    path = settings.data_dir / KEY_FILE
    engine = create_engine(settings, database_url, pool_size=1, max_overflow=0)
    try:
        async with create_sessionmaker(engine).begin() as session:
            stored = _read(path)
            if stored and await service.authenticate(session, stored):
                return stored
            _, token = await service.create_key(
                session, role=Role.ADMIN, member_number=None, label="demo admin (serve)"
            )
        _write(path, token)
        return token
    finally:
        await engine.dispose()


def _read(path: Path) -> str | None:
    return path.read_text().strip() if path.is_file() else None


def _write(path: Path, token: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")


def banner(token: str, graphiql_url: str, key_file: Path) -> str:
    return (
        f"\nGraphiQL: {graphiql_url}\n"
        f"Admin API key (kept in {key_file}):\n  {token}\n"
        "A browser on this machine gets GraphiQL with this key in its Headers tab; "
        "elsewhere, paste there:\n"
        f'  {{"Authorization": "Bearer {token}"}}\n'
    )
