"""Loan scoring policies: named, versioned, pure functions of the application (no I/O).

Callers ask the registry for a policy by version (`get_policy("rules-v1")`, or `get_policy()`
for the default) and store `policy.version` beside the score, so a new policy is one class plus
one `register_policy` call; callers never change.

Rounding: scores are rounded to 2 places with ROUND_HALF_UP (0.005 -> 0.01), the rule people
expect on paper, rather than Decimal's default banker's rounding. The division is done on exact
fractions and rounded once, so there is no double-rounding error however long the quotient.
"""

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Protocol, runtime_checkable

from graphql_api.models.enums import LoanDecision

# loan_applications.risk_score is NUMERIC(12, 2): |score| must stay below 10^10.
SCORE_PRECISION = 12
SCORE_SCALE = 2
MAX_SCORE = Decimal(10) ** (SCORE_PRECISION - SCORE_SCALE) - Decimal("0.01")
# Same range as the employment_years check constraint.
MAX_EMPLOYMENT_YEARS = 80
DEFAULT_POLICY_VERSION = "rules-v1"


class ScoringInputError(ValueError):
    """The application cannot be scored: a non-positive or non-finite amount or income,
    employment years out of range, or a score too large to store."""


class UnknownPolicyError(LookupError):
    """No scoring policy is registered under the requested version."""


@dataclass(frozen=True, slots=True)
class LoanInput:
    """What a policy sees of a loan application."""

    amount: Decimal
    income: Decimal
    employment_years: int


@dataclass(frozen=True, slots=True)
class LoanScore:
    """A policy's verdict: a score that fits NUMERIC(12, 2) and a decision."""

    risk_score: Decimal
    decision: LoanDecision


@runtime_checkable
class ScoringPolicy(Protocol):
    """A named, versioned scoring rule set. `version` is what gets stored with the score."""

    @property
    def version(self) -> str: ...

    def score(self, loan: LoanInput) -> LoanScore:
        """Score one application; raise `ScoringInputError` if it cannot be scored."""
        ...


def _positive_money(name: str, value: Decimal) -> Fraction:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ScoringInputError(f"{name} must be a finite Decimal greater than 0")
    return Fraction(value)


def _employment_years(value: int) -> int:
    # bool is an int subclass; True years is a bug, not one year.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScoringInputError("employment_years must be an integer")
    if not 0 <= value <= MAX_EMPLOYMENT_YEARS:
        raise ScoringInputError(f"employment_years must be between 0 and {MAX_EMPLOYMENT_YEARS}")
    return value


def round_half_up(value: Fraction, places: int = SCORE_SCALE) -> Decimal:
    """Round an exact non-negative fraction to `places` decimals, halves away from zero."""
    if value < 0:
        raise ValueError("round_half_up expects a non-negative value")
    scaled = value * 10**places
    return Decimal(math.floor(scaled + Fraction(1, 2))).scaleb(-places)


def _fit_score(score: Decimal) -> Decimal:
    # Reject rather than cap: a capped score would be stored as if it were the real one. Such
    # scores need income above ~10^8 times the amount: a data-entry error, not a customer.
    if score > MAX_SCORE:
        raise ScoringInputError(
            f"risk score exceeds {MAX_SCORE} (NUMERIC({SCORE_PRECISION},{SCORE_SCALE})); "
            "income and amount are implausible"
        )
    return score


@dataclass(frozen=True, slots=True)
class RulesV1Policy:
    """`rules-v1`: score = round(income / amount * 100 + employment_years * 5, 2);
    APPROVED when score >= 80, otherwise REVIEW (this version never declines).

    The decision compares the rounded score, the one that is stored, so a stored score and its
    decision never disagree (79.999 rounds to 80.00 and is approved).
    """

    version: str = "rules-v1"
    approve_at: Decimal = Decimal(80)

    def score(self, loan: LoanInput) -> LoanScore:
        """Score one application with the rules-v1 formula."""
        amount = _positive_money("amount", loan.amount)
        income = _positive_money("income", loan.income)
        years = _employment_years(loan.employment_years)
        risk_score = _fit_score(round_half_up(income / amount * 100 + years * 5))
        decision = LoanDecision.APPROVED if risk_score >= self.approve_at else LoanDecision.REVIEW
        return LoanScore(risk_score=risk_score, decision=decision)


_REGISTRY: dict[str, ScoringPolicy] = {}


def register_policy(policy: ScoringPolicy) -> None:
    """Make a policy available by its version. Versions are immutable: re-registering one
    is an error, because stored scores refer to it."""
    if not policy.version or len(policy.version) > 50:
        raise ValueError("policy version must be 1-50 characters (scoring_model_version)")
    if policy.version in _REGISTRY:
        raise ValueError(f"scoring policy {policy.version!r} is already registered")
    _REGISTRY[policy.version] = policy


def get_policy(version: str | None = None) -> ScoringPolicy:
    """The policy registered under `version`, or the default policy when it is None."""
    key = DEFAULT_POLICY_VERSION if version is None else version
    try:
        return _REGISTRY[key]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownPolicyError(
            f"unknown scoring policy {key!r}; known policies: {known}"
        ) from None


def available_policies() -> tuple[str, ...]:
    """Versions of every registered policy, sorted."""
    return tuple(sorted(_REGISTRY))


def score_loan(loan: LoanInput, version: str | None = None) -> tuple[str, LoanScore]:
    """Score with the named (or default) policy; returns (policy version, score) to store."""
    policy = get_policy(version)
    return policy.version, policy.score(loan)


register_policy(RulesV1Policy())
