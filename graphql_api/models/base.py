"""Declarative base shared by every model: naming convention, column types, timestamps."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, MetaData, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names keep Alembic revisions deterministic and reviewable.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
    }


def primary_key() -> Mapped[int]:
    """A BIGINT identity key; BY DEFAULT so bulk seeding can COPY pre-reserved ids."""
    return mapped_column(BigInteger, Identity(always=False), primary_key=True)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(server_default=func.now())


def updated_at_column() -> Mapped[datetime]:
    return mapped_column(server_default=func.now(), onupdate=func.now())
