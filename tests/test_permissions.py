"""Role by role: every query and mutation against the permission matrix, member scoping in
every fetch path, and masked emails for agents."""

import uuid
from typing import Any

import pytest

from graphql_api.auth.matrix import MUTATION_ROLES, QUERY_ROLES
from graphql_api.models import Role
from tests.conftest import MEMBER_KEY_OWNER
from tests.db_counts import row_counts
from tests.gql_helpers import global_id
from tests.graphql_client import GraphQLClient

OTHER_MEMBER = "M-100020"


QUERIES: dict[str, str] = {
    "member": f'{{ member(memberNumber: "{MEMBER_KEY_OWNER}") {{ memberNumber }} }}',
    "members": "{ members(first: 1) { totalCount } }",
    "agentContext": f'{{ agentContext(memberNumber: "{MEMBER_KEY_OWNER}") {{ toolingHint }} }}',
    "node": f'{{ node(id: "{global_id("Member", 1)}") {{ id }} }}',
    "loanApplications": "{ loanApplications(first: 1) { totalCount } }",
    "predictions": "{ predictions(first: 1) { totalCount } }",
    "auditLogs": "{ auditLogs(first: 1) { totalCount } }",
    "modelPerformance": "{ modelPerformance { modelVersion } }",
}


def _mutations() -> dict[str, str]:
    unique = uuid.uuid4().hex[:10]
    return {
        "createMember": f'mutation {{ createMember(input: {{memberNumber: "T-{unique}",'
        f' fullName: "Permission Probe", email: "probe-{unique}@example.org", status: ACTIVE}})'
        " { userErrors { code } } }",
        "syncMember": 'mutation { syncMember(input: {memberNumber: "M-100001"}) {'
        " userErrors { code } } }",
        "applyForLoan": 'mutation { applyForLoan(input: {memberNumber: "M-100002",'
        ' amount: "1000.00", income: "50000.00", employmentYears: 3}) { userErrors { code } } }',
        "requestPortfolioRecommendation": "mutation { requestPortfolioRecommendation(input:"
        ' {memberNumber: "M-100002", riskProfile: BALANCED, amountUsd: "1000.00"})'
        " { userErrors { code } } }",
        "recordRecommendation": "mutation { recordRecommendation(input: {portfolioId:"
        f' "{global_id("Portfolio", 1)}", modelName: "probe",'
        ' allocation: [{assetClass: "CASH", weight: "1.0000"}]}) { userErrors { code } } }',
        "predictSentiment": 'mutation { predictSentiment(input: {memberNumber: "M-100002",'
        ' text: "All fine, thanks."}) { userErrors { code } } }',
        "submitFeedback": "mutation { submitFeedback(input: {predictionId:"
        f' "{global_id("Prediction", 1)}", isCorrect: true}}) {{ userErrors {{ code }} }} }}',
    }


def test_every_root_field_has_a_probe() -> None:
    assert set(QUERIES) == set(QUERY_ROLES)
    assert set(_mutations()) == set(MUTATION_ROLES)


def _codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code", "") for e in body.get("errors") or []]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("field", sorted(QUERY_ROLES))
def test_query_permissions(gql_as: dict[Role, GraphQLClient], role: Role, field: str) -> None:
    body = gql_as[role].post(QUERIES[field])
    if role in QUERY_ROLES[field]:
        assert "FORBIDDEN" not in _codes(body), body
        assert body.get("errors") is None, body
    else:
        assert _codes(body) == ["FORBIDDEN"]
        assert (body.get("data") or {}).get(field) is None


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("field", sorted(MUTATION_ROLES))
def test_mutation_permissions(
    gql_as: dict[Role, GraphQLClient], demo_loaded: str, role: Role, field: str
) -> None:
    before = row_counts(demo_loaded)
    body = gql_as[role].post(_mutations()[field])
    if role in MUTATION_ROLES[field]:
        assert "FORBIDDEN" not in _codes(body), body
        assert body["data"][field] is not None
    else:
        assert _codes(body) == ["FORBIDDEN"]
        assert body.get("data") is None or body["data"].get(field) is None
        assert row_counts(demo_loaded) == before


