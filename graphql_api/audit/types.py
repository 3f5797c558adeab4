"""GraphQL types of the audit log."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from graphql_api import models, relations
from graphql_api.context import Info
from graphql_api.graph.connection import CountedConnection
from graphql_api.graph.fields import load_one
from graphql_api.graph.mapping import relation_metadata
from graphql_api.graph.nodes import NodeRow

if TYPE_CHECKING:
    from graphql_api.members.types import Member

MemberRef = Annotated["Member", strawberry.lazy("graphql_api.members.types")]


@strawberry.type(description="One append-only record of a state change: who, what, when, why.")
class AuditLog(NodeRow):
    __model__ = models.AuditLog
    __by_id__ = relations.AUDIT_LOG_BY_ID

    id: relay.NodeID[int]
    member_id: strawberry.Private[int | None]
    request_id: str = strawberry.field(description="The X-Request-ID of the request that acted.")
    actor: str = strawberry.field(description="Who acted: an API key label, a user or a job.")
    action: str = strawberry.field(description="What happened, e.g. loan.applied.")
    entity_type: str = strawberry.field(description="Kind of entity changed, e.g. LoanApplication.")
    entity_id: str = strawberry.field(description="Database id of the entity changed.")
    payload: JSON = strawberry.field(description="What changed, as recorded at the time.")
    created_at: datetime = strawberry.field(description="When it happened.")

    @strawberry.field(
        description="The member concerned, if any.",
        metadata=relation_metadata(relations.AUDIT_LOG_MEMBER),
    )
    async def member(self, info: Info) -> MemberRef | None:
        from graphql_api.members.types import Member

        return await load_one(info, relations.AUDIT_LOG_MEMBER, self, Member)


@strawberry.type(name="AuditLogConnection", description="A page of audit log entries.")
class AuditLogConnection(CountedConnection[AuditLog]):
    pass
