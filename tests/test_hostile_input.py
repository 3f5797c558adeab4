"""Hostile input, consolidated: every kind of abusive request against the real API server.

Each request must get a clean, typed refusal (its designed HTTP status and an
`errors[].extensions.code`, or `userErrors[].code` for refused mutations) or, for injection
strings, a literal (empty) match; never a 5xx or INTERNAL_SERVER_ERROR, never a leak of
internals or keys, and never a written row. One helper, `Guard.check`, asserts all of that
for every response. The server must keep serving normal requests during a hostile burst and
after everything (`test_zz_...`, last in the file).

Fresh API keys are made here, so the flood and the bursts never drain the buckets of the
session's shared keys. Case tables live in tests/hostile_cases.py.
"""

import asyncio
import base64
import json
import random
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import httpx
import pytest

from graphql_api.models import Role
from tests.api_keys import create_api_key, revoke_api_key
from tests.conftest import MEMBER_KEY_OWNER
from tests.db_counts import row_counts
from tests.hostile_cases import (
    ALIAS_CASES,
    BATCH_CASES,
    BUG_CASES,
    CYCLE_CASES,
    DEPTH_CASES,
    FILTER_CASES,
    MALFORMED_CASES,
    MEDIA_TYPE_CASES,
    METHOD_CASES,
    MONEY_CASES,
    MUTATION_CASES,
    PAGE_CASES,
    RAW_MONEY_CASES,
    SIZE_CASES,
    TOKEN_CASES,
    BugCase,
    GqlCase,
    RawCase,
    fragment_bomb,
    global_id,
)

LEAK_MARKERS: Final = (
    "Traceback",
    'File "',
    "sqlalchemy",
    "asyncpg",
    "psycopg",
    "SELECT ",
    "INSERT ",
    "postgres",
    "/tmp/",
    "fgk_",  # any API key's prefix
)
_HOST = socket.gethostname()
# The hostname as a token of its own: a short name ("vm") may occur inside base64 or hex.
HOSTNAME: Final = re.compile(rf"(?<![A-Za-z0-9+/=_-]){re.escape(_HOST)}(?![A-Za-z0-9+/=_-])")
UNSET: Final = object()


class Guard:
    """Asserts what every hostile request must get: no 5xx, the designed status, a JSON body
    with typed error codes (never INTERNAL_SERVER_ERROR), no leak, and unchanged rows."""

    def __init__(self, database_url: str, keys: Sequence[str]) -> None:
        self.database_url = database_url
        self.keys = list(keys)
        self.before = row_counts(database_url)
        self.checked = 0

    def check(
        self,
        response: httpx.Response,
        *,
        status: int = 200,
        codes: frozenset[str] | set[str] | None = None,
        data: Any = UNSET,
        user_errors: Sequence[str] | None = None,
        rows: bool = True,
    ) -> dict[str, Any]:
        """`codes`: exactly these error codes (empty: no errors; None: any typed ones).
        `user_errors`: exactly these "CODE:input.field" userErrors. Returns the body."""
        self.checked += 1
        text = response.text
        assert response.status_code < 500, text[:2000]
        assert response.status_code == status, text[:2000]
        self.assert_no_leak(response)
        assert response.headers.get("content-type", "").startswith("application/json"), text
        body = response.json()
        assert isinstance(body, dict), text[:2000]
        errors = body.get("errors") or []
        found = set()
        for error in errors:
            assert isinstance(error.get("message"), str), error
            assert error["message"], error
            code = (error.get("extensions") or {}).get("code")
            assert isinstance(code, str), error
            assert code != "INTERNAL_SERVER_ERROR", error
            found.add(code)
        if status != 200:
            assert errors, body
            assert body.get("data") is None, body
        if codes is not None:
            assert found == set(codes), body
        if data is not UNSET:
            assert body.get("data") == data, body
        if user_errors is not None:
            assert sorted(_user_errors(body)) == sorted(user_errors), body
            assert all(
                v is None for p in _payloads(body) for k, v in p.items() if k != "userErrors"
            )
        if rows:
            self.assert_rows_unchanged()
        return body

    def assert_no_leak(self, response: httpx.Response) -> None:
        headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
        text = response.text + "\n" + headers
        for marker in LEAK_MARKERS:
            assert marker not in text, f"{marker!r} leaked: {text[:2000]}"
        if _HOST and _HOST != "localhost":
            assert not HOSTNAME.search(text), f"the hostname leaked: {text[:2000]}"
        for key in self.keys:
            assert key not in text, "an API key leaked"

    def assert_rows_unchanged(self) -> None:
        assert row_counts(self.database_url) == self.before, "a hostile request wrote rows"


