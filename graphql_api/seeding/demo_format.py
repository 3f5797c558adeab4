"""The shape of data/demo.json, validated on load. Money, scores and weights must be decimal
strings: a JSON number would be parsed as a float and could silently lose cents."""

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from graphql_api.models.enums import (
    LoanDecision,
    MemberStatus,
    PortfolioStatus,
    RiskProfile,
    Sentiment,
)
from graphql_api.runtime.paths import data_dir

DEMO_FILE = "demo.json"


def _decimal_string(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError('must be a decimal string such as "125430.55", not a JSON number')
    return value


DecimalText = Annotated[Decimal, BeforeValidator(_decimal_string)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AllocationItem(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    asset_class: str = Field(alias="assetClass", min_length=1)
    weight: DecimalText = Field(ge=0, le=1)


class DemoRecommendation(_Strict):
    model_name: str
    rationale: str | None
    created_at: AwareDatetime
    allocation: list[AllocationItem] = Field(min_length=1)


class DemoPortfolio(_Strict):
    risk_profile: RiskProfile
    amount_usd: DecimalText = Field(gt=0)
    status: PortfolioStatus
    created_at: AwareDatetime
    recommendations: list[DemoRecommendation] = []


class DemoLoan(_Strict):
    amount: DecimalText = Field(gt=0)
    income: DecimalText = Field(gt=0)
    employment_years: int = Field(ge=0, le=80)
    risk_score: DecimalText = Field(ge=0)
    decision: LoanDecision
    scoring_model_version: str
    created_at: AwareDatetime


class DemoFeedback(_Strict):
    is_correct: bool
    comment: str | None = Field(default=None, max_length=2000)
    created_at: AwareDatetime


class DemoPrediction(_Strict):
    text: str = Field(min_length=1, max_length=5000)
    sentiment: Sentiment
    confidence: DecimalText = Field(ge=0, le=1)
    model_version: str
    created_at: AwareDatetime
    feedback: list[DemoFeedback] = []


class DemoPensionAccount(_Strict):
    contribution_balance: DecimalText = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    last_synced_at: AwareDatetime | None
    created_at: AwareDatetime


class DemoAudit(_Strict):
    """`entity` points into the same member's record ("member", "pension_account",
    "loan_applications/0", "portfolios/1/recommendations/0", "predictions/2/feedback/0"): the
    loader swaps it for the id the database assigned."""

    action: str
    entity: str
    request_id: str
    created_at: AwareDatetime
    payload: dict[str, Any] = {}


class DemoMember(_Strict):
    member_number: str = Field(min_length=1, max_length=32)
    full_name: str = Field(min_length=1, max_length=200)
    email: str = Field(pattern=r"^[^@]+@[^@]+$")
    status: MemberStatus
    created_at: AwareDatetime
    pension_account: DemoPensionAccount
    portfolios: list[DemoPortfolio] = []
    loan_applications: list[DemoLoan] = []
    predictions: list[DemoPrediction] = []
    audit_logs: list[DemoAudit] = []


class DemoData(_Strict):
    format: Literal[1]
    description: str
    actor: str
    members: list[DemoMember]


def demo_path() -> Path:
    return data_dir() / DEMO_FILE


def read_demo(path: Path | None = None) -> DemoData:
    return DemoData.model_validate_json((path or demo_path()).read_bytes())
