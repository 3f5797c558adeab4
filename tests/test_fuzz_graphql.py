"""Schemathesis fuzzes every root field of the committed contract (schema.graphql), queries and
mutations alike, as each role, against the real API over HTTP on loopback.

Every generated request must get a clean answer: never a 5xx, never a masked
`Unexpected error` / INTERNAL_SERVER_ERROR, and a 4xx only as a JSON GraphQL error body whose
errors carry `extensions.code`. Generation is bounded (EXAMPLES per operation and role) and
deterministic (a fixed seed, derandomized Hypothesis, no example database), so CI runs the
same requests every time. Custom scalars get their own strategies (tests/fuzz_strategies.py),
and dictionaries steer member numbers and ids to real rows so that mutations reach their
validation, scoring and writes, not only "not found".

The server is this module's own (rate limiting off: the fuzzer bursts) over the session
database, with a sandbox pension provider that knows only the fuzz members (Z-FZ-*), so
syncMember runs end to end without rewriting demo members that other tests read. Mutations
do write rows (loans, portfolios, predictions, feedback, members numbered Z-...) to the
session database: the members sort after all others, and no other test counts those
tables in absolute terms (tests/fuzz_strategies.py says how).

Run only this suite: `pytest -m fuzz` (add `-s` for the table of outcomes per role and
operation; FUZZ_EXAMPLES=150 for a deeper run). `test_zz_every_mutation_ran` (last) proves
the generator reached every mutation's resolver and got writes through, so a strategy that
stops fitting the schema cannot pass silently. The same seed gives every role the same
requests, so the roles' answers are directly comparable.
"""

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
import requests
import schemathesis
from graphql import GraphQLObjectType
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from graphql_api.config import Settings
from graphql_api.models import Role
from graphql_api.runtime.app import create_app
from tests.fuzz_strategies import (
    SANDBOX_MEMBERS,
    datetime_literals,
    decimal_literals,
    schemathesis_config,
)
from tests.http_server import serve_in_thread
from tests.sandbox_server import running_sandbox

SCHEMA_FILE: Final = Path(__file__).resolve().parent.parent / "schema.graphql"
SEED: Final = 20261122
# Per operation and role. CI keeps 25 (about 1,500 requests in all); FUZZ_EXAMPLES raises it
# for a deeper run with the same seed.
EXAMPLES: Final = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SANDBOX_KEY: Final = "fuzz-sandbox-key"

schemathesis.graphql.scalar("Decimal", decimal_literals())
schemathesis.graphql.scalar("DateTime", datetime_literals())
schema = schemathesis.graphql.from_path(
    SCHEMA_FILE, config=SchemathesisConfig.from_dict(schemathesis_config(SEED))
)

pytestmark = pytest.mark.fuzz

# Random allocations almost never have weights summing to 1, so these mostly end in
# userErrors; tests/test_portfolio_mutations.py covers the writes.
RARELY_WRITES: Final = frozenset({"recordRecommendation"})

# (role, root field) -> outcomes seen ("requests", then what _judge returns). Filled by the
# fuzz test, checked and printed by the last test.
OUTCOMES: Final[dict[tuple[str, str], Counter[str]]] = {}


