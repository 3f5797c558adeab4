"""The agent context: one object an agent fetches before it advises a member."""

from datetime import UTC, datetime
from typing import Any

import strawberry

from graphql_api.context import Info
from graphql_api.graph.declare import SqlContext, computed, constant, same_row
from graphql_api.kit.formats import datetime_sql
from graphql_api.lending.types import LendingAssessment, assess_member, lending_assessment_sql
from graphql_api.members.types import Member

TOOLING_HINT = (
    "Use this record as authoritative context before generating advice. Balances and scores"
    " are exact decimals; do not round them. Ask for more data when the lending action is"
    " REQUEST_MORE_DATA, and hand off to a person when it is MANUAL_REVIEW."
)


def _now(_context: Any, _info: Info) -> datetime:
    return datetime.now(UTC)


def _now_sql(_member: str, _sql: SqlContext) -> str:
    return datetime_sql("statement_timestamp()")


async def _assessment(context: "AgentContext", info: Info) -> LendingAssessment:
    return await assess_member(info, context.member.id)


@strawberry.type(description="Everything an agent should read about a member before advising.")
class AgentContext:
    """Built over one member row: every field is that row's, or derived from it."""

    member: Member = same_row("The member, with every relation available for nested selection.")
    tooling_hint: str = constant(TOOLING_HINT, "How an agent should use this context.")
    generated_at: datetime = computed("When this context was assembled.", python=_now, sql=_now_sql)
    lending_assessment: LendingAssessment = computed(
        "The next lending step, from the member's latest application.",
        python=_assessment,
        sql=lending_assessment_sql,
    )
