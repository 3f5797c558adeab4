"""Member mutations (being written)."""

import strawberry


@strawberry.type
class MemberMutation:
    @strawberry.mutation(description="Placeholder until the members mutations land.")
    def placeholder_members(self) -> bool:
        return False
