"""Subscriptions deliver committed audit events, typed, filtered and scoped per viewer."""

import asyncio
from collections.abc import Iterator

import pytest

from graphql_api.models import Role
from tests.conftest import MEMBER_KEY_OWNER
from tests.graphql_client import GraphQLClient
from tests.subscription_server import subscription_server
from tests.ws_client import APPLY_FOR_LOAN, AUDIT_EVENTS, MEMBER_UPDATED, WsClient, error_codes

OTHER_MEMBER = "M-100001"


@pytest.fixture(scope="module")
def sub_url(demo_loaded: str, app_database_url: str) -> Iterator[str]:
    with subscription_server(app_database_url) as url:
        yield url


@pytest.fixture(scope="module")
def http_as(sub_url: str, api_keys: dict[Role, str]) -> Iterator[dict[Role, GraphQLClient]]:
    with (
        GraphQLClient.connect(sub_url, api_keys[Role.ADMIN]) as admin,
        GraphQLClient.connect(sub_url, api_keys[Role.AGENT]) as agent,
    ):
        yield {Role.ADMIN: admin, Role.AGENT: agent}


def apply_for_loan(client: GraphQLClient, member: str) -> str:
    data = client.ok(APPLY_FOR_LOAN, {"member": member})
    assert data["applyForLoan"]["userErrors"] == []
    loan_id: str = data["applyForLoan"]["loanApplication"]["id"]
    return loan_id


async def settle() -> None:
    """Let the server register a just-sent subscription (no ack exists for it)."""
    await asyncio.sleep(0.3)


@pytest.mark.asyncio
async def test_committed_mutation_is_delivered_as_a_typed_audit_log(
    sub_url: str, api_keys: dict[Role, str], http_as: dict[Role, GraphQLClient]
) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        assert ws.ack is not None
        assert isinstance(ws.ack["pid"], int)
        await ws.subscribe("1", AUDIT_EVENTS, {"filter": {"memberNumber": OTHER_MEMBER}})
        await settle()
        apply_for_loan(http_as[Role.ADMIN], OTHER_MEMBER)
        event = (await ws.next_data("1"))["auditEvents"]
    assert event["action"] == "loan.applied"
    assert event["entityType"] == "LoanApplication"
    assert event["member"] == {"memberNumber": OTHER_MEMBER, "email": event["member"]["email"]}
    assert "@" in event["member"]["email"]
    assert "***" not in event["member"]["email"]
    assert event["actor"].startswith("api-key:")
    assert isinstance(event["payload"], dict)
    assert event["createdAt"]


@pytest.mark.asyncio
async def test_a_refused_mutation_announces_nothing(
    sub_url: str, api_keys: dict[Role, str], http_as: dict[Role, GraphQLClient]
) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("1", AUDIT_EVENTS)
        await settle()
        refused = http_as[Role.ADMIN].ok(APPLY_FOR_LOAN, {"member": "M-999999"})
        assert refused["applyForLoan"]["userErrors"]
        await ws.nothing_for(1.0)


@pytest.mark.asyncio
async def test_filters_by_member_and_action(
    sub_url: str, api_keys: dict[Role, str], http_as: dict[Role, GraphQLClient]
) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("other", AUDIT_EVENTS, {"filter": {"memberNumber": MEMBER_KEY_OWNER}})
        await ws.subscribe("action", AUDIT_EVENTS, {"filter": {"action": "no.such.action"}})
        await ws.subscribe("mine", AUDIT_EVENTS, {"filter": {"memberNumber": OTHER_MEMBER}})
        await settle()
        apply_for_loan(http_as[Role.ADMIN], OTHER_MEMBER)
        event = (await ws.next_data("mine"))["auditEvents"]
        assert event["member"]["memberNumber"] == OTHER_MEMBER
        # Neither of the others matched: nothing else arrives.
        await ws.nothing_for(1.0)


@pytest.mark.asyncio
async def test_member_key_sees_only_its_own_member(
    sub_url: str, api_keys: dict[Role, str], http_as: dict[Role, GraphQLClient]
) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.MEMBER]) as ws:
        await ws.subscribe("all", AUDIT_EVENTS)
        await ws.subscribe("theirs", AUDIT_EVENTS, {"filter": {"memberNumber": OTHER_MEMBER}})
        refused = await ws.next_message("theirs")
        assert refused["type"] == "error"
        assert error_codes(refused) == ["FORBIDDEN"]
        await settle()
        apply_for_loan(http_as[Role.ADMIN], OTHER_MEMBER)
        apply_for_loan(http_as[Role.ADMIN], MEMBER_KEY_OWNER)
        event = (await ws.next_data("all"))["auditEvents"]
        assert event["member"]["memberNumber"] == MEMBER_KEY_OWNER
        await ws.nothing_for(0.5)


@pytest.mark.asyncio
async def test_agent_may_not_read_audit_events(sub_url: str, api_keys: dict[Role, str]) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.AGENT]) as ws:
        await ws.subscribe("1", AUDIT_EVENTS)
        message = await ws.next_message("1")
    assert error_codes(message) == ["FORBIDDEN"]


@pytest.mark.asyncio
async def test_agent_gets_member_updates_with_email_masked(
    sub_url: str, api_keys: dict[Role, str], http_as: dict[Role, GraphQLClient]
) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.AGENT]) as ws:
        await ws.subscribe("1", MEMBER_UPDATED, {"number": OTHER_MEMBER})
        await settle()
        apply_for_loan(http_as[Role.AGENT], OTHER_MEMBER)
        member = (await ws.next_data("1"))["memberUpdated"]
    assert member["memberNumber"] == OTHER_MEMBER
    assert "***" in member["email"]
    # Nested fields resolve through fresh loaders: the new application is counted.
    assert member["loanApplications"]["totalCount"] >= 1


@pytest.mark.asyncio
async def test_member_updated_refuses_unknown_and_invisible_members(
    sub_url: str, api_keys: dict[Role, str]
) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("1", MEMBER_UPDATED, {"number": "M-999999"})
        assert error_codes(await ws.next_message("1")) == ["NOT_FOUND"]
    async with WsClient.connect(sub_url, api_keys[Role.MEMBER]) as ws:
        await ws.subscribe("2", MEMBER_UPDATED, {"number": OTHER_MEMBER})
        assert error_codes(await ws.next_message("2")) == ["FORBIDDEN"]
        await ws.subscribe("3", MEMBER_UPDATED, {"number": "M-999999"})
        assert error_codes(await ws.next_message("3")) == ["FORBIDDEN"]
