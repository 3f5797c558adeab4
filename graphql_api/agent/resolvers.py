"""The agentContext query."""

import strawberry

from graphql_api import relation_specs
from graphql_api.agent.types import AgentContext
from graphql_api.context import Info
from graphql_api.graph.resolve import load_by_key
from graphql_api.members.resolvers import MemberNumber
from graphql_api.members.types import Member


@strawberry.type
class AgentQuery:
    @strawberry.field(
        description="A member's whole context for an agent, in one query; null if not found."
    )
    async def agent_context(self, info: Info, member_number: MemberNumber) -> AgentContext | None:
        member = await load_by_key(info, relation_specs.MEMBER_BY_NUMBER, member_number, Member)
        if member is None:
            return None
        return AgentContext(member=member)