@pytest.fixture(scope="module")
def fuzz_url(
    app_database_url: str, demo_loaded: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The API over HTTP on loopback without a rate limit, on the session database, with a
    sandbox pension provider that knows only the fuzz members."""
    members_file = tmp_path_factory.mktemp("fuzz") / "sandbox_members.json"
    members_file.write_text(json.dumps({"members": list(SANDBOX_MEMBERS)}), encoding="utf-8")
    with running_sandbox(api_key=SANDBOX_KEY, members_file=members_file) as sandbox:
        settings_ = Settings(
            database_url=app_database_url,
            rate_limit_enabled=False,
            pension_api_base_url=sandbox.base_url,
            pension_api_key=SANDBOX_KEY,
        )
        with serve_in_thread(create_app(settings_)) as url:
            yield url


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.mark.parametrize("role", list(Role), ids=str)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_generated_requests_get_clean_answers(
    case: schemathesis.Case[Any],
    role: Role,
    fuzz_url: str,
    http: requests.Session,
    api_keys: dict[Role, str],
) -> None:
    headers = {"Authorization": f"Bearer {api_keys[role]}"}
    response = case.call(base_url=f"{fuzz_url}/graphql", session=http, headers=headers, timeout=30)
    root, _, field = case.operation.label.partition(".")
    outcomes = _judge(response, field, reproducer=_reproducer(role, case.body, response))
    if root == "Mutation" and "executed" in outcomes and _wrote(response.json()["data"][field]):
        outcomes.append("wrote")
    OUTCOMES.setdefault((str(role), field), Counter()).update(["requests", *outcomes])


def _judge(response: schemathesis.Response, field: str, *, reproducer: str) -> list[str]:
    """Asserts the answer is clean. Returns "executed" (the field's payload came back) or
    "refused", then the error codes seen and the plan that answered."""
    assert response.status_code < 500, reproducer
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), reproducer
    body = response.json()
    assert isinstance(body, dict), reproducer
    errors = body.get("errors") or []
    codes = [_error_code(error, reproducer) for error in errors]
    if response.status_code != 200:
        assert 400 <= response.status_code < 500, reproducer
        assert errors, reproducer
        assert body.get("data") is None, reproducer
    # Which engine answered a read: the whole-query SQL compiler or the resolvers.
    plan = (body.get("extensions") or {}).get("plan")
    seen = [*sorted(set(codes)), *([f"plan:{plan}"] if plan else [])]
    payload = (body.get("data") or {}).get(field)
    return ["refused" if payload is None else "executed", *seen]


def _wrote(payload: dict[str, Any]) -> bool:
    """A mutation payload says the write went through: its result (a member, a loan, ...) is
    there, or `userErrors` was selected and is empty."""
    result = [
        v for name, v in payload.items() if name != "userErrors" and not name.startswith("__")
    ]
    return any(value is not None for value in result) or payload.get("userErrors") == []


def _error_code(error: dict[str, Any], reproducer: str) -> str:
    """Every error must be typed (`extensions.code`, the README's contract), on a 200 too (an
    untyped one is an internal exception that escaped the masking), and never the masked
    INTERNAL_SERVER_ERROR / "Unexpected error"."""
    code = (error.get("extensions") or {}).get("code")
    assert code != "INTERNAL_SERVER_ERROR", reproducer
    assert not str(error.get("message", "")).startswith("Unexpected error"), reproducer
    assert isinstance(code, str), reproducer
    assert code, reproducer
    return code


def _reproducer(role: Role, query: Any, response: schemathesis.Response) -> str:
    return (
        f"\nrole: {role}\nstatus: {response.status_code}\nquery:\n{query}\n"
        f"response: {response.text[:3000]}"
    )


def test_zz_every_mutation_ran() -> None:
    """The fuzz above reached every mutation's resolver (not only validation errors) and got
    writes through, so a strategy or dictionary that stops fitting the schema cannot pass
    silently. Skipped unless every (role, operation) pair ran."""
    fields = _root_fields("Query") + _root_fields("Mutation")
    if set(OUTCOMES) != {(str(role), field) for role in Role for field in fields}:
        pytest.skip("run together with the whole fuzz suite")
    for field in _root_fields("Mutation"):
        seen = sum((OUTCOMES[(str(role), field)] for role in Role), Counter[str]())
        assert seen["executed"] > 0, (field, seen)
        assert seen["wrote"] > 0 or field in RARELY_WRITES, (field, seen)
    per_role = {
        str(role): sum(c["requests"] for (r, _), c in OUTCOMES.items() if r == str(role))
        for role in Role
    }
    print(f"\nfuzz requests per role: {per_role}")
    for key, counts in sorted(OUTCOMES.items()):
        print(f"  {key[0]:<8} {key[1]:<32} {dict(counts)}")


def _root_fields(type_name: str) -> list[str]:
    root = schema.client_schema.get_type(type_name)
    assert isinstance(root, GraphQLObjectType)
    return list(root.fields)
