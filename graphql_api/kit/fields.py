"""Reusable pydantic field types for command inputs: the limits live in one place."""

from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

MemberNumber = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")
]
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# Money: positive, at most 2 decimal places, below a sanity ceiling far under NUMERIC(16, 2).
LoanAmount = Annotated[Decimal, Field(gt=0, le=Decimal("100000000.00"), decimal_places=2)]
AnnualIncome = Annotated[Decimal, Field(gt=0, le=Decimal("1000000000.00"), decimal_places=2)]
InvestmentAmount = Annotated[Decimal, Field(gt=0, le=Decimal("10000000000.00"), decimal_places=2)]
NoNulText = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
