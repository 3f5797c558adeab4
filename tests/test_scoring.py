"""The rules-v1 loan scoring policy and the policy registry."""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest

from graphql_api.lending.scoring import (
    DEFAULT_POLICY_VERSION,
    MAX_SCORE,
    LoanInput,
    LoanScore,
    RulesV1Policy,
    ScoringInputError,
    ScoringPolicy,
    UnknownPolicyError,
    available_policies,
    get_policy,
    register_policy,
    round_half_up,
    score_loan,
)
from graphql_api.models.enums import LoanDecision


def loan(amount: str, income: str, years: int) -> LoanInput:
    return LoanInput(amount=Decimal(amount), income=Decimal(income), employment_years=years)


def test_seed_example() -> None:
    version, result = score_loan(loan("5000", "90000", 6))
    assert version == "rules-v1"
    assert result == LoanScore(Decimal("1830.00"), LoanDecision.APPROVED)
    assert result.risk_score.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("amount", "income", "years", "score", "decision"),
    [
        ("1000", "800", 0, "80.00", LoanDecision.APPROVED),  # exactly 80
        ("1000", "750", 1, "80.00", LoanDecision.APPROVED),  # 75 + 5
        ("1000", "799.90", 0, "79.99", LoanDecision.REVIEW),  # just below
        ("1000", "799.99", 0, "80.00", LoanDecision.APPROVED),  # 79.999 rounds up to 80.00
        ("100000", "1", 0, "0.00", LoanDecision.REVIEW),  # 0.001 rounds down
    ],
)
def test_threshold_at_80(amount: str, income: str, years: int, score: str, decision: str) -> None:
    result = get_policy().score(loan(amount, income, years))
    assert result.risk_score == Decimal(score)
    assert result.decision == decision


def test_rounding_is_half_up_not_bankers() -> None:
    # 81 / 800 * 100 = 10.125 exactly: half-up gives 10.13, banker's rounding would give 10.12.
    assert get_policy().score(loan("800", "81", 0)).risk_score == Decimal("10.13")
    # 83 / 800 * 100 = 10.375 -> 10.38 either way; 1 / 3 * 100 = 33.333... -> 33.33.
    assert get_policy().score(loan("800", "83", 0)).risk_score == Decimal("10.38")
    assert get_policy().score(loan("3", "1", 0)).risk_score == Decimal("33.33")
    # 2 / 3 * 100 = 66.666... -> 66.67
    assert get_policy().score(loan("3", "2", 0)).risk_score == Decimal("66.67")


def test_round_half_up_is_exact() -> None:
    assert round_half_up(Fraction(1, 200)) == Decimal("0.01")  # 0.005
    assert round_half_up(Fraction(1, 200) - Fraction(1, 10**30)) == Decimal("0.00")
    with pytest.raises(ValueError, match="non-negative"):
        round_half_up(Fraction(-1, 2))


@pytest.mark.parametrize(
    ("amount", "income", "years", "message"),
    [
        ("0", "1000", 1, "amount"),
        ("-5", "1000", 1, "amount"),
        ("NaN", "1000", 1, "amount"),
        ("Infinity", "1000", 1, "amount"),
        ("1000", "0", 1, "income"),
        ("1000", "-1", 1, "income"),
        ("1000", "1000", -1, "employment_years"),
        ("1000", "1000", 81, "employment_years"),
        ("0.01", "99999999999999.99", 0, "exceeds"),
    ],
)
def test_invalid_inputs_are_rejected(amount: str, income: str, years: int, message: str) -> None:
    with pytest.raises(ScoringInputError, match=message):
        get_policy().score(loan(amount, income, years))


def test_bool_years_and_float_money_are_rejected() -> None:
    with pytest.raises(ScoringInputError, match="employment_years"):
        get_policy().score(LoanInput(Decimal(1), Decimal(1), True))
    with pytest.raises(ScoringInputError, match="amount"):
        get_policy().score(LoanInput(1000.0, Decimal(1), 1))  # type: ignore[arg-type]


def test_largest_storable_score_is_accepted() -> None:
    # income / amount * 100 = 9_999_999_999.99 exactly: the NUMERIC(12, 2) maximum.
    result = get_policy().score(loan("100", "9999999999.99", 0))
    assert result.risk_score == MAX_SCORE == Decimal("9999999999.99")


def test_registry() -> None:
    assert DEFAULT_POLICY_VERSION == "rules-v1"
    assert "rules-v1" in available_policies()
    assert get_policy("rules-v1") is get_policy()
    assert isinstance(get_policy(), ScoringPolicy)
    with pytest.raises(UnknownPolicyError, match="rules-v9"):
        get_policy("rules-v9")
    with pytest.raises(ValueError, match="already registered"):
        register_policy(RulesV1Policy())


@dataclass(frozen=True)
class _AlwaysReview:
    version: str = "test-always-review"

    def score(self, loan: LoanInput) -> LoanScore:
        return LoanScore(Decimal("0.00"), LoanDecision.REVIEW)


def test_a_new_policy_needs_no_caller_change() -> None:
    register_policy(_AlwaysReview())
    version, result = score_loan(loan("5000", "90000", 6), "test-always-review")
    assert (version, result.decision) == ("test-always-review", LoanDecision.REVIEW)
