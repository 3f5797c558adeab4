"""Rate limiting: token-bucket arithmetic with a fake clock, then over real HTTP."""

import asyncio
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from graphql_api.auth.service import hash_token
from graphql_api.config import Settings
from graphql_api.models import Role
from graphql_api.runtime.app import create_app
from graphql_api.security.rate_limit import TokenBucketLimiter, client_key
from tests.api_keys import create_api_key, revoke_api_key
from tests.db_counts import fetch
from tests.http_server import serve_in_thread

QUERY = "{ members(first: 1) { totalCount } }"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_the_sustained_rate() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(20, 200, clock=clock)
    assert [limiter.acquire("a") for _ in range(200)] == [0.0] * 200
    assert limiter.acquire("a") == pytest.approx(1 / 20)
    clock.now += 1.0  # 20 tokens back
    assert [limiter.acquire("a") for _ in range(20)] == [0.0] * 20
    assert limiter.acquire("a") > 0
    # Other keys are untouched.
    assert limiter.acquire("b") == 0.0


def test_retry_after_is_the_time_until_the_next_token() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(0.5, 2, clock=clock)  # one token every 2 s
    assert limiter.acquire("a") == limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == pytest.approx(2.0)
    clock.now += 1.5
    assert limiter.acquire("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.acquire("a") == 0.0


def test_refused_requests_do_not_use_tokens() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(1, 1, clock=clock)
    assert limiter.acquire("a") == 0.0
    for _ in range(5):
        assert limiter.acquire("a") > 0
    clock.now += 1.0
    assert limiter.acquire("a") == 0.0


def test_idle_buckets_are_evicted_and_memory_is_bounded() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(10, 20, max_keys=1000, clock=clock)
    for i in range(5000):
        limiter.acquire(f"k{i}")
        assert len(limiter) <= 1000
    clock.now += 2.0  # every bucket has refilled (20 tokens at 10/s): all are dropped
    limiter.acquire("fresh")
    assert len(limiter) == 1
    # An evicted key starts with a full bucket, exactly as if it had been kept.
    assert [limiter.acquire("k1") for _ in range(20)] == [0.0] * 20


def test_the_key_is_the_api_key_else_the_client_ip() -> None:
    assert client_key({"state": {"api_key_id": "42"}, "client": ("10.0.0.1", 1)}) == "key:42"
    assert client_key({"state": {}, "client": ("10.0.0.1", 1)}) == "ip:10.0.0.1"
    assert client_key({"client": None}) == "ip:unknown"


BURST = 5
RATE = 1.0  # a token a second: Retry-After is 1


@dataclass
class Limited:
    """A served app with a small rate limit; its callers' keys; the SQL it ran."""

    url: str
    limiter: TokenBucketLimiter
    database_url: str
    keys: dict[str, str] = field(default_factory=dict)
    # Every statement but authentication's key lookup, and the key lookups.
    statements: Counter[str] = field(default_factory=Counter)

    def key(self, caller: str) -> str:
        """The real API key of the caller named `caller` ("alpha", "beta", ...)."""
        if caller not in self.keys:
            self.keys[caller] = create_api_key(self.database_url, Role.ADMIN, label=caller)
        return self.keys[caller]

    def key_id(self, caller: str) -> int:
        sql = "SELECT id FROM api_keys WHERE token_hash = $1"
        (row,) = asyncio.run(fetch(self.database_url, sql, hash_token(self.key(caller))))
        return int(row["id"])


@pytest.fixture(scope="module")
def limited(demo_loaded: str) -> Iterator[Limited]:
    settings = Settings(
        database_url=demo_loaded, rate_limit_per_second=RATE, rate_limit_burst=BURST
    )
    app = create_app(settings)
    with serve_in_thread(app) as url:
        server = Limited(url, app.state.rate_limiter, demo_loaded)

        def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
            server.statements["key lookup" if "FROM api_keys" in statement else "other"] += 1

        event.listen(app.state.sessionmaker.kw["bind"].sync_engine, "before_cursor_execute", count)
        yield server


def _post(
    server: Limited,
    *,
    caller: str | None = None,
    token: str | None = None,
    source: str = "127.0.0.1",
) -> httpx.Response:
    """POST the query as `caller` (its real key), with a raw `token`, or with no key."""
    if caller is not None:
        token = server.key(caller)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=server.url, transport=transport, timeout=30) as client:
        return client.post("/graphql", json={"query": QUERY}, headers=headers)


