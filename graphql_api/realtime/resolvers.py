"""The Subscription root: `auditEvents` and `memberUpdated`.

Each resolver checks what it can up front (member visible, resume window not too large, the
per-key cap), so a refusal is a graphql-transport-ws `error` message, not a stream. Then it
registers with the worker's hub BEFORE reading any backlog (no gap) and de-duplicates by id
(no repeat). Role, scope and filters are applied per event by `accepts`; masking happens in
field resolution from the viewer, as for queries.
"""

from collections.abc import AsyncGenerator, Callable
from typing import Annotated, TypeVar

import strawberry
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from graphql_api.audit.types import AuditLog
from graphql_api.auth.policy import Action, can, may_see_member_row, member_scope, row_filter
from graphql_api.context import Info
from graphql_api.kit.errors import PublicError
from graphql_api.kit.listing import text_equals
from graphql_api.kit.text import parse_row_id
from graphql_api.members.types import Member
from graphql_api.models import AuditLog as AuditLogRow
from graphql_api.models import Member as MemberRow
from graphql_api.realtime.context import SubscriptionContext
from graphql_api.realtime.errors import (
    EventsMissedError,
    ReplayTooLargeError,
    SlowConsumerError,
    SubscriptionForbiddenError,
    SubscriptionNotFoundError,
    SubscriptionsUnavailableError,
    TooManySubscriptionsPublicError,
)
from graphql_api.realtime.hub import AuditEvent, Ending, TooManySubscriptionsError
from graphql_api.realtime.hub import Subscription as Inbox

T = TypeVar("T")
NOT_VISIBLE = "Your API key may not see this member."


@strawberry.input(description="Narrows a live audit stream; all given conditions must hold.")
class AuditEventFilter:
    member_number: str | None = strawberry.field(
        default=None, description="Only entries about this member."
    )
    action: str | None = strawberry.field(
        default=None, description="Only this action, e.g. loan.applied."
    )


@strawberry.type(
    description="Live events over graphql-transport-ws at /graphql (docs/subscriptions.md):"
    " announced when their transaction commits, to subscribers on every worker."
)
class Subscription:
    @strawberry.subscription(
        description="New audit log entries as their transactions commit, oldest first. Pass"
        " `after` (the `id` of the last entry you received) when reconnecting to get what you"
        " missed first, then live entries, with no gap and no repeat."
    )
    async def audit_events(
        self,
        info: Info,
        filter: Annotated[
            AuditEventFilter | None, strawberry.argument(description="Conditions to match.")
        ] = None,
        after: Annotated[
            relay.GlobalID | None,
            strawberry.argument(description="Resume after this AuditLog `id` (exclusive)."),
        ] = None,
    ) -> AsyncGenerator[AuditLog, None]:
        context = _context(info)
        viewer = context.viewer
        member_id = await _visible_member_id(context, filter.member_number) if filter else None
        action = filter.action if filter else None

        def accepts(event: AuditEvent) -> bool:
            row = event.row
            return (
                can(viewer, Action.READ_AUDIT)
                and may_see_member_row(viewer, row.member_id)
                and (member_id is None or row.member_id == member_id)
                and (action is None or row.action == action)
            )

        conditions = [row_filter(viewer, AuditLogRow)]
        if member_id is not None:
            conditions.append(AuditLogRow.member_id == member_id)
        if action is not None:
            conditions.append(text_equals(AuditLogRow.action, action))
        inbox, backlog = await _subscribe(context, accepts, _after_id(after), and_(*conditions))
        return _deliver(context, inbox, backlog, lambda event: AuditLog.from_row(event.row))

    @strawberry.subscription(
        description="A member, each time one of its rows changes (any state change recorded"
        " in the audit log about it). The current member is not sent on subscribing."
    )
    async def member_updated(
        self,
        info: Info,
        member_number: Annotated[
            str, strawberry.argument(description="The member to watch, e.g. M-100001.")
        ],
    ) -> AsyncGenerator[Member, None]:
        context = _context(info)
        member_id = await _visible_member_id(context, member_number)

        def accepts(event: AuditEvent) -> bool:
            return event.member is not None and event.row.member_id == member_id

        inbox, _ = await _subscribe(context, accepts, None, None)
        return _deliver(context, inbox, [], _member_of)


