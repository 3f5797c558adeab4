"""GET /readyz: is this process fit to take traffic? (GET /healthz only says it is alive.)

Ready means the database answers and its schema is what this code expects: one statement,
`SELECT version_num FROM alembic_version`, on a connection of its own, compared with the
head revision of the bundled migrations. 200 `{"status": "ready", ...}` or 503
`{"status": "not ready", "reason": ...}`.

- **Its own connection, not the pool.** A busy pool is not a reason to leave the load
  balancer, and a probe must not queue behind requests; so each check opens one short
  connection (`readiness_timeout_seconds` for connect and query together).
- **Cheap and bounded.** /readyz needs no key, so a verdict is reused for a second and
  concurrent probes share one check: a flood of probes costs at most one connection a second.
- **Behind or ahead.** A database at an older revision is not ready (this code would query
  columns that are not there). One at a revision these migrations do not know is taken as
  newer (a rolling deploy migrated first) and stays ready, so old instances keep serving.
"""

import asyncio
import time
from typing import TYPE_CHECKING, Any, Final

import asyncpg

from graphql_api.db_health import root_cause

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

VERDICT_SECONDS: Final = 1.0
APPLICATION_NAME: Final = "finance-graphql-readyz"

Verdict = tuple[bool, dict[str, Any]]


class NotReadyError(Exception):
    pass


class Readiness:
    def __init__(self, database_url: str, timeout_seconds: float) -> None:
        self.database_url = database_url
        self.timeout_seconds = timeout_seconds
        self._script: ScriptDirectory | None = None
        self._verdict: Verdict | None = None
        self._verdict_at = 0.0
        self._running: asyncio.Task[Verdict] | None = None

    async def check(self) -> Verdict:
        if self._verdict is not None and time.monotonic() - self._verdict_at < VERDICT_SECONDS:
            return self._verdict
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._fresh_verdict())
        # shield: one probe giving up must not cancel the check the others wait for.
        return await asyncio.shield(self._running)

    async def _fresh_verdict(self) -> Verdict:
        try:
            migrations = await self._migration_state()
        except NotReadyError as error:
            verdict: Verdict = (False, {"status": "not ready", "reason": str(error)})
        except Exception as error:  # whatever else went wrong, the answer is "not ready"
            reason = f"the readiness check failed ({type(error).__name__})"
            verdict = (False, {"status": "not ready", "reason": reason})
        else:
            verdict = (True, {"status": "ready", "database": "ok", "migrations": migrations})
        self._verdict, self._verdict_at = verdict, time.monotonic()
        return verdict

    async def _migration_state(self) -> str:
        applied = await self._applied_revisions()
        script = self._migrations()
        expected = set(script.get_heads())
        if applied == expected:
            return "head"
        if not applied:
            raise NotReadyError("the database has no migrations applied")
        if any(not _known(script, revision) for revision in applied):
            return "ahead"
        raise NotReadyError(
            f"migrations behind: the database is at {', '.join(sorted(applied))}, "
            f"this release expects {', '.join(sorted(expected))}"
        )

    async def _applied_revisions(self) -> set[str]:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                connection = await asyncpg.connect(
                    self.database_url,
                    timeout=self.timeout_seconds,
                    server_settings={"application_name": APPLICATION_NAME},
                )
                try:
                    rows = await connection.fetch("SELECT version_num FROM alembic_version")
                finally:
                    await connection.close(timeout=self.timeout_seconds)
        except asyncpg.UndefinedTableError:
            raise NotReadyError("the database has no migrations applied") from None
        except TimeoutError:
            raise NotReadyError(
                f"the database did not answer within {self.timeout_seconds:g} s"
            ) from None
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            cause = root_cause(error)
            raise NotReadyError(f"the database is unreachable ({type(cause).__name__})") from None
        return {row["version_num"] for row in rows}

    def _migrations(self) -> "ScriptDirectory":
        if self._script is None:
            # Alembic is loaded on the first probe, not with every app.
            from alembic.script import ScriptDirectory

            from graphql_api.runtime.migrate import alembic_config

            self._script = ScriptDirectory.from_config(alembic_config(self.database_url))
        return self._script


def _known(script: "ScriptDirectory", revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False
