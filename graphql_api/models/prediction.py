from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from graphql_api.models.base import Base, created_at_column, primary_key
from graphql_api.models.column_types import enum_column
from graphql_api.models.enums import Sentiment

if TYPE_CHECKING:
    from graphql_api.models.member import Member


class Prediction(Base):
    """A sentiment prediction over a member's message, tagged with the model version."""

    __tablename__ = "predictions"
    __table_args__ = (
        CheckConstraint("char_length(text) BETWEEN 1 AND 5000", name="text_length"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_unit_range"),
        Index(
            "ix_predictions_member_id_created_at",
            "member_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index("ix_predictions_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = primary_key()
    member_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("members.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    sentiment: Mapped[Sentiment] = mapped_column(enum_column(Sentiment, "sentiment"))
    # NUMERIC(5, 4): 0.0000 .. 1.0000. NaN fails the range check (NaN > 1 in PostgreSQL).
    confidence: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    model_version: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()

    member: Mapped["Member"] = relationship(back_populates="predictions", lazy="raise")
    feedback: Mapped[list["Feedback"]] = relationship(back_populates="prediction", lazy="raise")


class Feedback(Base):
    """A human's verdict on one prediction: was the model right?"""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("comment IS NULL OR char_length(comment) <= 2000", name="comment_length"),
        Index(
            "ix_feedback_prediction_id_created_at",
            "prediction_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
    )

    id: Mapped[int] = primary_key()
    prediction_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("predictions.id", ondelete="CASCADE")
    )
    is_correct: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    prediction: Mapped[Prediction] = relationship(back_populates="feedback", lazy="raise")
