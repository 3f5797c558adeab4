"""requestPortfolioRecommendation and recordRecommendation over HTTP against PostgreSQL.

Every refusal is checked to write nothing (row counts before and after), every success to
write exactly its rows and audit entries under the request's id. The read API tests compare
the richest demo member with the demo file, so these tests never write for that member.
"""

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest

from graphql_api.models import RiskProfile
from graphql_api.portfolios.allocation import RULES_V1_MODEL, recommend_allocation
from tests.db_counts import fetch, row_counts
from tests.demo_file import demo_members, richest_member
from tests.gql_helpers import global_id, mutate, row_id_of
from tests.graphql_client import GraphQLClient

REQUEST = """
mutation ($input: RequestPortfolioRecommendationInput!) {
  requestPortfolioRecommendation(input: $input) {
    portfolio {
      id riskProfile amountUsd status member { memberNumber }
      recommendations { id }
      latestRecommendation {
        id modelName rationale allocation lines { assetClass weight } portfolio { id status }
      }
    }
    userErrors { code message field }
  }
}
"""

RECORD = """
mutation ($input: RecordRecommendationInput!) {
  recordRecommendation(input: $input) {
    recommendation {
      id modelName rationale allocation lines { assetClass weight }
      portfolio { id status latestRecommendation { id lines { assetClass weight } } }
    }
    userErrors { code message field }
  }
}
"""

AUDIT = """
query ($r: String!) {
  auditLogs(first: 100, filter: {requestId: $r}) {
    totalCount
    edges { node { id requestId action entityType entityId payload member { memberNumber } } }
  }
}
"""


# --- helpers -------------------------------------------------------------------------------


def _stored_allocation(database_url: str, recommendation_id: int) -> Any:
    query = "SELECT allocation FROM recommendations WHERE id = $1"
    [row] = asyncio.run(fetch(database_url, query, recommendation_id))
    return json.loads(row["allocation"])


def _audit(gql: GraphQLClient, request_id: str) -> list[dict[str, Any]]:
    found = gql.ok(AUDIT, {"r": request_id})["auditLogs"]
    nodes = [edge["node"] for edge in found["edges"]]
    assert found["totalCount"] == len(nodes)
    assert {node["requestId"] for node in nodes} <= {request_id}
    # In the order written (audit ids ascend), not the API's newest-first.
    return sorted(nodes, key=lambda node: row_id_of(node["id"], "AuditLog"))


def _member_number() -> str:
    """A demo member other than the richest (whose rows the read tests compare exactly)."""
    richest = richest_member()["member_number"]
    return str(next(m["member_number"] for m in demo_members() if m["member_number"] != richest))


def _request_input(**overrides: Any) -> dict[str, Any]:
    return {
        "memberNumber": _member_number(),
        "riskProfile": "BALANCED",
        "amountUsd": "25000.00",
        **overrides,
    }


@pytest.fixture(scope="module")
def portfolio_id(gql: GraphQLClient) -> str:
    """A fresh portfolio to record recommendations for."""
    payload, _ = mutate(gql, REQUEST, _request_input(riskProfile="CONSERVATIVE"))
    assert payload["userErrors"] == []
    global_id: str = payload["portfolio"]["id"]
    return global_id


def _record_input(portfolio_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "portfolioId": portfolio_id,
        "allocation": [
            {"assetClass": "GLOBAL_EQUITIES", "weight": "0.6"},
            {"assetClass": "CASH", "weight": "0.4"},
        ],
        "modelName": "advisor-test",
        "rationale": "Test allocation.",
        **overrides,
    }


def _lines(*weights: str) -> list[dict[str, str]]:
    return [{"assetClass": f"ASSET_{index}", "weight": w} for index, w in enumerate(weights)]


# --- requestPortfolioRecommendation ----------------------------------------------------------


