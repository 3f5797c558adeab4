"""Relay `node(id:)` never fails on ids that name no node type: they identify nothing."""

import base64

import pytest

from tests.graphql_client import GraphQLClient


@pytest.mark.parametrize("raw", ["Foo:1", "PageInfo:1", "AgentContext:1", "Member:x", "Member:"])
def test_id_naming_no_node_is_null(gql: GraphQLClient, raw: str) -> None:
    global_id = base64.b64encode(raw.encode()).decode()
    body = gql.post("query ($id: ID!) { node(id: $id) { id } }", {"id": global_id})
    assert body.get("errors") is None, body
    assert body["data"] == {"node": None}


def test_id_that_is_not_base64_is_a_input_error(gql: GraphQLClient) -> None:
    body = gql.post("query ($id: ID!) { node(id: $id) { id } }", {"id": "garbage"})
    assert not (body.get("data") or {}).get("node")
    assert "GlobalID" in body["errors"][0]["message"]
    assert "Unexpected error" not in body["errors"][0]["message"]
