"""Starting and stopping for `finance-api` commands.

Stop signals end a command by unwinding (every `finally` runs), never on the spot, and the
embedded PostgreSQL a command started or reused is released when the command ends: the last
process using it stops it (graphql_api/runtime/embedded.py). While the embedded server starts and is
migrated, stop signals are held and act right after, so neither is cut off half-way (a server
started but not yet registered would be left running). `serve` hands SIGINT, SIGTERM and
SIGHUP to uvicorn while it serves (graphql_api/runtime/serve.py), and exits 0 after that graceful
stop; a signal before that ends it with 128 + the signal number, after the same clean-up.
"""

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

import asyncpg

from graphql_api.config import Settings

if TYPE_CHECKING:
    from graphql_api.runtime.embedded import EmbeddedDatabase, EmbeddedPostgres

logger = logging.getLogger("graphql_api")

# SIGINT keeps Python's default (KeyboardInterrupt, which asyncio.run also handles).
_UNWINDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
_MIGRATE_FIRST = "run `finance-api migrate` (as the database owner) first"


class SetupNeededError(Exception):
    """The command cannot run until something else has been done; the message says what."""


@contextmanager
def stop_signals_unwind() -> Iterator[None]:
    """SIGTERM and SIGHUP raise SystemExit(128 + signal) instead of ending the process at once
    (their default), so an interrupted migration or start-up still stops the embedded
    PostgreSQL. The previous handlers come back on exit (in-process callers)."""
    previous = {sig: signal.signal(sig, _exit_by_unwinding) for sig in _UNWINDING_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _exit_by_unwinding(signum: int, _: FrameType | None) -> NoReturn:
    raise SystemExit(128 + signum)


def app_role(settings: Settings) -> str:
    """Whose grants migrating re-applies: "" (external servers only) leaves grants alone."""
    from graphql_api.runtime.db_roles import APP_ROLE

    return settings.app_db_role or ("" if settings.database_url else APP_ROLE)


@contextmanager
def embedded_database(settings: Settings) -> Iterator["EmbeddedDatabase"]:
    """The embedded server in the data directory (started, reused or adopted), released at
    the end: stopped unless another live process still uses it."""
    if settings.is_production:
        raise SetupNeededError(
            "FINANCE_API_ENV=production needs DATABASE_URL (embedded is for development)"
        )
    from graphql_api.runtime.embedded import start_embedded

    with ExitStack() as stack:
        with deferred_stop_signals():
            database = start_embedded(settings.data_dir, app_role(settings))
            stack.callback(release, database.server)
        # A stop signal held during the start acts here, and the server is released.
        yield _announced(database)


def _announced(database: "EmbeddedDatabase") -> "EmbeddedDatabase":
    server = database.server
    if server.adopted_pid is not None:
        logger.warning(
            "adopted PostgreSQL (pid %s, data dir %s) left running by a run that was"
            " killed; it stops when this command does",
            server.adopted_pid,
            server.data_dir,
        )
    logger.info("embedded PostgreSQL running from %s", server.data_dir)
    return database


@contextmanager
def deferred_stop_signals() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends, then act on the first: a start
    interrupted half-way would leave a server that nothing stops (the wheel registers the
    process as its user only once it runs)."""
    received: list[int] = []
    stops = (signal.SIGINT, *_UNWINDING_SIGNALS)
    previous = {sig: signal.signal(sig, lambda signum, _: received.append(signum)) for sig in stops}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            signal.raise_signal(received[0])


def release(server: "EmbeddedPostgres") -> None:
    if server.stop():
        logger.info("stopped PostgreSQL (data dir %s)", server.data_dir)
        return
    others = server.other_users()
    if others:
        logger.info(
            "left PostgreSQL running (data dir %s): still used by %s",
            server.data_dir,
            ", ".join(others),
        )
    else:
        logger.warning(
            "PostgreSQL (pid %s, data dir %s) is still running after being stopped",
            server.pid,
            server.data_dir,
        )


@contextmanager
def owner_database(settings: Settings, *, migrate: bool) -> Iterator[str]:
    """The owner's URL for a one-shot command. Embedded: started, migrated (as `serve` does)
    and released at the end. DATABASE_URL: migrated when `migrate`, else it must be at the
    latest revision already (SetupNeededError otherwise)."""
    from graphql_api.runtime.db_roles import upgrade_and_grant

    if settings.database_url:
        url = settings.database_url
        if migrate:
            upgrade_and_grant(url, app_role(settings))
        else:
            require_latest_schema(url)
        yield url
        return
    with ExitStack() as stack:
        with deferred_stop_signals():
            database = stack.enter_context(embedded_database(settings))
            upgrade_and_grant(database.owner_url, app_role(settings))
        yield database.owner_url


def require_latest_schema(url: str, *, unreachable_ok: bool = False) -> None:
    """SetupNeededError (saying what to do) unless DATABASE_URL is fully migrated. A server that
    cannot be reached (or asked) is SetupNeededError too, unless `unreachable_ok` (`serve`, which
    answers 503 until the database is back)."""
    from graphql_api.runtime.migrate import current_revision, head_revision

    try:
        current = asyncio.run(current_revision(url))
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        if unreachable_ok:
            logger.warning("could not check the database's schema: %s", _one_line(error))
            return
        raise SetupNeededError(
            f"cannot connect to DATABASE_URL ({type(error).__name__}: {_one_line(error)});"
            " fix it, or unset it to use the embedded PostgreSQL"
        ) from None
    head = head_revision()
    if current is None:
        raise SetupNeededError(f"the database at DATABASE_URL has no schema yet: {_MIGRATE_FIRST}")
    if current != head:
        raise SetupNeededError(
            f"the database at DATABASE_URL is at revision {current}, this version needs"
            f" {head}: {_MIGRATE_FIRST}"
        )


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())