@pytest.mark.parametrize("profile", list(RiskProfile))
def test_request_creates_a_recommended_portfolio_with_two_audit_rows(
    gql: GraphQLClient, database_url: str, profile: RiskProfile
) -> None:
    before = row_counts(database_url)
    payload, request_id = mutate(
        gql, REQUEST, _request_input(riskProfile=profile.value, amountUsd="125000.50")
    )
    after = row_counts(database_url)

    assert payload["userErrors"] == []
    portfolio = payload["portfolio"]
    assert portfolio["status"] == "RECOMMENDED"
    assert portfolio["riskProfile"] == profile.value
    assert portfolio["amountUsd"] == "125000.50"
    assert portfolio["member"]["memberNumber"] == _member_number()
    latest = portfolio["latestRecommendation"]
    assert portfolio["recommendations"] == [{"id": latest["id"]}]
    assert latest["portfolio"] == {"id": portfolio["id"], "status": "RECOMMENDED"}
    expected = recommend_allocation(profile)
    assert latest["modelName"] == RULES_V1_MODEL
    assert latest["rationale"] == expected.rationale
    assert latest["allocation"] == expected.allocation_json()
    assert sum(Decimal(line["weight"]) for line in latest["lines"]) == 1
    recommendation_id = row_id_of(latest["id"], "Recommendation")
    assert _stored_allocation(database_url, recommendation_id) == expected.allocation_json()

    assert after == {
        **before,
        "portfolios": before["portfolios"] + 1,
        "recommendations": before["recommendations"] + 1,
        "audit_logs": before["audit_logs"] + 2,
    }
    requested, recorded = _audit(gql, request_id)
    assert (requested["action"], requested["entityType"]) == ("portfolio.requested", "Portfolio")
    assert int(requested["entityId"]) == row_id_of(portfolio["id"], "Portfolio")
    assert requested["payload"]["amountUsd"] == "125000.50"
    assert (recorded["action"], recorded["entityType"]) == (
        "recommendation.recorded",
        "Recommendation",
    )
    assert int(recorded["entityId"]) == recommendation_id
    assert recorded["payload"]["modelName"] == RULES_V1_MODEL
    assert recorded["payload"]["portfolioId"] == row_id_of(portfolio["id"], "Portfolio")
    assert {requested["member"]["memberNumber"], recorded["member"]["memberNumber"]} == {
        _member_number()
    }


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"memberNumber": "M-999999"}, "NOT_FOUND", ["input", "memberNumber"]),
        ({"memberNumber": "no spaces"}, "INVALID_INPUT", ["input", "memberNumber"]),
        ({"amountUsd": "0"}, "INVALID_INPUT", ["input", "amountUsd"]),
        ({"amountUsd": "-10.00"}, "INVALID_INPUT", ["input", "amountUsd"]),
        ({"amountUsd": "10.001"}, "INVALID_INPUT", ["input", "amountUsd"]),
        ({"amountUsd": "10000000000.01"}, "INVALID_INPUT", ["input", "amountUsd"]),
        ({"idempotencyKey": ""}, "INVALID_INPUT", ["input", "idempotencyKey"]),
    ],
)
def test_request_refusals_write_nothing(
    gql: GraphQLClient,
    database_url: str,
    overrides: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    before = row_counts(database_url)
    payload, request_id = mutate(gql, REQUEST, _request_input(**overrides))
    assert payload["portfolio"] is None
    [error] = payload["userErrors"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]
    assert row_counts(database_url) == before
    assert _audit(gql, request_id) == []


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1e3", "1E-2", " 1", 12.5])
def test_non_plain_decimals_are_clean_graphql_errors(
    gql: GraphQLClient, database_url: str, amount: object
) -> None:
    before = row_counts(database_url)
    body = gql.post(REQUEST, {"input": _request_input(amountUsd=amount)})
    assert body["data"] is None
    [error] = body["errors"]
    assert "Decimal" in error["message"]
    assert error.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR"
    assert row_counts(database_url) == before


def test_request_replay_returns_the_first_portfolio(gql: GraphQLClient, database_url: str) -> None:
    variables = _request_input(idempotencyKey="portfolio-replay-1")
    first, _ = mutate(gql, REQUEST, variables)
    assert first["userErrors"] == []
    before = row_counts(database_url)

    replay, replay_request = mutate(gql, REQUEST, variables)
    assert replay["userErrors"] == []
    assert replay["portfolio"]["id"] == first["portfolio"]["id"]
    assert replay["portfolio"]["latestRecommendation"] == first["portfolio"]["latestRecommendation"]
    assert row_counts(database_url) == before
    assert _audit(gql, replay_request) == []

    other, _ = mutate(gql, REQUEST, {**variables, "amountUsd": "25000.01"})
    assert other["portfolio"] is None
    assert other["userErrors"] == [
        {
            "code": "IDEMPOTENCY_KEY_REUSED",
            "message": "This idempotency key was already used with different input.",
            "field": ["input", "idempotencyKey"],
        }
    ]
    assert row_counts(database_url) == before


# --- recordRecommendation --------------------------------------------------------------------


def _queued_portfolio(gql: GraphQLClient) -> tuple[str, str]:
    """(member number, global id) of a demo portfolio that is still QUEUED."""
    richest = richest_member()["member_number"]
    for member in demo_members():
        if member["member_number"] == richest:
            continue
        if not any(p["status"] == "QUEUED" for p in member["portfolios"]):
            continue
        found = gql.ok(
            """query ($n: String!) { member(memberNumber: $n) {
                 portfolios(first: 100) { edges { node { id status } } } } }""",
            {"n": member["member_number"]},
        )["member"]["portfolios"]["edges"]
        queued = [edge["node"]["id"] for edge in found if edge["node"]["status"] == "QUEUED"]
        if queued:
            return member["member_number"], queued[0]
    raise AssertionError("the demo data has no QUEUED portfolio")


def test_record_recommendation_marks_a_queued_portfolio_recommended(
    gql: GraphQLClient, database_url: str
) -> None:
    member_number, portfolio_id = _queued_portfolio(gql)
    before = row_counts(database_url)
    payload, request_id = mutate(
        gql,
        RECORD,
        _record_input(
            portfolio_id,
            allocation=[
                {"assetClass": "  GLOBAL_EQUITIES ", "weight": "0.6"},
                {"assetClass": "GOVERNMENT_BONDS", "weight": "0.25"},
                {"assetClass": "CASH", "weight": "0.1500"},
            ],
        ),
    )
    after = row_counts(database_url)

    assert payload["userErrors"] == []
    recommendation = payload["recommendation"]
    stored = [
        {"assetClass": "GLOBAL_EQUITIES", "weight": "0.6000"},
        {"assetClass": "GOVERNMENT_BONDS", "weight": "0.2500"},
        {"assetClass": "CASH", "weight": "0.1500"},
    ]
    assert recommendation["allocation"] == stored
    assert recommendation["lines"] == stored
    assert (recommendation["modelName"], recommendation["rationale"]) == (
        "advisor-test",
        "Test allocation.",
    )
    portfolio = recommendation["portfolio"]
    assert (portfolio["id"], portfolio["status"]) == (portfolio_id, "RECOMMENDED")
    assert portfolio["latestRecommendation"] == {"id": recommendation["id"], "lines": stored}
    recommendation_id = row_id_of(recommendation["id"], "Recommendation")
    assert _stored_allocation(database_url, recommendation_id) == stored

    assert after == {
        **before,
        "recommendations": before["recommendations"] + 1,
        "audit_logs": before["audit_logs"] + 1,
    }
    [entry] = _audit(gql, request_id)
    assert (entry["action"], entry["entityType"]) == ("recommendation.recorded", "Recommendation")
    assert int(entry["entityId"]) == recommendation_id
    assert entry["member"] == {"memberNumber": member_number}
    assert entry["payload"]["portfolioId"] == row_id_of(portfolio_id, "Portfolio")
    assert entry["payload"]["previousStatus"] == "QUEUED"
    assert entry["payload"]["sleeves"] == 3


@pytest.mark.parametrize("weights", [("0.5", "0.4999"), ("0.5", "0.5001"), ("1",)])
def test_weights_within_a_basis_point_of_one_are_accepted(
    gql: GraphQLClient, portfolio_id: str, weights: tuple[str, ...]
) -> None:
    payload, _ = mutate(gql, RECORD, _record_input(portfolio_id, allocation=_lines(*weights)))
    assert payload["userErrors"] == []
    got = [Decimal(line["weight"]) for line in payload["recommendation"]["lines"]]
    assert got == [Decimal(w) for w in weights]


ALLOCATION = ["input", "allocation"]


def _field(index: int, name: str) -> list[str]:
    return [*ALLOCATION, str(index), name]


def _one(asset_class: str) -> list[dict[str, str]]:
    return [{"assetClass": asset_class, "weight": "1"}]


CASH_TWICE = [{"assetClass": "CASH", "weight": "0.5"}, {"assetClass": "cash", "weight": "0.5"}]


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        # Weights: the sum must be 1 within 0.0001; each 0..1 with at most 4 places.
        ({"allocation": _lines("0.5", "0.4998")}, "INVALID_INPUT", ALLOCATION),
        ({"allocation": _lines("0.5", "0.49")}, "INVALID_INPUT", ALLOCATION),
        ({"allocation": _lines("0.5", "0.5002")}, "INVALID_INPUT", ALLOCATION),
        ({"allocation": _lines("0.5", "0.25", "0.25001")}, "INVALID_INPUT", _field(2, "weight")),
        ({"allocation": _lines("1.1", "-0.1")}, "INVALID_INPUT", _field(0, "weight")),
        ({"allocation": _lines("0.6", "-0.1", "0.5")}, "INVALID_INPUT", _field(1, "weight")),
        ({"allocation": []}, "INVALID_INPUT", ALLOCATION),
        ({"allocation": _lines(*["0.0196"] * 50, "0.02")}, "INVALID_INPUT", ALLOCATION),
        # Asset classes: non-blank, at most 64 characters, unique ignoring case.
        ({"allocation": CASH_TWICE}, "INVALID_INPUT", _field(1, "assetClass")),
        ({"allocation": _one(" ")}, "INVALID_INPUT", _field(0, "assetClass")),
        ({"allocation": _one("X" * 65)}, "INVALID_INPUT", _field(0, "assetClass")),
        ({"allocation": _one("A\u0000B")}, "INVALID_INPUT", _field(0, "assetClass")),
        # Model name and rationale.
        ({"modelName": ""}, "INVALID_INPUT", ["input", "modelName"]),
        ({"modelName": "   "}, "INVALID_INPUT", ["input", "modelName"]),
        ({"modelName": "m" * 101}, "INVALID_INPUT", ["input", "modelName"]),
        ({"modelName": "a\u0000b"}, "INVALID_INPUT", ["input", "modelName"]),
        ({"rationale": "r" * 4001}, "INVALID_INPUT", ["input", "rationale"]),
        ({"rationale": "bad\u0000"}, "INVALID_INPUT", ["input", "rationale"]),
        # Ids that name no portfolio: unknown, another type, malformed.
        ({"portfolioId": global_id("Portfolio", 10**12)}, "NOT_FOUND", ["input", "portfolioId"]),
        ({"portfolioId": global_id("Portfolio", 10**30)}, "NOT_FOUND", ["input", "portfolioId"]),
        ({"portfolioId": global_id("Portfolio", "abc")}, "NOT_FOUND", ["input", "portfolioId"]),
        ({"portfolioId": global_id("Portfolio", "-1")}, "NOT_FOUND", ["input", "portfolioId"]),
        ({"portfolioId": global_id("Member", 1)}, "NOT_FOUND", ["input", "portfolioId"]),
        ({"portfolioId": global_id("Recommendation", 1)}, "NOT_FOUND", ["input", "portfolioId"]),
        ({"portfolioId": "garbage"}, "NOT_FOUND", ["input", "portfolioId"]),
    ],
)  # fmt: skip
def test_record_refusals_write_nothing(
    gql: GraphQLClient,
    database_url: str,
    portfolio_id: str,
    overrides: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    before = row_counts(database_url)
    payload, request_id = mutate(gql, RECORD, _record_input(portfolio_id, **overrides))
    assert payload["recommendation"] is None
    [error] = payload["userErrors"]
    assert (error["code"], error["field"]) == (code, field), error
    assert error["message"]
    assert row_counts(database_url) == before
    assert _audit(gql, request_id) == []


@pytest.mark.parametrize("weight", ["NaN", "-Infinity", "1e-1", "0.1234567", 0.5])
def test_non_plain_weights_are_clean_graphql_errors(
    gql: GraphQLClient, database_url: str, portfolio_id: str, weight: object
) -> None:
    before = row_counts(database_url)
    allocation = [{"assetClass": "CASH", "weight": weight}]
    body = gql.post(RECORD, {"input": _record_input(portfolio_id, allocation=allocation)})
    assert body["data"] is None
    [error] = body["errors"]
    assert "Decimal" in error["message"]
    assert error.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR"
    assert row_counts(database_url) == before


def test_record_replay_returns_the_first_recommendation(
    gql: GraphQLClient, database_url: str, portfolio_id: str
) -> None:
    variables = _record_input(portfolio_id, idempotencyKey="record-replay-1")
    first, _ = mutate(gql, RECORD, variables)
    assert first["userErrors"] == []
    before = row_counts(database_url)

    replay, replay_request = mutate(gql, RECORD, variables)
    assert replay == first
    assert row_counts(database_url) == before
    assert _audit(gql, replay_request) == []

    changed = {**variables, "allocation": _lines("0.5", "0.5")}
    other, _ = mutate(gql, RECORD, changed)
    assert other["recommendation"] is None
    assert [(e["code"], e["field"]) for e in other["userErrors"]] == [
        ("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"])
    ]
    assert row_counts(database_url) == before
