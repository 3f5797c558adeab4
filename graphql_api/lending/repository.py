"""Loan application queries."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement

from graphql_api.kit.listing import Listing
from graphql_api.kit.pagination import newest_first
from graphql_api.members.repository import member_id_of
from graphql_api.models import LoanApplication, LoanDecision


@dataclass(frozen=True)
class LoanCriteria:
    decision: LoanDecision | None = None
    member_number: str | None = None


def loan_listing(criteria: LoanCriteria) -> Listing:
    conditions: list[ColumnElement[bool]] = []
    if criteria.decision is not None:
        conditions.append(LoanApplication.decision == criteria.decision)
    if criteria.member_number is not None:
        conditions.append(LoanApplication.member_id == member_id_of(criteria.member_number))
    return Listing(LoanApplication, newest_first(LoanApplication), tuple(conditions))