def _payloads(body: dict[str, Any]) -> list[dict[str, Any]]:
    data = body.get("data") or {}
    return [p for p in data.values() if isinstance(p, dict) and "userErrors" in p]


def _user_errors(body: dict[str, Any]) -> list[str]:
    return [
        f"{e['code']}:{'.'.join(e.get('field') or [])}"
        for payload in _payloads(body)
        for e in payload["userErrors"]
    ]


# --- keys, clients, the guard ---------------------------------------------------------------


class Keys:
    """Fresh keys for this module only (their buckets are their own)."""

    def __init__(self, database_url: str) -> None:
        def make(role: Role, label: str) -> str:
            member = MEMBER_KEY_OWNER if role is Role.MEMBER else None
            return create_api_key(database_url, role, member, f"hostile-{label}")

        self.admin = make(Role.ADMIN, "admin")
        self.member = make(Role.MEMBER, "member")
        self.burst = make(Role.ADMIN, "burst")
        self.normal = make(Role.ADMIN, "normal")
        self.revoked = make(Role.ADMIN, "revoked")
        revoke_api_key(database_url, self.revoked)
        self.all = [self.admin, self.member, self.burst, self.normal, self.revoked]


@pytest.fixture(scope="module")
def keys(demo_loaded: str) -> Keys:
    return Keys(demo_loaded)