def _exhaust(server: Limited, **who: Any) -> httpx.Response:
    """Spend the burst (some tokens may already have come back), then one more."""
    for _ in range(BURST + 2):
        response = _post(server, **who)
        if response.status_code == 429:
            return response
        assert response.status_code == 200, response.text
        assert "errors" not in response.json()
    raise AssertionError("the burst was not limited")


def test_over_the_burst_gets_429_with_retry_after(limited: Limited) -> None:
    limited.key("alpha")  # created before the clock starts
    started = time.monotonic()
    served = 0
    for _ in range(BURST * 4):
        if (response := _post(limited, caller="alpha")).status_code != 200:
            break
        served += 1
    elapsed = time.monotonic() - started
    assert BURST <= served <= BURST + math.ceil(elapsed * RATE)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body == {
        "errors": [
            {
                "message": "Rate limit exceeded; retry after 1 s.",
                "extensions": {
                    "code": "RATE_LIMITED",
                    "retryAfter": 1,
                    "requestId": response.headers["x-request-id"],
                },
            }
        ]
    }
    # A refused request does nothing but authenticate its key (auth runs before the limiter):
    # at most its key lookup, none while auth has the key cached.
    before = Counter(limited.statements)
    assert _post(limited, caller="alpha").status_code == 429
    assert (limited.statements - before)["other"] == 0
    assert (limited.statements - before)["key lookup"] <= 1


def test_allowed_again_after_retry_after(limited: Limited) -> None:
    refused = _exhaust(limited, caller="beta")
    time.sleep(int(refused.headers["retry-after"]))
    response = _post(limited, caller="beta")
    assert response.status_code == 200
    assert response.json()["data"]["members"]["totalCount"] > 0


def test_each_key_has_its_own_bucket(limited: Limited) -> None:
    gamma = limited.key_id("gamma")
    _exhaust(limited, caller="gamma")
    # The bucket is the real key's, by its id (no request is in flight to race this).
    assert limited.limiter.acquire(f"key:{gamma}") > 0
    # The key is the caller, whatever its address.
    assert _post(limited, caller="gamma", source="127.0.0.3").status_code == 429
    assert _post(limited, caller="delta").status_code == 200


def test_requests_without_a_valid_key_are_refused_before_the_limiter(limited: Limited) -> None:
    """Auth answers 401 before the limiter runs: requests without a valid key make no bucket,
    are never 429 however many come from one address, and spend no caller's tokens."""
    revoked = limited.key("revoked")
    revoke_api_key(limited.database_url, revoked)
    invalid = [None, "fgk_" + "x" * 43, "not-a-key", revoked]

    def refused_by_auth(token: str | None) -> None:
        response = _post(limited, token=token)
        assert response.status_code == 401, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    buckets = len(limited.limiter)
    for token in invalid:
        for _ in range(BURST + 2):
            refused_by_auth(token)
    assert len(limited.limiter) == buckets  # only a request that gets a token touches it
    # Interleaved with them, a real key from the same address still gets its whole burst.
    limited.key("zeta")
    started = time.monotonic()
    served = 0
    for _ in range(BURST * 4):
        if (response := _post(limited, caller="zeta")).status_code != 200:
            break
        served += 1
        for token in invalid:
            refused_by_auth(token)
    elapsed = time.monotonic() - started
    assert BURST <= served <= BURST + math.ceil(elapsed * RATE)
    assert response.status_code == 429


def test_health_checks_are_not_limited(limited: Limited) -> None:
    _exhaust(limited, caller="eta", source="127.0.0.4")
    with httpx.Client(
        base_url=limited.url, transport=httpx.HTTPTransport(local_address="127.0.0.4")
    ) as client:
        assert all(client.get("/healthz").status_code == 200 for _ in range(BURST * 2))
        # Not even with the exhausted key.
        headers = {"Authorization": f"Bearer {limited.key('eta')}"}
        assert all(
            client.get("/healthz", headers=headers).status_code == 200 for _ in range(BURST * 2)
        )
