"""GraphQL types of the audit log."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from graphql_api import models, relation_specs
from graphql_api.graph.connection import CountedConnection
from graphql_api.graph.declare import column, to_one
from graphql_api.graph.nodes import NodeRow

if TYPE_CHECKING:
    from graphql_api.members.types import Member

MemberRef = Annotated["Member", strawberry.lazy("graphql_api.members.types")]


@strawberry.type(description="One append-only record of a state change: who, what, when, why.")
class AuditLog(NodeRow):
    __model__ = models.AuditLog
    __by_id__ = relation_specs.AUDIT_LOG_BY_ID

    id: relay.NodeID[int]
    member_id: strawberry.Private[int | None]
    request_id: str = column("The X-Request-ID of the request that acted.")
    actor: str = column("Who acted: an API key label, a user or a job.")
    action: str = column("What happened, e.g. loan.applied.")
    entity_type: str = column("Kind of entity changed, e.g. LoanApplication.")
    entity_id: str = column("Database id of the entity changed.")
    payload: JSON = column("What changed, as recorded at the time.")
    created_at: datetime = column("When it happened.")
    member: MemberRef | None = to_one(
        relation_specs.AUDIT_LOG_MEMBER, "The member concerned, if any.", nullable=True
    )


@strawberry.type(name="AuditLogConnection", description="A page of audit log entries.")
class AuditLogConnection(CountedConnection[AuditLog]):
    pass
