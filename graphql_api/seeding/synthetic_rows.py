"""Row generation for synthetic members, pure Python and no I/O.

Each member draws from its own Random(seed, number), so member S-0000042 is the same whether it
was seeded in a run of 100 or of 100,000. Rows are built as lists whose id and parent columns
hold batch-local indexes; `Batch.assign_ids` swaps in the ids reserved from the database.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from random import Random
from typing import Any

from graphql_api.models.enums import LoanDecision, MemberStatus, PortfolioStatus, RiskProfile
from graphql_api.seeding import catalog
from graphql_api.seeding.sentiment import classified_messages

START = datetime(2024, 1, 1, tzinfo=UTC)
JOIN_SECONDS = int((datetime(2026, 6, 30, tzinfo=UTC) - START).total_seconds())
END_SECONDS = int((datetime(2026, 11, 14, tzinfo=UTC) - START).total_seconds())
ADVISOR_SINCE = int((datetime(2026, 10, 1, tzinfo=UTC) - START).total_seconds())
DAY = 86_400

STATUSES = tuple(MemberStatus)
STATUS_WEIGHTS = (60, 15, 15, 5, 5)  # ACTIVE, DEFERRED, RETIRED, SUSPENDED, CLOSED
PROFILES = tuple(RiskProfile)
CURRENCIES = ("USD",) * 18 + ("EUR", "GBP")
COUNTS = (0, 1, 1, 1, 2, 3)  # portfolios, loans, predictions per member: 0-3, mostly 1
# Manual underwriters decline some applications the rules sent to review.
DECLINE_SHARE_OF_REVIEW = 0.15
FEEDBACK_SHARE = 0.35

# Table name -> COPY columns; the first column is the reserved id (none for audit_logs).
COLUMNS: dict[str, tuple[str, ...]] = {
    "members": ("id", "member_number", "full_name", "email", "status", "created_at", "updated_at"),
    "pension_accounts": (
        "id", "member_id", "contribution_balance", "currency", "last_synced_at", "created_at",
        "updated_at",
    ),
    "portfolios": (
        "id", "member_id", "risk_profile", "amount_usd", "status", "created_at", "updated_at",
    ),
    "recommendations": (
        "id", "portfolio_id", "allocation", "model_name", "rationale", "created_at",
    ),
    "loan_applications": (
        "id", "member_id", "amount", "income", "employment_years", "risk_score", "decision",
        "scoring_model_version", "created_at",
    ),
    "predictions": (
        "id", "member_id", "text", "sentiment", "confidence", "model_version", "created_at",
    ),
    "feedback": ("id", "prediction_id", "is_correct", "comment", "created_at"),
    "audit_logs": (
        "request_id", "actor", "action", "entity_type", "entity_id", "member_id", "payload",
        "created_at",
    ),
}  # fmt: skip
# Parent table of each child's column 1 (a batch-local index until ids are assigned).
PARENTS = {
    "pension_accounts": "members",
    "portfolios": "members",
    "recommendations": "portfolios",
    "loan_applications": "members",
    "predictions": "members",
    "feedback": "predictions",
}
ENTITY_TYPES = {
    "members": "Member",
    "pension_accounts": "PensionAccount",
    "portfolios": "Portfolio",
    "recommendations": "Recommendation",
    "loan_applications": "LoanApplication",
    "predictions": "Prediction",
    "feedback": "Feedback",
}
TABLE_OF_TYPE = {entity_type: table for table, entity_type in ENTITY_TYPES.items()}


def member_number(number: int) -> str:
    return f"S-{number:07d}"


def _at(seconds: int) -> datetime:
    return START + timedelta(seconds=seconds)


def _after(rng: Random, moment: int, within_days: int) -> int:
    """A moment 1 minute to `within_days` after `moment`, not past the end of the data."""
    latest = min(moment + within_days * DAY, END_SECONDS)
    return moment + rng.randrange(60, max(latest - moment, 120))


@cache
def _allocations() -> dict[RiskProfile, tuple[tuple[str, str], ...]]:
    """A few fixed variants per profile as (allocation JSON, rationale): built once, reused."""
    variants: dict[RiskProfile, tuple[tuple[str, str], ...]] = {}
    for profile in PROFILES:
        rng = Random(profile.value)
        mixes = [catalog.allocation(rng, profile) for _ in range(12)]
        variants[profile] = tuple(
            (json.dumps(mix), catalog.rationale(profile, mix)) for mix in mixes
        )
    return variants


@dataclass
class Batch:
    rows: dict[str, list[list[Any]]] = field(default_factory=lambda: {t: [] for t in COLUMNS})

    def add(self, table: str, row: list[Any]) -> int:
        """Append a row with a placeholder id; return its batch-local index."""
        rows = self.rows[table]
        rows.append(row)
        return len(rows) - 1

    def audit(
        self,
        rng: Random,
        member: int,
        action: str,
        table: str,
        index: int,
        payload: dict[str, Any],
        moment: datetime,
    ) -> None:
        request_id = f"req-{rng.getrandbits(48):012x}"
        self.rows["audit_logs"].append(
            [
                request_id,
                catalog.SEED_ACTOR_SYNTHETIC,
                action,
                ENTITY_TYPES[table],
                index,
                member,
                json.dumps(payload),
                moment,
            ]
        )

    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.rows.items()}

    def assign_ids(self, ids: dict[str, list[int]]) -> None:
        """Replace batch-local indexes with reserved database ids, in place."""
        for table, rows in self.rows.items():
            parent = ids.get(PARENTS.get(table, ""))
            own = ids.get(table)
            for index, row in enumerate(rows):
                if own is not None:
                    row[0] = own[index]
                if parent is not None:
                    row[1] = parent[row[1]]
        member_ids = ids["members"]
        for row in self.rows["audit_logs"]:
            row[4] = str(ids[TABLE_OF_TYPE[row[3]]][row[4]])
            row[5] = member_ids[row[5]]


def build_batch(numbers: list[int], seed: int) -> Batch:
    batch = Batch()
    for number in numbers:
        _add_member(batch, Random((seed << 32) | number), number)
    return batch


def _add_member(batch: Batch, rng: Random, number: int) -> None:
    first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
    status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
    joined = rng.randrange(JOIN_SECONDS)
    created = _at(joined)
    # The member number in the address keeps emails unique, whatever the names.
    email = f"{first}.{last}.s{number:07d}@example.org".lower()
    member = batch.add(
        "members",
        [None, member_number(number), f"{first} {last}", email, status.value, created, created],
    )
    batch.audit(rng, member, "member.created", "members", member, {"status": status.value}, created)
    _add_pension(batch, rng, member, status, joined)
    for _ in range(rng.choice(COUNTS)):
        _add_portfolio(batch, rng, member, joined)
    moment = joined
    for _ in range(rng.choice(COUNTS)):
        moment = _after(rng, moment, 300)
        _add_loan(batch, rng, member, moment)
    moment = joined
    for _ in range(rng.choice(COUNTS)):
        moment = _after(rng, moment, 300)
        _add_prediction(batch, rng, member, moment)


def _add_pension(batch: Batch, rng: Random, member: int, status: MemberStatus, joined: int) -> None:
    opened = joined + rng.randrange(60, 1800)
    balance = catalog.cents(0 if status is MemberStatus.CLOSED else rng.randrange(900_000_00))
    currency = rng.choice(CURRENCIES)
    synced = _at(_after(rng, opened, 60 if status is MemberStatus.CLOSED else 900))
    index = batch.add(
        "pension_accounts", [None, member, balance, currency, synced, _at(opened), synced]
    )
    payload = {"contributionBalance": str(balance), "currency": currency}
    batch.audit(rng, member, "member.synced", "pension_accounts", index, payload, synced)


def _add_portfolio(batch: Batch, rng: Random, member: int, joined: int) -> None:
    profile = rng.choice(PROFILES)
    amount = catalog.cents(rng.randrange(1_000, 750_000) * 100)
    requested = _after(rng, joined, 600)
    recommended = rng.random() < 0.7
    status = PortfolioStatus.RECOMMENDED if recommended else PortfolioStatus.QUEUED
    at = _at(requested)
    row: list[Any] = [None, member, profile.value, amount, status.value, at, at]
    index = batch.add("portfolios", row)
    payload = {"riskProfile": profile.value, "amountUsd": str(amount)}
    batch.audit(rng, member, "portfolio.requested", "portfolios", index, payload, at)
    moment = requested
    for _ in range(rng.choice((1, 1, 2)) if recommended else 0):
        moment = _after(rng, moment, 3)
        allocation, rationale = rng.choice(_allocations()[profile])
        # The advisor model only exists since 2026-10; half of the later requests use it.
        advisor = moment >= ADVISOR_SINCE and rng.random() < 0.5
        model = catalog.ADVISOR_MODEL if advisor else catalog.RULES_MODEL
        at = _at(moment)
        rec = batch.add("recommendations", [None, index, allocation, model, rationale, at])
        batch.audit(
            rng, member, "recommendation.recorded", "recommendations", rec, {"modelName": model}, at
        )
        row[6] = at  # the portfolio was last touched by its latest recommendation


def _add_loan(batch: Batch, rng: Random, member: int, moment: int) -> None:
    income_cents = rng.randrange(18_000_00, 250_000_00)
    # Loan-to-income from 5% to 5x, in whole $250 steps, at least $1,000.
    amount_cents = max(income_cents * rng.randrange(50, 5000) // 1000 // 25_000, 4) * 25_000
    years = rng.randrange(0, 36)
    score = catalog.risk_score(income_cents, amount_cents, years)
    decision, version = catalog.rule_decision(score), catalog.RULES_VERSION
    if decision is LoanDecision.REVIEW and rng.random() < DECLINE_SHARE_OF_REVIEW:
        decision, version = LoanDecision.DECLINED, catalog.MANUAL_VERSION
    amount, at = catalog.cents(amount_cents), _at(moment)
    row = [
        None,
        member,
        amount,
        catalog.cents(income_cents),
        years,
        score,
        decision.value,
        version,
        at,
    ]
    index = batch.add("loan_applications", row)
    payload = {"amount": str(amount), "riskScore": str(score), "decision": decision.value}
    batch.audit(rng, member, "loan.applied", "loan_applications", index, payload, at)


def _add_prediction(batch: Batch, rng: Random, member: int, moment: int) -> None:
    text, sentiment, confidence, human = rng.choice(classified_messages())
    at = _at(moment)
    row = [None, member, text, sentiment.value, confidence, catalog.SENTIMENT_MODEL_VERSION, at]
    index = batch.add("predictions", row)
    payload = {"sentiment": sentiment.value, "confidence": str(confidence)}
    batch.audit(rng, member, "prediction.created", "predictions", index, payload, at)
    if rng.random() < FEEDBACK_SHARE:
        correct = sentiment is human
        comment = (
            None if correct else f"Reads as {human.value.lower()}, not {sentiment.value.lower()}."
        )
        reviewed = _at(_after(rng, moment, 14))
        verdict = batch.add("feedback", [None, index, correct, comment, reviewed])
        batch.audit(
            rng, member, "feedback.submitted", "feedback", verdict, {"isCorrect": correct}, reviewed
        )
