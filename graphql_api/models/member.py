from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from graphql_api.models.base import Base, created_at_column, primary_key, updated_at_column
from graphql_api.models.column_types import enum_column
from graphql_api.models.enums import MemberStatus

if TYPE_CHECKING:
    from graphql_api.models.audit_log import AuditLog
    from graphql_api.models.loan_application import LoanApplication
    from graphql_api.models.pension_account import PensionAccount
    from graphql_api.models.portfolio import Portfolio
    from graphql_api.models.prediction import Prediction


class Member(Base):
    """A pension fund member; `member_number` is the business key shared with the provider."""

    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("char_length(member_number) BETWEEN 1 AND 32", name="member_number_length"),
        CheckConstraint("char_length(full_name) BETWEEN 1 AND 200", name="full_name_length"),
        CheckConstraint("email IS NULL OR position('@' in email) > 1", name="email_has_at"),
        # Emails are unique regardless of case: Ann@x.org and ann@x.org are one person.
        Index("uq_members_lower_email", text("lower(email)"), unique=True),
        Index("ix_members_status_member_number", "status", "member_number"),
    )

    id: Mapped[int] = primary_key()
    member_number: Mapped[str] = mapped_column(String(32), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # Null until known: the pension provider's contract carries no email.
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[MemberStatus] = mapped_column(enum_column(MemberStatus, "member_status"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    pension_account: Mapped["PensionAccount | None"] = relationship(
        back_populates="member", lazy="raise"
    )
    portfolios: Mapped[list["Portfolio"]] = relationship(back_populates="member", lazy="raise")
    loan_applications: Mapped[list["LoanApplication"]] = relationship(
        back_populates="member", lazy="raise"
    )
    predictions: Mapped[list["Prediction"]] = relationship(back_populates="member", lazy="raise")
    audit_logs: Mapped[list["AuditLog"]] = relationship(back_populates="member", lazy="raise")