def _client(base_url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def admin(api_url: str, keys: Keys) -> Iterator[httpx.Client]:
    with _client(api_url, keys.admin) as client:
        yield client


@pytest.fixture(scope="module")
def member(api_url: str, keys: Keys) -> Iterator[httpx.Client]:
    """A MEMBER key bound to MEMBER_KEY_OWNER."""
    with _client(api_url, keys.member) as client:
        yield client


@pytest.fixture
def guard(demo_loaded: str, keys: Keys, api_keys: dict[Role, str]) -> Iterator[Guard]:
    checker = Guard(demo_loaded, [*keys.all, *api_keys.values()])
    yield checker
    assert checker.checked, "every hostile-input test checks its responses with the guard"
    checker.assert_rows_unchanged()


def post(
    client: httpx.Client, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    # json.dumps escapes lone surrogates and NULs, which httpx's own encoder would reject.
    body = json.dumps({"query": query, "variables": variables or {}})
    return client.post("/graphql", content=body, headers={"content-type": "application/json"})


def send_raw(client: httpx.Client, case: RawCase) -> httpx.Response:
    content: Any = case.content
    if case.chunked and case.content is not None:
        raw = case.content

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(raw), 8192):
                yield raw[start : start + 8192]

        content = chunks()
    return client.request(
        case.method, case.path, params=case.params, headers=case.headers, content=content
    )


def check_raw(
    guard: Guard, response: httpx.Response, case: RawCase, *, rows: bool = True
) -> dict[str, Any]:
    body = guard.check(response, status=case.status, codes={case.code}, rows=rows)
    assert case.message in body["errors"][0]["message"]
    if case.status == 405:
        assert response.headers["allow"] == "POST"
    if case.status == 413:
        assert body["errors"][0]["extensions"]["maxBytes"] == 100 * 1024
    return body


def check_gql(
    guard: Guard, response: httpx.Response, case: GqlCase, *, rows: bool = True
) -> dict[str, Any]:
    data = UNSET if case.data is None else case.data
    return guard.check(
        response, codes=case.codes, data=data, user_errors=case.user_errors, rows=rows
    )


def _params(cases: Sequence[RawCase] | Sequence[GqlCase]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("case", cases, ids=[c.id for c in cases])


# --- HTTP: method, media type, malformed JSON, batches, body size ---------------------------


@_params(METHOD_CASES)
def test_operations_over_other_methods_than_post_are_refused(
    admin: httpx.Client, guard: Guard, case: RawCase
) -> None:
    check_raw(guard, send_raw(admin, case), case)


@_params(MEDIA_TYPE_CASES)
def test_wrong_content_types_are_refused(admin: httpx.Client, guard: Guard, case: RawCase) -> None:
    check_raw(guard, send_raw(admin, case), case)


@_params(MALFORMED_CASES)
def test_malformed_json_is_refused(admin: httpx.Client, guard: Guard, case: RawCase) -> None:
    check_raw(guard, send_raw(admin, case), case)


@_params(BATCH_CASES)
def test_batched_arrays_are_refused(admin: httpx.Client, guard: Guard, case: RawCase) -> None:
    check_raw(guard, send_raw(admin, case), case)


@_params(SIZE_CASES)
def test_oversized_bodies_are_refused(admin: httpx.Client, guard: Guard, case: RawCase) -> None:
    check_raw(guard, send_raw(admin, case), case)


@_params(RAW_MONEY_CASES)
def test_non_finite_json_numbers_for_money_are_refused(
    admin: httpx.Client, guard: Guard, case: RawCase
) -> None:
    body = check_raw(guard, send_raw(admin, case), case)
    assert body["data"] is None


# --- GraphQL documents: depth, aliases, fragments, tokens, page sizes -----------------------


@_params(DEPTH_CASES)
def test_deep_nesting_is_refused(admin: httpx.Client, guard: Guard, case: GqlCase) -> None:
    body = check_gql(guard, post(admin, case.query, case.variables), case)
    assert body.get("data") is None


@_params(ALIAS_CASES)
def test_alias_and_fragment_bombs_are_refused(
    admin: httpx.Client, guard: Guard, case: GqlCase
) -> None:
    started = time.monotonic()
    body = check_gql(guard, post(admin, case.query, case.variables), case)
    assert body.get("data") is None
    assert time.monotonic() - started < 3


def test_fragment_bomb_without_aliases_is_answered_in_linear_time(
    admin: httpx.Client, guard: Guard
) -> None:
    # 2^40 copies of one field merge into one: answered, fast, with no error.
    started = time.monotonic()
    response = post(admin, fragment_bomb(40, "__typename"))
    guard.check(response, codes=set(), data={"__typename": "Query"})
    assert time.monotonic() - started < 3


@_params(CYCLE_CASES)
def test_circular_fragments_are_refused(admin: httpx.Client, guard: Guard, case: GqlCase) -> None:
    body = check_gql(guard, post(admin, case.query, case.variables), case)
    assert "within itself" in body["errors"][0]["message"]


@_params(TOKEN_CASES)
def test_token_floods_are_refused(admin: httpx.Client, guard: Guard, case: GqlCase) -> None:
    body = check_gql(guard, post(admin, case.query, case.variables), case)
    assert body.get("data") is None


@_params(PAGE_CASES)
def test_huge_negative_and_zero_page_sizes_are_refused(
    admin: httpx.Client, guard: Guard, case: GqlCase
) -> None:
    check_gql(guard, post(admin, case.query, case.variables), case)


# --- Injection, unicode tricks and huge strings ---------------------------------------------


@_params(FILTER_CASES)
def test_injection_strings_in_filters_match_literally(
    admin: httpx.Client, guard: Guard, case: GqlCase
) -> None:
    check_gql(guard, post(admin, case.query, case.variables), case)


def test_like_wildcards_are_escaped_not_interpreted(admin: httpx.Client, guard: Guard) -> None:
    query = "query ($s: String) { members(filter: {search: $s}) { totalCount } }"

    def count(search: str) -> int:
        body = guard.check(post(admin, query, {"s": search}), codes=set(), rows=False)
        return int(body["data"]["members"]["totalCount"])

    assert count("M-1000") > count("M-10001") > 0  # the plain prefix matches...
    for trick in ("M-1000%", "M-1000_1", "M-1%0", "%M-1000", "M-1000\\"):
        assert count(trick) == 0, trick  # ...a wildcard in it is a literal character
    guard.assert_rows_unchanged()


@_params(MUTATION_CASES)
def test_hostile_mutation_inputs_are_refused_as_user_errors(
    admin: httpx.Client, guard: Guard, case: GqlCase
) -> None:
    check_gql(guard, post(admin, case.query, case.variables), case)


@_params(MONEY_CASES)
def test_non_plain_money_is_refused(admin: httpx.Client, guard: Guard, case: GqlCase) -> None:
    body = check_gql(guard, post(admin, case.query, case.variables), case)
    assert not (body.get("data") or {}).get("applyForLoan", {}).get("loanApplication")


# --- Cross-member reads with a MEMBER key ---------------------------------------------------

_FOREIGN_GRAPH = """
{ members(first: 100) { edges { node {
    memberNumber id pensionAccount { id }
    portfolios(first: 1) { edges { node { id recommendations { id } } } }
    loanApplications(first: 1) { edges { node { id } } }
    predictions(first: 5) { edges { node { id feedback { id } } } }
    auditLogs(first: 1) { edges { node { id requestId } } }
} } } }
"""
NODE_TYPES = [
    "Member",
    "PensionAccount",
    "Portfolio",
    "Recommendation",
    "LoanApplication",
    "Prediction",
    "Feedback",
    "AuditLog",
]


class Foreign:
    """Another member's rows, found with an ADMIN key: one global id per node type."""

    def __init__(self, members: list[dict[str, Any]]) -> None:
        others = [m for m in members if m["memberNumber"] != MEMBER_KEY_OWNER]
        self.ids: dict[str, str] = {}
        for m in others:
            found = {
                "Member": [m["id"]],
                "PensionAccount": [m["pensionAccount"]["id"]] if m["pensionAccount"] else [],
                "Portfolio": _ids(m["portfolios"]),
                "Recommendation": [
                    r["id"] for e in m["portfolios"]["edges"] for r in e["node"]["recommendations"]
                ],
                "LoanApplication": _ids(m["loanApplications"]),
                "Prediction": _ids(m["predictions"]),
                "Feedback": [
                    f["id"] for e in m["predictions"]["edges"] for f in e["node"]["feedback"]
                ],
                "AuditLog": _ids(m["auditLogs"]),
            }
            for type_name, ids in found.items():
                if ids:
                    self.ids.setdefault(type_name, ids[0])
        # One other member with loans, predictions and audit entries, for the filters.
        full = next(
            m
            for m in others
            if m["loanApplications"]["edges"] and m["predictions"]["edges"]
            if m["auditLogs"]["edges"]
        )
        self.member_number: str = full["memberNumber"]
        self.request_id: str = full["auditLogs"]["edges"][0]["node"]["requestId"]


def _ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


@pytest.fixture(scope="module")
def foreign(admin: httpx.Client) -> Foreign:
    response = post(admin, _FOREIGN_GRAPH)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    return Foreign([edge["node"] for edge in body["data"]["members"]["edges"]])


def _arabic_digits(global_id_: str) -> str:
    """The same row id written in Arabic-Indic digits (str.isdigit() accepts them)."""
    type_name, row_id = base64.b64decode(global_id_).decode().split(":")
    return global_id(type_name, "".join(chr(0x0660 + int(d)) for d in row_id))


_NODE = "query ($id: ID!) { node(id: $id) { id __typename } }"


@pytest.mark.parametrize("type_name", NODE_TYPES)
def test_member_key_cannot_read_another_members_node_by_id(
    admin: httpx.Client, member: httpx.Client, guard: Guard, foreign: Foreign, type_name: str
) -> None:
    node_id = foreign.ids[type_name]
    seen = guard.check(post(admin, _NODE, {"id": node_id}), codes=set(), rows=False)
    assert seen["data"]["node"]["__typename"] == type_name  # the id is real...
    guard.check(post(member, _NODE, {"id": node_id}), codes=set(), data={"node": None})
    # ...and spelling its row id in other digits does not get around the member scope.
    tricked = _arabic_digits(node_id)
    guard.check(post(member, _NODE, {"id": tricked}), codes=set(), data={"node": None})


_CONNECTION_CASES = {
    "loanApplications": (
        "query ($v: String) { loanApplications(filter: {memberNumber: $v})"
        " { totalCount edges { node { id } } } }",
        "member",
        {"loanApplications": {"totalCount": 0, "edges": []}},
    ),
    "predictions": (
        "query ($v: String) { predictions(filter: {memberNumber: $v})"
        " { totalCount edges { node { id text } } } }",
        "member",
        {"predictions": {"totalCount": 0, "edges": []}},
    ),
    "auditLogs-by-member": (
        "query ($v: String) { auditLogs(filter: {memberNumber: $v})"
        " { totalCount edges { node { id payload } } } }",
        "member",
        {"auditLogs": {"totalCount": 0, "edges": []}},
    ),
    "auditLogs-by-request-id": (
        "query ($v: String) { auditLogs(filter: {requestId: $v})"
        " { totalCount edges { node { id payload } } } }",
        "request",
        {"auditLogs": {"totalCount": 0, "edges": []}},
    ),
    "members-search": (
        "query ($v: String) { members(filter: {search: $v})"
        " { totalCount edges { node { id email } } } }",
        "member",
        {"members": {"totalCount": 0, "edges": []}},
    ),
    "member": (
        "query ($v: String!) { member(memberNumber: $v) { id email } }",
        "member",
        {"member": None},
    ),
    "agentContext": (
        "query ($v: String!) { agentContext(memberNumber: $v) { member { email } } }",
        "member",
        {"agentContext": None},
    ),
}


@pytest.mark.parametrize("name", list(_CONNECTION_CASES))
def test_member_key_cannot_list_another_members_rows_by_filter(
    admin: httpx.Client, member: httpx.Client, guard: Guard, foreign: Foreign, name: str
) -> None:
    query, value_of, empty = _CONNECTION_CASES[name]
    variables = {"v": foreign.member_number if value_of == "member" else foreign.request_id}
    everyone = guard.check(post(admin, query, variables), codes=set(), rows=False)
    assert everyone["data"] != empty  # there is something to leak...
    guard.check(post(member, query, variables), codes=set(), data=empty)  # ...and none leaks


def test_member_key_cannot_write_for_another_member(
    member: httpx.Client, guard: Guard, foreign: Foreign
) -> None:
    loan = (
        'mutation ($n: String!) { applyForLoan(input: {memberNumber: $n, amount: "1000.00",'
        ' income: "50000.00", employmentYears: 3}) { loanApplication { id } } }'
    )
    body = guard.check(post(member, loan, {"n": foreign.member_number}), codes={"FORBIDDEN"})
    assert (body.get("data") or {}).get("applyForLoan") is None
    feedback = (
        "mutation ($id: ID!) { submitFeedback(input: {predictionId: $id, isCorrect: false})"
        " { feedback { id } userErrors { code field } } }"
    )
    prediction = foreign.ids["Prediction"]
    for predicted in (prediction, _arabic_digits(prediction)):
        guard.check(
            post(member, feedback, {"id": predicted}),
            codes=set(),
            user_errors=["NOT_FOUND:input.predictionId"],
        )


# --- Keys: forged, revoked, missing ---------------------------------------------------------

_CREATE_PROBE = (
    'mutation { createMember(input: {memberNumber: "H-KEY", fullName: "Key Probe",'
    ' email: "key-probe@example.org", status: ACTIVE}) { member { id } } }'
)


def _flip_last(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


_AUTHORIZATIONS: dict[str, Callable[[Keys], dict[str, str]]] = {
    "missing": lambda _: {},
    "forged-random": lambda _: {"Authorization": f"Bearer fgk_{secrets.token_urlsafe(32)}"},
    "one-character-off": lambda k: {"Authorization": f"Bearer {_flip_last(k.admin)}"},
    "revoked": lambda k: {"Authorization": f"Bearer {k.revoked}"},
    "wrong-scheme": lambda k: {"Authorization": f"Token {k.admin}"},
    "two-keys": lambda k: {"Authorization": f"Bearer {k.revoked} {k.admin}"},
    "in-query-string-only": lambda _: {},  # the key rides in ?api_key= instead
    "in-cookie-only": lambda k: {"Cookie": f"api_key={k.admin}"},
    "8kb-bearer": lambda _: {"Authorization": "Bearer fgk_" + "A" * 8192},
    "injection": lambda _: {"Authorization": "Bearer ' OR 1=1 --"},
}


@pytest.mark.parametrize("which", list(_AUTHORIZATIONS))
def test_forged_revoked_and_missing_keys_are_unauthenticated(
    api_url: str, keys: Keys, guard: Guard, which: str
) -> None:
    headers = {"content-type": "application/json", **_AUTHORIZATIONS[which](keys)}
    params = {"api_key": keys.admin} if which == "in-query-string-only" else None
    with httpx.Client(base_url=api_url, timeout=30) as client:
        response = client.post(
            "/graphql",
            params=params,
            headers=headers,
            content=json.dumps({"query": _CREATE_PROBE}),
        )
    guard.check(response, status=401, codes={"UNAUTHENTICATED"})
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "data" not in response.json()


# --- Rate limit, and serving normal requests during a hostile burst -------------------------

_PING = json.dumps({"query": "{ __typename }"})


async def _flood(base_url: str, token: str) -> list[httpx.Response]:
    """Past a fresh key's burst of 200: waves of concurrent requests until 429 (bounded)."""
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    limits = httpx.Limits(max_connections=64)
    responses: list[httpx.Response] = []
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=30
    ) as client:
        wave = 240
        while len(responses) < 640:
            responses += await asyncio.gather(
                *(client.post("/graphql", content=_PING) for _ in range(wave))
            )
            if any(r.status_code == 429 for r in responses):
                break
            wave = 50
    return responses


def test_rate_limit_overrun_gets_429_with_retry_after(
    api_url: str, demo_loaded: str, guard: Guard
) -> None:
    token = create_api_key(demo_loaded, Role.ADMIN, None, "hostile-flood")
    guard.keys.append(token)
    responses = asyncio.run(_flood(api_url, token))
    limited = [r for r in responses if r.status_code == 429]
    served = [r for r in responses if r.status_code != 429]
    assert limited, f"{len(responses)} requests and none was rate limited"
    assert len(served) >= 200  # the whole burst was honoured first
    for response in served:
        guard.check(response, codes=set(), data={"__typename": "Query"}, rows=False)
    for response in limited:
        body = guard.check(response, status=429, codes={"RATE_LIMITED"}, rows=False)
        retry_after = int(response.headers["retry-after"])
        assert retry_after >= 1
        assert body["errors"][0]["extensions"]["retryAfter"] == retry_after
    guard.assert_rows_unchanged()


_ALL_CASES: list[RawCase | GqlCase] = [
    *DEPTH_CASES,
    *ALIAS_CASES,
    *CYCLE_CASES,
    *TOKEN_CASES,
    *PAGE_CASES,
    *MALFORMED_CASES,
    *SIZE_CASES,
    *MEDIA_TYPE_CASES,
    *BATCH_CASES,
    *METHOD_CASES,
    *MONEY_CASES,
    *MUTATION_CASES,
]
BURST_CASES = {case.id: case for case in _ALL_CASES}
BURST_MIX = [
    "depth-40-over-relations",
    "fragment-bomb-2^40-aliases",
    "two-fragment-cycle",
    "2001-fields",
    "first-int32-max",
    "truncated-json",
    "json-nested-50k-deep-in-variables",
    "query-over-100kb",
    "content-type=text/plain",
    "batch-of-mutations",
    "mutation-over-get",
    "variable-NaN",
    "text-90kb",
]

_NORMAL = """
query ($n: String!) { member(memberNumber: $n) {
  memberNumber
  loanApplications(first: 5) {
    totalCount edges { node { amount decision member { memberNumber } } }
  }
  predictions(first: 5) { edges { node { sentiment feedback { isCorrect } } } }
} }
"""


async def _burst(
    base_url: str, hostile_key: str, normal_key: str
) -> tuple[list[tuple[RawCase | GqlCase, httpx.Response]], list[httpx.Response]]:
    hostile_cases = [BURST_CASES[name] for name in BURST_MIX] * 4
    random.Random(7).shuffle(hostile_cases)
    limits = httpx.Limits(max_connections=48)
    async with (
        httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {hostile_key}"},
            limits=limits,
            timeout=30,
        ) as hostile,
        httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {normal_key}", "content-type": "application/json"},
            limits=limits,
            timeout=30,
        ) as normal,
    ):

        async def attack(case: RawCase | GqlCase) -> tuple[RawCase | GqlCase, httpx.Response]:
            if isinstance(case, RawCase):
                return case, await hostile.request(
                    case.method,
                    case.path,
                    params=case.params,
                    headers=case.headers,
                    content=case.content,
                )
            body = json.dumps({"query": case.query, "variables": case.variables or {}})
            headers = {"content-type": "application/json"}
            return case, await hostile.post("/graphql", content=body, headers=headers)

        async def serve() -> httpx.Response:
            body = json.dumps({"query": _NORMAL, "variables": {"n": MEMBER_KEY_OWNER}})
            return await normal.post("/graphql", content=body)

        attacks = [asyncio.ensure_future(attack(case)) for case in hostile_cases]
        served = [asyncio.ensure_future(serve()) for _ in range(40)]
        return list(await asyncio.gather(*attacks)), list(await asyncio.gather(*served))


