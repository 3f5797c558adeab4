"""The pension client against the sandbox provider served over real HTTP on loopback."""

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio

from graphql_api.models.enums import MemberStatus
from graphql_api.upstream import (
    InvalidMemberNumberError,
    PensionClient,
    PensionClientConfig,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamNotFound,
    UpstreamUnavailable,
    parse_retry_after,
)
from tests.sandbox_server import FAST_CLIENT_CONFIG, SandboxServer, running_sandbox

API_KEY = "sk-live-TOPSECRET-0123456789abcdef"
MEMBER = "M-100002"
FAST = FAST_CLIENT_CONFIG


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with running_sandbox(api_key=API_KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_sandbox(sandbox: SandboxServer) -> None:
    sandbox.reset()


@pytest.fixture(autouse=True)
def _no_key_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test runs with DEBUG logging captured; none may log the key anywhere."""
    caplog.set_level(logging.DEBUG)
    yield
    # At teardown caplog.records holds only teardown records: inspect every phase explicitly.
    records = [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
    for record in records:
        assert API_KEY not in record.getMessage()
        assert API_KEY not in repr(record.__dict__)


@pytest_asyncio.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[PensionClient]:
    async with PensionClient(sandbox.base_url, API_KEY, FAST) as pension:
        yield pension


def assert_clean(error: BaseException, key: str = API_KEY) -> None:
    """Neither the error nor anything it chains to shows the key."""
    seen: BaseException | None = error
    while seen is not None:
        assert key not in str(seen)
        assert key not in repr(seen)
        seen = seen.__cause__ or seen.__context__


async def fetch_error(client: PensionClient, member: str = MEMBER) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        await client.get_member(member)
    assert_clean(caught.value)
    return caught.value


@pytest.mark.asyncio
async def test_member_is_parsed_exactly(client: PensionClient, sandbox: SandboxServer) -> None:
    member = await client.get_member("M-100001")  # balance sent as a JSON number
    assert member.member_number == "M-100001"
    assert member.full_name == "Ava Smith"
    assert member.status is MemberStatus.CLOSED
    assert member.contribution_balance == Decimal("453099.02")
    assert member.contribution_balance.as_tuple().exponent == -2
    assert member.currency == "USD"
    assert sandbox.requests_for("M-100001") == 1


@pytest.mark.asyncio
async def test_string_balance_other_currency_and_default_currency(client: PensionClient) -> None:
    eur = await client.get_member("M-100005")
    assert (eur.contribution_balance, eur.currency) == (Decimal("408377.85"), "EUR")
    assert (await client.get_member("M-100008")).currency == "USD"  # no currency in the body
    assert (await client.get_member("M-200001")).member_number == "M-200001"  # upstream only


@pytest.mark.parametrize("failures", [1, 2])
@pytest.mark.asyncio
async def test_500s_then_success(
    client: PensionClient, sandbox: SandboxServer, failures: int
) -> None:
    sandbox.set_fault("error_500", times=failures)
    member = await client.get_member(MEMBER)
    assert member.member_number == MEMBER
    assert sandbox.requests_for(MEMBER) == failures + 1


@pytest.mark.asyncio
async def test_persistent_500_gives_up_after_three_attempts(
    client: PensionClient, sandbox: SandboxServer
) -> None:
    sandbox.set_fault("error_500", times=100)
    error = await fetch_error(client)
    assert type(error) is UpstreamUnavailable
    assert (error.attempts, error.status_code) == (3, 500)
    assert sandbox.requests_for(MEMBER) == 3


@pytest.mark.asyncio
async def test_slow_responses_time_out_and_are_retried(
    client: PensionClient, sandbox: SandboxServer
) -> None:
    sandbox.set_fault("slow", times=100, delay_seconds=1.0)
    started = time.monotonic()
    error = await fetch_error(client)
    assert type(error) is UpstreamUnavailable
    assert "ReadTimeout" in str(error)
    assert sandbox.requests_for(MEMBER) == 3
    assert time.monotonic() - started < 1.0 * 3  # read timeouts cut the waits short


@pytest.mark.asyncio
async def test_one_slow_response_then_success(
    client: PensionClient, sandbox: SandboxServer
) -> None:
    sandbox.set_fault("slow", times=1, delay_seconds=1.0)
    assert (await client.get_member(MEMBER)).member_number == MEMBER
    assert sandbox.requests_for(MEMBER) == 2


@pytest.mark.asyncio
async def test_429_retry_after_is_honoured(client: PensionClient, sandbox: SandboxServer) -> None:
    sandbox.set_fault("rate_limited", times=1, retry_after=1)
    started = time.monotonic()
    assert (await client.get_member(MEMBER)).member_number == MEMBER
    assert time.monotonic() - started >= 1.0
    assert sandbox.requests_for(MEMBER) == 2


@pytest.mark.asyncio
async def test_retry_after_is_capped(sandbox: SandboxServer) -> None:
    config = PensionClientConfig(backoff_initial=0.01, backoff_jitter=0.0, retry_after_max=0.2)
    sandbox.set_fault("rate_limited", times=1, retry_after=3600)
    async with PensionClient(sandbox.base_url, API_KEY, config) as pension:
        started = time.monotonic()
        await pension.get_member(MEMBER)
    assert 0.2 <= time.monotonic() - started < 2.0
    assert sandbox.requests_for(MEMBER) == 2


@pytest.mark.asyncio
async def test_persistent_429_is_unavailable(client: PensionClient, sandbox: SandboxServer) -> None:
    sandbox.set_fault("rate_limited", times=100, retry_after=0)
    error = await fetch_error(client)
    assert type(error) is UpstreamUnavailable
    assert (error.attempts, error.status_code) == (3, 429)
    assert sandbox.requests_for(MEMBER) == 3


@pytest.mark.parametrize("mode", ["malformed_json", "bad_schema"])
@pytest.mark.asyncio
async def test_bad_bodies_are_not_retried(
    client: PensionClient, sandbox: SandboxServer, mode: str
) -> None:
    sandbox.set_fault(mode, times=100)
    error = await fetch_error(client)
    assert type(error) is UpstreamBadResponse
    assert error.attempts == 1
    assert sandbox.requests_for(MEMBER) == 1


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"contribution_balance": "-5.00"}, "negative"),
        ({"contribution_balance": -5}, "negative"),
        ({"contribution_balance": "10.001"}, "decimal places"),
        ({"contribution_balance": 1.005}, "decimal places"),
        ({"contribution_balance": float("nan")}, "non-finite"),
        ({"contribution_balance": "NaN"}, "plain decimal"),
        ({"contribution_balance": "1_000.00"}, "plain decimal"),
        ({"contribution_balance": True}, "number or a decimal string"),
        ({"contribution_balance": None}, "number or a decimal string"),
        ({"contribution_balance": 10**20}, "implausibly large"),
        ({"member_number": "M-100003"}, "does not match"),
        ({"status": "on_holiday"}, "status"),
        ({"full_name": ""}, "full_name"),
        ({"full_name": "x" * 201}, "full_name"),
        ({"currency": "usd"}, "currency"),
    ],
)
@pytest.mark.asyncio
async def test_off_contract_values_are_bad_responses(
    client: PensionClient, sandbox: SandboxServer, fields: dict[str, Any], reason: str
) -> None:
    sandbox.set_fault("override", fields=fields)
    error = await fetch_error(client)
    assert type(error) is UpstreamBadResponse
    assert reason in str(error)
    assert sandbox.requests_for(MEMBER) == 1


@pytest.mark.parametrize(
    ("fields", "balance"),
    [
        ({"contribution_balance": 100}, Decimal("100.00")),
        ({"contribution_balance": "0.5"}, Decimal("0.50")),
        ({"contribution_balance": "99999999999999.99"}, Decimal("99999999999999.99")),
        ({"status": "RETIRED", "currency": None}, Decimal("201112.13")),
    ],
)
@pytest.mark.asyncio
async def test_lenient_but_exact_values_are_accepted(
    client: PensionClient, sandbox: SandboxServer, fields: dict[str, Any], balance: Decimal
) -> None:
    sandbox.set_fault("override", fields=fields)
    member = await client.get_member(MEMBER)
    assert member.contribution_balance == balance
    assert member.contribution_balance.as_tuple().exponent == -2


@pytest.mark.asyncio
async def test_oversized_body_is_rejected(sandbox: SandboxServer) -> None:
    sandbox.set_fault("override", fields={"padding": "x" * 4000})
    config = PensionClientConfig(max_response_bytes=1024)
    async with PensionClient(sandbox.base_url, API_KEY, config) as pension:
        error = await fetch_error(pension)
    assert type(error) is UpstreamBadResponse
    assert "larger than 1024 bytes" in str(error)


@pytest.mark.asyncio
async def test_404_is_not_found_after_one_attempt(
    client: PensionClient, sandbox: SandboxServer
) -> None:
    error = await fetch_error(client, "M-999999")
    assert type(error) is UpstreamNotFound
    assert (error.attempts, error.status_code) == (1, 404)
    assert sandbox.requests_for("M-999999") == 1


@pytest.mark.asyncio
async def test_wrong_key_is_an_auth_error_and_not_retried(sandbox: SandboxServer) -> None:
    wrong_key = "sk-wrong-key-NOT-THE-RIGHT-ONE"
    async with PensionClient(sandbox.base_url, wrong_key, FAST) as pension:
        with pytest.raises(UpstreamAuthError) as caught:
            await pension.get_member(MEMBER)
        assert wrong_key not in repr(pension)
    assert isinstance(caught.value, UpstreamUnavailable)
    assert (caught.value.attempts, caught.value.status_code) == (1, 401)
    assert_clean(caught.value, wrong_key)
    assert sandbox.requests_for(MEMBER) == 1


@pytest.mark.asyncio
async def test_connection_refused_is_retried_then_unavailable() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with PensionClient(f"http://127.0.0.1:{port}", API_KEY, FAST) as pension:
        error = await fetch_error(pension)
    assert type(error) is UpstreamUnavailable
    assert error.attempts == 3
    assert "ConnectError" in str(error)


@pytest.mark.asyncio
async def test_invalid_member_number_never_reaches_the_provider(
    client: PensionClient, sandbox: SandboxServer
) -> None:
    for number in ["", "../_sandbox/reset", "M 1", "M-1?x=1", "x" * 33]:
        with pytest.raises(InvalidMemberNumberError):
            await client.get_member(number)
    assert sandbox.stats()["total"] == 0


@pytest.mark.asyncio
async def test_circuit_breaker_opens_fails_fast_and_recovers(sandbox: SandboxServer) -> None:
    config = PensionClientConfig(
        read_timeout=0.3, backoff_initial=0.01, backoff_jitter=0.0, breaker_threshold=2,
        breaker_cooldown=0.5,
    )  # fmt: skip
    sandbox.set_fault("error_500", times=1000)
    async with PensionClient(sandbox.base_url, API_KEY, config) as pension:
        for _ in range(2):
            assert type(await fetch_error(pension)) is UpstreamUnavailable
        assert await pension.breaker_state() == "opened"
        assert sandbox.requests_for(MEMBER) == 6

        sandbox.set_fault("none")
        fast = await fetch_error(pension)
        assert type(fast) is UpstreamUnavailable
        assert fast.attempts == 0
        assert "circuit is open" in str(fast)
        assert sandbox.requests_for(MEMBER) == 6  # no HTTP attempt while open

        await asyncio.sleep(0.6)
        assert (await pension.get_member(MEMBER)).member_number == MEMBER  # the trial call
        assert await pension.breaker_state() == "closed"
        assert sandbox.requests_for(MEMBER) == 7


@pytest.mark.asyncio
async def test_failed_trial_call_reopens_the_circuit(sandbox: SandboxServer) -> None:
    config = PensionClientConfig(
        backoff_initial=0.01, backoff_jitter=0.0, breaker_threshold=1, breaker_cooldown=0.3
    )
    sandbox.set_fault("error_500", times=1000)
    async with PensionClient(sandbox.base_url, API_KEY, config) as pension:
        await fetch_error(pension)
        await asyncio.sleep(0.4)
        await fetch_error(pension)  # trial call: 3 attempts, fails, circuit re-opens
        assert sandbox.requests_for(MEMBER) == 6
        assert (await fetch_error(pension)).attempts == 0
        assert sandbox.requests_for(MEMBER) == 6


@pytest.mark.asyncio
async def test_not_found_does_not_open_the_circuit(
    client: PensionClient, sandbox: SandboxServer
) -> None:
    for _ in range(FAST.breaker_threshold + 2):
        assert type(await fetch_error(client, "M-404404")) is UpstreamNotFound
    assert await client.breaker_state() == "closed"
    assert (await client.get_member(MEMBER)).member_number == MEMBER


@pytest.mark.asyncio
async def test_success_resets_the_failure_count(sandbox: SandboxServer) -> None:
    config = PensionClientConfig(backoff_initial=0.01, backoff_jitter=0.0, breaker_threshold=2)
    async with PensionClient(sandbox.base_url, API_KEY, config) as pension:
        for _ in range(3):  # fail, succeed, fail...: never two failures in a row
            sandbox.set_fault("error_500", times=3)
            await fetch_error(pension)
            await pension.get_member(MEMBER)
        assert await pension.breaker_state() == "closed"


# ---- the caller's deadline ------------------------------------------------------------------

# Production timeouts (read 5 s, 3 attempts, min_attempt 0.5 s), a tiny backoff and a breaker
# that stays closed: only the budget can stop these calls early.
PRODUCTION_LIKE = PensionClientConfig(
    backoff_initial=0.01, backoff_jitter=0.0, breaker_threshold=100
)
BUDGET = 1.5
# Generous: the budget's correctness is under test, not speed.
SLACK = 1.0


def deadline_in(seconds: float) -> float:
    return asyncio.get_running_loop().time() + seconds


async def timed_error(
    pension: PensionClient, deadline: float, member: str = MEMBER
) -> tuple[UpstreamError, float]:
    started = time.monotonic()
    with pytest.raises(UpstreamError) as caught:
        await pension.get_member(member, deadline=deadline)
    assert_clean(caught.value)
    return caught.value, time.monotonic() - started


@pytest.mark.asyncio
async def test_hung_provider_is_unavailable_within_the_budget(sandbox: SandboxServer) -> None:
    sandbox.hang()
    async with PensionClient(sandbox.base_url, API_KEY, PRODUCTION_LIKE) as pension:
        error, elapsed = await timed_error(pension, deadline_in(BUDGET))
    assert type(error) is UpstreamUnavailable
    assert "out of time" in str(error)
    # The one attempt's 5 s read timeout was cut to the budget; no time was left to retry.
    assert error.attempts == 1
    assert sandbox.requests_for(MEMBER) == 1
    assert BUDGET - 0.2 <= elapsed < BUDGET + SLACK


@pytest.mark.asyncio
async def test_retries_run_only_while_a_useful_attempt_fits(sandbox: SandboxServer) -> None:
    config = PensionClientConfig(
        read_timeout=0.4, max_attempts=10, min_attempt_seconds=0.3, backoff_initial=0.01,
        backoff_jitter=0.0, breaker_threshold=100,
    )  # fmt: skip
    sandbox.hang()
    async with PensionClient(sandbox.base_url, API_KEY, config) as pension:
        error, elapsed = await timed_error(pension, deadline_in(BUDGET))
    # Attempts end at ~0.4, ~0.8 and ~1.2 s; a fourth would have < 0.3 s of the 1.5 s left.
    assert type(error) is UpstreamUnavailable
    assert "out of time" in str(error)
    assert error.attempts == 3
    assert sandbox.requests_for(MEMBER) == 3
    assert elapsed < BUDGET + SLACK


@pytest.mark.parametrize(
    ("fault", "config"),
    [
        ({"mode": "rate_limited", "retry_after": 5}, PRODUCTION_LIKE),
        (
            {"mode": "error_500"},
            PensionClientConfig(backoff_initial=3.0, backoff_max=3.0, backoff_jitter=0.0),
        ),
    ],
    ids=["retry-after-5s", "backoff-3s"],
)
@pytest.mark.asyncio
async def test_no_backoff_sleeps_past_the_budget(
    sandbox: SandboxServer, fault: dict[str, Any], config: PensionClientConfig
) -> None:
    sandbox.set_fault(**fault, times=100)
    async with PensionClient(sandbox.base_url, API_KEY, config) as pension:
        error, elapsed = await timed_error(pension, deadline_in(BUDGET))
    # A wait of 3-5 s cannot fit a 1.5 s budget: give up at once instead of sleeping.
    assert type(error) is UpstreamUnavailable
    assert "out of time" in str(error)
    assert error.attempts == 1
    assert sandbox.requests_for(MEMBER) == 1
    assert elapsed < BUDGET


@pytest.mark.parametrize("seconds", [0.1, -5.0])
@pytest.mark.asyncio
async def test_too_short_a_budget_never_asks_the_provider(
    sandbox: SandboxServer, seconds: float
) -> None:
    config = PensionClientConfig(breaker_threshold=1)
    async with PensionClient(sandbox.base_url, API_KEY, config) as pension:
        for _ in range(3):
            error, _ = await timed_error(pension, deadline_in(seconds))
            assert type(error) is UpstreamUnavailable
            assert error.attempts == 0
            assert "no time left" in str(error)
        # Not the provider's failure: even a threshold of 1 leaves the circuit closed.
        assert await pension.breaker_state() == "closed"
    assert sandbox.stats()["total"] == 0


@pytest.mark.asyncio
async def test_running_out_of_time_counts_as_a_provider_failure(sandbox: SandboxServer) -> None:
    config = PensionClientConfig(backoff_initial=0.01, breaker_threshold=2)
    sandbox.hang()
    async with PensionClient(sandbox.base_url, API_KEY, config) as pension:
        for _ in range(2):
            error, _ = await timed_error(pension, deadline_in(0.8))
            assert error.attempts == 1
        assert await pension.breaker_state() == "opened"
        fast, _ = await timed_error(pension, deadline_in(BUDGET))
    assert fast.attempts == 0
    assert "circuit is open" in str(fast)
    assert sandbox.requests_for(MEMBER) == 2


@pytest.mark.asyncio
async def test_a_healthy_provider_answers_within_a_budget(
    client: PensionClient, sandbox: SandboxServer
) -> None:
    member = await client.get_member(MEMBER, deadline=deadline_in(BUDGET))
    assert member.member_number == MEMBER
    assert sandbox.requests_for(MEMBER) == 1


def test_client_repr_and_validation_hide_the_key() -> None:
    client = PensionClient("http://127.0.0.1:9", API_KEY)
    assert API_KEY not in repr(client)
    assert API_KEY not in str(client)
    assert API_KEY not in repr(vars(client))
    for bad_key in ["", "has space", "non-ascii-é-" + API_KEY]:
        with pytest.raises(ValueError, match="API key") as caught:
            PensionClient("http://127.0.0.1:9", bad_key)
        assert API_KEY not in str(caught.value)
    with pytest.raises(ValueError, match="credentials"):
        PensionClient("http://user:pw@127.0.0.1:9", API_KEY)
    with pytest.raises(ValueError, match="http"):
        PensionClient("ftp://127.0.0.1", API_KEY)


def test_parse_retry_after() -> None:
    assert parse_retry_after("3", cap=10) == 3.0
    assert parse_retry_after(" 7 ", cap=5) == 5.0
    assert parse_retry_after(None, cap=5) is None
    assert parse_retry_after("soon", cap=5) is None
    assert parse_retry_after("-1", cap=5) is None
    future = format_datetime(datetime.now(UTC) + timedelta(seconds=4), usegmt=True)
    waited = parse_retry_after(future, cap=10)
    assert waited is not None
    assert 2.0 <= waited <= 4.0
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=60), usegmt=True)
    assert parse_retry_after(past, cap=10) == 0.0


def test_sandbox_admin_rejects_bad_faults(sandbox: SandboxServer) -> None:
    response = httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"mode": "explode"})
    assert response.status_code == 422
    response = httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"mode": "slow", "times": 0})
    assert response.status_code == 422


def test_sandbox_requires_the_key(sandbox: SandboxServer) -> None:
    response = httpx.get(f"{sandbox.base_url}/members/{MEMBER}")
    assert response.status_code == 401
    response = httpx.get(
        f"{sandbox.base_url}/members/{MEMBER}", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert response.status_code == 200
    assert sandbox.requests_for(MEMBER) == 2
