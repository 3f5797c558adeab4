from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from graphql_api.models.base import Base, created_at_column


class IdempotencyKey(Base):
    """A claimed idempotency key: which request used it first and what it produced.

    The primary key makes concurrent claims of one key serialize in PostgreSQL: the second
    INSERT waits for the first transaction, then sees its committed result.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        PrimaryKeyConstraint("actor", "operation", "key", name="pk_idempotency_keys"),
        CheckConstraint("char_length(key) BETWEEN 1 AND 200", name="key_length"),
    )

    actor: Mapped[str] = mapped_column(String(200))
    operation: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    result_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = created_at_column()
