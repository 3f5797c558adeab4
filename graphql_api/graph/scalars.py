"""Strict scalars. Exact numbers travel as strings so no client ever rounds money through
a float; inputs that are not plain decimal strings are rejected before any resolver runs."""

import dataclasses
import re
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLError, StringValueNode, ValueNode
from strawberry.schema.types.base_scalars import DateTimeDefinition

from graphql_api.kit.formats import datetime_text, decimal_text

# Plain decimal notation only: no exponent, no NaN/Infinity, no leading '+', no spaces.
_DECIMAL_TEXT = re.compile(r"-?(0|[1-9][0-9]{0,19})(\.[0-9]{1,6})?")
MAX_DECIMAL_PLACES = 6  # the widest scale of any NUMERIC column; fields narrow it further


def serialize_decimal(value: Decimal) -> str:
    # The one Decimal text format; kit/formats.py pairs it with its SQL form.
    return decimal_text(value)


def parse_decimal(value: object) -> Decimal:
    if not isinstance(value, str):
        raise ValueError('Decimal values must be strings in plain notation, such as "12500.00".')
    if not _DECIMAL_TEXT.fullmatch(value):
        raise ValueError(
            f"{value[:40]!r} is not a plain decimal: use digits with an optional '-' and at"
            f" most {MAX_DECIMAL_PLACES} decimal places (no exponent, NaN or Infinity)."
        )
    return Decimal(value)


def parse_decimal_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> Decimal:
    """Literals in the document: a GraphQLError (not a bare ValueError) is what graphql-core
    reports as a validation error instead of treating it as an unexpected failure."""
    try:
        if not isinstance(node, StringValueNode):
            return parse_decimal(None)
        return parse_decimal(node.value)
    except ValueError as error:
        raise GraphQLError(str(error)) from None


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description=(
        "An exact decimal number, serialized as a string in plain notation (e.g. "
        '"12500.00"). Inputs must be strings; exponents, NaN and Infinity are rejected.'
    ),
    serialize=serialize_decimal,
    parse_value=parse_decimal,
    parse_literal=parse_decimal_literal,
)

# strawberry's own DateTime (same name, description and input parsing), printed by the one
# DateTime format in kit/formats.py: UTC isoformat, naive values refused.
DateTimeScalar = dataclasses.replace(
    DateTimeDefinition, serialize=datetime_text, implementation=None
)