def _member(client: GraphQLClient, number: str) -> Any:
    return client.ok(
        "query ($n: String!) { member(memberNumber: $n) { id email"
        " loanApplications(first: 1) { edges { node { id member { memberNumber } } } }"
        " predictions(first: 1) { edges { node { id } } } } }",
        {"n": number},
    )["member"]


def test_member_key_sees_only_its_own_member(gql_as: dict[Role, GraphQLClient]) -> None:
    me = gql_as[Role.MEMBER]
    admin = gql_as[Role.ADMIN]
    other = _member(admin, OTHER_MEMBER)
    own = _member(me, MEMBER_KEY_OWNER)

    assert own is not None
    assert _member(me, OTHER_MEMBER) is None
    context = me.ok(
        "query ($n: String!) { agentContext(memberNumber: $n) { toolingHint } }",
        {"n": OTHER_MEMBER},
    )
    assert context["agentContext"] is None

    members = me.ok("{ members(first: 100) { totalCount edges { node { memberNumber } } } }")
    assert members["members"]["totalCount"] == 1
    assert [e["node"]["memberNumber"] for e in members["members"]["edges"]] == [MEMBER_KEY_OWNER]

    other_ids = [other["id"]]
    other_ids += [e["node"]["id"] for e in other["loanApplications"]["edges"]]
    other_ids += [e["node"]["id"] for e in other["predictions"]["edges"]]
    for other_id in other_ids:
        node = me.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": other_id})["node"]
        assert node is None, other_id
    for edge in own["loanApplications"]["edges"]:
        assert edge["node"]["member"]["memberNumber"] == MEMBER_KEY_OWNER


@pytest.mark.parametrize("connection", ["loanApplications", "predictions", "auditLogs"])
def test_member_key_connections_hold_only_own_rows(
    gql_as: dict[Role, GraphQLClient], connection: str
) -> None:
    me = gql_as[Role.MEMBER]
    selection = "totalCount edges { node { member { memberNumber } } }"
    data = me.ok(f"{{ {connection}(first: 100) {{ {selection} }} }}")[connection]
    assert {e["node"]["member"]["memberNumber"] for e in data["edges"]} <= {MEMBER_KEY_OWNER}
    filtered = me.ok(
        f'{{ {connection}(filter: {{memberNumber: "{OTHER_MEMBER}"}}) {{ totalCount }} }}'
    )
    assert filtered[connection]["totalCount"] == 0
    everyone = gql_as[Role.ADMIN].ok(f"{{ {connection} {{ totalCount }} }}")[connection]
    assert everyone["totalCount"] > data["totalCount"]


def test_member_key_feedback_only_on_own_predictions(
    gql_as: dict[Role, GraphQLClient], demo_loaded: str
) -> None:
    me = gql_as[Role.MEMBER]
    admin = gql_as[Role.ADMIN]
    other_prediction = _member(admin, OTHER_MEMBER)["predictions"]["edges"][0]["node"]["id"]
    own_predictions = _member(me, MEMBER_KEY_OWNER)["predictions"]["edges"]
    feedback = (
        "mutation ($id: ID!) { submitFeedback(input: {predictionId: $id, isCorrect: false})"
        " { feedback { id } userErrors { code field } } }"
    )
    before = row_counts(demo_loaded)
    refused = me.ok(feedback, {"id": other_prediction})["submitFeedback"]
    assert refused["feedback"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]
    assert row_counts(demo_loaded) == before
    if own_predictions:
        accepted = me.ok(feedback, {"id": own_predictions[0]["node"]["id"]})["submitFeedback"]
        assert accepted["userErrors"] == []
        assert accepted["feedback"] is not None


def test_agent_sees_emails_masked(gql_as: dict[Role, GraphQLClient]) -> None:
    plain = _member(gql_as[Role.ADVISOR], OTHER_MEMBER)["email"]
    masked = _member(gql_as[Role.AGENT], OTHER_MEMBER)["email"]
    local, domain = plain.split("@")
    assert masked == f"{local[0]}***@{domain}"
    listed = gql_as[Role.AGENT].ok("{ members(first: 5) { edges { node { email } } } }")
    assert all("***@" in e["node"]["email"] for e in listed["members"]["edges"])
