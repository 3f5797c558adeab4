"""Portfolio allocation: the built-in `allocation-rules-v1` model and validation of
recommendations that come from elsewhere (an advisor, another model).

Weights are Decimals with 4 places (basis points), stored as decimal strings in
recommendations.allocation; the built-in mixes are written in integer basis points so each
profile sums to exactly 1.
"""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from graphql_api.models.enums import RiskProfile

WEIGHT_PLACES = 4
WEIGHT_QUANTUM = Decimal(1).scaleb(-WEIGHT_PLACES)
MAX_ASSET_CLASS_LENGTH = 64
# Enough for any real portfolio; bounds the work done on hostile input.
MAX_LINES = 50
RULES_V1_MODEL = "allocation-rules-v1"

# Basis points per asset class (each profile sums to 10000). The same base mixes as the demo
# data, so live recommendations read like the seeded ones.
RULES_V1_MIXES: dict[RiskProfile, tuple[tuple[str, int], ...]] = {
    RiskProfile.CONSERVATIVE: (
        ("GOVERNMENT_BONDS", 4500),
        ("CORPORATE_BONDS", 2000),
        ("GLOBAL_EQUITIES", 2000),
        ("CASH", 1500),
    ),
    RiskProfile.BALANCED: (
        ("GLOBAL_EQUITIES", 5000),
        ("GOVERNMENT_BONDS", 2500),
        ("CORPORATE_BONDS", 1000),
        ("REAL_ESTATE", 1000),
        ("CASH", 500),
    ),
    RiskProfile.AGGRESSIVE: (
        ("GLOBAL_EQUITIES", 6500),
        ("EMERGING_MARKETS", 2000),
        ("REAL_ESTATE", 1000),
        ("CORPORATE_BONDS", 500),
    ),
}
RATIONALE_LEADS = {
    RiskProfile.CONSERVATIVE: "Capital preservation first, suited to a short horizon",
    RiskProfile.BALANCED: "A growth and income blend for a medium horizon",
    RiskProfile.AGGRESSIVE: "Growth-oriented for a long horizon that can ride out drawdowns",
}


class AllocationLine(NamedTuple):
    """One sleeve of a portfolio. A NamedTuple, so plain (asset_class, weight) pairs work too."""

    asset_class: str
    weight: Decimal


@dataclass(frozen=True, slots=True)
class AllocationRecommendation:
    """A model's allocation: lines whose weights sum to 1, why, and which model said so."""

    model_name: str
    lines: tuple[AllocationLine, ...]
    rationale: str

    def allocation_json(self) -> list[dict[str, str]]:
        """The recommendations.allocation form: [{"assetClass", "weight": "0.4500"}, ...]."""
        return [{"assetClass": line.asset_class, "weight": str(line.weight)} for line in self.lines]


class AllocationModel(Protocol):
    """Anything that recommends an allocation for a risk profile."""

    @property
    def name(self) -> str: ...

    def recommend(self, risk_profile: RiskProfile) -> AllocationRecommendation:
        """The allocation this model recommends for the profile."""
        ...


