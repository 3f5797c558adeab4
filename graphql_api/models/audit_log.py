from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from graphql_api.models.base import Base, created_at_column, primary_key

if TYPE_CHECKING:
    from graphql_api.models.member import Member


class AuditLog(Base):
    """One append-only record per state change: who did what, to which entity, in which request."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        Index(
            "ix_audit_logs_member_id_created_at",
            "member_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index("ix_audit_logs_created_at_id", "created_at", "id"),
        Index("ix_audit_logs_action_created_at", "action", "created_at"),
        Index("ix_audit_logs_request_id", "request_id"),
    )

    id: Mapped[int] = primary_key()
    request_id: Mapped[str] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    # RESTRICT: an audited member can never be deleted out from under its audit trail.
    member_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("members.id", ondelete="RESTRICT")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = created_at_column()

    member: Mapped["Member | None"] = relationship(back_populates="audit_logs", lazy="raise")
