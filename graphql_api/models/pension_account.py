from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from graphql_api.models.base import Base, created_at_column, primary_key, updated_at_column
from graphql_api.models.column_types import finite_non_negative, money

if TYPE_CHECKING:
    from graphql_api.models.member import Member


class PensionAccount(Base):
    """One pension account per member, mirrored from the upstream pension provider."""

    __tablename__ = "pension_accounts"
    __table_args__ = (
        finite_non_negative("contribution_balance", "contribution_balance_finite_non_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso_4217"),
    )

    id: Mapped[int] = primary_key()
    member_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("members.id", ondelete="CASCADE"), unique=True
    )
    contribution_balance: Mapped[Decimal] = mapped_column(money())
    currency: Mapped[str] = mapped_column(String(3), server_default="USD")
    last_synced_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    member: Mapped["Member"] = relationship(back_populates="pension_account", lazy="raise")
