"""Column type helpers: exact money, bounded scores and enums stored as checked text."""

import enum
from typing import Any

from sqlalchemy import CheckConstraint, Enum, Numeric

MONEY_PRECISION = 16
MONEY_SCALE = 2


def money() -> Numeric[Any]:
    """Money: NUMERIC(16, 2), read back as Decimal; never float."""
    return Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)


def enum_column(enum_class: type[enum.Enum], name: str) -> Enum:
    """An enum stored as VARCHAR with a CHECK constraint (no native type: no OID cache issues)."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


def finite_non_negative(column: str, name: str) -> CheckConstraint:
    """NaN sorts above every number in PostgreSQL, so `>= 0` alone would let it through."""
    return CheckConstraint(f"{column} >= 0 AND {column} <> 'NaN'", name=name)


def finite_positive(column: str, name: str) -> CheckConstraint:
    return CheckConstraint(f"{column} > 0 AND {column} <> 'NaN'", name=name)
