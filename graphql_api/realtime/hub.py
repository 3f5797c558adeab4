"""The per-worker fan-out of audit events to subscriptions.

Notifications carry ids only. The hub reads the announced rows (with their member) in one
statement per burst, however many subscribers there are, on a pooled connection it gives
back at once, and offers each event to every subscription whose `accepts` says yes. A
subscription's queue is bounded, and its bound is the subscriber's burst allowance: an event
that does not fit ends that subscription at once (SLOW_CONSUMER; it resumes with `after`).
Fan-out never waits for a subscriber, so one that stopped reading delays nobody else, and
nothing is buffered beyond the bound.
"""

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from graphql_api.models import AuditLog, Member

logger = logging.getLogger("graphql_api.realtime")

# Ids dispatched lately, remembered so that a replay after a listener reconnect (which reads
# a little before the last id seen: ids are not committed in order) announces nothing twice.
RECENT_IDS = 10_000
# How far below the highest id seen a reconnect replay starts, and how many rows it reads.
RECONNECT_OVERLAP = 1_000
RECONNECT_REPLAY_LIMIT = 10_000
# Pauses between attempts to read announced rows (e.g. the pool was exhausted for a moment).
LOAD_RETRY_PAUSES = (0.1, 0.5)


@dataclass(frozen=True)
class AuditEvent:
    """One committed audit row and the member it concerns (None if none, or deleted)."""

    row: AuditLog
    member: Member | None

    @property
    def id(self) -> int:
        return self.row.id


class TooManySubscriptionsError(Exception):
    pass


class Ending(StrEnum):
    """Why the hub ended a subscription (the subscriber resumes with `after`)."""

    SLOW_CONSUMER = "SLOW_CONSUMER"  # an event found its queue full
    EVENTS_MISSED = "EVENTS_MISSED"  # announced rows could not be read for it


@dataclass(eq=False)
class Subscription:
    """One subscriber's inbox, until the hub ends it (`ended`)."""

    key_id: int
    accepts: Callable[[AuditEvent], bool]
    queue: asyncio.Queue[AuditEvent]
    ended: Ending | None = None
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, event: AuditEvent) -> bool:
        """False if the event is for this subscriber but its queue is full."""
        if self.ended is not None or not self.accepts(event):
            return True
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            return False
        self.wakeup.set()
        return True

    def end(self, reason: Ending) -> None:
        self.ended = self.ended or reason
        # What is still queued will not be sent (the subscriber resumes with `after`): a
        # stalled client's task may stay blocked in `send` for long, so let the events go now.
        while not self.queue.empty():
            self.queue.get_nowait()
        self.wakeup.set()

    async def next_event(self) -> AuditEvent | None:
        """The next event, or None once the hub has ended this subscription. One Event is
        both "queued" and "ended" signal: an idle subscription waits on it alone (no
        helper tasks per subscription)."""
        while self.ended is None:
            if not self.queue.empty():
                return self.queue.get_nowait()
            self.wakeup.clear()
            await self.wakeup.wait()
        return None


