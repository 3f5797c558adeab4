"""Regenerates data/demo.json deterministically: `python -m graphql_api.seeding.make_demo_data`.

The output is committed; rerunning with an unchanged script must produce the same bytes.
"""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

from graphql_api.models.enums import LoanDecision, MemberStatus, PortfolioStatus, RiskProfile
from graphql_api.seeding import catalog
from graphql_api.seeding.demo_audit import audit_entries
from graphql_api.seeding.demo_format import DemoData, demo_path
from graphql_api.seeding.sentiment import classified_messages

SEED = 20261121
START = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
LAST_JOIN = datetime(2025, 12, 31, tzinfo=UTC)
END = datetime(2026, 11, 14, 18, 0, tzinfo=UTC)
ADVISOR_SINCE = datetime(2026, 10, 1, tzinfo=UTC)  # the advisor model is dated 2026-10
# Flat records (a loan, an audit entry) stay on one line even when long: one record per line
# reads and diffs best; anything holding a list is laid out over several lines.
WIDTH, RECORD_WIDTH = 100, 250

STATUS_PLAN = (
    [MemberStatus.ACTIVE] * 24
    + [MemberStatus.DEFERRED] * 8
    + [MemberStatus.RETIRED] * 8
    + [MemberStatus.SUSPENDED] * 5
    + [MemberStatus.CLOSED] * 5
)
# The decision on each member's latest loan; None = no loans (lending needs more data).
LOAN_PLAN: list[LoanDecision | None] = (
    [None] * 12 + [LoanDecision.APPROVED] * 17 + [LoanDecision.REVIEW] * 16
) + [LoanDecision.DECLINED] * 5
BALANCE_CENTS = {
    MemberStatus.ACTIVE: (500_000, 40_000_000),
    MemberStatus.DEFERRED: (1_000_000, 25_000_000),
    MemberStatus.RETIRED: (15_000_000, 90_000_000),
    MemberStatus.SUSPENDED: (200_000, 12_000_000),
    MemberStatus.CLOSED: (0, 1),  # transferred out: nothing left
}


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def later(rng: Random, after: datetime, within_days: int = 240) -> datetime:
    """A moment strictly after `after`, no later than END (children follow their parent)."""
    latest = min(after + timedelta(days=within_days), END)
    span = max(int((latest - after).total_seconds()), 120)
    return after + timedelta(seconds=rng.randrange(60, span))


def last_sync(rng: Random, status: MemberStatus, created: datetime) -> datetime:
    """Open accounts are mirrored from the provider every few weeks; a closed one stopped
    syncing soon after it was opened here and emptied."""
    if status is MemberStatus.CLOSED:
        return later(rng, created, within_days=120)
    return later(rng, max(created, END - timedelta(days=45)), within_days=45)


def pension(rng: Random, status: MemberStatus, joined: datetime) -> dict[str, Any]:
    low, high = BALANCE_CENTS[status]
    created = joined + timedelta(minutes=rng.randrange(2, 30))
    currency = rng.choices(("USD", "EUR", "GBP"), weights=(86, 8, 6))[0]
    return {
        "contribution_balance": str(catalog.cents(rng.randrange(low, high))),
        "currency": currency,
        "last_synced_at": stamp(last_sync(rng, status, created)),
        "created_at": stamp(created),
    }


def recommendations(rng: Random, profile: RiskProfile, requested: datetime) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    moment = requested
    for _ in range(rng.choice((1, 1, 2))):
        moment = later(rng, moment, within_days=3)
        mix = catalog.allocation(rng, profile)
        model = catalog.ADVISOR_MODEL if moment >= ADVISOR_SINCE else catalog.RULES_MODEL
        found.append(
            {
                "model_name": model,
                "rationale": catalog.rationale(profile, mix),
                "created_at": stamp(moment),
                "allocation": mix,
            }
        )
    return found


