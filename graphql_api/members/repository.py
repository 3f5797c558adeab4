"""Member queries. SQL lives in repositories; services and resolvers call these."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select

from graphql_api.kit.listing import Listing, escape_like, text_equals
from graphql_api.kit.pagination import Ordering
from graphql_api.kit.text import storable
from graphql_api.models import Member, MemberStatus

# Members page in member-number order: stable, unique and what people scan for.
MEMBER_ORDER = Ordering((Member.member_number,), descending=False)


@dataclass(frozen=True)
class MemberCriteria:
    statuses: tuple[MemberStatus, ...] = ()
    search: str | None = None


def member_listing(criteria: MemberCriteria) -> Listing:
    conditions: list[ColumnElement[bool]] = []
    if criteria.statuses:
        conditions.append(Member.status.in_(criteria.statuses))
    if criteria.search and not storable(criteria.search):
        conditions.append(false())
    elif criteria.search:
        term = escape_like(criteria.search.strip())
        conditions.append(
            or_(Member.member_number.ilike(f"{term}%"), Member.full_name.ilike(f"%{term}%"))
        )
    return Listing(Member, MEMBER_ORDER, tuple(conditions))


def member_id_of(member_number: str) -> ColumnElement[int]:
    """A scalar subquery, so filtering by member number stays one statement."""
    return (
        select(Member.id).where(text_equals(Member.member_number, member_number)).scalar_subquery()
    )
