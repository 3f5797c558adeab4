from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from graphql_api.models.base import Base, created_at_column, primary_key
from graphql_api.models.column_types import enum_column
from graphql_api.models.enums import Role


class ApiKey(Base):
    """An API key. Only a SHA-256 of the token is stored: tokens are 256-bit random strings,
    so a fast hash is safe, and the plain token is shown once at creation."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(
            "(role = 'MEMBER') = (member_id IS NOT NULL)", name="member_scope_iff_member_role"
        ),
        CheckConstraint("char_length(label) <= 200", name="label_length"),
    )

    id: Mapped[int] = primary_key()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "api_key_role"))
    member_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(200), server_default="")
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None]
