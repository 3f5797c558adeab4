from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from graphql_api.models.base import Base, created_at_column, primary_key
from graphql_api.models.column_types import enum_column, finite_non_negative, finite_positive, money
from graphql_api.models.enums import LoanDecision

if TYPE_CHECKING:
    from graphql_api.models.member import Member


class LoanApplication(Base):
    """A loan application with the score and decision of the policy version that judged it."""

    __tablename__ = "loan_applications"
    __table_args__ = (
        finite_positive("amount", "amount_finite_positive"),
        finite_positive("income", "income_finite_positive"),
        finite_non_negative("risk_score", "risk_score_finite_non_negative"),
        CheckConstraint("employment_years BETWEEN 0 AND 80", name="employment_years_range"),
        Index(
            "ix_loan_applications_member_id_created_at",
            "member_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index("ix_loan_applications_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = primary_key()
    member_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("members.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(money())
    income: Mapped[Decimal] = mapped_column(money())
    employment_years: Mapped[int] = mapped_column(SmallInteger)
    risk_score: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    decision: Mapped[LoanDecision] = mapped_column(enum_column(LoanDecision, "loan_decision"))
    scoring_model_version: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = created_at_column()

    member: Mapped["Member"] = relationship(back_populates="loan_applications", lazy="raise")
