"""Audit entries for one demo member, derived from the member's own records so the trail always
matches the data: one entry per created or synced entity, at that entity's moment."""

from collections.abc import Iterator
from random import Random
from typing import Any

Entry = tuple[str, str, str, dict[str, Any]]  # (created_at, action, entity path, payload)


def _portfolio_entries(record: dict[str, Any]) -> Iterator[Entry]:
    for index, portfolio in enumerate(record["portfolios"]):
        path = f"portfolios/{index}"
        payload = {"riskProfile": portfolio["risk_profile"], "amountUsd": portfolio["amount_usd"]}
        yield portfolio["created_at"], "portfolio.requested", path, payload
        for rec_index, rec in enumerate(portfolio.get("recommendations", [])):
            rec_payload = {"modelName": rec["model_name"], "sleeves": len(rec["allocation"])}
            yield (
                rec["created_at"],
                "recommendation.recorded",
                f"{path}/recommendations/{rec_index}",
                rec_payload,
            )


def _loan_entries(record: dict[str, Any]) -> Iterator[Entry]:
    for index, loan in enumerate(record["loan_applications"]):
        payload = {
            "amount": loan["amount"],
            "riskScore": loan["risk_score"],
            "decision": loan["decision"],
        }
        yield loan["created_at"], "loan.applied", f"loan_applications/{index}", payload


def _prediction_entries(record: dict[str, Any]) -> Iterator[Entry]:
    for index, prediction in enumerate(record["predictions"]):
        path = f"predictions/{index}"
        payload = {"sentiment": prediction["sentiment"], "confidence": prediction["confidence"]}
        yield prediction["created_at"], "prediction.created", path, payload
        for fb_index, item in enumerate(prediction.get("feedback", [])):
            fb_payload = {"isCorrect": item["is_correct"]}
            yield (
                item["created_at"],
                "feedback.submitted",
                f"{path}/feedback/{fb_index}",
                fb_payload,
            )


def audit_entries(rng: Random, record: dict[str, Any]) -> list[dict[str, Any]]:
    account = record["pension_account"]
    entries: list[Entry] = [
        (record["created_at"], "member.created", "member", {"status": record["status"]}),
        (
            account["last_synced_at"],
            "member.synced",
            "pension_account",
            {
                "contributionBalance": account["contribution_balance"],
                "currency": account["currency"],
            },
        ),
        *_portfolio_entries(record),
        *_loan_entries(record),
        *_prediction_entries(record),
    ]
    # All timestamps share one offset (+00:00), so text order is time order.
    entries.sort(key=lambda entry: entry[0])
    return [
        {
            "created_at": created_at,
            "action": action,
            "entity": entity,
            "request_id": f"req-{rng.getrandbits(48):012x}",
            "payload": payload,
        }
        for created_at, action, entity, payload in entries
    ]
