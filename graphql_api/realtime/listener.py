"""One LISTEN connection per worker process, outside the pool, for its whole life.

A raw asyncpg connection (a pooled one would be held forever, and LISTEN state must not leak
into requests). If it is lost (PostgreSQL restarted, network cut) it reconnects with capped
exponential backoff, then asks the hub to replay the rows committed meanwhile, so no live
subscriber misses an event.
"""

import asyncio
import json
import logging
from contextlib import suppress
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

from graphql_api.audit.service import AUDIT_CHANNEL
from graphql_api.realtime.hub import AuditHub

logger = logging.getLogger("graphql_api.realtime")

FIRST_RETRY_SECONDS = 0.1
MAX_RETRY_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 5.0
LIVENESS_SECONDS = 10.0


def asyncpg_dsn(url: URL) -> str:
    """The engine's URL in the plain form asyncpg.connect takes."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class AuditListener:
    def __init__(self, dsn: str, hub: AuditHub) -> None:
        self._dsn = dsn
        self._hub = hub
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.reconnects = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen_forever(), name="audit-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def _listen_forever(self) -> None:
        delay = FIRST_RETRY_SECONDS
        first = True
        while True:
            try:
                await self._listen_until_lost(replay=not first)
                delay = FIRST_RETRY_SECONDS
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
                logger.warning("audit listener: %s; retrying in %.1f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
            first = False
            self.reconnects += 1

    async def _listen_until_lost(self, *, replay: bool) -> None:
        connection: asyncpg.Connection = await asyncpg.connect(
            self._dsn,
            timeout=CONNECT_TIMEOUT_SECONDS,
            server_settings={"application_name": "finance-graphql-listener"},
        )
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            await connection.add_listener(AUDIT_CHANNEL, self._on_notification)
            self.connected.set()
            if replay:
                logger.info("audit listener reconnected; replaying missed rows")
                await self._hub.replay_after_reconnect()
            else:
                # Rows committed before this worker listened are never replayed as new.
                latest = await connection.fetchval("SELECT coalesce(max(id), 0) FROM audit_logs")
                self._hub.set_floor(int(latest))
            # The termination callback is the usual signal; the ping finds a socket that died
            # silently (a host gone, a cut network) within LIVENESS_SECONDS or so.
            while not lost.is_set():
                try:
                    await asyncio.wait_for(lost.wait(), timeout=LIVENESS_SECONDS)
                except TimeoutError:
                    await asyncio.wait_for(connection.fetchval("SELECT 1"), LIVENESS_SECONDS)
            logger.warning("audit listener lost its connection")
        finally:
            self.connected.clear()
            with suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=1.0)

    def _on_notification(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            audit_id = int(json.loads(payload)["id"])
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed %s notification: %.200s", AUDIT_CHANNEL, payload)
            return
        self._hub.announce(audit_id)
