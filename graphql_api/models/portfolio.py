from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from graphql_api.models.base import Base, created_at_column, primary_key, updated_at_column
from graphql_api.models.column_types import enum_column, finite_positive, money
from graphql_api.models.enums import PortfolioStatus, RiskProfile

if TYPE_CHECKING:
    from graphql_api.models.member import Member


class Portfolio(Base):
    """A member's request for an investment portfolio of a given size and risk profile."""

    __tablename__ = "portfolios"
    __table_args__ = (
        finite_positive("amount_usd", "amount_usd_finite_positive"),
        Index(
            "ix_portfolios_member_id_created_at",
            "member_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
    )

    id: Mapped[int] = primary_key()
    member_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("members.id", ondelete="CASCADE"))
    risk_profile: Mapped[RiskProfile] = mapped_column(enum_column(RiskProfile, "risk_profile"))
    amount_usd: Mapped[Decimal] = mapped_column(money())
    status: Mapped[PortfolioStatus] = mapped_column(
        enum_column(PortfolioStatus, "portfolio_status")
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    member: Mapped["Member"] = relationship(back_populates="portfolios", lazy="raise")
    recommendations: Mapped[list["Recommendation"]] = relationship(
        back_populates="portfolio", lazy="raise"
    )


class Recommendation(Base):
    """A model's allocation for a portfolio. `allocation` is a JSON array of
    {"assetClass", "weight"} objects; weights are decimal strings so they stay exact."""

    __tablename__ = "recommendations"
    __table_args__ = (
        CheckConstraint("jsonb_typeof(allocation) = 'array'", name="allocation_is_array"),
        Index(
            "ix_recommendations_portfolio_id_created_at",
            "portfolio_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
    )

    id: Mapped[int] = primary_key()
    portfolio_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("portfolios.id", ondelete="CASCADE")
    )
    allocation: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    model_name: Mapped[str] = mapped_column(String(100))
    rationale: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    portfolio: Mapped[Portfolio] = relationship(back_populates="recommendations", lazy="raise")
