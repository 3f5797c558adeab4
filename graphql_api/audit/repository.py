"""Audit log queries (reads only; writes go through audit.service)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement

from graphql_api.kit.listing import Listing, text_equals
from graphql_api.kit.pagination import newest_first
from graphql_api.members.repository import member_id_of
from graphql_api.models import AuditLog


@dataclass(frozen=True)
class AuditCriteria:
    member_number: str | None = None
    action: str | None = None
    request_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def audit_listing(criteria: AuditCriteria) -> Listing:
    conditions: list[ColumnElement[bool]] = []
    if criteria.member_number is not None:
        conditions.append(AuditLog.member_id == member_id_of(criteria.member_number))
    if criteria.action is not None:
        conditions.append(text_equals(AuditLog.action, criteria.action))
    if criteria.request_id is not None:
        conditions.append(text_equals(AuditLog.request_id, criteria.request_id))
    if criteria.created_after is not None:
        conditions.append(AuditLog.created_at >= criteria.created_after)
    if criteria.created_before is not None:
        conditions.append(AuditLog.created_at < criteria.created_before)
    return Listing(AuditLog, newest_first(AuditLog), tuple(conditions))