def test_normal_requests_are_served_during_a_hostile_burst(
    api_url: str, keys: Keys, guard: Guard
) -> None:
    with _client(api_url, keys.normal) as client:
        expected = guard.check(post(client, _NORMAL, {"n": MEMBER_KEY_OWNER}), codes=set())
    assert expected["data"]["member"]["loanApplications"]["edges"]
    attacks, served = asyncio.run(_burst(api_url, keys.burst, keys.normal))
    for response in served:
        guard.check(response, codes=set(), data=expected["data"], rows=False)
    for case, response in attacks:
        if isinstance(case, RawCase):
            check_raw(guard, response, case, rows=False)
        else:
            check_gql(guard, response, case, rows=False)
    guard.assert_rows_unchanged()


# --- Inputs that once reached PostgreSQL unchecked (NUL, surrogates, out-of-range ids,
# cursors and instants, Unicode digits): each now gets a typed answer --------------------


@pytest.mark.parametrize("bug", [pytest.param(b, id=b.case.id) for b in BUG_CASES])
def test_unstorable_inputs_get_typed_answers(
    admin: httpx.Client, guard: Guard, bug: BugCase
) -> None:
    check_gql(guard, post(admin, bug.case.query, bug.case.variables), bug.case)


# --- Several operations and no operationName: an error (GraphQL spec), not the first run --


