"""Audit log queries, for compliance."""

from datetime import datetime
from typing import Annotated

import strawberry

from graphql_api.audit.repository import AuditCriteria, audit_listing
from graphql_api.audit.types import AuditLog, AuditLogConnection
from graphql_api.context import Info
from graphql_api.graph.connection import After, First
from graphql_api.graph.resolve import list_connection
from graphql_api.kit.errors import PublicError
from graphql_api.kit.pagination import DEFAULT_PAGE_SIZE
from graphql_api.kit.text import in_timestamptz_range


@strawberry.input(description="Narrows an audit log query; all given conditions must hold.")
class AuditLogFilter:
    member_number: str | None = strawberry.field(
        default=None, description="Only entries about this member."
    )
    action: str | None = strawberry.field(
        default=None, description="Only this action, e.g. loan.applied."
    )
    request_id: str | None = strawberry.field(
        default=None, description="Only entries written by this request."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Only entries at or after this instant."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Only entries strictly before this instant."
    )

    def criteria(self) -> AuditCriteria:
        for name, moment in (
            ("createdAfter", self.created_after),
            ("createdBefore", self.created_before),
        ):
            if moment is not None and not in_timestamptz_range(moment):
                raise PublicError(f"`{name}` is outside the supported range.", field=(name,))
        return AuditCriteria(
            member_number=self.member_number,
            action=self.action,
            request_id=self.request_id,
            created_after=self.created_after,
            created_before=self.created_before,
        )


@strawberry.type
class AuditQuery:
    @strawberry.field(description="The audit log, newest first, optionally filtered.")
    async def audit_logs(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[
            AuditLogFilter | None, strawberry.argument(description="Conditions to match.")
        ] = None,
    ) -> AuditLogConnection:
        criteria = filter.criteria() if filter else AuditCriteria()
        return await list_connection(
            info, audit_listing(criteria), first=first, after=after,
            connection=AuditLogConnection, node_type=AuditLog,
        )  # fmt: skip
