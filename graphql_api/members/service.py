"""Member rules shared by every write workflow."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.kit.errors import ErrorCode, refuse
from graphql_api.models import Member


async def require_member(session: AsyncSession, member_number: str) -> Member:
    """The member, or a NOT_FOUND refusal pointing at the `memberNumber` input."""
    member = await session.scalar(select(Member).where(Member.member_number == member_number))
    if member is None:
        raise refuse(ErrorCode.NOT_FOUND, f"No member {member_number!r}.", "member_number")
    return member
