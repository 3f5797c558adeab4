"""Writing the audit log: one row per state change, in the caller's transaction, so the
business change and its record commit or roll back together.

Each row is also announced on the PostgreSQL channel `finance_audit` (NOTIFY) by the same
transaction: PostgreSQL delivers a notification only when its transaction commits, so every
worker's listener (graphql_api/realtime) hears of committed changes only, and of all of them.
"""

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.kit.commands import RequestMeta
from graphql_api.models import AuditLog, Base

AUDIT_CHANNEL = "finance_audit"


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
    await session.execute(select(func.pg_notify(AUDIT_CHANNEL, notification(entry))))
    return entry


def notification(entry: AuditLog) -> str:
    """The NOTIFY payload: ids only (well under PostgreSQL's 8000-byte limit); listeners
    read the row itself, which carries what the subscriber may see."""
    return json.dumps({"id": entry.id, "member_id": entry.member_id, "action": entry.action})
