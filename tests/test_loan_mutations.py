"""applyForLoan end to end over HTTP: scoring, audit in the same transaction, refusals,
idempotency (including twenty concurrent retries of one key)."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from graphql_api.models import Role
from tests.db_counts import fetch, row_counts
from tests.graphql_client import GraphQLClient

APPLY = """
mutation ($input: ApplyForLoanInput!) {
  applyForLoan(input: $input) {
    loanApplication { id amount income riskScore decision scoringModelVersion
                      member { memberNumber lendingAssessment { action }
                               loanApplications(first: 1) { edges { node { id } } } } }
    userErrors { code message field }
  }
}
"""
MEMBER = "M-100007"


def _input(**overrides: Any) -> dict[str, Any]:
    return {
        "memberNumber": MEMBER,
        "amount": "5000.00",
        "income": "90000.00",
        "employmentYears": 6,
        **overrides,
    }


def test_application_is_scored_stored_and_audited(gql: GraphQLClient, demo_loaded: str) -> None:
    body = gql.post(APPLY, {"input": _input(amount="100000.00", income="30000", employmentYears=2)})
    result = body["data"]["applyForLoan"]
    assert result["userErrors"] == []
    loan = result["loanApplication"]
    # rules-v1: 30000 / 100000 * 100 + 2 * 5 = 40.00 -> below 80 -> REVIEW
    assert (loan["riskScore"], loan["decision"], loan["scoringModelVersion"]) == (
        "40.00",
        "REVIEW",
        "rules-v1",
    )
    assert (loan["amount"], loan["income"]) == ("100000.00", "30000.00")
    # The payload's nested fields read the committed state.
    assert loan["member"]["lendingAssessment"]["action"] == "MANUAL_REVIEW"
    assert loan["member"]["loanApplications"]["edges"][0]["node"]["id"] == loan["id"]

    request_id = body["extensions"]["requestId"]
    audit = gql.ok(
        "query ($r: String) { auditLogs(filter: {requestId: $r}) { edges { node {"
        " action entityType actor payload member { memberNumber } } } } }",
        {"r": request_id},
    )["auditLogs"]["edges"]
    assert [e["node"]["action"] for e in audit] == ["loan.applied"]
    entry = audit[0]["node"]
    assert entry["entityType"] == "LoanApplication"
    assert entry["member"]["memberNumber"] == MEMBER
    assert entry["payload"]["riskScore"] == "40.00"


def test_threshold_of_80_is_approved(gql: GraphQLClient) -> None:
    # 3000 / 5000 * 100 + 4 * 5 = 80.00
    loan = gql.ok(APPLY, {"input": _input(income="3000", employmentYears=4)})["applyForLoan"]
    assert loan["loanApplication"]["riskScore"] == "80.00"
    assert loan["loanApplication"]["decision"] == "APPROVED"


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"memberNumber": "M-999999"}, "NOT_FOUND", ["input", "memberNumber"]),
        ({"amount": "0"}, "INVALID_INPUT", ["input", "amount"]),
        ({"amount": "-5.00"}, "INVALID_INPUT", ["input", "amount"]),
        ({"amount": "10.001"}, "INVALID_INPUT", ["input", "amount"]),
        ({"amount": "100000000.01"}, "INVALID_INPUT", ["input", "amount"]),
        ({"income": "0.00"}, "INVALID_INPUT", ["input", "income"]),
        ({"employmentYears": -1}, "INVALID_INPUT", ["input", "employmentYears"]),
        ({"employmentYears": 81}, "INVALID_INPUT", ["input", "employmentYears"]),
        ({"idempotencyKey": ""}, "INVALID_INPUT", ["input", "idempotencyKey"]),
        ({"idempotencyKey": "k" * 201}, "INVALID_INPUT", ["input", "idempotencyKey"]),
        (
            {"memberNumber": "M-1'; DROP TABLE members;--"},
            "INVALID_INPUT",
            ["input", "memberNumber"],
        ),
    ],
)
def test_bad_input_is_a_user_error_and_writes_nothing(
    gql: GraphQLClient, demo_loaded: str, overrides: dict[str, Any], code: str, field: list[str]
) -> None:
    before = row_counts(demo_loaded)
    result = gql.ok(APPLY, {"input": _input(**overrides)})["applyForLoan"]
    assert result["loanApplication"] is None
    assert [(e["code"], e["field"]) for e in result["userErrors"]] == [(code, field)]
    assert result["userErrors"][0]["message"]
    assert row_counts(demo_loaded) == before


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1e5", "12.5e-1", " 5"])
def test_non_plain_decimals_are_rejected_before_execution(
    gql: GraphQLClient, demo_loaded: str, amount: str
) -> None:
    before = row_counts(demo_loaded)
    body = gql.post(APPLY, {"input": _input(amount=amount)})
    assert body.get("data") is None
    assert "plain decimal" in body["errors"][0]["message"]
    assert row_counts(demo_loaded) == before


def test_decimal_sent_as_a_json_number_is_rejected(gql: GraphQLClient) -> None:
    body = gql.post(APPLY, {"input": _input(amount=5000.5)})
    assert "must be strings" in body["errors"][0]["message"]


def test_idempotent_retry_returns_the_first_result(gql: GraphQLClient, demo_loaded: str) -> None:
    key = f"retry-{uuid.uuid4()}"
    first = gql.ok(APPLY, {"input": _input(idempotencyKey=key)})["applyForLoan"]
    before = row_counts(demo_loaded)
    again = gql.ok(APPLY, {"input": _input(idempotencyKey=key)})["applyForLoan"]
    assert again["loanApplication"]["id"] == first["loanApplication"]["id"]
    assert again["userErrors"] == []
    assert row_counts(demo_loaded) == before

    reused = gql.ok(APPLY, {"input": _input(idempotencyKey=key, amount="5001.00")})
    assert [e["code"] for e in reused["applyForLoan"]["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert row_counts(demo_loaded) == before


async def _concurrently(api_url: str, token: str, payload: dict[str, Any], times: int) -> list[Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=headers) as client:
        responses = await asyncio.gather(
            *(client.post("/graphql", json=payload) for _ in range(times))
        )
    return [r.json() for r in responses]


def test_twenty_concurrent_retries_write_one_row_and_one_audit_entry(
    api_url: str, api_keys: dict[Role, str], demo_loaded: str
) -> None:
    key = f"burst-{uuid.uuid4()}"
    before = row_counts(demo_loaded)
    payload = {"query": APPLY, "variables": {"input": _input(idempotencyKey=key)}}
    bodies = asyncio.run(_concurrently(api_url, api_keys[Role.ADMIN], payload, 20))

    ids = {b["data"]["applyForLoan"]["loanApplication"]["id"] for b in bodies}
    assert len(ids) == 1
    assert all(b["data"]["applyForLoan"]["userErrors"] == [] for b in bodies)
    after = row_counts(demo_loaded)
    assert after["loan_applications"] == before["loan_applications"] + 1
    assert after["audit_logs"] == before["audit_logs"] + 1
    assert after["idempotency_keys"] == before["idempotency_keys"] + 1


def test_audit_log_rejects_update_delete_and_truncate(demo_loaded: str) -> None:
    for statement in (
        "UPDATE audit_logs SET actor = 'tampered'",
        "DELETE FROM audit_logs",
        "TRUNCATE audit_logs",
    ):
        with pytest.raises(Exception, match="append-only"):
            asyncio.run(fetch(demo_loaded, statement))
    rows = asyncio.run(
        fetch(demo_loaded, "SELECT count(*) FROM audit_logs WHERE actor = 'tampered'")
    )
    assert rows[0][0] == 0


@pytest.mark.parametrize("literal", ['"1e1"', '"NaN"', "5000.5", "5000"])
def test_bad_decimal_literal_in_the_document_is_a_clear_error(
    gql: GraphQLClient, demo_loaded: str, literal: str
) -> None:
    before = row_counts(demo_loaded)
    body = gql.post(
        f'mutation {{ applyForLoan(input: {{memberNumber: "{MEMBER}", amount: {literal},'
        ' income: "1.00", employmentYears: 1}) { userErrors { code } } }'
    )
    message = body["errors"][0]["message"]
    assert "Unexpected error" not in message
    assert "plain decimal" in message or "must be strings" in message
    assert row_counts(demo_loaded) == before
