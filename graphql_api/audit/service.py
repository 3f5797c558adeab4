"""Writing the audit log: one row per state change, in the caller's transaction, so the
business change and its record commit or roll back together."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.kit.commands import RequestMeta
from graphql_api.models import AuditLog, Base


async def record(
    session: AsyncSession,
    meta: RequestMeta,
    *,
    action: str,
    entity: Base,
    member_id: int | None,
    payload: dict[str, Any],
) -> AuditLog:
    """Append an audit row for `entity` (which must already be flushed, so it has an id)."""
    entry = AuditLog(
        request_id=meta.request_id,
        actor=meta.actor,
        action=action,
        entity_type=type(entity).__name__,
        entity_id=str(entity.id),  # type: ignore[attr-defined]
        member_id=member_id,
        payload=payload,
    )
    session.add(entry)
    await session.flush()
    return entry
