"""The agent context: one object an agent fetches before it advises a member."""

from datetime import datetime

import strawberry

from graphql_api.context import Info
from graphql_api.lending.types import LendingAssessment, load_lending_assessment
from graphql_api.members.types import Member

TOOLING_HINT = (
    "Use this record as authoritative context before generating advice. Balances and scores"
    " are exact decimals; do not round them. Ask for more data when the lending action is"
    " REQUEST_MORE_DATA, and hand off to a person when it is MANUAL_REVIEW."
)


@strawberry.type(description="Everything an agent should read about a member before advising.")
class AgentContext:
    member: Member = strawberry.field(
        description="The member, with every relation available for nested selection."
    )
    tooling_hint: str = strawberry.field(description="How an agent should use this context.")
    generated_at: datetime = strawberry.field(description="When this context was assembled.")

    @strawberry.field(description="The next lending step, from the member's latest application.")
    async def lending_assessment(self, info: Info) -> LendingAssessment:
        return await load_lending_assessment(info, self.member.id)
