"""createMember end to end over HTTP: stored as given, audited in the same transaction,
refusals write nothing, idempotency, and CONFLICT for taken numbers and emails (including
the race where the unique index, not the up-front check, catches the duplicate)."""

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from graphql_api.auth.service import hash_token
from graphql_api.models import Role
from tests.db_counts import fetch, row_counts
from tests.demo_file import demo_members
from tests.graphql_client import GraphQLClient

CREATE = """
mutation ($input: CreateMemberInput!) {
  createMember(input: $input) {
    member { id memberNumber fullName email status createdAt pensionAccount { id }
             auditLogs(first: 5) { totalCount edges { node { action } } } }
    userErrors { code message field }
  }
}
"""
AUDIT_BY_REQUEST = """
query ($r: String) { auditLogs(filter: {requestId: $r}) { edges { node {
  action entityType entityId actor payload createdAt member { memberNumber } } } } }
"""


def _actor(database_url: str, token: str) -> str:
    """The audit actor of the API key `token`: "api-key:<id> (<label>)"."""
    sql = "SELECT id, label FROM api_keys WHERE token_hash = $1"
    (key,) = asyncio.run(fetch(database_url, sql, hash_token(token)))
    return f"api-key:{key['id']} ({key['label']})"


def _unique() -> str:
    return uuid.uuid4().hex[:12]


def _input(**overrides: Any) -> dict[str, Any]:
    # "T-" numbers and names without "M-" keep these members out of the read tests' searches.
    tag = _unique()
    return {
        "memberNumber": f"T-{tag}",
        "fullName": "Ada Quinn",
        "email": f"Ada.Quinn.{tag}@Example.ORG",
        "status": "ACTIVE",
        **overrides,
    }


def _create(gql: GraphQLClient, member_input: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = gql.ok(CREATE, {"input": member_input})["createMember"]
    return result


def _errors(result: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in result["userErrors"]]


def _grew(before: dict[str, int], after: dict[str, int], **growth: int) -> bool:
    return after == {table: count + growth.get(table, 0) for table, count in before.items()}


def test_member_is_created_as_given_and_audited(
    gql: GraphQLClient, api_keys: dict[Role, str], demo_loaded: str
) -> None:
    member_input = _input(fullName="Zoë d'Arcy-Lund", status="DEFERRED")
    before = row_counts(demo_loaded)
    body = gql.post(CREATE, {"input": member_input}, headers={"X-Request-ID": f"t-{_unique()}"})
    result = body["data"]["createMember"]

    assert result["userErrors"] == []
    member = result["member"]
    assert member["memberNumber"] == member_input["memberNumber"]
    assert member["fullName"] == "Zoë d'Arcy-Lund"
    assert member["email"] == member_input["email"]  # case preserved
    assert member["status"] == "DEFERRED"
    assert member["pensionAccount"] is None
    # The payload reads the committed state, audit trail included.
    assert member["auditLogs"]["totalCount"] == 1
    assert _grew(before, row_counts(demo_loaded), members=1, audit_logs=1)

    audit = gql.ok(AUDIT_BY_REQUEST, {"r": body["extensions"]["requestId"]})["auditLogs"]["edges"]
    assert len(audit) == 1
    entry = audit[0]["node"]
    (row,) = asyncio.run(
        fetch(
            demo_loaded, "SELECT id FROM members WHERE member_number = $1", member["memberNumber"]
        )
    )
    assert (entry["action"], entry["entityType"], entry["entityId"]) == (
        "member.created",
        "Member",
        str(row["id"]),
    )
    assert entry["actor"] == _actor(demo_loaded, api_keys[Role.ADMIN])  # gql's key
    assert entry["member"]["memberNumber"] == member["memberNumber"]
    assert entry["payload"] == {
        "memberNumber": member["memberNumber"],
        "fullName": "Zoë d'Arcy-Lund",
        "status": "DEFERRED",
    }
    # now() is the transaction's start: equal timestamps mean one transaction.
    assert entry["createdAt"] == member["createdAt"]


TOO_LONG_EMAIL = "a@" + ".".join(["b" * 60] * 6) + ".org"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"memberNumber": ""}, "memberNumber"),
        ({"memberNumber": "T-" + "9" * 31}, "memberNumber"),
        ({"memberNumber": "T 1"}, "memberNumber"),
        ({"memberNumber": "T-1'; DROP TABLE members;--"}, "memberNumber"),
        ({"fullName": ""}, "fullName"),
        ({"fullName": "   "}, "fullName"),
        ({"fullName": "Ada\x00Quinn"}, "fullName"),
        ({"fullName": "A" * 201}, "fullName"),
        ({"email": ""}, "email"),
        ({"email": "ada.example.org"}, "email"),
        ({"email": "ada@localhost"}, "email"),
        ({"email": "ada@@example.org"}, "email"),
        ({"email": "ada quinn@example.org"}, "email"),
        ({"email": " ada@example.org"}, "email"),
        ({"email": "ada@example..org"}, "email"),
        ({"email": "ada\x00@example.org"}, "email"),
        ({"email": TOO_LONG_EMAIL}, "email"),
        ({"idempotencyKey": ""}, "idempotencyKey"),
        ({"idempotencyKey": "k" * 201}, "idempotencyKey"),
    ],
)
def test_bad_input_is_a_user_error_and_writes_nothing(
    gql: GraphQLClient, demo_loaded: str, overrides: dict[str, Any], field: str
) -> None:
    assert len(TOO_LONG_EMAIL) > 320
    before = row_counts(demo_loaded)
    result = _create(gql, _input(**overrides))
    assert result["member"] is None
    assert _errors(result) == [("INVALID_INPUT", ["input", field])]
    assert result["userErrors"][0]["message"]
    assert row_counts(demo_loaded) == before


