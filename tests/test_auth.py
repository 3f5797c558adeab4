"""API keys: the `keys` CLI, and what missing, malformed, unknown or revoked keys get."""

import os
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest

from graphql_api.models import Role
from tests.api_keys import create_api_key, revoke_api_key
from tests.conftest import API_KEY_CACHE_SECONDS

QUERY = {"query": "{ members(first: 1) { totalCount } }"}


def _keys_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graphql_api", "keys", *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


def _assert_revoked_within_cache_time(request: Callable[[], httpx.Response]) -> None:
    """A revoked key works at most until its cached verification expires, then never."""
    deadline = time.monotonic() + API_KEY_CACHE_SECONDS + 0.5
    while (response := request()).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    _assert_unauthenticated(response)
    _assert_unauthenticated(request())


def test_cli_creates_lists_and_revokes_keys(demo_loaded: str, api_url: str) -> None:
    created = _keys_cli(demo_loaded, "create", "--role", "advisor", "--label", "cli test")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("fgk_")

    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.post("/graphql", json=QUERY).json()["data"]["members"]["totalCount"] > 0

        listed = _keys_cli(demo_loaded, "list")
        assert listed.returncode == 0
        line = next(row for row in listed.stdout.splitlines() if "cli test" in row)
        key_id, role, member, label, _created, revoked = line.split("\t")
        assert (role, member, label, revoked) == ("ADVISOR", "-", "cli test", "-")
        assert token not in listed.stdout

        revoked_run = _keys_cli(demo_loaded, "revoke", key_id)
        assert revoked_run.returncode == 0
        _assert_revoked_within_cache_time(lambda: client.post("/graphql", json=QUERY))
    relisted = _keys_cli(demo_loaded, "list").stdout
    assert (
        next(r for r in relisted.splitlines() if r.startswith(f"{key_id}\t")).split("\t")[5] != "-"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["create", "--role", "MEMBER"],
        ["create", "--role", "member", "--member", "M-999999"],
        ["create", "--role", "agent", "--member", "M-100001"],
        ["create", "--role", "superuser"],
        ["revoke", "999999"],
    ],
)
def test_cli_refuses_bad_key_requests(demo_loaded: str, args: list[str]) -> None:
    result = _keys_cli(demo_loaded, *args)
    assert result.returncode != 0
    assert "fgk_" not in result.stdout


def test_member_key_is_bound_to_its_member(demo_loaded: str) -> None:
    result = _keys_cli(demo_loaded, "create", "--role", "Member", "--member", "M-100003")
    assert result.returncode == 0, result.stderr
    listed = _keys_cli(demo_loaded, "list").stdout
    assert any(row.split("\t")[1:3] == ["MEMBER", "M-100003"] for row in listed.splitlines())


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer fgk_short",
        "Bearer fgk_" + "A" * 43,
        "Bearer ' OR 1=1 --",
        "bearer\x00fgk_",
    ],
)
def test_missing_malformed_or_unknown_keys_are_unauthenticated(
    api_url: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    try:
        response = httpx.post(f"{api_url}/graphql", json=QUERY, headers=headers)
    except httpx.LocalProtocolError:
        return  # a NUL byte never even leaves the client
    _assert_unauthenticated(response)


def test_revoked_key_is_unauthenticated(demo_loaded: str, api_url: str) -> None:
    token = create_api_key(demo_loaded, Role.ADMIN)
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.post(f"{api_url}/graphql", json=QUERY, headers=headers).status_code == 200
    revoke_api_key(demo_loaded, token)
    _assert_revoked_within_cache_time(
        lambda: httpx.post(f"{api_url}/graphql", json=QUERY, headers=headers)
    )


def test_graphiql_page_needs_no_key(api_url: str) -> None:
    page = httpx.get(f"{api_url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