class AllocationValidationError(ValueError):
    """An allocation is not acceptable. `field` names the offending input, e.g.
    "lines[2].weight" or "lines" for whole-list problems; `index` is the line, if any."""

    def __init__(self, field: str, reason: str, index: int | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.index = index


def _weight_from_bps(basis_points: int) -> Decimal:
    return Decimal(basis_points).scaleb(-WEIGHT_PLACES).quantize(WEIGHT_QUANTUM)


def _rationale(profile: RiskProfile, lines: tuple[AllocationLine, ...]) -> str:
    top = max(lines, key=lambda line: line.weight)
    percent = (top.weight * 100).normalize()
    sleeve = top.asset_class.replace("_", " ").lower()
    return f"{RATIONALE_LEADS[profile]}; largest sleeve is {sleeve} at {percent:f}%."


@dataclass(frozen=True, slots=True)
class RulesV1AllocationModel:
    """`allocation-rules-v1`: a fixed mix per risk profile."""

    name: str = RULES_V1_MODEL

    def recommend(self, risk_profile: RiskProfile) -> AllocationRecommendation:
        """The fixed rules-v1 mix for the profile, validated to sum to exactly 1."""
        raw = [(asset, _weight_from_bps(bps)) for asset, bps in RULES_V1_MIXES[risk_profile]]
        lines = validate_allocation(raw, tolerance=Decimal(0))
        return AllocationRecommendation(self.name, lines, _rationale(risk_profile, lines))


def recommend_allocation(risk_profile: RiskProfile) -> AllocationRecommendation:
    """The built-in model's recommendation (allocation-rules-v1)."""
    return RulesV1AllocationModel().recommend(risk_profile)


def _asset_class(index: int, value: object) -> str:
    field = f"lines[{index}].asset_class"
    if not isinstance(value, str) or not value.strip():
        raise AllocationValidationError(field, "must be a non-empty string", index)
    name = value.strip()
    if len(name) > MAX_ASSET_CLASS_LENGTH:
        raise AllocationValidationError(
            field, f"must be at most {MAX_ASSET_CLASS_LENGTH} characters", index
        )
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise AllocationValidationError(field, "must not contain control characters", index)
    return name


def _weight(index: int, value: object) -> Decimal:
    field = f"lines[{index}].weight"
    # Floats are rejected outright: 0.1 is not one tenth, and the sum check would lie.
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise AllocationValidationError(field, "must be a Decimal (not a float)", index)
    weight = Decimal(value)
    if not weight.is_finite() or not 0 <= weight <= 1:
        raise AllocationValidationError(field, "must be between 0 and 1", index)
    exponent = weight.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -WEIGHT_PLACES:
        raise AllocationValidationError(
            field, f"must have at most {WEIGHT_PLACES} decimal places", index
        )
    return abs(weight).quantize(WEIGHT_QUANTUM)


def _split(index: int, line: Any) -> tuple[object, object]:
    try:
        asset_class, weight = line
    except (TypeError, ValueError):
        raise AllocationValidationError(
            f"lines[{index}]", "must be an (asset_class, weight) pair", index
        ) from None
    return asset_class, weight


def validate_allocation(
    lines: Iterable[AllocationLine | tuple[str, Decimal]],
    tolerance: Decimal = WEIGHT_QUANTUM,
) -> tuple[AllocationLine, ...]:
    """Check an allocation and return it normalised (names stripped, weights at 4 places).

    Rules: 1..MAX_LINES lines; asset classes non-empty, at most 64 characters, unique ignoring
    case; weights Decimal in [0, 1] with at most 4 places; |sum - 1| <= tolerance.
    Raises `AllocationValidationError` naming the first offending field.
    """
    if not isinstance(tolerance, Decimal) or not tolerance.is_finite() or tolerance < 0:
        raise AllocationValidationError("tolerance", "must be a finite Decimal >= 0")
    checked: list[AllocationLine] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if index >= MAX_LINES:
            raise AllocationValidationError("lines", f"must have at most {MAX_LINES} lines")
        raw_class, raw_weight = _split(index, line)
        asset_class = _asset_class(index, raw_class)
        if asset_class.casefold() in seen:
            raise AllocationValidationError(
                f"lines[{index}].asset_class", f"duplicate asset class {asset_class!r}", index
            )
        seen.add(asset_class.casefold())
        checked.append(AllocationLine(asset_class, _weight(index, raw_weight)))
    if not checked:
        raise AllocationValidationError("lines", "must not be empty")
    total = sum((line.weight for line in checked), Decimal(0))
    if abs(total - 1) > tolerance:
        raise AllocationValidationError("lines", f"weights sum to {total}, not 1 (± {tolerance})")
    return tuple(checked)