def test_unknown_status_is_rejected_by_graphql(gql: GraphQLClient, demo_loaded: str) -> None:
    before = row_counts(demo_loaded)
    body = gql.post(CREATE, {"input": _input(status="DECEASED")})
    assert body.get("data") is None
    assert body["errors"]
    assert row_counts(demo_loaded) == before


def test_taken_member_number_is_a_conflict(gql: GraphQLClient, demo_loaded: str) -> None:
    before = row_counts(demo_loaded)
    result = _create(gql, _input(memberNumber=demo_members()[0]["member_number"]))
    assert result["member"] is None
    assert _errors(result) == [("CONFLICT", ["input", "memberNumber"])]
    assert demo_members()[0]["member_number"] in result["userErrors"][0]["message"]
    assert row_counts(demo_loaded) == before


def test_email_taken_in_another_case_is_a_conflict(gql: GraphQLClient, demo_loaded: str) -> None:
    first = _create(gql, _input())
    assert first["userErrors"] == []
    email = first["member"]["email"]
    before = row_counts(demo_loaded)
    for variant in (email, email.lower(), email.upper(), demo_members()[1]["email"].upper()):
        result = _create(gql, _input(email=variant))
        assert result["member"] is None
        assert _errors(result) == [("CONFLICT", ["input", "email"])]
        # Whose address it is stays private.
        assert variant not in result["userErrors"][0]["message"]
    both = _create(gql, _input(memberNumber=first["member"]["memberNumber"], email=email.lower()))
    assert _errors(both) == [
        ("CONFLICT", ["input", "memberNumber"]),
        ("CONFLICT", ["input", "email"]),
    ]
    assert row_counts(demo_loaded) == before


def test_idempotent_retry_returns_the_first_member(gql: GraphQLClient, demo_loaded: str) -> None:
    key = f"create-{uuid.uuid4()}"
    member_input = _input(idempotencyKey=key)
    first = _create(gql, member_input)
    assert first["userErrors"] == []
    before = row_counts(demo_loaded)

    again = _create(gql, member_input)
    assert again["userErrors"] == []
    assert again["member"]["id"] == first["member"]["id"]
    assert row_counts(demo_loaded) == before

    other = _create(gql, {**member_input, "fullName": "Someone Else"})
    assert other["member"] is None
    assert _errors(other) == [("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"])]
    assert row_counts(demo_loaded) == before


def test_a_refused_request_does_not_claim_its_key(gql: GraphQLClient, demo_loaded: str) -> None:
    key = f"refused-{uuid.uuid4()}"
    taken = demo_members()[0]["member_number"]
    refused = _create(gql, _input(memberNumber=taken, idempotencyKey=key))
    assert _errors(refused) == [("CONFLICT", ["input", "memberNumber"])]
    before = row_counts(demo_loaded)
    created = _create(gql, _input(idempotencyKey=key))
    assert created["userErrors"] == []
    assert _grew(before, row_counts(demo_loaded), members=1, audit_logs=1, idempotency_keys=1)


async def _wait_for_lock_waiter(database_url: str) -> None:
    """Until some session of this database waits on a lock (the API's INSERT)."""
    monitor = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + 10
        while not await monitor.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ):
            assert time.monotonic() < deadline, "the API request never blocked on the row"
            await asyncio.sleep(0.02)
    finally:
        await monitor.close()


async def _race(
    api_url: str, token: str, database_url: str, row: tuple[str, str], payload: Any
) -> Any:
    """Insert `row` (number, email) in an open transaction, send the request (which passes
    the up-front check and blocks on the unique index), then commit under it."""
    connection = await asyncpg.connect(database_url)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(
            "INSERT INTO members (member_number, full_name, email, status)"
            " VALUES ($1, 'Racing Rival', $2, 'ACTIVE')",
            *row,
        )
        request = asyncio.get_running_loop().run_in_executor(
            None,
            lambda: httpx.post(
                f"{api_url}/graphql",
                json=payload,
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            ).json(),
        )
        await _wait_for_lock_waiter(database_url)
        await transaction.commit()
        return await request
    finally:
        await connection.close()


@pytest.mark.parametrize("field", ["memberNumber", "email"])
def test_race_on_a_unique_index_is_a_conflict_and_writes_nothing(
    api_url: str, api_keys: dict[Role, str], demo_loaded: str, field: str
) -> None:
    member_input = _input(idempotencyKey=f"race-{uuid.uuid4()}")
    rival = _input()
    row = (
        member_input["memberNumber"] if field == "memberNumber" else rival["memberNumber"],
        member_input["email"].upper() if field == "email" else rival["email"],
    )
    before = row_counts(demo_loaded)
    body = asyncio.run(
        _race(
            api_url,
            api_keys[Role.ADMIN],
            demo_loaded,
            row,
            {"query": CREATE, "variables": {"input": member_input}},
        )
    )
    result = body["data"]["createMember"]
    assert result["member"] is None
    assert _errors(result) == [("CONFLICT", ["input", field])]
    # Only the rival's row: no member, audit row or idempotency claim from the API.
    assert _grew(before, row_counts(demo_loaded), members=1)