_TWO_OPERATIONS = {
    "query-then-mutation": (
        "query A { members(first: 1) { totalCount } } mutation B { __typename }"
    ),
    "two-queries": "query A { members(first: 1) { totalCount } } query B { __typename }",
}


@pytest.mark.parametrize("query", _TWO_OPERATIONS.values(), ids=_TWO_OPERATIONS.keys())
def test_several_operations_need_an_operation_name(
    admin: httpx.Client, guard: Guard, query: str
) -> None:
    """strawberry used to run the first operation (the compiled path leaves these to it)."""
    body = guard.check(post(admin, query), codes={"GRAPHQL_VALIDATION_FAILED"})
    assert body.get("data") is None
    assert [e["message"] for e in body["errors"]] == [
        "Must provide operation name if query contains multiple operations."
    ]


def test_an_operation_name_picks_one_of_several(admin: httpx.Client, guard: Guard) -> None:
    body = json.dumps({"query": _TWO_OPERATIONS["two-queries"], "operationName": "B"})
    response = admin.post("/graphql", content=body, headers={"content-type": "application/json"})
    guard.check(response, codes=set(), data={"__typename": "Query"})


# --- Last: the server still serves ----------------------------------------------------------

_NESTED = """
query ($n: String!) { member(memberNumber: $n) {
  memberNumber fullName status
  pensionAccount { contributionBalance currency member { memberNumber } }
  portfolios(first: 5) {
    totalCount edges { node { status latestRecommendation { lines { assetClass weight } } } }
  }
  loanApplications(first: 5) {
    totalCount edges { node { amount riskScore member { lendingAssessment { action } } } }
  }
  predictions(first: 5) {
    totalCount edges { node { sentiment feedback { isCorrect prediction { id } } } }
  }
  auditLogs(first: 5) { totalCount edges { node { action } } }
} }
"""


def test_zz_server_still_serves_normal_requests(
    api_url: str, api_keys: dict[Role, str], keys: Keys, guard: Guard
) -> None:
    """After every hostile request above, the shared ADMIN key and this module's keys get a
    full nested answer, and the health check is up."""
    for token in (api_keys[Role.ADMIN], keys.admin, keys.member):
        with _client(api_url, token) as client:
            body = guard.check(post(client, _NESTED, {"n": MEMBER_KEY_OWNER}), codes=set())
        member = body["data"]["member"]
        assert member["memberNumber"] == MEMBER_KEY_OWNER
        loans = member["loanApplications"]
        assert loans["edges"]
        assert loans["totalCount"] >= len(loans["edges"])
        assert member["auditLogs"]["totalCount"] > 0
    assert httpx.get(f"{api_url}/healthz", timeout=10).json() == {"status": "ok"}
