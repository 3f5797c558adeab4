"""Idempotency keys: a retried command returns its first result and writes nothing more.

`claim` runs inside the command's transaction. The first request inserts the key; a
concurrent request with the same key blocks on the primary key until the first commits (or
rolls back, in which case it claims the key itself), then reads the committed outcome.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.kit.errors import ErrorCode, refuse
from graphql_api.models import IdempotencyKey


@dataclass(frozen=True)
class Claim:
    actor: str
    operation: str
    key: str
    replay_of: int | None  # the first request's result id, when this is a retry


def _same_key(actor: str, operation: str, key: str) -> tuple[ColumnElement[bool], ...]:
    return (
        IdempotencyKey.actor == actor,
        IdempotencyKey.operation == operation,
        IdempotencyKey.key == key,
    )


async def key_claimed(session: AsyncSession, *, actor: str, operation: str, key: str) -> bool:
    """Whether an earlier request already claimed this key (read-only; no lock taken)."""
    found = await session.scalar(
        select(IdempotencyKey.key).where(*_same_key(actor, operation, key))
    )
    return found is not None


async def claim(
    session: AsyncSession, *, actor: str, operation: str, key: str, fingerprint: str
) -> Claim:
    inserted = await session.scalar(
        insert(IdempotencyKey)
        .values(actor=actor, operation=operation, key=key, fingerprint=fingerprint)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    )
    if inserted is not None:
        return Claim(actor, operation, key, replay_of=None)
    existing = (
        await session.execute(
            select(IdempotencyKey.fingerprint, IdempotencyKey.result_id).where(
                *_same_key(actor, operation, key)
            )
        )
    ).one()
    if existing.fingerprint != fingerprint or existing.result_id is None:
        raise refuse(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This idempotency key was already used with different input.",
            "idempotencyKey",
        )
    return Claim(actor, operation, key, replay_of=existing.result_id)


async def complete(session: AsyncSession, claimed: Claim, result_id: int) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(*_same_key(claimed.actor, claimed.operation, claimed.key))
        .values(result_id=result_id)
    )


async def run_idempotent(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    actor: str,
    operation: str,
    idempotency_key: str | None,
    fingerprint: str,
    work: Callable[[AsyncSession], Awaitable[int]],
) -> int:
    """Run `work` in one transaction, honouring an idempotency key; return the result id.

    Raising anywhere inside (a refusal included) rolls back everything, the key claim too.
    """
    async with sessionmaker.begin() as session:
        claimed = None
        if idempotency_key is not None:
            claimed = await claim(
                session, actor=actor, operation=operation, key=idempotency_key,
                fingerprint=fingerprint,
            )  # fmt: skip
            if claimed.replay_of is not None:
                return claimed.replay_of
        result_id = await work(session)
        if claimed is not None:
            await complete(session, claimed, result_id)
        return result_id
