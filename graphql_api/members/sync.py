"""Syncing a member from the pension provider.

Two steps, so no database transaction is ever held open across HTTP: `fetch_upstream` asks
the provider (turning its failures into refusals), then `sync_member` upserts the member and
its pension account and writes one `member.synced` audit row, all in one transaction.

The caller gives `fetch_upstream` a deadline (for a request: its own deadline less a margin
for the transaction and the answer), so a hung provider is refused as UPSTREAM_UNAVAILABLE
with nothing written, before the request itself would time out.
"""

import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.audit import service as audit_service
from graphql_api.auth.policy import Action, require
from graphql_api.kit.command_fields import IdempotencyKey, MemberNumber
from graphql_api.kit.commands import CommandInput, RequestMeta
from graphql_api.kit.errors import CommandRefusedError, ErrorCode, refuse
from graphql_api.kit.idempotency import key_claimed
from graphql_api.models import Member, PensionAccount
from graphql_api.upstream import (
    InvalidMemberNumberError,
    PensionClient,
    UpstreamBadResponse,
    UpstreamMember,
    UpstreamNotFound,
    UpstreamUnavailable,
)

logger = logging.getLogger(__name__)

OPERATION = "syncMember"
UNAVAILABLE_MESSAGE = "The pension provider is unavailable; nothing was changed. Try again later."


class SyncMemberCommand(CommandInput):
    member_number: MemberNumber
    idempotency_key: IdempotencyKey | None = None


async def fetch_upstream(
    client: PensionClient | None, member_number: str, *, deadline: float | None = None
) -> UpstreamMember:
    """The provider's view of the member, or a refusal saying why there is none.

    `deadline` (event-loop time, or None for the client's own limits) bounds every attempt
    and backoff; running out of time is UPSTREAM_UNAVAILABLE like any provider outage.

    The messages are written here: the provider's own text and the API key never reach
    the caller. The upstream error (which never contains the key) is logged for operators.
    """
    if client is None:
        raise refuse(
            ErrorCode.UPSTREAM_UNAVAILABLE,
            "No pension provider is configured; nothing was changed.",
        )
    try:
        upstream = await client.get_member(member_number, deadline=deadline)
    except InvalidMemberNumberError as error:
        raise refuse(
            ErrorCode.INVALID_INPUT, f"Invalid member number: {error}.", "member_number"
        ) from None
    except UpstreamNotFound:
        raise refuse(
            ErrorCode.UPSTREAM_NOT_FOUND,
            f"The pension provider has no member {member_number!r}.",
            "member_number",
        ) from None
    except UpstreamUnavailable as error:
        logger.warning("syncMember %s: %r", member_number, error)
        raise refuse(ErrorCode.UPSTREAM_UNAVAILABLE, UNAVAILABLE_MESSAGE) from None
    except UpstreamBadResponse as error:
        logger.warning("syncMember %s: %r", member_number, error)
        raise _bad_response() from None
    if "\x00" in upstream.full_name:
        # PostgreSQL text cannot hold NUL; the parser lets it through, so refuse it here.
        logger.warning("syncMember %s: provider sent a NUL character in full_name", member_number)
        raise _bad_response()
    return upstream


def _bad_response() -> CommandRefusedError:
    return refuse(
        ErrorCode.UPSTREAM_BAD_RESPONSE,
        "The pension provider sent an invalid answer; nothing was changed.",
    )


async def idempotency_key_used(
    sessionmaker: async_sessionmaker[AsyncSession], *, actor: str, key: str | None
) -> bool:
    """Whether a sync already claimed this key. Then the provider need not be asked: the
    transaction will replay the first result, or refuse the key for different input."""
    if key is None:
        return False
    async with sessionmaker() as session:
        return await key_claimed(session, actor=actor, operation=OPERATION, key=key)


async def sync_member(
    session: AsyncSession,
    command: SyncMemberCommand,
    meta: RequestMeta,
    upstream: UpstreamMember | None,
) -> int:
    """Upsert the member and its account from `upstream`; audit what changed; return the id.

    `upstream` is None only when the key was seen claimed before fetching; reaching here
    anyway means the claim disappeared in between, so there is nothing to store.
    """
    require(meta.viewer, Action.SYNC_MEMBER)
    if upstream is None or upstream.member_number != command.member_number:
        raise refuse(ErrorCode.UPSTREAM_UNAVAILABLE, UNAVAILABLE_MESSAGE)
    member, created = await _lock_or_insert_member(session, upstream)
    changes = _created(upstream) if created else _update_member(member, upstream)
    account = await session.scalar(
        select(PensionAccount).where(PensionAccount.member_id == member.id).with_for_update()
    )
    if account is None:
        account = PensionAccount(member_id=member.id)
        session.add(account)
        changes |= _changed(None, upstream.contribution_balance, None, upstream.currency)
    else:
        changes |= _changed(
            account.contribution_balance,
            upstream.contribution_balance,
            account.currency,
            upstream.currency,
        )
    account.contribution_balance = upstream.contribution_balance
    account.currency = upstream.currency
    account.last_synced_at = func.now()
    await session.flush()
    await audit_service.record(
        session,
        meta,
        action="member.synced",
        entity=member,
        member_id=member.id,
        payload={"created": created, "changes": changes},
    )
    return member.id


async def _lock_or_insert_member(
    session: AsyncSession, upstream: UpstreamMember
) -> tuple[Member, bool]:
    """The member row, locked for this transaction; inserted (email unknown) if new."""
    locked = select(Member).where(Member.member_number == upstream.member_number).with_for_update()
    member = await session.scalar(locked)
    if member is not None:
        return member, False
    # ON CONFLICT: a concurrent sync or createMember may insert the same number first; then
    # this waits for it to commit, inserts nothing, and the update path below takes over.
    inserted = await session.scalar(
        insert(Member)
        .values(
            member_number=upstream.member_number,
            full_name=upstream.full_name,
            email=None,
            status=upstream.status,
        )
        .on_conflict_do_nothing(index_elements=[Member.member_number])
        .returning(Member.id)
    )
    member = await session.scalar(locked)
    if member is None:  # unreachable: the row was inserted, or committed by another request
        raise refuse(ErrorCode.UPSTREAM_UNAVAILABLE, UNAVAILABLE_MESSAGE)
    return member, inserted is not None


def _created(upstream: UpstreamMember) -> dict[str, Any]:
    return {
        "fullName": {"before": None, "after": upstream.full_name},
        "status": {"before": None, "after": upstream.status.value},
    }


def _update_member(member: Member, upstream: UpstreamMember) -> dict[str, Any]:
    """Apply the provider's name and status; the email is ours and is left alone."""
    changes: dict[str, Any] = {}
    if member.full_name != upstream.full_name:
        changes["fullName"] = {"before": member.full_name, "after": upstream.full_name}
        member.full_name = upstream.full_name
    if member.status != upstream.status:
        changes["status"] = {"before": member.status.value, "after": upstream.status.value}
        member.status = upstream.status
    return changes


def _changed(
    balance_before: Decimal | None,
    balance_after: Decimal,
    currency_before: str | None,
    currency_after: str,
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if balance_before != balance_after:
        changes["contributionBalance"] = {
            "before": None if balance_before is None else str(balance_before),
            "after": str(balance_after),
        }
    if currency_before != currency_after:
        changes["currency"] = {"before": currency_before, "after": currency_after}
    return changes
