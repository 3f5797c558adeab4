from decimal import Decimal

import pytest

from graphql_api.graph.scalars import parse_decimal, serialize_decimal


@pytest.mark.parametrize("text", ["0", "12500.00", "-3.5", "0.000001", "99999999999999999999.99"])
def test_plain_decimal_strings_parse_exactly(text: str) -> None:
    assert parse_decimal(text) == Decimal(text)
    assert serialize_decimal(parse_decimal(text)) == text


@pytest.mark.parametrize(
    "value",
    [12.5, 12, None, "NaN", "nan", "Infinity", "-Infinity", "1e5", "1E-2", "+1", " 1", "1.",
     ".5", "01", "1.0000001", "1,5", "0x10", "1_000", "١٢"],
)  # fmt: skip
def test_everything_else_is_rejected(value: object) -> None:
    with pytest.raises(ValueError, match=r"strings|plain decimal"):
        parse_decimal(value)


def test_serialization_never_uses_exponents() -> None:
    assert serialize_decimal(Decimal("0E-8")) == "0.00000000"
    assert serialize_decimal(Decimal("1E+3")) == "1000"