def _member_of(event: AuditEvent) -> Member:
    assert event.member is not None
    return Member.from_row(event.member)


def _context(info: Info) -> SubscriptionContext:
    context = info.context
    if not isinstance(context, SubscriptionContext) or context.hub is None:
        raise SubscriptionsUnavailableError("Subscriptions are not available on this server.")
    return context


async def _visible_member_id(context: SubscriptionContext, member_number: str | None) -> int | None:
    """The member's id if `member_number` is given and the viewer may see it."""
    if member_number is None:
        return None
    scope = member_scope(context.viewer)
    assert context.engine is not None
    async with AsyncSession(context.engine) as session:
        member_id = await session.scalar(
            select(MemberRow.id).where(text_equals(MemberRow.member_number, member_number))
        )
    if scope is not None and member_id != scope:
        # Whether another member exists is not a MEMBER key's business either.
        raise SubscriptionForbiddenError(NOT_VISIBLE, field=("memberNumber",))
    if member_id is None:
        raise SubscriptionNotFoundError(f"No member {member_number!r}.", field=("memberNumber",))
    return member_id


def _after_id(after: relay.GlobalID | None) -> int | None:
    if after is None:
        return None
    row_id = parse_row_id(after.node_id) if after.type_name == "AuditLog" else None
    if row_id is None:
        raise PublicError("`after` must be the id of an AuditLog.", field=("after",))
    return row_id


async def _subscribe(
    context: SubscriptionContext,
    accepts: Callable[[AuditEvent], bool],
    after_id: int | None,
    condition: ColumnElement[bool] | None,
) -> tuple[Inbox, list[AuditEvent]]:
    """Register first, then read what was missed: a row committed in between is in one or
    the other (or both: `_deliver` drops the repeat)."""
    assert context.hub is not None
    assert context.viewer is not None
    hub = context.hub
    try:
        inbox = hub.add(context.viewer.key_id, accepts)
    except TooManySubscriptionsError:
        raise TooManySubscriptionsPublicError(
            f"This API key already has {hub.per_key_limit} subscriptions on this server;"
            " complete one first."
        ) from None
    context.subscriptions.append(inbox)
    if after_id is None or condition is None:
        return inbox, []
    limit = context.settings.subscription_replay_limit
    backlog = await hub.load(and_(AuditLogRow.id > after_id, condition), limit=limit + 1)
    if len(backlog) > limit:
        context.release_subscriptions()
        raise ReplayTooLargeError(
            f"More than {limit} entries were missed: read them with the auditLogs query"
            " (filter createdAfter), then subscribe again without `after`.",
            field=("after",),
        )
    return inbox, backlog


async def _deliver(
    context: SubscriptionContext,
    inbox: Inbox,
    backlog: list[AuditEvent],
    build: Callable[[AuditEvent], T],
) -> AsyncGenerator[T, None]:
    delivered = {missed.id for missed in backlog}
    try:
        for missed in backlog:
            # Fresh loaders per event; graphql-core resolves and sends the event before the
            # generator resumes, so its pooled connection goes back right after.
            db = context.fresh_event_scope()
            try:
                yield build(missed)
            finally:
                await context.end_event_scope(db)
        while (event := await inbox.next_event()) is not None:
            if event.id in delivered:
                continue
            db = context.fresh_event_scope()
            try:
                yield build(event)
            finally:
                await context.end_event_scope(db)
        raise _ended_error(context, inbox.ended)
    finally:
        context.release_subscriptions()


def _ended_error(context: SubscriptionContext, reason: Ending | None) -> PublicError:
    if reason is Ending.EVENTS_MISSED:
        return EventsMissedError(
            "This server could not read some events for this subscription, so it was ended."
            " Subscribe again with `after` set to the last id you received."
        )
    size = context.settings.subscription_queue_size
    return SlowConsumerError(
        f"More than {size} events were waiting for this subscription, so it was ended."
        " Subscribe again with `after` set to the last id you received."
    )
