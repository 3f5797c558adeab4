"""An AGENT key (the policy gives it no READ_AUDIT) reads no audit rows by any path: not by
`node(id:)` on an AuditLog id, not through a member's nested `auditLogs`, on the compiled
one-statement path and on the resolver path alike. The roles that may read the log still do."""

from collections.abc import Iterator
from typing import Any

import pytest

from graphql_api.models import Role
from tests.compiled_oracle import MEMBER_KEY_OWNER, Oracle, serve_oracle

NESTED = """query ($n: String!) {
  member(memberNumber: $n) {
    auditLogs(first: 5) { totalCount edges { node { id action } } pageInfo { hasNextPage } }
  }
}"""
NODE = "query ($id: ID!) { node(id: $id) { id ... on AuditLog { action actor } } }"
PATHS = ("compiled", "resolvers")


@pytest.fixture(scope="module")
def oracle(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oracle]:
    yield from serve_oracle(postgres_server_url, tmp_path_factory.mktemp("oracle"))


def _data(oracle: Oracle, path: str, role: Role, query: str, variables: dict[str, Any]) -> Any:
    answer = oracle.ask(path, role, query, variables)
    assert answer.status == 200, answer.body
    assert "errors" not in answer.body, answer.body
    # Both paths answer: the compiled server compiles these reads, the other never does.
    assert answer.plan == path, answer.body
    return answer.body["data"]


def _audit_ids(oracle: Oracle) -> list[str]:
    data = _data(oracle, "resolvers", Role.ADMIN, NESTED, {"n": MEMBER_KEY_OWNER})
    ids = [edge["node"]["id"] for edge in data["member"]["auditLogs"]["edges"]]
    assert ids, "the member has no audit rows to probe with"
    return ids


@pytest.mark.parametrize("path", PATHS)
def test_agent_gets_no_nested_audit_rows(oracle: Oracle, path: str) -> None:
    data = _data(oracle, path, Role.AGENT, NESTED, {"n": MEMBER_KEY_OWNER})
    assert data["member"]["auditLogs"] == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False},
    }


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("role", [Role.ADMIN, Role.ADVISOR, Role.MEMBER], ids=str)
def test_roles_with_audit_access_still_get_nested_rows(
    oracle: Oracle, path: str, role: Role
) -> None:
    data = _data(oracle, path, role, NESTED, {"n": MEMBER_KEY_OWNER})
    logs = data["member"]["auditLogs"]
    assert logs["totalCount"] > 0
    assert logs["edges"]


@pytest.mark.parametrize("path", PATHS)
def test_agent_gets_no_audit_row_by_node_id(oracle: Oracle, path: str) -> None:
    for audit_id in _audit_ids(oracle):
        assert _data(oracle, path, Role.AGENT, NODE, {"id": audit_id}) == {"node": None}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("role", [Role.ADMIN, Role.ADVISOR, Role.MEMBER], ids=str)
def test_roles_with_audit_access_still_get_it_by_node_id(
    oracle: Oracle, path: str, role: Role
) -> None:
    audit_id = _audit_ids(oracle)[0]
    node = _data(oracle, path, role, NODE, {"id": audit_id})["node"]
    assert node is not None
    assert node["id"] == audit_id
    assert node["action"]
