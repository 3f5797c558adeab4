"""Small helpers shared by the GraphQL tests: Relay ids and mutation payloads."""

import base64
from typing import Any

from tests.graphql_client import GraphQLClient


def global_id(type_name: str, node_id: object) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


def row_id_of(global_id_text: str, type_name: str) -> int:
    decoded_type, _, node_id = base64.b64decode(global_id_text).decode().partition(":")
    assert decoded_type == type_name
    return int(node_id)


def mutate(gql: GraphQLClient, document: str, variables: dict[str, Any]) -> tuple[Any, str]:
    """The mutation's payload (asserting no GraphQL errors) and the request id."""
    body = gql.post(document, {"input": variables})
    assert body.get("errors") is None, body["errors"]
    (payload,) = body["data"].values()
    return payload, body["extensions"]["requestId"]