def portfolio(rng: Random, after: datetime) -> dict[str, Any]:
    profile = rng.choice(list(RiskProfile))
    # A quarter are fresh requests, so the advisor model released in 2026-10 has work too.
    recent = rng.random() < 0.25
    created = later(rng, max(after, END - timedelta(days=50)) if recent else after, 500)
    recommended = rng.random() < 0.65
    status = PortfolioStatus.RECOMMENDED if recommended else PortfolioStatus.QUEUED
    return {
        "risk_profile": profile.value,
        "amount_usd": str(catalog.cents(rng.randrange(5_000, 500_000) * 100)),
        "status": status.value,
        "created_at": stamp(created),
        **({"recommendations": recommendations(rng, profile, created)} if recommended else {}),
    }


def loan_terms(rng: Random, target: LoanDecision) -> tuple[Decimal, Decimal, int, Decimal]:
    """Draws (amount, income, years, score) until the rules-v1 score lands on the wanted side.
    Integer cents and a per-mille loan-to-income ratio: no float ever touches the money."""
    while True:
        income_cents = rng.randrange(2_400_000, 18_000_000)
        if target is LoanDecision.APPROVED:
            years, per_mille = rng.randint(1, 30), rng.randint(50, 1300)
        else:
            years, per_mille = rng.randint(0, 9), rng.randint(1600, 6000)
        # Whole multiples of $250, at least $5,000: what an applicant would actually ask for.
        amount_cents = max(income_cents * per_mille // 1000 // 25_000, 20) * 25_000
        income, amount = catalog.cents(income_cents), catalog.cents(amount_cents)
        score = catalog.risk_score(income_cents, amount_cents, years)
        if catalog.rule_decision(score) is target or (
            target is LoanDecision.DECLINED and score < catalog.APPROVAL_THRESHOLD
        ):
            return amount, income, years, score


def loans(rng: Random, after: datetime, latest: LoanDecision | None) -> list[dict[str, Any]]:
    if latest is None:
        return []
    earlier = rng.choices(list(LoanDecision), weights=(5, 4, 1), k=rng.choice((0, 0, 1, 2)))
    found: list[dict[str, Any]] = []
    moment = after
    for decision in [*earlier, latest]:
        moment = later(rng, moment, within_days=300)
        amount, income, years, score = loan_terms(rng, decision)
        declined = decision is LoanDecision.DECLINED
        found.append(
            {
                "amount": str(amount),
                "income": str(income),
                "employment_years": years,
                "risk_score": str(score),
                "decision": decision.value,
                "scoring_model_version": catalog.MANUAL_VERSION
                if declined
                else catalog.RULES_VERSION,
                "created_at": stamp(moment),
            }
        )
    return found


def feedback(rng: Random, model: str, human: str, after: datetime) -> list[dict[str, Any]]:
    if rng.random() >= 0.45:
        return []
    correct = model == human
    comment = (
        rng.choice((None, "Agreed.", "Matches how the member sounded on the phone."))
        if correct
        else f"Reads as {human.lower()} to me, not {model.lower()}."
    )
    return [{"is_correct": correct, "comment": comment, "created_at": stamp(later(rng, after, 14))}]


def predictions(rng: Random, after: datetime) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    moment = after
    for text, model, confidence, human in rng.sample(
        classified_messages(), rng.choice((0, 1, 2, 3))
    ):
        moment = later(rng, moment, within_days=400)
        item: dict[str, Any] = {
            "text": text,
            "sentiment": model.value,
            "confidence": str(confidence),
            "model_version": catalog.SENTIMENT_MODEL_VERSION,
            "created_at": stamp(moment),
        }
        verdicts = feedback(rng, model.value, human.value, moment)
        found.append(item | ({"feedback": verdicts} if verdicts else {}))
    return found


def member(
    rng: Random, number: int, joined: datetime, status: MemberStatus, latest: LoanDecision | None
) -> dict[str, Any]:
    first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
    domain = rng.choice(("example.com", "example.org"))
    record: dict[str, Any] = {
        "member_number": f"M-{number}",
        "full_name": f"{first} {last}",
        # The member number keeps two members with the same name apart.
        "email": f"{first}.{last}.{number}@{domain}".lower(),
        "status": status.value,
        "created_at": stamp(joined),
        "pension_account": pension(rng, status, joined),
        "portfolios": sorted(
            (portfolio(rng, joined) for _ in range(rng.choice((0, 1, 1, 2, 3)))),
            key=lambda item: str(item["created_at"]),
        ),
        "loan_applications": loans(rng, joined, latest),
        "predictions": predictions(rng, joined),
    }
    record["audit_logs"] = audit_entries(rng, record)
    return record


def build(seed: int = SEED) -> dict[str, Any]:
    rng = Random(seed)
    statuses, plans = list(STATUS_PLAN), list(LOAN_PLAN)
    rng.shuffle(statuses)
    rng.shuffle(plans)
    window = int((LAST_JOIN - START).total_seconds())
    # Member numbers follow joining order, as a registry would hand them out.
    joins = sorted(START + timedelta(seconds=rng.randrange(window)) for _ in statuses)
    members = [
        member(rng, 100_001 + index, joined, status, plan)
        for index, (joined, status, plan) in enumerate(zip(joins, statuses, plans, strict=True))
    ]
    check_coverage(members)
    return {
        "format": 1,
        "description": (
            "Fictional members for `finance-api seed --demo`; written by "
            "graphql_api/seeding/make_demo_data.py. Money is decimal strings."
        ),
        "actor": catalog.SEED_ACTOR_DEMO,
        "members": members,
    }


def check_coverage(members: list[dict[str, Any]]) -> None:
    """The demo promises every status, profile and decision; fail loudly if a reseed loses one."""
    portfolios = [p for m in members for p in m["portfolios"]]
    seen: dict[str, set[Any]] = {
        "status": {m["status"] for m in members},
        "portfolio": {(p["risk_profile"], p["status"]) for p in portfolios},
        "model": {r["model_name"] for p in portfolios for r in p.get("recommendations", [])},
        "latest loan": {
            m["loan_applications"][-1]["decision"] if m["loan_applications"] else None
            for m in members
        },
    }
    wanted: dict[str, set[Any]] = {
        "status": set(MemberStatus),
        "portfolio": {(r.value, s.value) for r in RiskProfile for s in PortfolioStatus},
        "model": {catalog.RULES_MODEL, catalog.ADVISOR_MODEL},
        "latest loan": {*LoanDecision, None},
    }
    for key, values in wanted.items():
        if missing := values - seen[key]:
            raise ValueError(f"demo data lacks {key} {sorted(map(str, missing))}")


def render(value: Any, indent: int = 0, prefix: int = 0) -> str:
    """JSON with small objects kept on one line: a file a reviewer can scroll through.
    `prefix` is the width already used on the line (a key), `indent` that of nested lines."""
    compact = json.dumps(value, ensure_ascii=False)
    flat = isinstance(value, dict) and not any(isinstance(item, list) for item in value.values())
    limit = RECORD_WIDTH if flat else WIDTH
    if indent + prefix + len(compact) <= limit or not isinstance(value, dict | list) or not value:
        return compact
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, list):
        items = [inner + render(item, indent + 2) for item in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    fields = []
    for key, item in value.items():
        label = json.dumps(key) + ": "
        fields.append(inner + label + render(item, indent + 2, len(label)))
    return "{\n" + ",\n".join(fields) + f"\n{pad}}}"


def write(path: Path | None = None) -> Path:
    target = path or demo_path()
    text = render(build()) + "\n"
    DemoData.model_validate_json(text)  # never write a file the loader would reject
    target.write_text(text, encoding="utf-8")
    return target


if __name__ == "__main__":
    write()
