"""Member queries."""

from typing import Annotated

import strawberry

from graphql_api import relation_specs
from graphql_api.context import Info
from graphql_api.graph.connection import After, First
from graphql_api.graph.enums import MemberStatus
from graphql_api.graph.resolve import list_connection, load_by_key
from graphql_api.kit.pagination import DEFAULT_PAGE_SIZE
from graphql_api.members.repository import MemberCriteria, member_listing
from graphql_api.members.types import Member, MemberConnection

MemberNumber = Annotated[
    str, strawberry.argument(description="The member's business key, e.g. M-100001.")
]


@strawberry.input(description="Narrows a members query; all given conditions must hold.")
class MemberFilter:
    status: list[MemberStatus] | None = strawberry.field(
        default=None, description="Only members in one of these states."
    )
    search: str | None = strawberry.field(
        default=None,
        description="Member number prefix or part of the full name, case-insensitive.",
    )

    def criteria(self) -> MemberCriteria:
        return MemberCriteria(statuses=tuple(self.status or ()), search=self.search)


@strawberry.type
class MemberQuery:
    @strawberry.field(description="One member by member number; null if there is none.")
    async def member(self, info: Info, member_number: MemberNumber) -> Member | None:
        return await load_by_key(info, relation_specs.MEMBER_BY_NUMBER, member_number, Member)

    @strawberry.field(description="Members in member-number order, optionally filtered.")
    async def members(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[
            MemberFilter | None, strawberry.argument(description="Conditions to match.")
        ] = None,
    ) -> MemberConnection:
        criteria = filter.criteria() if filter else MemberCriteria()
        return await list_connection(
            info, member_listing(criteria), first=first, after=after,
            connection=MemberConnection, node_type=Member,
        )  # fmt: skip