class AuditHub:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        queue_size: int,
        per_key_limit: int,
    ) -> None:
        self._engine = engine
        self.queue_size = queue_size
        self.per_key_limit = per_key_limit
        self._subscriptions: set[Subscription] = set()
        self._per_key: Counter[int] = Counter()
        self._pending: list[int] = []
        self._pending_ready = asyncio.Event()
        self._recent: deque[int] = deque(maxlen=RECENT_IDS)
        self._recent_set: set[int] = set()
        # The highest id announced; and the highest id at the time the worker started to
        # listen, below which nothing is ever replayed (it was never this worker's news).
        self.highest_id = 0
        self.floor = 0
        self._task: asyncio.Task[None] | None = None

    # -- subscribers ---------------------------------------------------------------------------

    def add(
        self,
        key_id: int,
        accepts: Callable[[AuditEvent], bool],
    ) -> Subscription:
        """Register a subscriber of `key_id`'s; events arrive from now on. `remove` it."""
        if self._per_key[key_id] >= self.per_key_limit:
            raise TooManySubscriptionsError
        subscription = Subscription(key_id, accepts, asyncio.Queue(self.queue_size))
        self._per_key[key_id] += 1
        self._subscriptions.add(subscription)
        return subscription

    def remove(self, subscription: Subscription) -> None:
        """Idempotent: the generator's `finally` and the operation's cleanup both call it."""
        if subscription not in self._subscriptions:
            return
        self._subscriptions.discard(subscription)
        self._per_key[subscription.key_id] -= 1
        if self._per_key[subscription.key_id] <= 0:
            del self._per_key[subscription.key_id]

    @property
    def subscription_count(self) -> int:
        return len(self._subscriptions)

    def subscriptions(self) -> frozenset[Subscription]:
        """The registered subscriptions now (for inspection: tests, diagnostics)."""
        return frozenset(self._subscriptions)

    # -- notifications -------------------------------------------------------------------------

    def announce(self, audit_id: int) -> None:
        """Called by the listener for each notification (in its callback: must not block)."""
        self._pending.append(audit_id)
        self._pending_ready.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._dispatch_forever(), name="audit-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def _dispatch_forever(self) -> None:
        while True:
            await self._pending_ready.wait()
            self._pending_ready.clear()
            ids, self._pending = self._pending, []
            for pause in (*LOAD_RETRY_PAUSES, None):
                try:
                    await self._dispatch(ids)
                    break
                except Exception:
                    if pause is None:
                        self._lost(len(ids))
                        break
                    await asyncio.sleep(pause)

    def _lost(self, count: int) -> None:
        """The rows are in the audit table but this worker cannot read them now: rather than
        let its subscribers believe nothing happened, end them; they resume with `after`."""
        logger.exception("could not read %d announced audit row(s); subscriptions ended", count)
        for subscription in list(self._subscriptions):
            subscription.end(Ending.EVENTS_MISSED)

    async def _dispatch(self, ids: Iterable[int]) -> None:
        fresh = sorted({i for i in ids if i not in self._recent_set})
        if not fresh:
            return
        self.highest_id = max(self.highest_id, fresh[-1])
        if not self._subscriptions:
            self._remember(fresh)
            return  # nobody here to tell: no read at all
        events = await self.load(AuditLog.id.in_(fresh))
        self._remember(fresh)
        for event in events:
            self._offer(event)
            # Let the event loop run between events (subscribers may start draining, HTTP
            # requests on this worker keep being served); nothing here waits for anyone.
            await asyncio.sleep(0)

    def _offer(self, event: AuditEvent) -> None:
        """To every subscription at once; one whose queue is full is ended right here, so
        no subscriber's backlog ever delays delivery to the others."""
        for subscription in list(self._subscriptions):
            if not subscription.offer(event):
                subscription.end(Ending.SLOW_CONSUMER)

    def _remember(self, ids: list[int]) -> None:
        for audit_id in ids:
            if len(self._recent) == self._recent.maxlen:
                self._recent_set.discard(self._recent[0])
            self._recent.append(audit_id)
            self._recent_set.add(audit_id)

    def set_floor(self, latest_id: int) -> None:
        self.floor = latest_id
        self.highest_id = max(self.highest_id, latest_id)

    async def replay_after_reconnect(self) -> None:
        """The listener was down: announce rows it may have missed (ids already dispatched
        are skipped), as if their notifications had arrived."""
        async with AsyncSession(self._engine) as session:
            missed = await session.scalars(
                select(AuditLog.id)
                .where(AuditLog.id > max(self.floor, self.highest_id - RECONNECT_OVERLAP))
                .order_by(AuditLog.id)
                .limit(RECONNECT_REPLAY_LIMIT)
            )
            for audit_id in missed:
                self.announce(audit_id)

    async def load(self, condition: object, *, limit: int | None = None) -> list[AuditEvent]:
        """Audit rows matching `condition` with their members, in id order: one statement
        on a pooled connection, given back before the events are delivered."""
        statement = (
            select(AuditLog, Member)
            .outerjoin(Member, Member.id == AuditLog.member_id)
            .where(condition)  # type: ignore[arg-type]
            .order_by(AuditLog.id)
            .limit(limit)
        )
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            rows = (await session.execute(statement)).all()
            session.expunge_all()
        return [AuditEvent(row, member) for row, member in rows]
