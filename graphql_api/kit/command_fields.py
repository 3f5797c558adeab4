"""Reusable pydantic field types for command inputs: the limits live in one place."""

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from graphql_api.kit.text import MAX_BIGINT, storable

MemberNumber = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")
]
# Money: positive, at most 2 decimal places, below a sanity ceiling far under NUMERIC(16, 2).
LoanAmount = Annotated[Decimal, Field(gt=0, le=Decimal("100000000.00"), decimal_places=2)]
AnnualIncome = Annotated[Decimal, Field(gt=0, le=Decimal("1000000000.00"), decimal_places=2)]
InvestmentAmount = Annotated[Decimal, Field(gt=0, le=Decimal("10000000000.00"), decimal_places=2)]
NoNulText = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


def _no_nul(value: str) -> str:
    if not storable(value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    return value


IdempotencyKey = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(_no_nul)
]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# Names of models or agents ("allocation-rules-v1"): recommendations.model_name is VARCHAR(100).
ModelName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    AfterValidator(_not_blank),
    AfterValidator(_no_nul),
]
# Free text from people or models: bounded, and no NUL (PostgreSQL text cannot hold it).
Rationale = Annotated[str, StringConstraints(max_length=4000), AfterValidator(_no_nul)]
FeedbackComment = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_no_nul)]
# Database ids: positive and within BIGINT, so any other id is simply not found.
RowId = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
