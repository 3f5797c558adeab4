"""The allocation-rules-v1 model and validation of supplied allocations."""

from decimal import Decimal
from typing import Any

import pytest

from graphql_api.models.enums import RiskProfile
from graphql_api.portfolios.allocation import (
    RULES_V1_MODEL,
    AllocationLine,
    AllocationValidationError,
    recommend_allocation,
    validate_allocation,
)


@pytest.mark.parametrize("profile", list(RiskProfile))
def test_rules_v1_sums_to_exactly_one(profile: RiskProfile) -> None:
    recommendation = recommend_allocation(profile)
    assert recommendation.model_name == RULES_V1_MODEL == "allocation-rules-v1"
    assert sum(line.weight for line in recommendation.lines) == Decimal("1.0000")
    assert all(line.weight.as_tuple().exponent == -4 for line in recommendation.lines)
    assert len({line.asset_class for line in recommendation.lines}) == len(recommendation.lines)
    assert recommendation.rationale
    json_lines = recommendation.allocation_json()
    assert all(set(item) == {"assetClass", "weight"} for item in json_lines)
    assert sum(Decimal(item["weight"]) for item in json_lines) == 1


def test_profiles_differ_in_risk() -> None:
    def equities(profile: RiskProfile) -> Decimal:
        lines = recommend_allocation(profile).lines
        return sum((w for a, w in lines if "EQUITIES" in a or a == "EMERGING_MARKETS"), Decimal(0))

    assert (
        equities(RiskProfile.CONSERVATIVE)
        < equities(RiskProfile.BALANCED)
        < equities(RiskProfile.AGGRESSIVE)
    )
    conservative = recommend_allocation(RiskProfile.CONSERVATIVE)
    assert conservative.rationale.endswith("largest sleeve is government bonds at 45%.")


def test_valid_allocation_is_normalised() -> None:
    supplied = [
        (" CASH ", Decimal("0.5")),
        AllocationLine("BONDS", Decimal("0.25")),
        ("X", Decimal(0)),
        ("EQUITIES", Decimal("0.25")),
    ]
    lines = validate_allocation(supplied)
    assert lines == (
        AllocationLine("CASH", Decimal("0.5000")),
        AllocationLine("BONDS", Decimal("0.2500")),
        AllocationLine("X", Decimal("0.0000")),
        AllocationLine("EQUITIES", Decimal("0.2500")),
    )
    assert str(lines[0].weight) == "0.5000"


def test_sum_tolerance() -> None:
    near = [("A", Decimal("0.3333")), ("B", Decimal("0.3333")), ("C", Decimal("0.3333"))]
    assert len(validate_allocation(near)) == 3  # 0.9999 is within the default 0.0001
    with pytest.raises(AllocationValidationError, match=r"sum to 0\.9999") as caught:
        validate_allocation(near, tolerance=Decimal(0))
    assert caught.value.field == "lines"
    with pytest.raises(AllocationValidationError, match="sum"):
        validate_allocation([("A", Decimal("0.5")), ("B", Decimal("0.4998"))])
    with pytest.raises(AllocationValidationError, match="tolerance"):
        validate_allocation(near, tolerance=Decimal(-1))


@pytest.mark.parametrize(
    ("lines", "field", "index"),
    [
        ([], "lines", None),
        ([("", Decimal(1))], "lines[0].asset_class", 0),
        ([("   ", Decimal(1))], "lines[0].asset_class", 0),
        ([(None, Decimal(1))], "lines[0].asset_class", 0),
        ([("A", Decimal("0.5")), ("B" * 65, Decimal("0.5"))], "lines[1].asset_class", 1),
        ([("A", Decimal("0.5")), ("B\x00", Decimal("0.5"))], "lines[1].asset_class", 1),
        ([("A", Decimal("0.5")), ("a", Decimal("0.5"))], "lines[1].asset_class", 1),
        ([("A", Decimal("1.5")), ("B", Decimal("-0.5"))], "lines[0].weight", 0),
        ([("A", Decimal("0.5")), ("B", Decimal("-0.0001"))], "lines[1].weight", 1),
        ([("A", Decimal("0.5")), ("B", 0.5)], "lines[1].weight", 1),
        ([("A", Decimal("0.5")), ("B", True)], "lines[1].weight", 1),
        ([("A", Decimal("0.5")), ("B", "0.5")], "lines[1].weight", 1),
        ([("A", Decimal("NaN"))], "lines[0].weight", 0),
        ([("A", Decimal("0.50001")), ("B", Decimal("0.49999"))], "lines[0].weight", 0),
        ([("A", Decimal(1)), ("B",)], "lines[1]", 1),
        ([(f"A{i}", Decimal("0.0196")) for i in range(51)], "lines", None),
    ],
)
def test_invalid_allocations_name_the_field(
    lines: list[Any], field: str, index: int | None
) -> None:
    with pytest.raises(AllocationValidationError) as caught:
        validate_allocation(lines)
    assert caught.value.field == field
    assert caught.value.index == index
    assert str(caught.value).startswith(f"{field}: ")
    assert isinstance(caught.value, ValueError)
