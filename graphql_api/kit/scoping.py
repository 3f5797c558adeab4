"""Row-level scoping: which rows belong to one member, as SQL conditions.

A MEMBER key sees only its own member's rows. Every fetch path (lookups, relation pages,
counts, top-level lists) adds `owned_by(model, member_id)` to its WHERE clause, so other
members' rows are never read, rather than read and filtered afterwards.
"""

from typing import Any

from sqlalchemy import ColumnElement, select, true

from graphql_api.models import Feedback, Member, Portfolio, Prediction, Recommendation

MemberScope = int | None  # None: unrestricted


def owned_by(model: type[Any], member_id: MemberScope) -> ColumnElement[bool]:
    if member_id is None:
        return true()
    if model is Member:
        return Member.id == member_id
    if model is Recommendation:
        return Recommendation.portfolio_id.in_(
            select(Portfolio.id).where(Portfolio.member_id == member_id)
        )
    if model is Feedback:
        return Feedback.prediction_id.in_(
            select(Prediction.id).where(Prediction.member_id == member_id)
        )
    member_column: ColumnElement[Any] | None = getattr(model, "member_id", None)
    if member_column is None:
        raise TypeError(f"no ownership rule for {model.__name__}")
    return member_column == member_id
